// SPDX-License-Identifier: MIT
#include "bdtrace/session_join.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bdtrace::tracepoints {
namespace {

// Closes the socket on every return path.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

JoinResult join_session(char* why, size_t why_size, int timeout_ms) {
  const char* path = std::getenv(kSessionJoinEnv);
  if (path == nullptr || *path == '\0') return JoinResult::kNotAsked;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof addr.sun_path) {
    std::snprintf(why, why_size, "%s is longer than a socket path may be", kSessionJoinEnv);
    return JoinResult::kFailed;
  }
  std::memcpy(addr.sun_path, path, std::strlen(path) + 1);
  Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) {
    std::snprintf(why, why_size, "socket(): %s", std::strerror(errno));
    return JoinResult::kFailed;
  }
  int rc;
  do {
    rc = ::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    std::snprintf(why, why_size, "cannot connect to %s (%s): has bd-run ended?", path, std::strerror(errno));
    return JoinResult::kFailed;
  }
  pollfd p{s.fd, POLLIN, 0};
  do {
    rc = ::poll(&p, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) {
    std::snprintf(why, why_size, "bd-run did not answer within %d ms", timeout_ms);
    return JoinResult::kFailed;
  }
  char answer = 0;
  ssize_t n;
  do {
    n = ::read(s.fd, &answer, 1);
  } while (n < 0 && errno == EINTR);
  if (n == 1 && answer == kJoinAccepted) return JoinResult::kJoined;
  if (n == 1 && answer == kJoinRefused) {
    std::snprintf(why, why_size, "LTTng refused to add it to the session (bd-run says why)");
  } else {
    std::snprintf(why, why_size, "bd-run closed the connection without an answer");
  }
  return JoinResult::kFailed;
}

bool join_session_or_warn(const char* who) {
  char why[256] = "";
  if (join_session(why, sizeof why) != JoinResult::kFailed) return true;
  std::fprintf(stderr,
               "bdtrace: %s (pid %d) could not join bd-run's session: %s; its events are not recorded\n", who,
               static_cast<int>(::getpid()), why);
  return false;
}

}  // namespace bdtrace::tracepoints
