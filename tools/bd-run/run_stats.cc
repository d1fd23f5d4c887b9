// SPDX-License-Identifier: MIT
#include "run_stats.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bdtrace::bdrun {

Expected<StatsFile> StatsFile::create() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr && tmp[0] != '\0' ? tmp : "/tmp") + "/bd-run-stats-XXXXXX";
  const int fd = ::mkstemp(templ.data());
  if (fd < 0) return make_error("cannot create a file in " + templ + ": " + std::strerror(errno));
  ::close(fd);
  return StatsFile(templ);
}

StatsFile::~StatsFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

std::optional<uint64_t> StatsFile::records() const {
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  return sum_records(text.str());
}

std::optional<uint64_t> sum_records(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  std::optional<uint64_t> total;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string key;
    uint64_t n = 0;
    if (words >> key >> n && key == "records") total = total.value_or(0) + n;
  }
  return total;
}

GuestCheck check_guest(int exit_status, std::optional<uint64_t> records) {
  if (records.value_or(0) != 0) return GuestCheck::Ok;
  // 127: the shell's and the dynamic loader's "could not run it" status.
  if (exit_status == 127) return GuestCheck::FailedToStart;
  return GuestCheck::NoRecords;
}

std::string explain_guest_check(GuestCheck check, const std::string& program, const std::string& script) {
  const std::string what = script.empty() ? program : script;
  switch (check) {
    case GuestCheck::Ok:
      return "";
    case GuestCheck::FailedToStart:
      return what +
             " did not start (exit status 127 before any mark): a program or a shared library it "
             "needs was not found (the loader's message is above). A program linked with -lbdguest "
             "needs libbdguest.so at run time: bd-run adds its build's lib/ to LD_LIBRARY_PATH; "
             "elsewhere link with -Wl,-rpath,/path/to/build/lib or link build/lib/libbdguest.a";
    case GuestCheck::NoRecords:
      return "no mark of the guest reached bdtrace: " + what +
             " ran but made no bd_mark()/bd-mark call that arrived (is it linked with libbdguest, "
             "and do its calls run? bd_present() says whether a host listens)";
  }
  return "";
}

}  // namespace bdtrace::bdrun
