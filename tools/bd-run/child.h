/* SPDX-License-Identifier: MIT */
// Runs QEMU as a child process and waits for it, forwarding SIGINT, SIGTERM
// and SIGHUP so that bd-run survives them and can still tear the LTTng
// session down.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bdtrace/status.h"

namespace bdtrace::bdrun {

// Installs bd-run's handlers for SIGINT/SIGTERM/SIGHUP for the lifetime of
// the object (restores the previous ones afterwards). Install it before
// creating a session: from then on a signal can no longer kill bd-run
// before it has destroyed the session.
class SignalForwarding {
 public:
  SignalForwarding();
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;
  ~SignalForwarding();

  // A signal that arrived while no child was running (0 if none).
  static int pending_signal();
};

struct ChildStdio {
  // Give the child /dev/null as stdin instead of bd-run's.
  bool stdin_from_dev_null = false;
  // When set, the child's stdout is a pipe that bd-run copies to its own
  // stdout as it arrives, handing each complete line (without "\r\n") to
  // this callback as well: bd-run reads the guest console this way.
  std::function<void(const std::string& line)> on_stdout_line;
};

// Spawns argv[0] with argv/envp (stdio inherited unless `stdio` says
// otherwise), waits for it and returns its exit status (128+N if killed by
// signal N). If a signal arrived before the spawn, the child is not started
// and 128+N is returned. An error when it could not be started.
Expected<int> run_child(const std::vector<std::string>& argv, const std::vector<std::string>& envp,
                        const ChildStdio& stdio = ChildStdio{});

}  // namespace bdtrace::bdrun
