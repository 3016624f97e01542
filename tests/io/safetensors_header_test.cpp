#include "io/safetensors_header.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io/safetensors_test_util.h"
#include "util/error.h"

namespace weld::test {
namespace {

std::string parse_error(const std::string& file) {
  try {
    parse_safetensors_header(byte_span(file));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(SafetensorsHeader, ParsesEntriesSortedByOffset) {
  const std::string file = safetensors_file(
      R"({"__metadata__": {"format": "pt"},
          "a": {"dtype": "BF16", "shape": [2], "data_offsets": [24, 28]},
          "b": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}})",
      28);
  const SafetensorsHeader header = parse_safetensors_header(byte_span(file));
  EXPECT_EQ(header.data_start, file.size() - 28);
  EXPECT_EQ(header.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(header.tensors.size(), 2u);
  const TensorInfo& b = header.tensors[0];
  EXPECT_EQ(b.name, "b");
  EXPECT_EQ(b.dtype, DType::kF32);
  EXPECT_EQ(b.shape, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(b.numel, 6u);
  EXPECT_EQ(b.offset_begin, 0u);
  EXPECT_EQ(b.size_bytes(), 24u);
  const TensorInfo& a = header.tensors[1];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.dtype, DType::kBF16);
  EXPECT_EQ(a.offset_begin, 24u);
  EXPECT_EQ(a.offset_end, 28u);
}

TEST(SafetensorsHeader, ScalarHasOneElement) {
  const std::string file =
      safetensors_file(R"({"s": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]}})", 8);
  const SafetensorsHeader header = parse_safetensors_header(byte_span(file));
  ASSERT_EQ(header.tensors.size(), 1u);
  EXPECT_TRUE(header.tensors[0].shape.empty());
  EXPECT_EQ(header.tensors[0].numel, 1u);
}

TEST(SafetensorsHeader, NoTensorsAndAnEmptyDataSectionIsValid) {
  EXPECT_TRUE(parse_safetensors_header(byte_span(safetensors_file("{}", 0))).tensors.empty());
  const SafetensorsHeader header =
      parse_safetensors_header(byte_span(safetensors_file(R"({"__metadata__": {}})", 0)));
  EXPECT_TRUE(header.tensors.empty());
  EXPECT_TRUE(header.metadata.empty());
}

// Zero-byte tensors sit at any boundary, including one another's, without a gap or overlap.
TEST(SafetensorsHeader, ZeroByteTensorsFitBetweenNeighbours) {
  const std::string file = safetensors_file(
      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
          "e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]},
          "f": {"dtype": "F16", "shape": [3, 0], "data_offsets": [4, 4]},
          "z": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]},
          "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
      8);
  const SafetensorsHeader header = parse_safetensors_header(byte_span(file));
  std::vector<std::string> names;
  for (const TensorInfo& t : header.tensors) names.emplace_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"z", "a", "e", "f", "b"}));
}

TEST(SafetensorsHeader, TrailingSpacesAreAllowed) {
  const std::string file =
      safetensors_file(R"({"x": {"dtype": "U8", "shape": [3], "data_offsets": [0, 3]}}     )", 3);
  EXPECT_EQ(parse_safetensors_header(byte_span(file)).data_start, file.size() - 3);
}

// Offsets near 2^64 keep every digit: they are never read through a double, which would turn
// 18446744073709551615 into 18446744073709551616.
TEST(SafetensorsHeader, LargeIntegersAreExact) {
  const std::string file = safetensors_file(
      R"({"x": {"dtype": "U8", "shape": [18446744073709551615],
                "data_offsets": [0, 18446744073709551615]}})",
      0);
  EXPECT_EQ(parse_error(file),
            "tensors end at 18446744073709551615 but the data section holds 0 bytes");
}

// The bad-input corpus: one named file per defect, each with its exact message.
struct BadFile {
  std::string name;
  std::string file;
  std::string message;
};

std::string length_only(std::uint64_t header_length, std::size_t file_size) {
  std::string file = le_u64_bytes(header_length);
  file.resize(file_size, ' ');
  return file;
}

