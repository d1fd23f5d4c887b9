#include "vm_console.h"

#include <sys/stat.h>

#include "support.h"

namespace bdtest {

bool file_exists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::vector<std::string> guest_lines(const std::string &console) {
  std::vector<std::string> v;
  for (auto l : lines(console)) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    const size_t at = l.find("bd-test: ");
    if (at != std::string::npos) v.push_back(l.substr(at + 9));
  }
  return v;
}

long long guest_value(const std::vector<std::string> &lines, const std::string &key) {
  for (const auto &l : lines)
    if (l.rfind(key + " ", 0) == 0) return std::stoll(l.substr(l.find_last_of(' ') + 1));
  return -1;
}

}  // namespace bdtest
