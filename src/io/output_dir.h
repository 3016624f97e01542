// An output directory that appears complete or not at all.
//
// Everything is written into a temporary sibling, "<parent>/.<name>.tmp-<pid>", and
// commit() renames it into place (LevelDB's SetCurrentFile idea). If the process fails
// before commit(), the destructor deletes the temporary directory, so no partial output is
// ever left where the user asked for it.
#pragma once

#include <string>
#include <string_view>

namespace weld {

class OutputDir {
 public:
  // Fails if `final_path` exists and is not an empty directory, unless `force` (then the old
  // contents are replaced at commit()), or if the temporary directory cannot be created.
  OutputDir(std::string final_path, bool force);
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;
  ~OutputDir();

  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }
  // Path of `name` inside the temporary directory.
  std::string file(std::string_view name) const;

  // Moves the temporary directory into place. REQUIRES: not yet committed.
  void commit();

 private:
  std::string final_path_;
  std::string temp_path_;
  bool force_;
  bool committed_ = false;
};

}  // namespace weld
