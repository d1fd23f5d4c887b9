// SPDX-License-Identifier: MIT
// Many VMs, the streaming half: one lttng-relayd of the test's own (private
// ports, its own output directory), two real user-mode runs at once
// (bd-run --relayd, real qemu-x86_64 with the plugin, real lttng-sessiond)
// of the same guest with different mark counts streaming to it; once the
// relay daemon has ended, bd-analyze OUTPUT_DIR merges the two sessions it
// wrote into one report with one VM per run and exact counts per VM. Then
// bd-run --relayd at the same (now closed) ports is refused with a message
// that says what to do.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "relayd.h"
#include "report.pb.h"
#include "support.h"

using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;
using bdtrace::bdrun::local_port_open;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(20);

// guest-threads --threads N --marks M: per worker M + 1 marks (kind MARK)
// and 3 text marks (tests/guest/threads.c).
struct Guest {
  const char *tag;  // the start of its session's name
  int threads, marks;
  uint64_t plain_marks() const { return static_cast<uint64_t>(threads) * (marks + 1); }
  uint64_t text_marks() const { return static_cast<uint64_t>(threads) * 3; }
};
constexpr Guest kRunA{"relay-a", 1, 100};
constexpr Guest kRunB{"relay-b", 2, 250};

// A TCP port that nothing listens on now (the kernel's choice; never
// lttng-relayd's default 5342-5344, which the live test uses). `keep`
// holds the sockets until all ports are chosen, so that they differ.
int free_port(std::vector<int> &keep) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  keep.push_back(fd);
  return ntohs(addr.sin_port);
}

// The test's lttng-relayd, a child of the test: stopped (SIGTERM, SIGKILL
// after 30 s) and reaped on every path out of the test.
class Relayd {
 public:
  // Starts it on free loopback ports writing into `output`; returns once
  // its control, data and live ports accept connections. Empty `why` on
  // success.
  Relayd(const std::string &output, const std::string &log, std::string &why) {
    for (int attempt = 0; attempt < 3 && pid_ <= 0; ++attempt) {
      why.clear();
      std::vector<int> held;
      control_ = free_port(held);
      data_ = free_port(held);
      live_ = free_port(held);
      for (int fd : held) close(fd);
      if (control_ < 0 || data_ < 0 || live_ < 0) {
        why = "cannot pick free ports";
        continue;
      }
      const auto tcp = [](int port) { return "tcp://127.0.0.1:" + std::to_string(port); };
      std::vector<std::string> args = {"lttng-relayd", "-C",       tcp(control_), "-D",  tcp(data_),
                                       "-L",           tcp(live_), "-o",          output};
      std::vector<char *> argv;
      for (auto &a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      posix_spawn_file_actions_t fa;
      posix_spawn_file_actions_init(&fa);
      posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
      posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      pid_t pid = -1;
      const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
      posix_spawn_file_actions_destroy(&fa);
      if (rc != 0) {
        why = std::string("cannot start lttng-relayd: ") + std::strerror(rc);
        return;
      }
      pid_ = pid;
      const auto deadline = Clock::now() + std::chrono::seconds(10);
      while (!(local_port_open(control_) && local_port_open(data_) && local_port_open(live_))) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {  // a port taken meanwhile: try others
          pid_ = -1;
          why = "lttng-relayd ended before it listened (see " + log + ")";
          break;
        }
        if (Clock::now() >= deadline) {
          why = "lttng-relayd did not listen on its ports within 10 s (see " + log + ")";
          stop();
          return;
        }
        std::this_thread::sleep_for(kPoll);
      }
    }
  }
  ~Relayd() { stop(); }
  Relayd(const Relayd &) = delete;
  Relayd &operator=(const Relayd &) = delete;

  // Stops it and waits until it ended; true when it ended on SIGTERM
  // (it has closed every trace file by then).
  bool stop() {
    if (pid_ <= 0) return true;
    kill(pid_, SIGTERM);
    bool ended = reap(Clock::now() + std::chrono::seconds(30));
    if (!ended) {
      kill(pid_, SIGKILL);
      reap(Clock::now() + std::chrono::seconds(30));
    }
    pid_ = -1;
    return ended;
  }

  int control_port() const { return control_; }
  int data_port() const { return data_; }

 private:
  bool reap(Clock::time_point deadline) {
    for (;;) {
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) return true;
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(kPoll);
    }
  }

  pid_t pid_ = -1;
  int control_ = -1, data_ = -1, live_ = -1;
};

std::string host_name() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

// The session directory the relay daemon made for `session` under
// OUTPUT/HOST/ (SESSION-DATE), once it holds a trace's metadata; empty
// when none does by the deadline.
std::string session_dir(const std::string &host_dir, const std::string &session, Clock::time_point deadline) {
  for (;;) {
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(host_dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(session + "-", 0) != 0) continue;
      for (auto it = fs::recursive_directory_iterator(entry.path(), ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        if (it->path().filename() == "metadata") return entry.path().string();
      }
    }
    if (Clock::now() >= deadline) return "";
    std::this_thread::sleep_for(kPoll);
  }
}

