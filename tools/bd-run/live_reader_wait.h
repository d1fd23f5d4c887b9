/* SPDX-License-Identifier: MIT */
// bd-run --live-wait: hold the guest until a live reader follows the
// session. babeltrace2's lttng-live source (2.0) attaches "at the newest
// data": a reader that attaches after a stream's first packet reached the
// relay daemon (the live timer sends one every second) never sees the
// events before it. Waiting for the reader first gives it all of the run.
#pragma once

#include <string>

#include "bdtrace/status.h"

namespace bdtrace::bdrun {

// Readers attached to `session` on the relay daemon at relayd_url (e.g.
// net://localhost), as the relay daemon counts them (babeltrace2's
// lttng-live "sessions" query: client-count); 0 while the relay daemon
// does not list the session.
Expected<uint64_t> live_session_clients(const std::string& relayd_url, const std::string& session);

// Polls live_session_clients until it is at least 1 or a signal arrived
// (SignalForwarding::pending_signal); an error after timeout_s seconds or
// when the relay daemon cannot be asked.
Status wait_for_live_reader(const std::string& relayd_url, const std::string& session, int timeout_s);

}  // namespace bdtrace::bdrun
