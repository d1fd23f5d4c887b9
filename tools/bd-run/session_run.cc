// SPDX-License-Identifier: MIT
#include "session_run.h"

#include <unistd.h>

#include <cstdio>
#include <optional>

#include "bdtrace/tools/lttng_session.h"
#include "preflight.h"
#include "live_reader_wait.h"
#include "relayd.h"
#include "session_join_server.h"
#include "trace_space.h"

namespace bdtrace::bdrun {

int fail(const std::string& message) {
  std::fprintf(stderr, "bd-run: error: %s\n", message.c_str());
  return kConfigError;
}

int fail(const Error& error) { return fail(error.ToString()); }

void warn(const std::string& message) { std::fprintf(stderr, "bd-run: warning: %s\n", message.c_str()); }

namespace {

constexpr unsigned int kSwitchTimerUs = 1000000;
// --live-wait: how long a person has to start bd-analyze --live.
constexpr int kLiveWaitSeconds = 600;

// After the session stopped: a full filesystem means LTTng's consumer
// could not write all it had (its write errors reach no one else).
std::optional<std::string> full_filesystem(const std::string& dir) {
  Expected<uint64_t> free = free_bytes(dir);
  if (!free || free.value() > 0) return std::nullopt;
  return "the filesystem holding " + dir +
         " is full: LTTng could not write all of the trace (its metadata may be cut short too, which makes "
         "it unreadable); free space there, or choose another --trace directory, and run again";
}

// The directory the run's trace lands in, when bd-run knows it: the
// session's own, or with --live the --trace DIR of a relay daemon bd-run
// started. Empty otherwise (a relay daemon that already ran writes where
// it was told to).
std::string known_trace_dir(const RunOptions& o, const tools::LttngSession& session, bool own_relayd) {
  if (!o.relayd_url.empty()) return std::string();
  if (!o.live) return session.output_dir();
  return own_relayd ? o.trace_dir : std::string();
}

// For messages: known_trace_dir, or what stands for it.
std::string trace_place(const RunOptions& o, const std::string& session, const std::string& known_dir) {
  if (!o.relayd_url.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
    return "the output directory of the lttng-relayd at " + o.relayd_url + ", under " + host + "/" + session +
           "-DATE/";
  }
  return known_dir.empty() ? "the lttng-relayd's output directory (by default ~/lttng-traces)" : known_dir;
}

void warn_discarded(const tools::LttngSession& session) {
  Expected<uint64_t> lost = session.discarded_events();
  if (!lost) {
    warn("could not read the discarded-event count: " + lost.error().message);
  } else if (lost.value() != 0) {
    warn("LTTng discarded " + std::to_string(lost.value()) +
         " events (buffers full): the trace is incomplete; raise --subbuf-size or --subbuf-count");
  }
}

}  // namespace

Status check_tracing(const RunOptions& o) {
  if (!o.traces()) return Status();
  if (!o.relayd_url.empty()) {
    // Before QEMU starts: the run would record nothing.
    Expected<RelaydUrl> url = parse_relayd_url(o.relayd_url);
    if (!url) return url.take_error();
    if (Status st = check_relayd_listens(url.value()); !st) return st;
  }
  if (!o.trace_dir.empty()) {
    if (Status st = check_trace_dir(o.trace_dir); !st) return st;
  }
  return tools::check_session_daemon();
}

void SessionContext::trace_incomplete(const std::string& why) {
  warn(why);
  incomplete_ = true;
}

int run_in_session(const RunOptions& o, const std::function<Expected<int>(SessionContext&)>& guest,
                   const GuestReport* report) {
  // Declared before the session: the session is destroyed first.
  std::optional<RelayDaemon> relayd;
  std::optional<RelaydUrl> relayd_url;  // --relayd
  std::optional<tools::LttngSession> session;
  std::unique_ptr<JoinServer> joins;
  SessionContext context;
  SessionEnv& env = context.env;
  // Set on the join server's thread, read after it ended.
  bool stopped_for_space = false;
  uint64_t stopped_with_free = 0;
  const uint64_t headroom = trace_headroom(o.subbuf_size, o.subbuf_count);
  if (o.traces()) {
    tools::SessionOptions so;
    so.name = o.session_name;
    so.output_dir = o.trace_dir;
    if (!o.relayd_url.empty()) {
      // Someone else's relay daemon: bd-run never starts one for it
      // (check_tracing checked that it listens).
      Expected<RelaydUrl> url = parse_relayd_url(o.relayd_url);
      if (!url) return fail(url.error());
      relayd_url = std::move(url).value();
      (o.live ? so.live_url : so.network_url) = relayd_url->text;
    } else if (o.live) {
      Expected<std::optional<RelayDaemon>> relay = ensure_local_relayd(o.trace_dir);
      if (!relay) return fail(relay.error());
      std::optional<RelayDaemon> started = std::move(relay).value();
      if (started) relayd.emplace(std::move(*started));
      so.live_url = kLocalRelaydUrl;
    }
    so.subbuf_size = o.subbuf_size;
    so.subbuf_count = o.subbuf_count;
    so.only_included_processes = true;
    // A trace on disk up to a second before a crash of the session daemon.
    so.switch_timer_us = kSwitchTimerUs;
    auto created = tools::LttngSession::create(so);
    if (!created) return fail(created.error());
    session.emplace(std::move(created).value());
    if (o.live) {
      std::fprintf(
          stderr, "bd-run: live: bd-analyze --live %s\n",
          (relayd_url ? live_session_url(*relayd_url, session->name()) : live_session_url(session->name()))
              .c_str());
    }
    if (relayd_url) {
      std::fprintf(stderr, "bd-run: streaming to the lttng-relayd at %s: the trace lands in %s\n",
                   relayd_url->text.c_str(), trace_place(o, session->name(), "").c_str());
    }
    // bd-run watches the space where the trace lands when it knows where.
    const std::string trace_dir = known_trace_dir(o, *session, relayd.has_value());
    if (Expected<uint64_t> free = trace_dir.empty() ? Expected<uint64_t>(headroom) : free_bytes(trace_dir);
        free && free.value() < headroom) {
      return fail("only " + mib(free.value()) + " are free where " + trace_dir + " is, less than the " +
                  mib(headroom) +
                  " LTTng's buffers may need (--subbuf-size x --subbuf-count x each CPU, plus metadata): "
                  "free space, trace elsewhere, or choose smaller buffers");
    }
    // Recording stops while what LTTng may still write fits on the disk.
    // Also keeps room for twice what the last check interval wrote: the
    // disk may fill faster than the checks come.
    auto watch_space = [&session, &stopped_for_space, &stopped_with_free, headroom, dir = trace_dir,
                        last = uint64_t{0}]() mutable {
      if (stopped_for_space || !session->started() || dir.empty()) return;
      Expected<uint64_t> free = free_bytes(dir);
      if (!free) return;
      const uint64_t drop = last > free.value() ? last - free.value() : 0;
      last = free.value();
      if (free.value() >= headroom + 2 * drop) return;
      stopped_for_space = true;
      stopped_with_free = free.value();
      (void)session->stop();
    };
    // Started before the join server: from its start the server's thread
    // is the session's only user (watch_space reads started() and may
    // stop it there), so the main thread's start() must come first
    // (ThreadSanitizer saw the two overlap when the server came first).
    if (Status st = session->start(); !st) return fail(st.error());
    auto server = JoinServer::start(*session, watch_space);
    if (!server) return fail(server.error());  // ~LttngSession stops and destroys it
    joins = std::move(server).value();
    env.push_back(joins->env_entry());
  }

  if (o.live_wait) {
    std::fprintf(stderr,
                 "bd-run: live: waiting for a reader to follow the session before starting the guest\n");
    // With --relayd: its host, on the default ports (options.cc checks).
    const std::string reader_url = relayd_url ? relayd_host_url(*relayd_url) : std::string(kLocalRelaydUrl);
    if (Status st = wait_for_live_reader(reader_url, session->name(), kLiveWaitSeconds); !st) {
      return fail(st.error());
    }
  }
  Expected<int> exit_status = guest(context);
  GuestCheck check = GuestCheck::Ok;
  if (report != nullptr && report->stats != nullptr && exit_status) {
    check = check_guest(exit_status.value(), report->stats->records());
    if (check == GuestCheck::FailedToStart) {
      fail(explain_guest_check(check, report->program, report->script));
    }
  }

  if (session) {
    joins->stop();  // before the session stops: the server is its only other user
    if (joins->refused() != 0) {
      context.trace_incomplete(std::to_string(joins->refused()) +
                               " process(es) could not join the session (" + joins->first_refusal() +
                               "): their events are missing from the trace");
    }
    if (stopped_for_space) {
      context.trace_incomplete(
          "the filesystem holding " +
          trace_place(o, session->name(), known_trace_dir(o, *session, relayd.has_value())) +
          " was down to " + mib(stopped_with_free) + " free, near the " + mib(headroom) +
          " LTTng may still have to write, so bd-run stopped recording there to keep the "
          "trace readable; the guest ran on untraced: free space there, or trace elsewhere");
    }
    const std::string known_dir = known_trace_dir(o, *session, relayd.has_value());
    const std::string dir = trace_place(o, session->name(), known_dir);
    if (Status st = session->stop(); !st) {
      if (!tools::check_session_daemon()) {
        // Its consumer died with it, and what it had not written yet with
        // the consumer: nothing more can be saved, nor destroyed.
        context.trace_incomplete("the LTTng session daemon ended during the run: the trace in " + dir +
                                 " holds what LTTng had written by then (it writes every second); start "
                                 "the daemon again (lttng-sessiond --daemonize) before the next run");
        session->abandon();
      } else {
        context.trace_incomplete(st.error().ToString());
      }
    }
    if (std::optional<std::string> full = known_dir.empty() ? std::nullopt : full_filesystem(known_dir)) {
      context.trace_incomplete(*full);
    }
    if (session->valid()) warn_discarded(*session);
    if (Status st = session->destroy(); !st) context.trace_incomplete(st.error().ToString());
    session.reset();
    const bool trace_ok = !context.incomplete();
    if (check == GuestCheck::FailedToStart) {
      std::fprintf(stderr, "bd-run: the trace in %s holds no guest events\n", dir.c_str());
    } else if (trace_ok) {
      if (check == GuestCheck::NoRecords) warn(explain_guest_check(check, report->program, report->script));
      std::fprintf(stderr, "bd-run: trace written to %s\n", dir.c_str());
    } else {
      warn("trace in " + dir + " may be incomplete");
    }
  }

  if (!exit_status) return fail(exit_status.error());
  if (exit_status.value() == 0 && context.incomplete()) return kTraceIncomplete;
  return exit_status.value();
}

}  // namespace bdtrace::bdrun
