/* SPDX-License-Identifier: MIT */
// Helpers for end-to-end tests: run real programs, read real traces.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bdtest {

struct RunResult {
  int status = -1;  // exit status, or 128+signal
  std::string out;  // standard output
  std::string err;  // standard error
};

// Runs argv (no shell) with stdout/stderr captured; extra_env ("NAME=VALUE")
// is added to the environment, replacing variables of the same name.
// A bd-run in argv goes through with_qemu_under_test first.
RunResult run(const std::vector<std::string> &argv, const std::vector<std::string> &extra_env = {});

// The QEMU under test: when BD_TEST_QEMU_PREFIX names a QEMU install (what
// tests/e2e/with-qemu-builds.sh sets, one `./bdtrace qemu VERSION` build at
// a time), a bd-run command (the first argument ending in "bd-run") that
// chooses no QEMU itself (no --qemu, no --native) gets `--qemu
// PREFIX/bin/qemu-system-ARCH` (with --system) or `PREFIX/bin/qemu-ARCH`,
// ARCH from its --arch (x86_64 without; left alone for an architecture
// ./bdtrace qemu does not build).
// Unset: argv unchanged (the machine's QEMU, Debian's 7.2).
std::vector<std::string> with_qemu_under_test(std::vector<std::string> argv);

// The qemu-x86_64 bd-run runs by default in these tests: the one of
// BD_TEST_QEMU_PREFIX when set, else the machine's (from PATH).
std::string qemu_under_test();

// A fresh directory under /tmp, removed with everything in it on destruction
// unless BD_KEEP_TEST_DIRS is set (for looking at a failed run's trace).
class TempDir {
 public:
  explicit TempDir(const std::string &tag);
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return path_; }

 private:
  std::string path_;
};

// One event as babeltrace2's text sink prints it: its name (without the
// "bdtrace:" provider) and its fields (contexts and payload; strings unquoted).
struct TraceEvent {
  std::string name;
  std::map<std::string, std::string> fields;
  uint64_t u(const std::string &field) const;  // field as unsigned integer
  // bdtrace:tb_batch and tb_counts: their blocks' pc and n_insns, in order
  // (the arrays are not in `fields`).
  std::vector<uint64_t> pcs;
  std::vector<uint32_t> n_insns;
  std::vector<uint64_t> executions;  // bdtrace:tb_counts only
  std::vector<uint8_t> data;         // bdtrace:blob: its bytes (not in `fields`)
};

// Reads a trace with the babeltrace2 command line (an independent reader:
// the tests check bd-analyze against it). Only bdtrace:* events are kept.
// Fails the calling test (and returns what it read) when babeltrace2 fails.
// With `cycles`, each event also has the field "timestamp_cycles": its
// LTTng timestamp as the clock's raw value (CLOCK_MONOTONIC ns for UST).
// A bdtrace:tb_batch has its blocks in pcs / n_insns; a tb_counts also
// their executions.
std::vector<TraceEvent> read_trace_with_babeltrace2(const std::string &dir, bool cycles = false);

// The events of the one QEMU process whose bdtrace:session names a program
// containing `program` (by the vpid context bd-run records). bd-run's
// sessions record only their own processes (isolation_e2e_test.cc); this
// keeps a test's counts exact in a trace with several guests of its own.
std::vector<TraceEvent> events_of_guest(const std::vector<TraceEvent> &events, const std::string &program);

// The events of the QEMU process whose bdtrace:session has vm == `vm`
// (system mode: bd-run --vm NAME), by the vpid context.
std::vector<TraceEvent> events_of_vm(const std::vector<TraceEvent> &events, const std::string &vm);

// A bdtrace:blob of guest-calls (tests/guest/calls.c): whether its bytes
// are exactly what it sent (byte i of a blob of length L = (i * 13 + L) %
// 256). Fails the calling test when not; returns the blob's length.
size_t expect_calls_blob_bytes(const TraceEvent &blob);

// The rest of the first line of `out` that starts with "KEY "; fails the
// calling test (and returns "") when there is none.
std::string text_after(const std::string &out, const std::string &key);

// Replaces `path` with `text` atomically (write a temporary, rename): a file
// watcher never sees it half written.
void replace_file(const std::string &path, const std::string &text);

// Waits (up to 30 s) for the "parent PID" / "child PID" lines a forking
// guest-filter writes into DIR/pids; {0, 0} for what never appeared.
std::pair<uint64_t, uint64_t> wait_for_fork_pids(const std::string &dir);

// Lines of text.
std::vector<std::string> lines(const std::string &text);

}  // namespace bdtest
