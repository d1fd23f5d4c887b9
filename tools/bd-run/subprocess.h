/* SPDX-License-Identifier: MIT */
// Helper processes bd-run talks to through pipes: QEMU probes whose output
// it reads, and the ring consumer it starts, waits for and stops.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "bdtrace/status.h"

namespace bdtrace::bdrun {

// argv/envp for posix_spawn: pointers into `v`, NULL-terminated.
std::vector<char*> c_strings(const std::vector<std::string>& v);

// bd-run's own environment ("NAME=VALUE" entries).
std::vector<std::string> current_environment();

// envp with the "NAME=VALUE" entries of `extra` added, replacing any entry
// of the same NAME. Pure, for tests.
std::vector<std::string> with_env(const std::vector<std::string>& envp,
                                  const std::vector<std::string>& extra);

struct Captured {
  int status = -1;  // exit status, 128+N when killed by signal N
  std::string out;  // stdout and stderr, interleaved
};

// Runs argv (no shell, stdin /dev/null) and collects its output, at most
// `limit` bytes; a child still running after `timeout_ms` is killed.
Expected<Captured> capture_output(const std::vector<std::string>& argv, int timeout_ms = 5000,
                                  size_t limit = 1 << 20);

// A child whose stdin is a pipe from bd-run and whose stdout is a pipe to
// bd-run (stderr is bd-run's). Closing stdin is how bd-run asks it to end.
// The destructor closes both pipes and waits for the child (it never leaves
// a zombie behind), after a SIGKILL if it does not end within 10 s.
class PipedChild {
 public:
  static Expected<PipedChild> spawn(const std::vector<std::string>& argv,
                                    const std::vector<std::string>& envp);
  PipedChild(PipedChild&& other) noexcept;
  PipedChild& operator=(PipedChild&&) = delete;
  PipedChild(const PipedChild&) = delete;
  ~PipedChild();

  // Reads stdout up to and including the first line, waiting at most
  // `timeout_ms`. The line without its newline; an error on EOF (the child
  // ended: `what` and its exit status are in the message) or timeout.
  Expected<std::string> read_line(int timeout_ms, const std::string& what);

  // Closes the child's stdin and waits up to `timeout_ms` for it to exit
  // (then kills it). Returns its exit status (128+N when killed).
  Expected<int> finish(int timeout_ms);

  pid_t pid() const { return pid_; }

 private:
  PipedChild(pid_t pid, int in_fd, int out_fd) : pid_(pid), in_fd_(in_fd), out_fd_(out_fd) {}
  int wait_for_exit(int timeout_ms);

  pid_t pid_ = -1;
  int in_fd_ = -1;   // the child's stdin (write end)
  int out_fd_ = -1;  // the child's stdout (read end)
  std::string buffered_;
};

}  // namespace bdtrace::bdrun
