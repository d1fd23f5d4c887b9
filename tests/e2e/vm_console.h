/* SPDX-License-Identifier: MIT */
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

// Terminal control sequences the console would send to the user's terminal
// from before the guest's init spoke (its first "bd-init:" line; the whole
// console when there is none): any ESC byte there (the firmware's "ESC c"
// reset, "ESC [2J" clear, "ESC [?7l" no-wrap...), and an "ESC c" terminal
// reset anywhere. Empty when there is none; otherwise each one found with its
// offset and what surrounds it, escaped, for a test's failure message.
std::string terminal_escapes_before_init(const std::string &console);

}  // namespace bdtest
