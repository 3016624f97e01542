#include "io/output_dir.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "util/check.h"
#include "util/error.h"

namespace weld {

namespace fs = std::filesystem;

namespace {

bool is_empty_directory(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && fs::is_empty(p, ec);
}

}  // namespace

OutputDir::OutputDir(std::string final_path, bool force)
    : final_path_(std::move(final_path)), force_(force) {
  fs::path target = fs::path(final_path_).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "out/" -> "out"
  std::error_code ec;
  if (fs::exists(target, ec) && !is_empty_directory(target) && !force_)
    fail("output '{}' already exists and is not an empty directory (use --force to replace it)",
         final_path_);
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  temp_path_ = (parent / fmt::format(".{}.tmp-{}", target.filename().string(), ::getpid())).string();
  final_path_ = target.string();
  fs::remove_all(temp_path_, ec);
  if (!fs::create_directories(temp_path_, ec) || ec)
    fail("cannot create output directory '{}': {}", temp_path_, ec ? ec.message() : "exists");
}

OutputDir::~OutputDir() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(temp_path_, ec);
}

std::string OutputDir::file(std::string_view name) const {
  return (fs::path(temp_path_) / name).string();
}

void OutputDir::commit() {
  WELD_CHECK(!committed_);
  std::error_code ec;
  // A replaced output is moved aside first: rename() cannot replace a non-empty directory.
  const std::string old_path = temp_path_ + ".old";
  const bool replacing = fs::exists(final_path_, ec);
  if (replacing) {
    fs::rename(final_path_, old_path, ec);
    if (ec) fail("cannot replace '{}': {}", final_path_, ec.message());
  }
  fs::rename(temp_path_, final_path_, ec);
  if (ec) {
    if (replacing) fs::rename(old_path, final_path_, ec);
    fail("cannot move '{}' to '{}': {}", temp_path_, final_path_, ec.message());
  }
  committed_ = true;
  if (replacing) fs::remove_all(old_path, ec);
}

}  // namespace weld
