// SPDX-License-Identifier: MIT
#include "relayd.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "subprocess.h"

namespace bdtrace::bdrun {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kReadyTimeout = std::chrono::seconds(10);
constexpr auto kStopTimeout = std::chrono::seconds(10);
constexpr auto kReadersTimeout = std::chrono::seconds(30);
constexpr auto kPollInterval = std::chrono::milliseconds(20);

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

// Waits for `pid` until the deadline; true once it was reaped.
bool reap_until(pid_t pid, Clock::time_point deadline) {
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

// Established TCP connections whose local port is `port` in one of
// /proc/net/tcp's tables ("sl local_address rem_address st ...", the
// addresses as HEXADDR:HEXPORT, st 01 = ESTABLISHED).
size_t established_to(const char* table, int port) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // the header
  size_t n = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    if (!(fields >> slot >> local >> remote >> state)) continue;
    const size_t colon = local.rfind(':');
    if (colon == std::string::npos || state != "01") continue;
    if (std::strtol(local.c_str() + colon + 1, nullptr, 16) == port) ++n;
  }
  return n;
}

constexpr auto kConnectTimeout = std::chrono::seconds(5);

std::string this_host() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  return host;
}

// A TCP port number of a URL: 1..65535, digits only.
std::optional<int> parse_port(const std::string& text) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const int port = std::atoi(text.c_str());
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

// True when a TCP connection to host:port succeeds within kConnectTimeout
// (any of the host's addresses); `why` gets the last failure.
bool tcp_connects(const std::string& host, int port, std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) {
    why = "cannot resolve " + host + ": " + gai_strerror(rc);
    return false;
  }
  bool ok = false;
  why = "no address";
  for (addrinfo* a = found; a != nullptr && !ok; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int err = 0;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        const int ready = poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kConnectTimeout).count()));
        socklen_t len = sizeof err;
        if (ready == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (ready == 0) err = ETIMEDOUT;
        if (ready < 0) err = errno;
      }
    }
    close(fd);
    if (err == 0)
      ok = true;
    else
      why = std::strerror(err);
  }
  freeaddrinfo(found);
  return ok;
}

}  // namespace

Expected<RelaydUrl> parse_relayd_url(const std::string& text) {
  const auto invalid = [&text](const std::string& why) {
    return make_error("invalid --relayd URL '" + text + "': " + why +
                      "; use net://HOST or net://HOST:CONTROL_PORT:DATA_PORT (net6:// for IPv6), e.g. "
                      "net://tracehost or net://127.0.0.1:6342:6343");
  };
  RelaydUrl url;
  url.text = text;
  std::string rest;
  for (const char* scheme : {"net://", "net6://"}) {
    if (text.rfind(scheme, 0) == 0) rest = text.substr(std::strlen(scheme));
  }
  if (rest.empty()) return invalid("it must start with net:// or net6:// and name a host");
  if (rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) {
    return invalid("no path after the host: the relay daemon writes under HOST/SESSION-DATE/ itself");
  }
  size_t after_host = 0;
  if (rest[0] == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos) return invalid("'[' without ']'");
    url.host = rest.substr(1, close - 1);
    after_host = close + 1;
  } else {
    after_host = std::min(rest.find(':'), rest.size());
    url.host = rest.substr(0, after_host);
  }
  if (url.host.empty()) return invalid("no host");
  std::string ports = rest.substr(after_host);
  if (!ports.empty()) {
    if (ports[0] != ':') return invalid("unexpected '" + ports + "' after the host");
    ports.erase(0, 1);
    const size_t colon = ports.find(':');
    const std::optional<int> control = parse_port(ports.substr(0, colon));
    if (!control) return invalid("the control port must be a number from 1 to 65535");
    url.control_port = *control;  // the data port stays 5343 unless given, as LTTng reads it
    if (colon != std::string::npos) {
      const std::optional<int> data = parse_port(ports.substr(colon + 1));
      if (!data) return invalid("the data port must be a number from 1 to 65535");
      url.data_port = *data;
    }
    url.ports_given = true;
  }
  return url;
}

