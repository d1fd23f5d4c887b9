// SPDX-License-Identifier: MIT
// bd-run: its QEMU command line (unit) and the program itself (black box),
// with a fake qemu-x86_64 script so these tests do not need the plugin.
#include <gtest/gtest.h>
#include <lttng/lttng.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bd_run_harness.h"
#include "preflight.h"
#include "qemu_command.h"
#include "temp_dir.h"

namespace bdtrace::bdrun {
namespace {

using testing::run_bd_run;
using testing::RunResult;
using testing::slurp;
using testing::TempDir;

// ---- the command line -------------------------------------------------

QemuInvocation invocation() {
  QemuInvocation inv;
  inv.qemu = "/usr/bin/qemu-x86_64";
  inv.plugin = "/opt/lib/libbdtrace-qemu.so";
  inv.program = "/bin/echo";
  inv.program_args = {"-n", "hello"};
  return inv;
}

TEST(QemuCommand, PluginProgramAndArgs) {
  QemuInvocation inv = invocation();
  inv.plugin_args = {{"log", "/tmp/p.log"}};
  QemuCommand cmd = build_qemu_command(inv, {"HOME=/root"});
  const std::vector<std::string> want = {"/usr/bin/qemu-x86_64",
                                         "-plugin",
                                         "/opt/lib/libbdtrace-qemu.so,program=/bin/echo,log=/tmp/p.log",
                                         "/bin/echo",
                                         "-n",
                                         "hello"};
  EXPECT_EQ(cmd.argv, want);
  EXPECT_EQ(cmd.envp, std::vector<std::string>{"HOME=/root"});
}

TEST(QemuCommand, CommasAreEscaped) {
  QemuInvocation inv = invocation();
  inv.program = "/tmp/a,b";
  QemuCommand cmd = build_qemu_command(inv, {});
  EXPECT_EQ(cmd.argv[2], "/opt/lib/libbdtrace-qemu.so,program=/tmp/a,,b");
}

TEST(QemuCommand, ForkWrapperGoesToQemuOnly) {
  QemuInvocation inv = invocation();
  inv.fork_wrapper = "/usr/lib/liblttng-ust-fork.so.1";
  QemuCommand cmd = build_qemu_command(inv, {"A=1"});
  const std::vector<std::string> want = {"/usr/bin/qemu-x86_64",
                                         "-plugin",
                                         "/opt/lib/libbdtrace-qemu.so,program=/bin/echo",
                                         "-U",
                                         "LD_PRELOAD",
                                         "/bin/echo",
                                         "-n",
                                         "hello"};
  EXPECT_EQ(cmd.argv, want);
  const std::vector<std::string> env = {"A=1", "LD_PRELOAD=/usr/lib/liblttng-ust-fork.so.1"};
  EXPECT_EQ(cmd.envp, env);
}

TEST(QemuCommand, UsersPreloadGoesToTheGuest) {
  QemuInvocation inv = invocation();
  inv.fork_wrapper = "/usr/lib/liblttng-ust-fork.so.1";
  QemuCommand cmd = build_qemu_command(inv, {"LD_PRELOAD=/my/lib.so", "A=1"});
  ASSERT_GE(cmd.argv.size(), 5u);
  EXPECT_EQ(cmd.argv[3], "-E");
  EXPECT_EQ(cmd.argv[4], "LD_PRELOAD=/my/lib.so");
  const std::vector<std::string> env = {"A=1", "LD_PRELOAD=/usr/lib/liblttng-ust-fork.so.1"};
  EXPECT_EQ(cmd.envp, env);
}

TEST(Preflight, ProgramFoundInPath) {
  Expected<std::string> p = resolve_program("true");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p.value().front(), '/');
}

TEST(Preflight, TraceDirMustBeEmpty) {
  TempDir dir;
  EXPECT_TRUE(check_trace_dir(dir.path()).ok());
  EXPECT_TRUE(check_trace_dir(dir / "new").ok());
  std::ofstream(dir / "file") << "x";
  Status st = check_trace_dir(dir.path());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not empty"), std::string::npos) << st.error();
}

// ---- the program ------------------------------------------------------

// A stand-in for qemu-x86_64: logs its arguments and LD_PRELOAD, prints to
// stdout like a guest would, lists the LTTng sessions into FAKE_LIST if set,
// and exits as told by FAKE_EXIT (or kills itself with FAKE_SIGNAL).
std::string write_fake_qemu(const TempDir& tmp) {
  const std::string path = tmp / "fake-qemu";
  std::ofstream(path) << "#!/bin/sh\n"
                         "printf '%s\\n' \"$@\" > \"$FAKE_LOG\"\n"
                         "printf 'LD_PRELOAD=%s\\n' \"$LD_PRELOAD\" >> \"$FAKE_LOG\"\n"
                         "echo guest-output\n"
                         "[ -n \"$FAKE_LIST\" ] && lttng list > \"$FAKE_LIST\" 2>&1\n"
                         "[ -n \"$FAKE_SIGNAL\" ] && kill -\"$FAKE_SIGNAL\" $$\n"
                         "exit ${FAKE_EXIT:-0}\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(BdRun, HelpExitsZero) {
  TempDir tmp;
  RunResult r = run_bd_run(tmp, "--help");
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_NE(r.out.find("Usage: bd-run"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--trace"), std::string::npos) << r.out;
}

TEST(BdRun, NoProgramIsUsageError) {
  TempDir tmp;
  RunResult r = run_bd_run(tmp, "");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("no PROGRAM"), std::string::npos) << r.err;
}

// One prefix style: every error, whether from the option parser (CLI11's own
// or bd-run's checks of the options) or from the run, is "bd-run: error: ...".
TEST(BdRun, EveryErrorHasTheErrorPrefix) {
  TempDir tmp;
  for (const char* args : {"", "--no-such-option /bin/true", "--smp 2 /bin/true", "--session s /bin/true",
                           "--plugin /dev/null -- /nonexistent/guest"}) {
    RunResult r = run_bd_run(tmp, args);
    EXPECT_EQ(r.exit_status, 2) << args;
    EXPECT_EQ(r.err.rfind("bd-run: error: ", 0), 0u) << args << ": " << r.err;
    std::istringstream lines(r.err);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("bd-run:", 0) == 0) {
        EXPECT_TRUE(line.rfind("bd-run: error: ", 0) == 0 || line.rfind("bd-run: warning: ", 0) == 0)
            << args << ": " << line;
      }
    }
  }
}

