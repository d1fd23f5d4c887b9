// SPDX-License-Identifier: MIT
// bd-ring-consumer as bd-run drives it: "ready" on stdout once the region
// is mapped, consumer_pid written, draining until stdin reaches EOF (or
// SIGTERM), then one summary line on stderr and exit 0; exit 1 with a
// message for a region it cannot use. No LTTng session is needed (the
// tracepoints are no-ops without one).
#include "bdtrace/ring/clock_map.h"

#include "test_producer.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#ifndef BD_RING_CONSUMER_PATH
#error "BD_RING_CONSUMER_PATH must name the bd-ring-consumer binary"
#endif

namespace bdtrace::ring {
namespace {

using test::TempRegion;
using test::TestProducer;

// A child bd-ring-consumer with pipes on stdin, stdout and stderr.
class ConsumerProcess {
 public:
  explicit ConsumerProcess(const std::vector<std::string> &args) {
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return;
    std::vector<char *> argv;
    std::string path = BD_RING_CONSUMER_PATH;
    argv.push_back(path.data());
    std::vector<std::string> copy = args;
    for (auto &a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    stderr_ = err[0];
  }
  ~ConsumerProcess() {
    close_stdin();
    if (pid_ > 0 && status_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
    if (stderr_ >= 0) ::close(stderr_);
  }

  pid_t pid() const { return pid_; }

  // Reads stdout up to the first newline (waits for it, bounded).
  std::string read_line(int timeout_ms = 30000) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      struct pollfd p = {stdout_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char c;
      if (::read(stdout_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line += c;
    }
    return line + "<no newline>";
  }

  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }

  // Waits for the exit; returns the exit code (-1 killed or timed out) and
  // everything it wrote on stderr.
  int wait(std::string &err_text, int timeout_ms = 30000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[4096];
    for (;;) {
      struct pollfd p = {stderr_, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        const ssize_t n = ::read(stderr_, buf, sizeof buf);
        if (n <= 0) break;  // EOF: the child is gone
        err_text.append(buf, static_cast<std::size_t>(n));
      }
      if (std::chrono::steady_clock::now() > deadline) return -1;
    }
    int st = 0;
    if (::waitpid(pid_, &st, 0) != pid_) return -1;
    status_ = st;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1;
  int status_ = -1;
};

TEST(ConsumerProcess, ReadyDrainSummary) {
  TempRegion r(4, 1024);
  ASSERT_TRUE(r.ok()) << r.error();
  Expected<MappedRegion> opened = MappedRegion::open(r.path());
  ASSERT_TRUE(opened) << opened.error();
  MappedRegion &guest = *opened;
  // Ring 0 overflows before the consumer even starts: 10 drops.
  TestProducer p0(guest.base(), guest.layout(), 0);
  p0.claim(1, 2);
  uint64_t seq = 0, written = 0;
  for (int i = 0; i < 1024 + 10; ++i) written += p0.mark(1, ++seq, read_tsc()) ? 1 : 0;
  ASSERT_EQ(written, 1024u);

  ConsumerProcess c({"--ring", r.path(), "--program", "prog", "--vm", "vm1", "--poll-us", "50"});
  ASSERT_GT(c.pid(), 0);
  ASSERT_EQ(c.read_line(), "ready");
  EXPECT_EQ(__atomic_load_n(&guest.header()->consumer_pid, __ATOMIC_RELAXED), static_cast<uint32_t>(c.pid()));
  // While it runs: 3 x 700 records on rings 1-3 (fit: no drops), and one
  // HELLO, which has no business in a ring.
  for (uint32_t ring = 1; ring < 4; ++ring) {
    TestProducer p(guest.base(), guest.layout(), ring);
    for (int i = 0; i < 700; ++i) {
      ++seq;
      ASSERT_TRUE(i % 7 ? p.mark(ring, seq, read_tsc())
                        : p.text(BD_KIND_MARK_TEXT, ring, "txt", seq, read_tsc()));
    }
  }
  ASSERT_TRUE(TestProducer(guest.base(), guest.layout(), 3)
                  .write(TestProducer::make(BD_KIND_HELLO, 0, 1, read_tsc())));
  c.close_stdin();
  std::string text;
  EXPECT_EQ(c.wait(text), 0) << text;
  const std::string expect = "bd-ring-consumer: " + std::to_string(1024 + 3 * 700) +
                             " records, 10 dropped, 1 rejected, emission delay p50 ";
  EXPECT_EQ(text.rfind(expect, 0), 0u) << text;
  EXPECT_NE(text.find(" us p99 "), std::string::npos) << text;
  EXPECT_NE(text.find(" us max "), std::string::npos) << text;
  EXPECT_NE(text.find("bd-ring-consumer: rejected 1 guest record: ring_forbidden_kind=1"), std::string::npos)
      << text;
  // Everything was given back.
  for (uint32_t ring = 0; ring < 4; ++ring)
    EXPECT_EQ(__atomic_load_n(&guest.ctl(ring)->tail, __ATOMIC_ACQUIRE),
              __atomic_load_n(&guest.ctl(ring)->head, __ATOMIC_ACQUIRE));
}

TEST(ConsumerProcess, StopsOnSigterm) {
  TempRegion r(1, 16);
  ASSERT_TRUE(r.ok()) << r.error();
  ConsumerProcess c({"--ring", r.path(), "--program", "p", "--mode", "native"});
  ASSERT_EQ(c.read_line(), "ready");
  ASSERT_EQ(::kill(c.pid(), SIGTERM), 0);
  std::string text;
  EXPECT_EQ(c.wait(text), 0) << text;
  EXPECT_EQ(text.rfind("bd-ring-consumer: 0 records, 0 dropped, 0 rejected", 0), 0u) << text;
}

TEST(ConsumerProcess, RefusesARegionItCannotUse) {
  TempRegion r(1, 16);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(::truncate(r.path().c_str(), 4096), 0);
  ConsumerProcess c({"--ring", r.path(), "--program", "p"});
  std::string text;
  EXPECT_EQ(c.wait(text), 1) << text;
  EXPECT_NE(text.find("bd-ring-consumer: error: "), std::string::npos) << text;
  EXPECT_NE(text.find("truncated"), std::string::npos) << text;
}

TEST(ConsumerProcess, ModeMustMatchTheRegion) {
  TempRegion user(2, 16);
  ASSERT_TRUE(user.ok()) << user.error();
  ConsumerProcess c({"--ring", user.path(), "--program", "p", "--mode", "system"});
  std::string text;
  EXPECT_EQ(c.wait(text), 1) << text;
  EXPECT_NE(text.find("is a user-mode region but --mode is system"), std::string::npos) << text;
  TempRegion sys(4, 16, BD_RING_MODE_SYSTEM, 2);
  ASSERT_TRUE(sys.ok()) << sys.error();
  ConsumerProcess d({"--ring", sys.path(), "--program", "p"});
  EXPECT_EQ(d.wait(text), 1) << text;
  EXPECT_NE(text.find("is a system-mode region but --mode is user"), std::string::npos) << text;
}

TEST(ConsumerProcess, BadUsage) {
  ConsumerProcess c({"--program", "p"});
  std::string text;
  EXPECT_EQ(c.wait(text), 2) << text;
  EXPECT_NE(text.find("--ring"), std::string::npos) << text;
}

}  // namespace
}  // namespace bdtrace::ring
