#include "io/safetensors_header.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <tuple>
#include <unordered_set>

#include "util/checked_math.h"
#include "util/error.h"

namespace weld {
namespace {

using Json = nlohmann::json;

// A valid header nests three containers deep (the object, an entry, its shape). One spare
// level keeps the specific messages for near misses such as a nested shape; anything deeper
// is refused while parsing, before a document of a hundred million '[' can cost gigabytes.
constexpr int kMaxJsonNesting = 4;

std::string format_list(const std::vector<std::uint64_t>& values) {
  return fmt::format("[{}]", fmt::join(values, ", "));
}

std::uint64_t read_le_u64(std::span<const std::byte> bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < kHeaderLengthBytes; ++i)
    value |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
  return value;
}

// N from the first 8 bytes, checked against the named limit first (so that 8 + N cannot
// overflow) and then against the file size.
std::uint64_t read_header_length(std::span<const std::byte> file) {
  if (file.size() < kHeaderLengthBytes)
    fail("file is {} bytes, too short for the {}-byte header length", file.size(), kHeaderLengthBytes);
  const std::uint64_t length = read_le_u64(file);
  if (length > kMaxHeaderBytes)
    fail("header length {} exceeds the limit of {} bytes", length, kMaxHeaderBytes);
  if (length > file.size() - kHeaderLengthBytes)
    fail("header length {} exceeds the file size {} minus {}", length, file.size(), kHeaderLengthBytes);
  return length;
}

// Watches the parser's events for what nlohmann would otherwise accept silently: a repeated
// key (it keeps the last value) and absurd nesting.
class JsonEventChecker {
 public:
  bool operator()(int depth, Json::parse_event_t event, const Json& parsed) {
    using Event = Json::parse_event_t;
    if (event == Event::object_start || event == Event::array_start) {
      if (depth >= kMaxJsonNesting)
        fail("header JSON nests deeper than {} levels", kMaxJsonNesting);
      if (event == Event::object_start && depth == 0) top_is_object_ = true;
      if (event == Event::object_start && depth == 1) fields_.clear();
    }
    if (event == Event::key && top_is_object_) check_key(depth, parsed.get<std::string>());
    return true;
  }

 private:
  void check_key(int depth, std::string key) {
    if (depth == 1) {
      if (!names_.insert(key).second) {
        if (key == kMetadataKey) fail("duplicate '{}'", kMetadataKey);
        fail("duplicate tensor name '{}'", key);
      }
      current_name_ = std::move(key);
    } else if (depth == 2 && !fields_.insert(key).second) {
      if (current_name_ == kMetadataKey) fail("'{}' has duplicate key '{}'", kMetadataKey, key);
      fail("tensor '{}': duplicate field '{}'", current_name_, key);
    }
  }

  bool top_is_object_ = false;
  std::unordered_set<std::string> names_;   // keys of the top-level object
  std::unordered_set<std::string> fields_;  // keys of the entry being parsed
  std::string current_name_;
};

// nlohmann stops at a NUL byte as if the input ended there, which would let arbitrary bytes
// hide after one. Valid JSON has no NUL outside strings, nor raw inside them, so none at all.
void check_no_nul(std::string_view text) {
  const std::size_t nul = text.find('\0');
  if (nul != std::string_view::npos)
    fail("header is not valid JSON: NUL byte at offset {} of {}", nul, text.size());
}

Json parse_header_json(std::span<const std::byte> bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  check_no_nul(text);
  JsonEventChecker checker;
  Json header;
  try {
    // The callback is copied into the parser, so it forwards to `checker` by reference.
    header = Json::parse(text.begin(), text.end(),
                         [&checker](int depth, Json::parse_event_t event, Json& parsed) {
                           return checker(depth, event, parsed);
                         });
  } catch (const Json::exception& e) {
    // Drop the "[json.exception.parse_error.101] " prefix: it names nlohmann, not the file.
    const std::string_view what = e.what();
    const std::size_t prefix_end = what.find("] ");
    fail("header is not valid JSON: {}",
         prefix_end == std::string_view::npos ? what : what.substr(prefix_end + 2));
  }
  if (!header.is_object()) fail("header is not a JSON object");
  return header;
}

std::map<std::string, std::string> parse_metadata(const Json& value) {
  if (!value.is_object()) fail("'{}' must map strings to strings", kMetadataKey);
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) fail("'{}' must map strings to strings", kMetadataKey);
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// Only unsigned JSON integers qualify: nlohmann types a negative number as number_integer
// and a fraction, an exponent or a value past 2^64 - 1 as number_float, so none of them is
// ever read through a double.
std::optional<std::vector<std::uint64_t>> unsigned_array(const Json& value) {
  if (!value.is_array()) return std::nullopt;
  std::vector<std::uint64_t> numbers;
  for (const Json& item : value) {
    if (!item.is_number_unsigned()) return std::nullopt;
    numbers.push_back(item.get<std::uint64_t>());
  }
  return numbers;
}

void check_entry_fields(const Json& entry) {
  if (!entry.is_object()) fail("entry is not an object");
  for (const auto& [key, item] : entry.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") fail("unknown field '{}'", key);
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(field)) fail("missing '{}'", field);
  }
}

