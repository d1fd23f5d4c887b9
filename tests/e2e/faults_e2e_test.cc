// SPDX-License-Identifier: MIT
// Faults around a traced run (issue #12): each leaves a clear message, a
// readable trace of what was recorded until then, no LTTng session, and
// bd-run's documented exit status (the guest's; 128+N for a signal; 3 when
// the guest succeeded but tracing failed: README "Exit status").
//
// Real parts throughout: bd-run, qemu-x86_64 with the plugin (or the ring
// consumer), lttng-sessiond, babeltrace2. The session-daemon test kills the
// machine's lttng-sessiond and starts it again; the full-filesystem test
// mounts a small tmpfs (root).
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bdtrace/tools/lttng_session.h"
#include "support.h"

namespace {

using bdtest::RunResult;
using bdtest::TempDir;
using bdtest::TraceEvent;

constexpr uint64_t kMarksBefore = 100;  // guest-faults' event-1 marks before DIR/ready

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// bd-run in the background, its output in files; no core files from
// crashing guests.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::string& dir)
      : out_(dir + "/bd-run.out"), err_(dir + "/bd-run.err") {
    const std::vector<std::string> full = bdtest::with_qemu_under_test(argv);
    pid_ = ::fork();
    if (pid_ == 0) {
      const rlimit no_core{0, 0};
      ::setrlimit(RLIMIT_CORE, &no_core);
      const int out = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, 1);
      ::dup2(err, 2);
      std::vector<char*> args;
      for (const std::string& a : full) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  RunResult finish() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    waited_ = true;
    RunResult r;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out_);
    r.err = slurp(err_);
    return r;
  }

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
  bool waited_ = false;
};

// Waits (up to 30 s) for `pred`; true once it held.
template <typename Pred>
bool wait_for(Pred pred, int seconds = 30) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

// guest-faults' DIR/ready: the guest's pid (QEMU's under qemu-user); 0 if
// it never came.
pid_t wait_for_ready(const std::string& dir) {
  pid_t pid = 0;
  wait_for([&] {
    std::ifstream in(dir + "/ready");
    std::string word;
    long p = 0;
    if (in >> word >> p && word == "pid") pid = static_cast<pid_t>(p);
    return pid != 0;
  });
  return pid;
}

// Children of `parent` whose comm is `comm`.
std::vector<pid_t> children_named(pid_t parent, const std::string& comm) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    if (pid <= 0) continue;
    const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    const size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && stat.substr(open + 1, close - open - 1) == comm) out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

// The session daemon's processes (not its consumers).
std::vector<pid_t> session_daemons() { return children_named(1, "lttng-sessiond"); }

uint64_t marks_of_event(const std::vector<TraceEvent>& events, uint64_t id) {
  uint64_t n = 0;
  for (const TraceEvent& e : events) n += e.name == "mark" && e.u("event") == id;
  return n;
}

class Faults : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(bdtrace::tools::check_session_daemon().ok(), true) << "run the tests through ./bdtrace test";
    static std::atomic<int> counter{0};
    session_ = "bdtrace-faults-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    trace_ = dir_.path() + "/trace";
  }

  std::vector<std::string> bd_run(const std::vector<std::string>& options, const std::string& seconds,
                                  const std::string& crash = "") const {
    std::vector<std::string> argv = {BD_RUN, "--trace", trace_, "--session", session_};
    argv.insert(argv.end(), options.begin(), options.end());
    for (const std::string& a : {std::string("--"), std::string(GUEST_FAULTS), dir_.path(), seconds})
      argv.push_back(a);
    if (!crash.empty()) argv.push_back(crash);
    return argv;
  }

  // What every fault must leave: a trace babeltrace2 and bd-analyze read,
  // and no session.
  std::vector<TraceEvent> expect_readable_trace_and_no_session() const {
    const std::vector<TraceEvent> events = bdtest::read_trace_with_babeltrace2(trace_);
    const RunResult analyze = bdtest::run({BD_ANALYZE, trace_});
    EXPECT_EQ(analyze.status, 0) << analyze.err;
    bdtrace::Expected<bool> exists = bdtrace::tools::session_exists(session_);
    EXPECT_TRUE(exists.ok() && !exists.value()) << "session " << session_ << " was left behind";
    return events;
  }

  TempDir dir_{"e2e-faults"};
  std::string session_, trace_;
};

class SignalToBdRun : public Faults, public ::testing::WithParamInterface<int> {};

