/* SPDX-License-Identifier: MIT */
// Joining bd-run's LTTng session.
//
// LTTng sessions are machine-wide: a session that enables bdtrace:* records
// every process on the machine that emits them, including other bd-runs'
// QEMUs. bd-run's session therefore records only the processes it adds to
// LTTng's vpid tracker, and every process that emits bdtrace:* events (the
// plugin's QEMU, each process a user-mode guest forks, the ring consumer)
// asks to be added before it emits its first event:
//
//   bd-run   listens on a Unix stream socket and names it in BD_SESSION_JOIN
//            in the environment of everything it starts;
//   process  connects to it, and waits for one byte;
//   bd-run   adds the peer's pid as the kernel reports it (SO_PEERCRED: a
//            process can only ever add itself) and answers kJoinAccepted,
//            or kJoinRefused when LTTng refused it.
//
// The tracker enables events in an already registered process before the
// call returns, so joining after liblttng-ust registered (from a
// constructor) loses nothing; a forked child joins before it registers again.
#pragma once

#include <cstddef>

namespace bdtrace::tracepoints {

inline constexpr char kSessionJoinEnv[] = "BD_SESSION_JOIN";
inline constexpr char kJoinAccepted = 'y';
inline constexpr char kJoinRefused = 'n';
// How long a process waits for bd-run's answer.
inline constexpr int kJoinTimeoutMs = 10000;

enum class JoinResult {
  kNotAsked,  // BD_SESSION_JOIN is not set: not started by a tracing bd-run
  kJoined,
  kFailed,  // `why` says what happened; this process's events are not recorded
};

// Joins the session named in BD_SESSION_JOIN. Only system calls and
// snprintf, no allocation: safe in a pthread_atfork child handler.
JoinResult join_session(char* why, size_t why_size, int timeout_ms = kJoinTimeoutMs);

// join_session(); on failure prints "bdtrace: <who> (pid N) could not join
// bd-run's session: WHY; its events are not recorded" to stderr. True
// unless it failed.
bool join_session_or_warn(const char* who);

}  // namespace bdtrace::tracepoints