Status check_relayd_listens(const RelaydUrl& url) {
  for (const auto& [what, port] : {std::pair<const char*, int>{"control", url.control_port},
                                   std::pair<const char*, int>{"data", url.data_port}}) {
    std::string why;
    if (!tcp_connects(url.host, port, why)) {
      return make_error("no lttng-relayd listens at --relayd " + url.text + " (its " + what + " port " +
                        url.host + ":" + std::to_string(port) + ": " + why +
                        "): start one there first (e.g. `lttng-relayd -d -o DIR`, or with -C tcp://0.0.0.0:" +
                        std::to_string(url.control_port) +
                        " -D tcp://0.0.0.0:" + std::to_string(url.data_port) +
                        " for these ports), check the host and ports, or record locally with --trace DIR");
    }
  }
  return Status();
}

std::string relayd_host_url(const RelaydUrl& url) {
  const std::string scheme = url.text.rfind("net6://", 0) == 0 ? "net6://" : "net://";
  return scheme + (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host);
}

std::string live_session_url(const RelaydUrl& url, const std::string& session) {
  return relayd_host_url(url) + (url.ports_given ? ":LIVE_PORT" : "") + "/host/" + this_host() + "/" +
         session;
}

size_t live_readers() {
  return established_to("/proc/net/tcp", kRelaydLivePort) + established_to("/proc/net/tcp6", kRelaydLivePort);
}

bool local_port_open(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool open = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return open;
}

std::string live_session_url(const std::string& session) {
  return std::string(kLocalRelaydUrl) + "/host/" + this_host() + "/" + session;
}

Expected<RelayDaemon> RelayDaemon::start(const std::string& output_dir) {
  std::vector<std::string> argv = {"lttng-relayd"};
  if (!output_dir.empty()) argv.push_back("--output=" + output_dir);
  posix_spawnattr_t attr;
  if (posix_spawnattr_init(&attr) != 0) return make_error("cannot start lttng-relayd: out of memory");
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> args = c_strings(argv);
  std::vector<std::string> env = current_environment();
  std::vector<char*> envp = c_strings(env);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0].c_str(), nullptr, &attr, args.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return make_error("cannot start lttng-relayd: " + std::string(std::strerror(rc)) +
                      ": install lttng-tools (it provides lttng-relayd), or start a relay daemon yourself");
  }
  RelayDaemon daemon(pid);
  const auto deadline = Clock::now() + kReadyTimeout;
  while (!local_port_open(kRelaydControlPort) || !local_port_open(kRelaydLivePort)) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      daemon.pid_ = -1;
      return make_error("lttng-relayd " + exit_text(status) + " before it listened on ports " +
                        std::to_string(kRelaydControlPort) + " and " + std::to_string(kRelaydLivePort) +
                        " (its messages are above): are the ports taken?");
    }
    if (Clock::now() >= deadline) {
      return make_error("lttng-relayd did not listen on ports " + std::to_string(kRelaydControlPort) +
                        " and " + std::to_string(kRelaydLivePort) + " within 10 s");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return Expected<RelayDaemon>(std::move(daemon));
}

RelayDaemon::~RelayDaemon() {
  if (pid_ <= 0) return;
  const auto readers_deadline = Clock::now() + kReadersTimeout;
  while (live_readers() > 0) {
    if (Clock::now() >= readers_deadline) {
      std::fprintf(stderr,
                   "bd-run: warning: a live reader was still connected to the lttng-relayd bd-run started "
                   "%d s after the session ended; stopping the relay daemon anyway\n",
                   static_cast<int>(kReadersTimeout.count()));
      break;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  kill(pid_, SIGTERM);
  if (!reap_until(pid_, Clock::now() + kStopTimeout)) {
    kill(pid_, SIGKILL);
    reap_until(pid_, Clock::now() + kStopTimeout);
  }
}

Expected<std::optional<RelayDaemon>> ensure_local_relayd(const std::string& output_dir) {
  if (local_port_open(kRelaydControlPort)) {
    if (!output_dir.empty()) {
      std::fprintf(stderr,
                   "bd-run: warning: an lttng-relayd already runs on this host: the trace lands in its "
                   "output directory, not in --trace %s\n",
                   output_dir.c_str());
    }
    return std::optional<RelayDaemon>();
  }
  Expected<RelayDaemon> started = RelayDaemon::start(output_dir);
  if (!started) return started.take_error();
  return std::optional<RelayDaemon>(std::move(started).value());
}

}  // namespace bdtrace::bdrun