// --relayd URL: a URL bd-run can stream to, and no --trace beside it
// (the relay daemon decides where the trace goes): usage errors, exit 2.
TEST(BdRun, RelaydUsageErrors) {
  TempDir tmp;
  const struct {
    const char* args;
    const char* message;
  } cases[] = {
      {"--relayd net://127.0.0.1 --trace /tmp/x /bin/true", "--trace and --relayd do not go together"},
      {"--relayd file:///tmp/x /bin/true", "it must start with net:// or net6://"},
      {"--relayd net:// /bin/true", "it must start with net:// or net6:// and name a host"},
      {"--relayd net://host:70000 /bin/true", "the control port must be a number from 1 to 65535"},
      {"--relayd net://host:6342:x /bin/true", "the data port must be a number from 1 to 65535"},
      {"--relayd net://host/some/dir /bin/true", "no path after the host"},
      {"--relayd net://host:6342:6343 --live --live-wait /bin/true", "--live-wait with --relayd needs"},
  };
  for (const auto& c : cases) {
    RunResult r = run_bd_run(tmp, c.args);
    EXPECT_EQ(r.exit_status, 2) << c.args << ": " << r.err;
    EXPECT_NE(r.err.find("bd-run: error: "), std::string::npos) << c.args << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << ": " << r.err;
  }
}

// Nothing listens at --relayd's URL: a configuration error before QEMU
// starts, saying what to do (bd-run never starts a relay daemon for it).
TEST(BdRun, RelaydNotListeningIsAConfigError) {
  TempDir tmp;
  const std::string qemu = write_fake_qemu(tmp);
  // Port 1 (tcpmux) is closed on any machine these tests run on.
  RunResult r =
      run_bd_run(tmp, "--relayd net://127.0.0.1:1:2 --qemu '" + qemu + "' --plugin /dev/null /bin/true",
                 "FAKE_LOG='" + (tmp / "log") + "'");
  EXPECT_EQ(r.exit_status, 2) << r.err;
  EXPECT_NE(r.err.find("bd-run: error: no lttng-relayd listens at --relayd net://127.0.0.1:1:2 (its control "
                       "port 127.0.0.1:1: Connection refused): start one there first"),
            std::string::npos)
      << r.err;
  // The fake QEMU may have been asked for its version, not run the guest.
  const std::string log = std::filesystem::exists(tmp / "log") ? slurp(tmp / "log") : "";
  EXPECT_EQ(log.find("/bin/true"), std::string::npos) << "the guest ran although its trace had nowhere to go";
}

TEST(BdRun, MissingProgramExits2) {
  TempDir tmp;
  RunResult r = run_bd_run(tmp, "--plugin /dev/null -- /nonexistent/guest");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("/nonexistent/guest"), std::string::npos) << r.err;
}

TEST(BdRun, NonElfProgramExits2) {
  TempDir tmp;
  const std::string text = tmp / "text";  // executable, but neither ELF nor #! script
  std::ofstream(text) << "echo hello\n";
  ::chmod(text.c_str(), 0755);
  RunResult r = run_bd_run(tmp, "--plugin /dev/null -- '" + text + "'");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("is not an ELF file"), std::string::npos) << r.err;
}

TEST(BdRun, MissingQemuExits2) {
  TempDir tmp;
  RunResult r = run_bd_run(tmp, "--plugin /dev/null /bin/true", "PATH=/nonexistent");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("qemu-x86_64 not found: install Debian's qemu-user or pass --qemu PATH"),
            std::string::npos)
      << r.err;
}

TEST(BdRun, MissingPluginExits2) {
  TempDir tmp;
  RunResult r = run_bd_run(tmp, "--plugin /nonexistent/libbdtrace-qemu.so /bin/true");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("plugin"), std::string::npos) << r.err;
}

