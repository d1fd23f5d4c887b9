// Reading what a test VM's scripts print on the console (tests/e2e/vm/*.sh
// write "bd-test: KEY VALUE..." lines), for the system-mode e2e tests.
#pragma once

#include <string>
#include <vector>

namespace bdtest {

// Does `path` exist?
bool file_exists(const std::string &path);

// The lines the guest printed with prefix "bd-test: " (prefix removed).
std::vector<std::string> guest_lines(const std::string &console);

// The last number on the first guest line that starts with "<key> ", or -1
// ("before ctxt 123" -> 123).
long long guest_value(const std::vector<std::string> &lines, const std::string &key);

}  // namespace bdtest