TEST(Relayd, TwoRunsStreamToOneRelaydAndMergeExactly) {
  TempDir dir("e2e-relayd");
  const std::string output = dir.path() + "/relayd-output";
  std::string why;
  Relayd relayd(output, dir.path() + "/relayd.log", why);
  ASSERT_EQ(why, "");
  const std::string url =
      "net://127.0.0.1:" + std::to_string(relayd.control_port()) + ":" + std::to_string(relayd.data_port());

  // Both at once: one relay daemon takes several sessions, and each
  // session records only its own guest.
  const std::string suffix = std::to_string(getpid());
  std::map<std::string, std::future<RunResult>> runs;
  for (const Guest &g : {kRunA, kRunB}) {
    const std::string session = std::string(g.tag) + "-" + suffix;
    runs[g.tag] = std::async(std::launch::async, [=] {
      return run({BD_RUN, "--relayd", url, "--session", session, "--", GUEST_THREADS, "--threads",
                  std::to_string(g.threads), "--marks", std::to_string(g.marks)});
    });
  }
  const std::string host_dir = output + "/" + host_name();
  bool runs_ok = true;
  for (auto &[tag, future] : runs) {
    RunResult r = future.get();
    const std::string session = tag + "-" + suffix;
    runs_ok = runs_ok && r.status == 0;
    EXPECT_EQ(r.status, 0) << tag << ": " << r.err;
    EXPECT_NE(r.err.find("bd-run: streaming to the lttng-relayd at " + url +
                         ": the trace lands in the output "
                         "directory of the lttng-relayd at " +
                         url + ", under " + host_name() + "/" + session + "-DATE/"),
              std::string::npos)
        << r.err;
  }
  ASSERT_TRUE(runs_ok);
  // bd-run stopped its session (LTTng waits until the relay daemon has all
  // of the data) and destroyed it; the relay daemon writes it out.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  const std::string dir_a = session_dir(host_dir, std::string(kRunA.tag) + "-" + suffix, deadline);
  const std::string dir_b = session_dir(host_dir, std::string(kRunB.tag) + "-" + suffix, deadline);
  ASSERT_NE(dir_a, "") << "no trace of " << kRunA.tag << " under " << host_dir;
  ASSERT_NE(dir_b, "") << "no trace of " << kRunB.tag << " under " << host_dir;
  ASSERT_TRUE(relayd.stop()) << "lttng-relayd did not end within 30 s of SIGTERM";

  RunResult r = run({BD_ANALYZE, output, "--format", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  bdtrace::report::Report report;
  const auto st = google::protobuf::util::JsonStringToMessage(r.out, &report);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(report.vms_size(), 2) << r.out.substr(0, 2000);
  // Both are runs of guest-threads: their names collide, so each VM is
  // named by its session directory.
  std::map<std::string, std::string> run_of;
  for (const auto &vm : report.vms()) run_of[vm.name()] = vm.run();
  const std::string name_a = fs::path(dir_a).filename().string(),
                    name_b = fs::path(dir_b).filename().string();
  EXPECT_EQ(run_of, (std::map<std::string, std::string>{{name_a, dir_a}, {name_b, dir_b}}));
  EXPECT_EQ(report.totals().marks(), kRunA.plain_marks() + kRunB.plain_marks());
  EXPECT_EQ(report.totals().text_marks(), kRunA.text_marks() + kRunB.text_marks());
  std::map<std::string, uint64_t> marks, text, workers;
  for (const auto &t : report.threads()) {
    marks[t.vm()] += t.marks();
    text[t.vm()] += t.text_marks();
    if (t.marks() > 0) ++workers[t.vm()];
  }
  EXPECT_EQ(marks,
            (std::map<std::string, uint64_t>{{name_a, kRunA.plain_marks()}, {name_b, kRunB.plain_marks()}}));
  EXPECT_EQ(text,
            (std::map<std::string, uint64_t>{{name_a, kRunA.text_marks()}, {name_b, kRunB.text_marks()}}));
  EXPECT_EQ(workers, (std::map<std::string, uint64_t>{{name_a, 1}, {name_b, 2}}));

  // Nothing listens there any more: bd-run says so, and what to do, before
  // it starts the guest.
  RunResult refused = run({BD_RUN, "--relayd", url, "--", GUEST_THREADS, "--threads", "1", "--marks", "1"});
  EXPECT_EQ(refused.status, 2) << refused.err;
  EXPECT_NE(refused.err.find("bd-run: error: no lttng-relayd listens at --relayd " + url), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("start one there first"), std::string::npos) << refused.err;
}

}  // namespace
