/* SPDX-License-Identifier: MIT */
// LttngSession: an LTTng user-space tracing session owned by this process.
//
// Created through liblttng-ctl (never by running the `lttng` CLI), recording
// the bdtrace provider's events into a local directory. The object owns the
// session: its destructor stops tracing if needed and destroys the session,
// so a crash-free exit never leaves a session behind in the machine-wide
// lttng-sessiond.
//
//   auto s = LttngSession::create(opts);
//   if (!s) { print(s.error().ToString()); return 2; }
//   if (auto st = s->start(); !st) ...
//   ... run the traced program ...
//   s->stop();                      // waits until the data is on disk
//   uint64_t lost = s->discarded_events().value();
//   // ~LttngSession destroys it (or call destroy() to see errors)
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bdtrace/status.h"

struct lttng_handle;
struct lttng_process_attr_tracker_handle;

namespace bdtrace::tools {

enum class BufferOwnership {
  // One set of buffers per user: discarded-event counts stay readable after
  // the traced process exits, and one trace directory holds everything.
  kPerUid,
  // One set per process: the channel's discarded count reads 0 once the
  // process has exited (count losses from the trace itself then).
  kPerPid,
};

struct SessionOptions {
  // Empty: a unique name, see make_unique_session_name().
  std::string name;
  // Where the trace is written; created if missing; made absolute. Unused
  // for a live or network session (the relay daemon decides where it writes).
  std::string output_dir;
  // Non-empty: a live session streamed to the lttng-relayd at this URL
  // (e.g. "net://localhost"), which babeltrace2's lttng-live source reads
  // while it records; the relay daemon also writes the trace to its own
  // output directory. Every live_timer_us the consumer sends what the
  // buffers hold, so a live reader lags by about that much.
  std::string live_url;
  unsigned int live_timer_us = 1000000;
  // Non-empty (and live_url empty): a normal network session streamed to
  // the lttng-relayd at this URL (net://HOST or net://HOST:CTRL:DATA),
  // which writes it into its output directory, under HOST/SESSION-DATE/.
  std::string network_url;
  BufferOwnership buffers = BufferOwnership::kPerUid;
  // Per CPU (per-UID) or per process (per-PID). Powers of two. The default
  // (4 MiB x 8) absorbs ~1 M marks/s of ~100-byte events from QEMU.
  uint64_t subbuf_size = 4u << 20;
  uint64_t subbuf_count = 8;
  // Every this many microseconds LTTng's consumer writes out the
  // sub-buffers filled so far, even partly filled ones (0: only full ones,
  // and at stop). What was written survives the session daemon dying
  // mid-run (its consumer dies with it, and the buffers with them).
  unsigned int switch_timer_us = 0;
  // false: discard new events when buffers are full (counted);
  // true: overwrite the oldest (flight-recorder style).
  bool overwrite = false;
  std::string channel_name = "bdtrace";
  // Tracepoint name pattern to enable.
  std::string event_pattern = "bdtrace:*";
  // Events recorded in a small channel of their own instead of
  // channel_name: the counts a reader needs to account for every event
  // (session identity, rejection and drop totals, the filter's decisions).
  // A flood that fills the main channel's buffers discards its own events
  // there, not these. Those event_pattern covers (a prefix wildcard such
  // as "bdtrace:*") are excluded from it; with a single event name as the
  // pattern there is no counts channel.
  std::vector<std::string> counts_events = {"bdtrace:session", "bdtrace:rejected_total",
                                            "bdtrace:ring_dropped", "bdtrace:filter", "bdtrace:filter_stats"};
  std::string counts_channel_name = "bdtrace-counts";
  // ~5000 reports per CPU: the ring consumer's end-of-run drop reports
  // (one per ring that dropped, at once) fit unless thousands of rings
  // dropped; what does not fit shows as this channel's discarded events.
  uint64_t counts_subbuf_size = 64 * 1024;
  uint64_t counts_subbuf_count = 4;
  // Record vpid/vtid contexts on every event: per-UID traces carry no pid
  // in their metadata.
  bool add_pid_tid_context = true;
  // Record only the processes added with include_process() (LTTng's vpid
  // tracker with an inclusion set, empty at first): sessions are
  // machine-wide, and without this the session also records every other
  // process on the machine that emits the enabled events.
  bool only_included_processes = false;
};

// "bdtrace-<pid>-<time>-<random>": distinct across processes and across
// calls in one process.
std::string make_unique_session_name();

// OK when an lttng-sessiond answers; otherwise an error that says how to
// start one.
Status check_session_daemon();

// True when a session with this name exists in the session daemon.
Expected<bool> session_exists(const std::string& name);

class LttngSession {
 public:
  // Creates and configures the session (channel, events, contexts) without
  // starting it. Never throws.
  static Expected<LttngSession> create(const SessionOptions& options);

  LttngSession(LttngSession&& other) noexcept;
  LttngSession& operator=(LttngSession&& other) noexcept;
  LttngSession(const LttngSession&) = delete;
  LttngSession& operator=(const LttngSession&) = delete;
  ~LttngSession();

  // Begin recording. Events emitted before this returns are lost.
  Status start();
  // With only_included_processes: from when this returns the session
  // records process `pid` (as this process sees it: the vpid tracker
  // compares the pid in the traced process's own namespace), registered
  // with LTTng already or later. Adding a pid twice is not an error.
  // Thread-safe against nothing: call it from one thread at a time, and
  // not concurrently with stop() or destroy().
  Status include_process(pid_t pid);
  // Stop recording; returns once the buffered data has been flushed.
  Status stop();
  // Events the tracer dropped because buffers were full, summed over this
  // session's channels (the main one and the counts channel). See
  // BufferOwnership::kPerPid for a caveat.
  Expected<uint64_t> discarded_events() const;
  // Stop if needed, then destroy the session and wait for completion.
  // Idempotent; the destructor calls it and ignores errors.
  Status destroy();

  // Forget the session without a word to the session daemon: for when the
  // daemon is gone (and the session with it).
  void abandon() {
    tracker_.reset();
    handle_.reset();
    name_.clear();
    started_ = false;
  }

  const std::string& name() const { return name_; }
  const std::string& output_dir() const { return output_dir_; }
  bool started() const { return started_; }
  bool valid() const { return !name_.empty(); }

 private:
  struct HandleDeleter {
    void operator()(lttng_handle* h) const noexcept;
  };
  struct TrackerDeleter {
    void operator()(lttng_process_attr_tracker_handle* h) const noexcept;
  };

  LttngSession(std::string name, std::string output_dir, std::vector<std::string> channels);
  Status open_tracker();

  std::string name_;  // empty: moved-from or destroyed
  std::string output_dir_;
  std::vector<std::string> channels_;  // bdtrace's own: the main one first
  std::unique_ptr<lttng_handle, HandleDeleter> handle_;
  // Set with only_included_processes.
  std::unique_ptr<lttng_process_attr_tracker_handle, TrackerDeleter> tracker_;
  bool started_ = false;
};

}  // namespace bdtrace::tools
