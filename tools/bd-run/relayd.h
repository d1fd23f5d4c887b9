/* SPDX-License-Identifier: MIT */
// bd-run --live: the local lttng-relayd that a live session streams to.
// bd-run uses the one that runs; when none does it starts one and stops it
// again when the run is over (RelayDaemon's destructor).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "bdtrace/status.h"

namespace bdtrace::bdrun {

// lttng-relayd's default ports on this host: sessions connect to the
// control port, live readers (babeltrace2's lttng-live) to the live port.
inline constexpr int kRelaydControlPort = 5342;
inline constexpr int kRelaydDataPort = 5343;
inline constexpr int kRelaydLivePort = 5344;
// Where a live session streams to: the relay daemon on this host.
inline constexpr const char* kLocalRelaydUrl = "net://localhost";

// True when something accepts TCP connections on 127.0.0.1:port.
bool local_port_open(int port);

// The URL a live reader follows a session with, e.g.
// net://localhost/host/HOST/SESSION (HOST: this machine's name, as the
// session daemon tells the relay daemon).
std::string live_session_url(const std::string& session);

// Live readers connected to this host's relay daemon (TCP connections
// established to its live port, from /proc/net/tcp and tcp6).
size_t live_readers();

// bd-run --relayd URL: the lttng-relayd (someone else's, on this host or
// another) the session streams to. net://HOST, net://HOST:CTRL or
// net://HOST:CTRL:DATA (net6:// for IPv6, the host then in [brackets] when
// it has colons); the ports default to 5342 and 5343 (net://HOST:CTRL
// changes the control port only, as LTTng reads such a URL).
struct RelaydUrl {
  std::string text;  // as given
  std::string host;  // without brackets
  int control_port = kRelaydControlPort;
  int data_port = kRelaydDataPort;
  bool ports_given = false;
};

// Parses --relayd's URL; an error that says what a valid one looks like.
Expected<RelaydUrl> parse_relayd_url(const std::string& text);

// OK when something accepts TCP connections on the relay daemon's control
// and data ports (within a few seconds), else an error saying what to do.
Status check_relayd_listens(const RelaydUrl& url);

// The URL a live reader follows `session` with on that relay daemon:
// net://HOST/host/THIS_HOST/SESSION when its ports are the default ones
// (its live port then too); with ports given, the live port is unknown:
// "net://HOST:LIVE_PORT/host/...", which a person completes.
std::string live_session_url(const RelaydUrl& url, const std::string& session);

// net://HOST (net6://[HOST]) of that relay daemon: its default ports.
std::string relayd_host_url(const RelaydUrl& url);

// An lttng-relayd bd-run started (in its own process group, so that a ^C
// for the guest does not stop it before the session is destroyed). The
// destructor waits (up to 30 s) until no live reader is connected any more
// (a reader still receiving the end of a destroyed session would lose it),
// then stops it (SIGTERM, then SIGKILL after 10 s) and reaps it.
class RelayDaemon {
 public:
  // Starts `lttng-relayd --output OUTPUT_DIR` (OUTPUT_DIR empty: its default,
  // $HOME/lttng-traces) and returns once its control and live ports accept
  // connections, or an error if it exits or is not ready within 10 s.
  static Expected<RelayDaemon> start(const std::string& output_dir);

  RelayDaemon(RelayDaemon&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }
  RelayDaemon& operator=(RelayDaemon&&) = delete;
  RelayDaemon(const RelayDaemon&) = delete;
  ~RelayDaemon();

  pid_t pid() const { return pid_; }

 private:
  explicit RelayDaemon(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// The relay daemon a live run streams to: none when one already listens on
// this host (bd-run leaves it alone, and warns when output_dir is set: that
// daemon writes where it was told to), else one bd-run started, writing
// into output_dir.
Expected<std::optional<RelayDaemon>> ensure_local_relayd(const std::string& output_dir);

}  // namespace bdtrace::bdrun
