// SPDX-License-Identifier: MIT
// The bd_sched kernel module (issue #12): loaded and unloaded 200 times in
// a VM under load (tests/e2e/vm/modloop-test.sh) with no lockup, oops or
// failed cycle, the host accepting every record meanwhile; and refusing to
// load, with a message, in a VM without the channel device.
//
// The 200 plain insmod/rmmod cycles run under QEMU 10.2 and later only
// (kmod_e2e_qemu_builds): older QEMUs hang such a guest after a few to 150
// cycles, plugin or not (measured 2026-11-26: Debian's 7.2 in 4 of 4 runs
// without the plugin and 3 of 3 with it, 10.0 in 1 of 3; 10.2 in none of
// 9): one vCPU loops on a stale int3 at a jump label the kernel has
// already re-patched (text_poke_bp, as the sched_switch tracepoint is
// enabled or disabled) while the other spins, interrupts off, on a lock
// the first holds: the "soft lockup" once seen at an unload. The image's
// bd-kmod (what bd-init loads and unloads with) takes the other CPUs
// offline for the moment of the patch; its 200 cycles run on Debian's 7.2
// (kmod_e2e), where plain cycles hang.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "support.h"

namespace {

using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;

const std::string kVmDir = BD_VM_DIR;

bool have_image() {
  struct stat st;
  return stat((kVmDir + "/vmlinuz").c_str(), &st) == 0 &&
         stat((kVmDir + "/initramfs.cpio.gz").c_str(), &st) == 0;
}

// The guest's "bd-test: ..." lines, without the prefix.
std::vector<std::string> guest_lines(const std::string& console) {
  std::vector<std::string> out;
  for (const std::string& l : bdtest::lines(console)) {
    const size_t at = l.find("bd-test: ");
    if (at == std::string::npos) continue;
    std::string rest = l.substr(at + 9);
    if (!rest.empty() && rest.back() == '\r') rest.pop_back();  // the serial console's CRLF
    out.push_back(rest);
  }
  return out;
}

bool has_line(const std::vector<std::string>& lines, const std::string& want) {
  for (const std::string& l : lines)
    if (l == want) return true;
  return false;
}

// QEMU's version as "MAJOR.MINOR" from `qemu-system-x86_64 -version`.
std::pair<int, int> qemu_version(const std::string& qemu) {
  const RunResult v = run({qemu, "-version"});
  int major = 0, minor = 0;
  const size_t at = v.out.find("version ");
  if (at != std::string::npos) std::sscanf(v.out.c_str() + at + 8, "%d.%d", &major, &minor);
  return {major, minor};
}

// Boots the test VM with the plugin, runs modloop-test.sh's 200 cycles with
// `append` added to the kernel command line, and checks every cycle and the
// trace.
void run_200_cycles(const std::string& append) {
  TempDir dir("e2e-kmod");
  const std::string trace = dir.path() + "/trace";
  const std::string vm = "e2e-kmod-" + std::to_string(getpid());
  const RunResult r = run({"timeout", "600", BD_RUN, "--system", "--trace", trace, "--vm", vm, "--kernel",
                           kVmDir + "/vmlinuz", "--initrd", kVmDir + "/initramfs.cpio.gz", "--append",
                           "bd.run=/etc/bd/modloop-test.sh" + append});
  ASSERT_EQ(r.status, 0) << r.err << "\n--- console:\n" << r.out;
  const std::vector<std::string> lines = guest_lines(r.out);
  ASSERT_FALSE(lines.empty()) << r.out;
  EXPECT_EQ(lines.back(), "end") << r.out;
  bool all_clean = false;  // "... seconds N" follows
  for (const std::string& l : lines)
    all_clean = all_clean || l.rfind("cycles 200 failed 0 unloads 200 problems 0 ", 0) == 0;
  EXPECT_TRUE(all_clean) << r.out;

  // Each load handshook with the plugin and marked switches; everything a
  // guest wrote meanwhile (the module's and the processes' records) was
  // accepted. bd-analyze's summary: the trace has millions of events.
  const RunResult report = run({BD_ANALYZE, trace, "-f", "csv"});
  ASSERT_EQ(report.status, 0) << report.err;
  uint64_t switches = 0, marks = 0, rejected = 1;
  for (const std::string& l : bdtest::lines(report.out)) {
    if (l.rfind("summary,sched_switches,", 0) == 0) switches = std::stoull(l.substr(23));
    if (l.rfind("summary,marks,", 0) == 0) marks = std::stoull(l.substr(14));
    if (l.rfind("summary,rejected,", 0) == 0) rejected = std::stoull(l.substr(17));
  }
  EXPECT_GT(switches, 200u) << report.out;
  EXPECT_GT(marks, 0u) << report.out;
  EXPECT_EQ(rejected, 0u) << report.out;
}

TEST(Kmod, LoadedAndUnloaded200TimesUnderLoad) {
  ASSERT_TRUE(have_image()) << "no test VM image in " << kVmDir << ": run ./bdtrace build";
  const char* prefix = std::getenv("BD_TEST_QEMU_PREFIX");
  ASSERT_NE(prefix, nullptr) << "run through kmod_e2e_qemu_builds (QEMU 7.2 hangs this guest: see above)";
  const auto [major, minor] = qemu_version(std::string(prefix) + "/bin/qemu-system-x86_64");
  if (major < 10 || (major == 10 && minor < 2)) {
    GTEST_SKIP() << "QEMU " << major << "." << minor << " hangs a guest that re-patches its kernel text "
                 << "(measured on 10.0: 1 run in 3); the cycles run on 10.2 and later";
  }
  run_200_cycles("");
}

// What bd-init does: the other CPUs offline while the text is patched. On
// the machine's QEMU (Debian's 7.2), which hangs the plain cycles.
TEST(Kmod, LoadedAndUnloaded200TimesThroughBdKmodOnAnyQemu) {
  ASSERT_TRUE(have_image()) << "no test VM image in " << kVmDir << ": run ./bdtrace build";
  run_200_cycles(" bd.kmodtool=bd-kmod");
}

TEST(Kmod, RefusesToLoadWithoutTheChannelDevice) {
  ASSERT_TRUE(have_image()) << "no test VM image in " << kVmDir << ": run ./bdtrace build";
  // Plain QEMU, no ivshmem device at all (bd-run always adds one).
  const RunResult r = run({"timeout",
                           "600",
                           "qemu-system-x86_64",
                           "-accel",
                           "tcg",
                           "-m",
                           "512M",
                           "-display",
                           "none",
                           "-parallel",
                           "none",
                           "-no-reboot",
                           "-monitor",
                           "none",
                           "-serial",
                           "stdio",
                           "-kernel",
                           kVmDir + "/vmlinuz",
                           "-initrd",
                           kVmDir + "/initramfs.cpio.gz",
                           "-append",
                           "console=ttyS0 quiet panic=-1 bd.run=/etc/bd/nodevice-test.sh"});
  ASSERT_EQ(r.status, 0) << r.err << "\n--- console:\n" << r.out;
  const std::vector<std::string> lines = guest_lines(r.out);
  EXPECT_TRUE(has_line(lines, "insmod refused")) << r.out;
  EXPECT_FALSE(has_line(lines, "module listed")) << r.out;
  bool explained = false;
  for (const std::string& l : lines)
    explained = explained || l.find("no ivshmem device") != std::string::npos;
  EXPECT_TRUE(explained) << r.out;
}

}  // namespace
