/* SPDX-License-Identifier: MIT */
// JoinServer: how the processes bd-run starts join its LTTng session.
//
// bd-run's session records only the processes in its vpid tracker
// (LttngSession's only_included_processes); the server adds each process
// that connects to its socket (bdtrace/session_join.h has the protocol).
// One thread, which is the only user of the session while it runs (so it
// also runs the periodic checks that act on the session: liblttng-ctl
// calls must not overlap).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "bdtrace/tools/lttng_session.h"
#include "bdtrace/status.h"

namespace bdtrace::bdrun {

class JoinServer {
 public:
  // Listens on a fresh socket in a private directory and serves until
  // stop(); calls `tick` (if set) on its thread about every kTickMs.
  // `session` must outlive the server.
  static Expected<std::unique_ptr<JoinServer>> start(tools::LttngSession& session,
                                                     std::function<void()> tick = nullptr);
  static constexpr int kTickMs = 100;
  JoinServer(const JoinServer&) = delete;
  JoinServer& operator=(const JoinServer&) = delete;
  // stop(), then removes the socket and its directory.
  ~JoinServer();

  // "BD_SESSION_JOIN=<socket>", for the environment of every child.
  std::string env_entry() const;
  // Ends the thread; processes that connect later are refused by the
  // kernel (they warn). Idempotent. Call before stopping the session.
  void stop();

  uint64_t joined() const { return joined_.load(); }
  uint64_t refused() const { return refused_.load(); }
  // Why the first refused process was refused (empty if none was).
  std::string first_refusal() const;

 private:
  JoinServer(tools::LttngSession& session, std::string dir, int listen_fd, int stop_fd);
  void serve();
  void answer(int conn);

  tools::LttngSession& session_;
  std::function<void()> tick_;
  std::string dir_;
  int listen_fd_;
  int stop_fd_;  // eventfd: written by stop()
  std::thread thread_;
  std::atomic<uint64_t> joined_{0};
  std::atomic<uint64_t> refused_{0};
  mutable std::mutex mu_;
  std::string first_refusal_;
};

}  // namespace bdtrace::bdrun