std::vector<BadFile> bad_files() {
  return {
      {"FileTooShort", std::string(5, '\0'),
       "file is 5 bytes, too short for the 8-byte header length"},
      {"FileEmpty", "", "file is 0 bytes, too short for the 8-byte header length"},
      {"HeaderLengthExceedsFile", length_only(1000, 100),
       "header length 1000 exceeds the file size 100 minus 8"},
      {"HeaderLengthAbsurd", length_only(200'000'000, 100),
       "header length 200000000 exceeds the limit of 100000000 bytes"},
      {"HeaderLengthMaxU64", length_only(UINT64_MAX, 16),
       "header length 18446744073709551615 exceeds the limit of 100000000 bytes"},
      {"HeaderEmpty", safetensors_file("", 0),
       "header is not valid JSON: parse error at line 1, column 1: syntax error while parsing "
       "value - unexpected end of input; expected '[', '{', or a literal"},
      {"HeaderNotJson", safetensors_file("{not json", 0),
       "header is not valid JSON: parse error at line 1, column 3: syntax error while parsing "
       "object key - invalid literal; last read: '{no'; expected string literal"},
      {"HeaderTrailingGarbage", safetensors_file("{} x", 0),
       "header is not valid JSON: parse error at line 1, column 4: syntax error while parsing "
       "value - invalid literal; last read: '{} x'; expected end of input"},
      {"HeaderNulPadding", safetensors_file(std::string("{}\0\0", 4), 0),
       "header is not valid JSON: NUL byte at offset 2 of 4"},
      {"HeaderJsonArray", safetensors_file("[]", 0), "header is not a JSON object"},
      {"HeaderJsonString", safetensors_file(R"("x")", 0), "header is not a JSON object"},
      {"HeaderNestsTooDeep", safetensors_file("[[[[[[[[]]]]]]]]", 0),
       "header JSON nests deeper than 4 levels"},
      {"DuplicateTensorName",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                            "x": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})",
                        4),
       "duplicate tensor name 'x'"},
      {"DuplicateMetadata", safetensors_file(R"({"__metadata__": {}, "__metadata__": {}})", 0),
       "duplicate '__metadata__'"},
      {"DuplicateField",
       safetensors_file(
           R"({"x": {"dtype": "U8", "dtype": "F32", "shape": [4], "data_offsets": [0, 4]}})", 4),
       "tensor 'x': duplicate field 'dtype'"},
      {"DuplicateMetadataKey", safetensors_file(R"({"__metadata__": {"k": "a", "k": "b"}})", 0),
       "'__metadata__' has duplicate key 'k'"},
      {"MetadataNotObject", safetensors_file(R"({"__metadata__": ["k"]})", 0),
       "'__metadata__' must map strings to strings"},
      {"MetadataValueNotString", safetensors_file(R"({"__metadata__": {"k": 1}})", 0),
       "'__metadata__' must map strings to strings"},
      {"EntryNotObject", safetensors_file(R"({"x": [0, 4]})", 4),
       "tensor 'x': entry is not an object"},
      {"UnknownField",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4], "foo": 1}})",
                        4),
       "tensor 'x': unknown field 'foo'"},
      {"MissingDtype", safetensors_file(R"({"x": {"shape": [4], "data_offsets": [0, 4]}})", 4),
       "tensor 'x': missing 'dtype'"},
      {"MissingShape", safetensors_file(R"({"x": {"dtype": "U8", "data_offsets": [0, 4]}})", 4),
       "tensor 'x': missing 'shape'"},
      {"MissingDataOffsets", safetensors_file(R"({"x": {"dtype": "U8", "shape": [4]}})", 4),
       "tensor 'x': missing 'data_offsets'"},
      {"DtypeNotString",
       safetensors_file(R"({"x": {"dtype": 4, "shape": [4], "data_offsets": [0, 4]}})", 4),
       "tensor 'x': 'dtype' must be a string"},
      {"UnknownDtype",
       safetensors_file(R"({"x": {"dtype": "F33", "shape": [4], "data_offsets": [0, 4]}})", 4),
       "tensor 'x': unknown dtype 'F33'"},
      {"ShapeNotArray",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": 4, "data_offsets": [0, 4]}})", 4),
       "tensor 'x': 'shape' must be an array of non-negative integers"},
      {"ShapeNegative",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [-4], "data_offsets": [0, 4]}})", 4),
       "tensor 'x': 'shape' must be an array of non-negative integers"},
      {"ShapeFloat",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [4.0], "data_offsets": [0, 4]}})", 4),
       "tensor 'x': 'shape' must be an array of non-negative integers"},
      {"ShapeNested",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [[4]], "data_offsets": [0, 4]}})", 4),
       "tensor 'x': 'shape' must be an array of non-negative integers"},
      {"RankTooBig",
       safetensors_file(
           R"({"x": {"dtype": "U8", "shape": [1,1,1,1,1,1,1,1,1], "data_offsets": [0, 1]}})", 1),
       "tensor 'x': rank 9 exceeds the limit of 8"},
      {"ShapeProductOverflows",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [4294967296, 4294967296],
                                  "data_offsets": [0, 0]}})",
                        0),
       "tensor 'x': shape [4294967296, 4294967296] has more elements than fit in 64 bits"},
      {"ByteCountOverflows",
       safetensors_file(R"({"x": {"dtype": "F32", "shape": [4611686018427387904],
                                  "data_offsets": [0, 0]}})",
                        0),
       "tensor 'x': F32 [4611686018427387904] needs more bytes than fit in 64 bits"},
      {"OffsetsFloat",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4.0]}})", 4),
       "tensor 'x': 'data_offsets' must be two non-negative integers"},
      {"OffsetsExponent",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4e0]}})", 4),
       "tensor 'x': 'data_offsets' must be two non-negative integers"},
      {"OffsetsNegative",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [4], "data_offsets": [-4, 0]}})", 4),
       "tensor 'x': 'data_offsets' must be two non-negative integers"},
      {"OffsetsPastU64",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [4],
                                  "data_offsets": [18446744073709551616, 18446744073709551620]}})",
                        4),
       "tensor 'x': 'data_offsets' must be two non-negative integers"},
      {"OffsetsThree",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [4], "data_offsets": [0, 2, 4]}})", 4),
       "tensor 'x': 'data_offsets' must be two non-negative integers"},
      {"OffsetsReversed",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [4], "data_offsets": [8, 4]}})", 8),
       "tensor 'x': data_offsets [8, 4] end before they begin"},
      {"SizeMismatch",
       safetensors_file(R"({"x": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}})", 12),
       "tensor 'x': holds 12 bytes (data_offsets [0, 12]) but F32 [2, 2] needs 16"},
      {"OffsetsOverlap",
       safetensors_file(R"({"y": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]},
                            "x": {"dtype": "U8", "shape": [16], "data_offsets": [4, 20]}})",
                        20),
       "tensor 'x': data_offsets [4, 20] overlap tensor 'y' [0, 8]"},
      {"OffsetsGap",
       safetensors_file(R"({"y": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]},
                            "x": {"dtype": "U8", "shape": [4], "data_offsets": [12, 16]}})",
                        16),
       "tensor 'x': begins at 12 but the previous tensor ends at 8 (gap)"},
      {"FirstTensorNotAtZero",
       safetensors_file(R"({"x": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]}})", 8),
       "tensor 'x': begins at 4 but the data section starts at 0"},
      {"DataSectionLonger",
       safetensors_file(R"({"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 24),
       "tensors end at 16 but the data section holds 24 bytes"},
      {"DataSectionTruncated",
       safetensors_file(R"({"x": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]}})", 24),
       "tensors end at 32 but the data section holds 24 bytes"},
      {"NoTensorsButData", safetensors_file("{}", 8),
       "tensors end at 0 but the data section holds 8 bytes"},
  };
}

class BadSafetensors : public testing::TestWithParam<BadFile> {};

TEST_P(BadSafetensors, IsRejectedWithItsMessage) {
  EXPECT_EQ(parse_error(GetParam().file), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadSafetensors, testing::ValuesIn(bad_files()),
                         [](const testing::TestParamInfo<BadFile>& case_info) {
                           return case_info.param.name;
                         });

}  // namespace
}  // namespace weld::test
