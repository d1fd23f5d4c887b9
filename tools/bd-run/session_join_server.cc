// SPDX-License-Identifier: MIT
#include "session_join_server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "bdtrace/session_join.h"

namespace bdtrace::bdrun {
namespace {

std::string socket_path(const std::string& dir) { return dir + "/join"; }

std::string errno_text() { return std::strerror(errno); }

}  // namespace

Expected<std::unique_ptr<JoinServer>> JoinServer::start(tools::LttngSession& session,
                                                        std::function<void()> tick) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/bdtrace-join-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return make_error("cannot create a directory for the session socket (" + templ + ": " + errno_text() +
                      "): set TMPDIR to a writable directory");
  }
  const std::string path = socket_path(templ);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    ::rmdir(templ.c_str());
    return make_error("the session socket path " + path +
                      " is too long for a Unix socket: set TMPDIR "
                      "to a shorter directory");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int stop_fd = fd < 0 ? -1 : ::eventfd(0, EFD_CLOEXEC);
  if (fd < 0 || stop_fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, 64) != 0) {
    const std::string why = errno_text();
    if (fd >= 0) ::close(fd);
    if (stop_fd >= 0) ::close(stop_fd);
    ::unlink(path.c_str());
    ::rmdir(templ.c_str());
    return make_error("cannot listen on the session socket " + path + ": " + why);
  }
  std::unique_ptr<JoinServer> server(new JoinServer(session, templ, fd, stop_fd));
  server->tick_ = std::move(tick);
  // The thread takes no signal: bd-run's handlers expect them on the main
  // thread, where they interrupt its wait for QEMU.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  server->thread_ = std::thread([s = server.get()] { s->serve(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return server;
}

JoinServer::JoinServer(tools::LttngSession& session, std::string dir, int listen_fd, int stop_fd)
    : session_(session), dir_(std::move(dir)), listen_fd_(listen_fd), stop_fd_(stop_fd) {}

JoinServer::~JoinServer() {
  stop();
  ::close(listen_fd_);
  ::close(stop_fd_);
  ::unlink(socket_path(dir_).c_str());
  ::rmdir(dir_.c_str());
}

std::string JoinServer::env_entry() const {
  return std::string(tracepoints::kSessionJoinEnv) + "=" + socket_path(dir_);
}

void JoinServer::stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  (void)!::write(stop_fd_, &one, sizeof one);
  thread_.join();
  // Refuse late joiners at once rather than leaving them queued.
  ::shutdown(listen_fd_, SHUT_RDWR);
}

std::string JoinServer::first_refusal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_refusal_;
}

void JoinServer::serve() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  auto next_tick = std::chrono::steady_clock::now();
  for (;;) {
    if (tick_ && std::chrono::steady_clock::now() >= next_tick) {
      tick_();
      next_tick = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTickMs);
    }
    if (::poll(fds, 2, tick_ ? kTickMs : -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;  // the peer gave up already, or out of fds: it sees a closed connection
    answer(conn);
    ::close(conn);
  }
}

void JoinServer::answer(int conn) {
  ucred cred{};
  socklen_t len = sizeof cred;
  std::string why;
  if (::getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid <= 0) {
    why = "cannot read the peer's pid (" + errno_text() + ")";
  } else if (Status st = session_.include_process(cred.pid); !st) {
    why = st.error().ToString();
  }
  const char reply = why.empty() ? tracepoints::kJoinAccepted : tracepoints::kJoinRefused;
  // One byte into an empty socket buffer: it cannot block.
  (void)!::send(conn, &reply, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (why.empty()) {
    ++joined_;
    return;
  }
  ++refused_;
  std::lock_guard<std::mutex> lock(mu_);
  if (first_refusal_.empty()) first_refusal_ = why;
}

}  // namespace bdtrace::bdrun
