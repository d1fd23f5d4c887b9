// SPDX-License-Identifier: MIT
// End to end in full-system aarch64, every part real: Debian's arm64 kernel
// boots under qemu-system-aarch64 -M virt (TCG) with the bdtrace plugin and
// the ivshmem channel; bd_sched, cross-built against Debian's arm64
// headers, marks context switches with the aarch64 trap; aarch64 guest
// programs mark from user space; bd-run --system --arch aarch64 records it
// all in its own LTTng session. One boot, the suite's only aarch64 one,
// serves every check below (tests/e2e/vm/system-a64-test.sh runs inside it,
// started through --run so the command's exit status is checked too).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "support.h"
#include "vm_suite.h"
#include "system_checks.h"
#include "threads_check.h"
#include "vm_console.h"

using bdtest::read_trace_with_babeltrace2;
using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;
using bdtest::TraceEvent;

namespace {

const std::string kVmDir = BD_VM_AARCH64_DIR;
constexpr int kMarks = 1000;

using bdtest::file_exists;
using bdtest::guest_lines;
using bdtest::guest_value;

class SystemA64Vm : public bdtest::VmSuite<SystemA64Vm> {
 public:
  static constexpr const char *kTag = "a64";
  static std::string MissingImage() {
    if (file_exists(kVmDir + "/vmlinuz") && file_exists(kVmDir + "/initramfs.cpio.gz") &&
        file_exists(kVmDir + "/initramfs-root/etc/bd/system-a64-test.sh"))
      return "";
    return "no aarch64 test VM image in " + kVmDir +
           " (or an old one): run ./bdtrace test, whose build_vm makes it";
  }
  static RunResult Boot(const std::string &, const std::string &trace, const std::string &vm) {
    return run({"timeout", "900", BD_RUN, "--system", "--arch", "aarch64", "--trace", trace, "--vm", vm,
                "--kernel", kVmDir + "/vmlinuz", "--initrd", kVmDir + "/initramfs.cpio.gz", "--append",
                "bd.kmod=1", "--run", "sh /etc/bd/system-a64-test.sh"});
  }
};

TEST_F(SystemA64Vm, AnAarch64GuestRanItsScriptWithTheHostAndTheModulePresent) {
  ASSERT_FALSE(lines_->empty()) << result_->out;
  EXPECT_EQ(lines_->front(), "begin");
  EXPECT_EQ(lines_->back(), "end");
  EXPECT_NE(std::find(lines_->begin(), lines_->end(), "arch aarch64"), lines_->end());
  EXPECT_EQ(guest_value(*lines_, "present"), 1);
  EXPECT_EQ(guest_value(*lines_, "kmod"), 1) << "bd_sched did not load:\n" << result_->out;
  int sessions = 0;
  for (const auto &ev : *events_)
    if (ev.name == "session") {
      ++sessions;
      EXPECT_EQ(ev.fields.at("mode"), "system");
      EXPECT_EQ(ev.fields.at("arch"), "aarch64");
    }
  EXPECT_EQ(sessions, 1);
}

// No firmware runs (QEMU loads the kernel and hands it a device tree): the
// console, often the user's terminal, gets nothing but the guest's lines.
TEST_F(SystemA64Vm, NothingButTheGuestWritesToTheConsole) {
  EXPECT_EQ(bdtest::terminal_escapes_before_init(result_->out), "");
  EXPECT_EQ(result_->out.find("bd-init: up at"), result_->out.find_first_not_of("\r\n"))
      << result_->out.substr(0, 400);
}

// Each guest-threads process's records, event by event (as in user mode:
// tests/e2e/threads_check.h), told apart by the pid the guest sends.
TEST_F(SystemA64Vm, UserMarksFromTwoProcessesOfTwoThreadsEachArriveExactly) {
  std::set<uint64_t> pids;
  for (const std::string proc : {"p1", "p2"}) {
    SCOPED_TRACE(proc);
    std::string out;  // that process's stdout, from its "pN " console lines
    for (const auto &l : *lines_)
      if (l.rfind(proc + " ", 0) == 0) out += l.substr(proc.size() + 1) + "\n";
    const long pid = bdtest::value_after(out, "pid");
    ASSERT_GT(pid, 0) << "guest-threads did not print its pid";
    pids.insert(static_cast<uint64_t>(pid));
    EXPECT_EQ(bdtest::value_after(out, "present"), 1);
    // Every record it sent was taken: (3+N) + N*(M+6) for N = 2 threads.
    EXPECT_EQ(bdtest::value_after(out, "taken"), 5 + 2 * (kMarks + 6));
    std::vector<TraceEvent> own;
    for (const auto &ev : *events_)
      if (ev.fields.count("pid") && ev.u("pid") == static_cast<uint64_t>(pid)) own.push_back(ev);
    bdtest::expect_guest_threads_events(own, out, 2, kMarks, false);
    for (const auto &ev : own) {
      if (ev.name == "mark") {
        EXPECT_LT(ev.u("vcpu"), 2u);
      }
    }
  }
  EXPECT_EQ(pids.size(), 2u);
}

// bd_sched's aarch64 trap (ldr xzr, [x0] from kernel space) reaches the
// plugin: as many switches between marks 900 and 901 as the guest kernel
// counted in /proc/stat, from both vCPUs.
TEST_F(SystemA64Vm, ContextSwitchesComeFromEveryVcpuAndMatchTheGuestsCount) {
  bdtest::expect_switches_match_the_guests_count(*events_, *lines_, 5000);
}

// The plugin tells aarch64 kernel traps from user ones by the instruction's
// address (TTBR1 half): SCHED_SWITCH records trapped from user space are
// rejected as kernel_only_kind, and hostile records are counted.
TEST_F(SystemA64Vm, ForgedKernelEventsAndHostileRecordsAreRejectedAndCounted) {
  bdtest::expect_forged_and_hostile_records_rejected(*events_, *lines_);
}

TEST_F(SystemA64Vm, KernelModuleUnloadsCleanly) { bdtest::expect_module_unloaded_cleanly(*lines_); }

}  // namespace
