// SPDX-License-Identifier: MIT
// The plugin under a real qemu-<arch> (Debian's 7.2) with trap-guest-<arch>
// (trap_guest.c), which traps by hand and checks every reply. One ctest per
// architecture (plugin_trap_<arch>) sets the environment:
//   BD_TEST_QEMU    qemu-<arch> to run
//   BD_TEST_PLUGIN  build/lib/libbdtrace-qemu.so
//   BD_TEST_GUEST   trap-guest-<arch> (PluginRefusal: any file)
//   BD_TEST_ARCH    QEMU's target name the plugin must report
// and picks the suite: PluginArch.* for a supported target, PluginRefusal.*
// (plugin_refuses_unsupported_target) for one the plugin must refuse.
// No LTTng session is created: the plugin's own counts (verbose=on, stats=)
// and the guest's view of the replies are checked.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

extern char **environ;

namespace {

// The trap guest's expectations (see trap_guest.c's header).
constexpr int kMarks = 100;
constexpr int kAccepted = kMarks + 4;
constexpr int kRejected = 3;
constexpr int kTraps = kMarks + 8;  // replies the guest checks

std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v ? v : "";
}

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (env("TMPDIR").empty() ? std::string("/tmp") : env("TMPDIR")) + "/bdtrace-plugin-arch-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) std::system(("rm -rf '" + path_ + "'").c_str());
  }
  const std::string &path() const { return path_; }

 private:
  std::string path_;
};

struct Outcome {
  int status = -1;  // exit status, or -1 when it did not exit normally
  std::string out, err;
};

// Runs argv with stdout and stderr captured into files of `dir`; waits.
Outcome run(const std::vector<std::string> &argv, const std::string &dir) {
  Outcome r;
  const std::string out = dir + "/stdout", err = dir + "/stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char *> args;
  for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    r.err = "posix_spawn " + argv[0] + " failed";
    return r;
  }
  int ws = 0;
  if (waitpid(pid, &ws, 0) == pid && WIFEXITED(ws)) r.status = WEXITSTATUS(ws);
  r.out = slurp(out);
  r.err += slurp(err);
  return r;
}

class PluginArch : public ::testing::Test {
 protected:
  void SetUp() override {
    qemu_ = env("BD_TEST_QEMU");
    plugin_ = env("BD_TEST_PLUGIN");
    guest_ = env("BD_TEST_GUEST");
    arch_ = env("BD_TEST_ARCH");
    ASSERT_FALSE(qemu_.empty() || plugin_.empty() || guest_.empty() || arch_.empty())
        << "run through ctest (plugin_trap_<arch>): BD_TEST_QEMU, BD_TEST_PLUGIN, "
           "BD_TEST_GUEST and BD_TEST_ARCH must be set";
    ASSERT_FALSE(dir_.path().empty()) << "cannot create a temporary directory";
  }
  std::string qemu_, plugin_, guest_, arch_;
  TempDir dir_;
};
using PluginRefusal = PluginArch;

// Without the plugin every trap is a harmless load: all replies stay NONE.
TEST_F(PluginArch, TrapIsHarmlessUnderPlainQemu) {
  const Outcome r = run({qemu_, guest_, "plain"}, dir_.path());
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("trap-guest: " + arch_ + " ok=0 rejected=0 none=" + std::to_string(kTraps) + " bad=0"),
            std::string::npos)
      << r.out << r.err;
}

// With the plugin: every reply as expected, and the plugin's own counts.
TEST_F(PluginArch, PluginAnswersEveryTrap) {
  const std::string stats = dir_.path() + "/stats";
  const Outcome r =
      run({qemu_, "-plugin", plugin_ + ",verbose=on,stats=" + stats, guest_, "plugin"}, dir_.path());
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  // OK for the accepted ones, REJECTED for the bad magic, NONE for the
  // misaligned trap, the read-only page and the record beside the
  // misaligned trap (which is not trapped on).
  EXPECT_NE(
      r.out.find("trap-guest: " + arch_ + " ok=" + std::to_string(kAccepted) + " rejected=1 none=3 bad=0"),
      std::string::npos)
      << r.out << r.err;
  // The target name and the guessed program (no program= given).
  EXPECT_NE(r.err.find("bdtrace: loaded (user mode, " + arch_ + ", program '" + guest_ + "'"),
            std::string::npos)
      << r.err;
  std::smatch m;
  const std::regex counts("(\\d+) trap translations instrumented, (\\d+) records accepted, (\\d+) rejected");
  ASSERT_TRUE(std::regex_search(r.err, m, counts)) << r.err;
  EXPECT_GE(std::stoi(m[1]), 1) << r.err;
  EXPECT_EQ(std::stoi(m[2]), kAccepted) << r.err;
  EXPECT_EQ(std::stoi(m[3]), kRejected) << r.err;
  EXPECT_NE(slurp(stats).find("records " + std::to_string(kAccepted) + " rejected " +
                              std::to_string(kRejected) + " pid "),
            std::string::npos)
      << slurp(stats);
}

// program= given: the plugin reports it instead of its guess.
TEST_F(PluginArch, ProgramOptionWins) {
  const Outcome r =
      run({qemu_, "-plugin", plugin_ + ",verbose=on,program=/opt/app,vm=v1", "-E", "X=1", guest_, "plugin"},
          dir_.path());
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("loaded (user mode, " + arch_ + ", program '/opt/app', vm 'v1'"), std::string::npos)
      << r.err;
}

// A target the plugin does not know: QEMU stops with the plugin's message,
// which names the target and the supported ones, before running anything.
TEST_F(PluginRefusal, RefusesUnsupportedTarget) {
  const Outcome r = run({qemu_, "-plugin", plugin_ + ",verbose=on", guest_}, dir_.path());
  EXPECT_NE(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("bdtrace: guest architecture '" + arch_ +
                       "' is not supported in user mode; supported: x86_64 (qemu-x86_64), "
                       "aarch64 (qemu-aarch64), riscv64 (qemu-riscv64), s390x (qemu-s390x)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("bdtrace: loaded"), std::string::npos) << r.err;
}

}  // namespace
