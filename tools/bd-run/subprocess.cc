// SPDX-License-Identifier: MIT
#include "subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace bdtrace::bdrun {
namespace {

uint64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Both ends close-on-exec: only the dup2'ed copies reach the child.
bool make_pipe(int fds[2]) { return ::pipe2(fds, O_CLOEXEC) == 0; }

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// Spawns argv with stdin = in_fd (or /dev/null when -1), stdout = out_fd,
// stderr = err_fd (or bd-run's when -1).
Expected<pid_t> spawn_with(const std::vector<std::string>& argv, const std::vector<std::string>& envp,
                           int in_fd, int out_fd, int err_fd) {
  posix_spawn_file_actions_t actions;
  if (posix_spawn_file_actions_init(&actions) != 0) return make_error("posix_spawn_file_actions_init failed");
  if (in_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> c_argv = c_strings(argv);
  std::vector<char*> c_envp = c_strings(envp);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, c_argv.data(), c_envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return make_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

}  // namespace

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const std::string& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

std::vector<std::string> current_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}

std::vector<std::string> with_env(const std::vector<std::string>& envp,
                                  const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (const std::string& e : envp) {
    bool replaced = false;
    for (const std::string& x : extra) {
      const size_t eq = x.find('=');
      replaced = replaced || (eq != std::string::npos && e.compare(0, eq + 1, x, 0, eq + 1) == 0);
    }
    if (!replaced) out.push_back(e);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

Expected<Captured> capture_output(const std::vector<std::string>& argv, int timeout_ms, size_t limit) {
  if (argv.empty()) return make_error("internal error: empty command line");
  int fds[2];
  if (!make_pipe(fds)) return make_error(std::string("pipe: ") + std::strerror(errno));
  Expected<pid_t> pid = spawn_with(argv, current_environment(), -1, fds[1], fds[1]);
  ::close(fds[1]);
  if (!pid) {
    ::close(fds[0]);
    return pid.take_error();
  }
  Captured c;
  const uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
  bool killed = false;
  for (;;) {
    const uint64_t now = now_ms();
    if (now >= deadline) {
      ::kill(pid.value(), SIGKILL);
      killed = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(deadline - now));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    const ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (c.out.size() < limit) c.out.append(buf, std::min(static_cast<size_t>(got), limit - c.out.size()));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid.value(), &status, 0) < 0 && errno == EINTR) {
  }
  c.status = decode_status(status);
  if (killed) return make_error(argv[0] + " did not answer within " + std::to_string(timeout_ms) + " ms");
  return c;
}

Expected<PipedChild> PipedChild::spawn(const std::vector<std::string>& argv,
                                       const std::vector<std::string>& envp) {
  if (argv.empty()) return make_error("internal error: empty command line");
  int in[2], out[2];
  if (!make_pipe(in)) return make_error(std::string("pipe: ") + std::strerror(errno));
  if (!make_pipe(out)) {
    ::close(in[0]);
    ::close(in[1]);
    return make_error(std::string("pipe: ") + std::strerror(errno));
  }
  Expected<pid_t> pid = spawn_with(argv, envp, in[0], out[1], -1);
  ::close(in[0]);
  ::close(out[1]);
  if (!pid) {
    ::close(in[1]);
    ::close(out[0]);
    return pid.take_error();
  }
  return PipedChild(pid.value(), in[1], out[0]);
}

PipedChild::PipedChild(PipedChild&& other) noexcept
    : pid_(other.pid_), in_fd_(other.in_fd_), out_fd_(other.out_fd_), buffered_(std::move(other.buffered_)) {
  other.pid_ = -1;
  other.in_fd_ = -1;
  other.out_fd_ = -1;
}

PipedChild::~PipedChild() {
  if (pid_ > 0) (void)finish(10000);
  close_fd(in_fd_);
  close_fd(out_fd_);
}

Expected<std::string> PipedChild::read_line(int timeout_ms, const std::string& what) {
  const uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
  for (;;) {
    const size_t nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    const uint64_t now = now_ms();
    if (now >= deadline)
      return make_error(what + " did not answer within " + std::to_string(timeout_ms) + " ms");
    pollfd p{out_fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(deadline - now));
    if (n < 0 && errno != EINTR) return make_error(std::string("poll: ") + std::strerror(errno));
    if (n <= 0) continue;
    char buf[512];
    const ssize_t got = ::read(out_fd_, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      const int status = wait_for_exit(2000);
      return make_error(what + " ended before it was ready (exit status " + std::to_string(status) + ")");
    }
    buffered_.append(buf, static_cast<size_t>(got));
  }
}

int PipedChild::wait_for_exit(int timeout_ms) {
  if (pid_ <= 0) return -1;
  const uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
  int status = 0;
  for (;;) {
    const pid_t w = ::waitpid(pid_, &status, WNOHANG);
    if (w == pid_) break;
    if (w < 0 && errno != EINTR) {
      pid_ = -1;
      return -1;
    }
    if (now_ms() >= deadline) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    // Polling the child's exit: no descriptor reports it, and it ends
    // within milliseconds of its stdin closing.
    struct timespec ts {
      0, 2 * 1000 * 1000
    };
    nanosleep(&ts, nullptr);
  }
  pid_ = -1;
  return decode_status(status);
}

Expected<int> PipedChild::finish(int timeout_ms) {
  close_fd(in_fd_);
  if (pid_ <= 0) return make_error("the child was already waited for");
  const int status = wait_for_exit(timeout_ms);
  if (status < 0) return make_error(std::string("waitpid: ") + std::strerror(errno));
  return status;
}

}  // namespace bdtrace::bdrun
