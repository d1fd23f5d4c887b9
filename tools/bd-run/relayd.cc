// SPDX-License-Identifier: MIT
#include "relayd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
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

}  // namespace

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
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  return std::string(kLocalRelaydUrl) + "/host/" + host + "/" + session;
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