DType parse_entry_dtype(const Json& value) {
  if (!value.is_string()) fail("'dtype' must be a string");
  const auto& name = value.get_ref<const std::string&>();
  const std::optional<DType> dtype = parse_dtype_name(name);
  if (!dtype) fail("unknown dtype '{}'", name);
  return *dtype;
}

std::vector<std::uint64_t> parse_entry_shape(const Json& value) {
  std::optional<std::vector<std::uint64_t>> shape = unsigned_array(value);
  if (!shape) fail("'shape' must be an array of non-negative integers");
  if (shape->size() > kMaxRank) fail("rank {} exceeds the limit of {}", shape->size(), kMaxRank);
  return std::move(*shape);
}

std::uint64_t count_elements(const std::vector<std::uint64_t>& shape) {
  std::uint64_t numel = 1;
  for (const std::uint64_t dim : shape) {
    const std::optional<std::uint64_t> product = checked_mul(numel, dim);
    if (!product) fail("shape {} has more elements than fit in 64 bits", format_list(shape));
    numel = *product;
  }
  return numel;
}

void parse_entry_offsets(const Json& value, TensorInfo& info) {
  const std::optional<std::vector<std::uint64_t>> offsets = unsigned_array(value);
  if (!offsets || offsets->size() != 2) fail("'data_offsets' must be two non-negative integers");
  info.offset_begin = (*offsets)[0];
  info.offset_end = (*offsets)[1];
  if (info.offset_end < info.offset_begin)
    fail("data_offsets {} end before they begin", format_list(*offsets));
}

// The byte count the offsets span must be exactly what dtype and shape need.
void check_entry_size(const TensorInfo& info) {
  const std::string type = fmt::format("{} {}", dtype_name(info.dtype), format_list(info.shape));
  const std::optional<std::uint64_t> needed = checked_mul(info.numel, dtype_size(info.dtype));
  if (!needed) fail("{} needs more bytes than fit in 64 bits", type);
  if (info.size_bytes() != *needed) {
    fail("holds {} bytes (data_offsets [{}, {}]) but {} needs {}", info.size_bytes(),
         info.offset_begin, info.offset_end, type, *needed);
  }
}

TensorInfo parse_tensor_entry(std::string_view name, const Json& entry) {
  return with_context(fmt::format("tensor '{}'", name), [&] {
    check_entry_fields(entry);
    TensorInfo info;
    info.name = name;
    info.dtype = parse_entry_dtype(entry["dtype"]);
    info.shape = parse_entry_shape(entry["shape"]);
    info.numel = count_elements(info.shape);
    parse_entry_offsets(entry["data_offsets"], info);
    check_entry_size(info);
    return info;
  });
}

// Sorts by offset and requires the tensors to tile [0, data_bytes) exactly: each begins
// where the previous one ends, and the last ends at the end of the file. Zero-byte tensors
// sort before a tensor sharing their begin, so they sit between neighbours without a gap.
void check_layout(std::vector<TensorInfo>& tensors, std::uint64_t data_bytes) {
  std::sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return std::tie(a.offset_begin, a.offset_end, a.name) <
           std::tie(b.offset_begin, b.offset_end, b.name);
  });
  const TensorInfo* previous = nullptr;
  for (const TensorInfo& t : tensors) {
    const std::uint64_t expected_begin = previous ? previous->offset_end : 0;
    if (t.offset_begin < expected_begin) {
      fail("tensor '{}': data_offsets [{}, {}] overlap tensor '{}' [{}, {}]", t.name,
           t.offset_begin, t.offset_end, previous->name, previous->offset_begin,
           previous->offset_end);
    }
    if (t.offset_begin > expected_begin) {
      if (!previous)
        fail("tensor '{}': begins at {} but the data section starts at 0", t.name, t.offset_begin);
      fail("tensor '{}': begins at {} but the previous tensor ends at {} (gap)", t.name,
           t.offset_begin, expected_begin);
    }
    previous = &t;
  }
  const std::uint64_t end = previous ? previous->offset_end : 0;
  if (end != data_bytes)
    fail("tensors end at {} but the data section holds {} bytes", end, data_bytes);
}

}  // namespace

SafetensorsHeader parse_safetensors_header(std::span<const std::byte> file) {
  const std::uint64_t length = read_header_length(file);
  const Json json = parse_header_json(file.subspan(kHeaderLengthBytes, length));
  SafetensorsHeader header;
  header.data_start = kHeaderLengthBytes + length;
  // Exactly (one may be the metadata): these live as long as the file. The names are all
  // stored before any is viewed, so that the buffer no longer moves.
  header.tensors.reserve(json.size());
  for (const auto& [key, value] : json.items())
    if (key != kMetadataKey) header.names.insert(header.names.end(), key.begin(), key.end());
  std::size_t name_start = 0;
  for (const auto& [key, value] : json.items()) {
    if (key == kMetadataKey) {
      header.metadata = parse_metadata(value);
    } else {
      header.tensors.push_back(parse_tensor_entry({header.names.data() + name_start, key.size()}, value));
      name_start += key.size();
    }
  }
  check_layout(header.tensors, file.size() - header.data_start);
  return header;
}

}  // namespace weld
