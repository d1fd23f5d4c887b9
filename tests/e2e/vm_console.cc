// SPDX-License-Identifier: MIT
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

namespace {

std::string printable(const std::string &s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == 0x1b) {
      out += "\\e";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

std::string terminal_escapes_before_init(const std::string &console) {
  const size_t init = console.find("bd-init:");
  const size_t end = init == std::string::npos ? console.size() : init;
  std::string found;
  for (size_t at = console.find('\x1b'); at != std::string::npos; at = console.find('\x1b', at + 1)) {
    const bool reset = at + 1 < console.size() && console[at + 1] == 'c';
    if (at >= end && !reset) continue;
    const size_t from = at < 16 ? 0 : at - 16;
    found += "ESC at byte " + std::to_string(at) + (at < end ? " (before init)" : " (terminal reset)") +
             ": ..." + printable(console.substr(from, 32)) + "...\n";
  }
  return found;
}

}  // namespace bdtest
