// SPDX-License-Identifier: MIT
// Whole files as bytes, for the analyzer's tests (goldens, copied and
// corrupted traces).
#ifndef BDTRACE_TESTS_ANALYZER_FILE_BYTES_H
#define BDTRACE_TESTS_ANALYZER_FILE_BYTES_H

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace analyzer_test_files {

// The file's bytes ("" when it cannot be read: the comparison then fails).
inline std::string ReadFile(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Replaces the file's content with `bytes`.
inline void WriteFile(const std::filesystem::path &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

}  // namespace analyzer_test_files

#endif  // BDTRACE_TESTS_ANALYZER_FILE_BYTES_H