TEST(BdRun, BadPluginArgExits2) {
  TempDir tmp;
  RunResult r = run_bd_run(tmp, "--plugin /dev/null --plugin-arg novalue /bin/true");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("NAME=VALUE"), std::string::npos) << r.err;
}

TEST(BdRun, RunsQemuAndReturnsGuestStatus) {
  TempDir tmp;
  const std::string qemu = write_fake_qemu(tmp);
  const std::string log = tmp / "qemu.log";
  RunResult r = run_bd_run(tmp, "--qemu '" + qemu + "' --plugin /dev/null --plugin-arg a=b -- /bin/true -x y",
                           "FAKE_LOG='" + log + "' FAKE_EXIT=7");
  EXPECT_EQ(r.exit_status, 7) << r.err;
  EXPECT_EQ(r.out, "guest-output\n") << "bd-run must keep the guest's stdout clean";
  const std::string args = slurp(log);
  EXPECT_NE(args.find("-plugin\n/dev/null,program=/bin/true,a=b,stats="), std::string::npos) << args;
  EXPECT_NE(args.find("/bin/true\n-x\ny\n"), std::string::npos) << args;
  const std::string wrapper = find_lttng_fork_wrapper();
  if (!wrapper.empty()) {
    EXPECT_NE(args.find("-U\nLD_PRELOAD\n"), std::string::npos) << args;
    EXPECT_NE(args.find("LD_PRELOAD=" + wrapper), std::string::npos) << args;
  }
}

TEST(BdRun, GuestKilledBySignalGives128PlusN) {
  TempDir tmp;
  const std::string qemu = write_fake_qemu(tmp);
  RunResult r = run_bd_run(tmp, "--qemu '" + qemu + "' --plugin /dev/null /bin/true",
                           "FAKE_LOG='" + (tmp / "log") + "' FAKE_SIGNAL=TERM");
  EXPECT_EQ(r.exit_status, 128 + 15) << r.err;
}

bool session_listed_with_prefix(const std::string& prefix) {
  lttng_session* sessions = nullptr;
  const int n = lttng_list_sessions(&sessions);
  bool found = false;
  for (int i = 0; i < n; ++i) {
    if (std::string(sessions[i].name).rfind(prefix, 0) == 0) found = true;
  }
  std::free(sessions);
  return found;
}

TEST(BdRun, TraceCreatesAndDestroysItsSession) {
  ASSERT_EQ(lttng_session_daemon_alive(), 1)
      << "no lttng-sessiond is running: start one with `lttng-sessiond --daemonize` "
         "or run the tests through ./bdtrace test, which starts it";
  TempDir tmp;
  const std::string qemu = write_fake_qemu(tmp);
  const std::string trace = tmp / "trace";
  const std::string name = "bdtrace-bdruntest-" + std::to_string(::getpid());
  // The fake QEMU lists the sessions while the "guest" runs.
  RunResult r = run_bd_run(
      tmp,
      "--trace '" + trace + "' --session " + name + " --qemu '" + qemu + "' --plugin /dev/null /bin/true",
      "FAKE_LOG='" + (tmp / "log") + "' FAKE_LIST='" + (tmp / "list") + "' FAKE_EXIT=3");
  EXPECT_EQ(r.exit_status, 3) << r.err;
  const std::string listed = slurp(tmp / "list");
  EXPECT_NE(listed.find(name + " [active]"), std::string::npos) << "session not active while QEMU ran:\n"
                                                                << listed;
  EXPECT_NE(r.err.find("bd-run: trace written to " + trace), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "guest-output\n");
  EXPECT_FALSE(session_listed_with_prefix(name)) << "bd-run left session " << name << " behind";

  // The directory now holds this run: a second run into it is refused.
  RunResult again =
      run_bd_run(tmp, "--trace '" + trace + "' --qemu '" + qemu + "' --plugin /dev/null /bin/true",
                 "FAKE_LOG='" + (tmp / "log") + "'");
  if (std::filesystem::exists(trace) && !std::filesystem::is_empty(trace)) {
    EXPECT_EQ(again.exit_status, 2);
    EXPECT_NE(again.err.find("not empty"), std::string::npos) << again.err;
  }
}

TEST(BdRun, NoSessionDaemonIsAConfigError) {
  // Stopping the shared root daemon would disturb everything else on the
  // machine: run bd-run as an unprivileged user instead, who talks to a
  // per-user daemon that does not exist.
  if (::geteuid() != 0 || std::system("command -v setpriv >/dev/null") != 0) {
    GTEST_SKIP() << "needs root and setpriv to run bd-run as another user";
  }
  TempDir tmp;
  ::chmod(tmp.path().c_str(), 0777);
  RunResult r =
      run_bd_run(tmp, "--trace '" + (tmp / "t") + "' --plugin /dev/null /bin/true",
                 "setpriv --reuid=65534 --regid=65534 --clear-groups env HOME='" + tmp.path() + "'");
  EXPECT_EQ(r.exit_status, 2) << r.err;
  EXPECT_NE(r.err.find("no lttng-sessiond is running: start one with `lttng-sessiond --daemonize`"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace bdtrace::bdrun
