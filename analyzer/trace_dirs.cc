// SPDX-License-Identifier: MIT
// Finding CTF trace directories on disk.
#include <filesystem>
#include <set>
#include <system_error>

#include "bdtrace/analyzer/reader.h"

namespace bdtrace::analyzer {

namespace fs = std::filesystem;

namespace {

bool HasMetadata(const fs::path &dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "metadata", ec);
}

}  // namespace

Expected<std::vector<std::string>> FindTraceDirs(const std::vector<std::string> &paths) {
  if (paths.empty()) return Error{"no trace directory given", {}};
  std::set<std::string> found;
  for (const std::string &path : paths) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
      return Error{"trace directory does not exist: " + path, {}};
    }
    if (!fs::is_directory(st)) {
      return Error{"not a directory: " + path + " — pass the directory bd-run --trace wrote", {}};
    }
    size_t here = 0;
    if (HasMetadata(path)) {
      found.insert(fs::path(path).lexically_normal().string());
      ++here;
    }
    for (fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
      std::error_code entry_ec;
      if (it->is_directory(entry_ec) && HasMetadata(it->path())) {
        found.insert(it->path().lexically_normal().string());
        ++here;
      }
    }
    if (ec) {
      return Error{"cannot walk " + path, {ec.message()}};
    }
    if (here == 0) {
      return Error{
          "not a CTF trace: no 'metadata' file under " + path + " — pass the directory bd-run --trace wrote",
          {}};
    }
  }
  return std::vector<std::string>(found.begin(), found.end());
}

}  // namespace bdtrace::analyzer