TEST_P(SignalToBdRun, EndsTheGuestAndKeepsTheTrace) {
  const int sig = GetParam();
  Background run(bd_run({}, "60"), dir_.path());
  ASSERT_NE(wait_for_ready(dir_.path()), 0);
  ASSERT_EQ(::kill(run.pid(), sig), 0);
  const RunResult r = run.finish();
  EXPECT_EQ(r.status, 128 + sig) << r.err;
  EXPECT_NE(r.err.find("was killed by signal " + std::to_string(sig)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("trace written to"), std::string::npos) << r.err;
  EXPECT_EQ(marks_of_event(expect_readable_trace_and_no_session(), 1), kMarksBefore);
}

INSTANTIATE_TEST_SUITE_P(IntTerm, SignalToBdRun, ::testing::Values(SIGINT, SIGTERM));

TEST_F(Faults, QemuKilledBySignal) {
  Background run(bd_run({}, "60"), dir_.path());
  const pid_t qemu = wait_for_ready(dir_.path());
  ASSERT_NE(qemu, 0);
  ASSERT_EQ(::kill(qemu, SIGKILL), 0);
  const RunResult r = run.finish();
  EXPECT_EQ(r.status, 128 + SIGKILL) << r.err;
  EXPECT_NE(r.err.find("was killed by signal 9"), std::string::npos) << r.err;
  EXPECT_EQ(marks_of_event(expect_readable_trace_and_no_session(), 1), kMarksBefore);
}

TEST_F(Faults, GuestCrashes) {
  Background run(bd_run({}, "0", "crash"), dir_.path());
  const RunResult r = run.finish();
  // qemu-user ends itself with the guest's fatal signal.
  EXPECT_EQ(r.status, 128 + SIGSEGV) << r.err;
  EXPECT_NE(r.err.find("was killed by signal 11"), std::string::npos) << r.err;
  EXPECT_EQ(marks_of_event(expect_readable_trace_and_no_session(), 1), kMarksBefore);
}

TEST_F(Faults, RingConsumerKilled) {
  Background run(bd_run({"--native"}, "2"), dir_.path());
  ASSERT_NE(wait_for_ready(dir_.path()), 0);
  const std::vector<pid_t> consumers = children_named(run.pid(), "bd-ring-consume");  // comm: 15 chars
  ASSERT_EQ(consumers.size(), 1u);
  ASSERT_EQ(::kill(consumers[0], SIGKILL), 0);
  const RunResult r = run.finish();
  EXPECT_EQ(r.status, 3) << r.err;  // the guest succeeded, the trace lacks the ring's events
  EXPECT_NE(r.err.find("bd-ring-consumer exited with status 137"), std::string::npos) << r.err;
  const std::vector<TraceEvent> events = expect_readable_trace_and_no_session();
  EXPECT_LE(marks_of_event(events, 1), kMarksBefore);
  // After the kill nothing drains the ring: the trace lacks marks the guest sent.
  EXPECT_LT(marks_of_event(events, 2), std::stoull(bdtest::text_after(r.out, "after")));
}

// Starts the session daemon again when the test killed it.
struct RestartSessionDaemon {
  ~RestartSessionDaemon() {
    if (bdtrace::tools::check_session_daemon().ok()) return;
    EXPECT_EQ(std::system("lttng-sessiond --daemonize"), 0);
    EXPECT_TRUE(wait_for([] { return bdtrace::tools::check_session_daemon().ok(); }));
  }
};

TEST_F(Faults, SessionDaemonKilled) {
  RestartSessionDaemon restart;
  Background run(bd_run({}, "30"), dir_.path());
  ASSERT_NE(wait_for_ready(dir_.path()), 0);
  // bd-run's session writes every second: wait until the marks made
  // before DIR/ready are on disk.
  ASSERT_TRUE(wait_for([&] {
    const RunResult bt = bdtest::run({"babeltrace2", trace_});
    uint64_t n = 0;
    std::istringstream lines(bt.out);
    for (std::string l; std::getline(lines, l);)
      n += l.find("bdtrace:mark") != std::string::npos && l.find("event = 1,") != std::string::npos;
    return bt.status == 0 && n == kMarksBefore;
  }));
  const std::vector<pid_t> daemons = session_daemons();
  ASSERT_FALSE(daemons.empty());
  for (pid_t d : daemons) ::kill(d, SIGKILL);
  ASSERT_TRUE(wait_for([] { return !bdtrace::tools::check_session_daemon().ok(); }));
  // The guest runs on; stop it as a user would.
  ASSERT_EQ(::kill(run.pid(), SIGINT), 0);
  const RunResult r = run.finish();
  EXPECT_EQ(r.status, 128 + SIGINT) << r.err;
  EXPECT_NE(r.err.find("session daemon ended during the run"), std::string::npos) << r.err;
  const std::vector<TraceEvent> events = bdtest::read_trace_with_babeltrace2(trace_);
  EXPECT_EQ(marks_of_event(events, 1), kMarksBefore);
}

// A tmpfs mounted for the test, unmounted after it.
class SmallFilesystem {
 public:
  SmallFilesystem(const std::string& path, const std::string& size) : path_(path) {
    ::mkdir(path.c_str(), 0755);
    mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~SmallFilesystem() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

TEST_F(Faults, TraceFilesystemFillsUp) {
  SmallFilesystem small(dir_.path() + "/small", "12m");
  ASSERT_TRUE(small.mounted()) << "mounting a tmpfs needs root: run the tests as root (CI does)";
  trace_ = dir_.path() + "/small/trace";
  // ~3 MB/s of marks into 12 MiB; 64 KiB x 4 sub-buffers per CPU.
  Background run(
      {BD_RUN, "--trace", trace_, "--session", session_, "--subbuf-size", "65536", "--subbuf-count", "4",
       "--", BENCH_GUEST_MARKS, "--flood", "--threads", "1", "--rate", "40000", "--seconds", "8"},
      dir_.path());
  const RunResult r = run.finish();
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("bd-run stopped recording there to keep the trace readable"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("is full"), std::string::npos) << r.err;
  const std::vector<TraceEvent> events = expect_readable_trace_and_no_session();
  uint64_t marks = 0;
  for (const TraceEvent& e : events) marks += e.name == "mark";
  EXPECT_GT(marks, 10000u);
}

TEST_F(Faults, TooLittleSpaceIsRefusedBeforeTheGuestStarts) {
  SmallFilesystem small(dir_.path() + "/small", "1m");
  ASSERT_TRUE(small.mounted()) << "mounting a tmpfs needs root: run the tests as root (CI does)";
  trace_ = dir_.path() + "/small/trace";
  Background run(bd_run({}, "0"), dir_.path());
  const RunResult r = run.finish();
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("are free where"), std::string::npos) << r.err;
  EXPECT_NE(::access((dir_.path() + "/ready").c_str(), F_OK), 0) << "the guest ran";
  bdtrace::Expected<bool> exists = bdtrace::tools::session_exists(session_);
  EXPECT_TRUE(exists.ok() && !exists.value());
}

}  // namespace
