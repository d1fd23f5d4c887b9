// SPDX-License-Identifier: MIT
#include "child.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "subprocess.h"

namespace bdtrace::bdrun {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

std::atomic<pid_t> g_child{0};
std::atomic<int> g_pending{0};
static_assert(std::atomic<pid_t>::is_always_lock_free, "used from a signal handler");
static_assert(std::atomic<int>::is_always_lock_free, "used from a signal handler");

void on_signal(int sig, siginfo_t* info, void*) {
  const int saved_errno = errno;
  const pid_t child = g_child.load();
  if (child > 0) {
    // Terminal-generated signals (Ctrl-C: si_code SI_KERNEL) already reach
    // the whole foreground process group, QEMU included; forwarding them
    // would deliver them twice to the guest.
    if (info == nullptr || info->si_code != SI_KERNEL) ::kill(child, sig);
  } else {
    g_pending.store(sig);
  }
  errno = saved_errno;
}

struct sigaction g_previous[sizeof kSignals / sizeof kSignals[0]];

// Blocks the forwarded signals for the lifetime of the object.
class SignalBlock {
 public:
  SignalBlock() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : kSignals) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  SignalBlock(const SignalBlock&) = delete;
  SignalBlock& operator=(const SignalBlock&) = delete;
  ~SignalBlock() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

class SpawnAttr {
 public:
  SpawnAttr() { ok_ = posix_spawnattr_init(&attr_) == 0; }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  ~SpawnAttr() {
    if (ok_) posix_spawnattr_destroy(&attr_);
  }
  bool ok() const { return ok_; }
  posix_spawnattr_t* get() { return &attr_; }

 private:
  posix_spawnattr_t attr_;
  bool ok_ = false;
};

class SpawnFileActions {
 public:
  SpawnFileActions() { ok_ = posix_spawn_file_actions_init(&actions_) == 0; }
  SpawnFileActions(const SpawnFileActions&) = delete;
  SpawnFileActions& operator=(const SpawnFileActions&) = delete;
  ~SpawnFileActions() {
    if (ok_) posix_spawn_file_actions_destroy(&actions_);
  }
  bool ok() const { return ok_; }
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
  bool ok_ = false;
};

// Both ends of a pipe, closed with the object.
class Pipe {
 public:
  Pipe() { ok_ = ::pipe2(fds_, O_CLOEXEC) == 0; }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    close_read();
    close_write();
  }
  bool ok() const { return ok_; }
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  void close_read() { close_fd(fds_[0]); }
  void close_write() { close_fd(fds_[1]); }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
  bool ok_ = false;
};

// Copies `fd` to bd-run's stdout until end of file, handing complete lines
// to `on_line`. Once bd-run's stdout is gone (a closed pipe) it keeps
// reading, so that the child never blocks on a full pipe.
void copy_lines(int fd, const std::function<void(const std::string&)>& on_line) {
  std::string line;
  bool out_ok = true;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t off = 0; out_ok && off < n;) {
      const ssize_t w = ::write(STDOUT_FILENO, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0)
        out_ok = false;
      else
        off += w;
    }
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        on_line(line);
        line.clear();
      } else if (line.size() < 4096) {
        line += buf[i];
      }
    }
  }
  if (!line.empty()) on_line(line);
}

// SIGPIPE ignored for the object's lifetime: a reader of bd-run's stdout
// that goes away must not kill bd-run before it has cleaned up.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, &old_);
  }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;
  ~IgnoreSigpipe() { sigaction(SIGPIPE, &old_, nullptr); }

 private:
  struct sigaction old_;
};

}  // namespace

SignalForwarding::SignalForwarding() {
  g_pending.store(0);
  for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(kSignals[i], &sa, &g_previous[i]);
  }
}

SignalForwarding::~SignalForwarding() {
  for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
    sigaction(kSignals[i], &g_previous[i], nullptr);
  }
}

int SignalForwarding::pending_signal() { return g_pending.load(); }

Expected<int> run_child(const std::vector<std::string>& argv, const std::vector<std::string>& envp,
                        const ChildStdio& stdio) {
  if (argv.empty()) return make_error("internal error: empty command line");
  std::vector<char*> c_argv = c_strings(argv);
  std::vector<char*> c_envp = c_strings(envp);

  SpawnAttr attr;
  if (!attr.ok()) return make_error("cannot start " + argv[0] + ": posix_spawnattr_init failed");
  // The child starts with no signals blocked and default dispositions
  // (exec resets caught signals, ignored ones would stay ignored).
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : kSignals) sigaddset(&defaults, s);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(attr.get(), &none);
  posix_spawnattr_setsigdefault(attr.get(), &defaults);
  posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  SpawnFileActions actions;
  if (!actions.ok()) return make_error("cannot start " + argv[0] + ": posix_spawn_file_actions_init failed");
  if (stdio.stdin_from_dev_null &&
      posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0) != 0) {
    return make_error("cannot start " + argv[0] + ": cannot redirect its stdin to /dev/null");
  }

  Pipe out;
  if (stdio.on_stdout_line) {
    if (!out.ok()) return make_error("cannot start " + argv[0] + ": cannot create a pipe for its stdout");
    if (posix_spawn_file_actions_adddup2(actions.get(), out.write_end(), STDOUT_FILENO) != 0) {
      return make_error("cannot start " + argv[0] + ": cannot redirect its stdout");
    }
  }
  IgnoreSigpipe ignore_sigpipe;

  pid_t pid = 0;
  {
    // No signal may slip in between the spawn and publishing the pid.
    SignalBlock block;
    if (const int pending = g_pending.load(); pending != 0) return 128 + pending;
    const int rc =
        posix_spawn(&pid, argv[0].c_str(), actions.get(), attr.get(), c_argv.data(), c_envp.data());
    if (rc != 0) return make_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    g_child.store(pid);
  }

  if (stdio.on_stdout_line) {
    out.close_write();  // the child holds the only write end: EOF when it exits
    copy_lines(out.read_end(), stdio.on_stdout_line);
  }

  int status = 0;
  pid_t waited;
  do {
    waited = ::waitpid(pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  g_child.store(0);
  if (waited < 0) return make_error(std::string("waiting for QEMU failed: ") + std::strerror(errno));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    // Said once here: an exit status of 128+N alone does not tell a signal
    // from a program that exited with that number.
    const int sig = WTERMSIG(status);
    const size_t slash = argv[0].rfind('/');
    std::fprintf(stderr, "bd-run: %s (pid %d) was killed by signal %d (%s)%s\n",
                 argv[0].substr(slash == std::string::npos ? 0 : slash + 1).c_str(), static_cast<int>(pid),
                 sig, strsignal(sig), WCOREDUMP(status) ? ", core dumped" : "");
    return 128 + sig;
  }
  return 1;
}

}  // namespace bdtrace::bdrun
