#include "session_run.h"

#include <cstdio>
#include <optional>

#include "bdtrace/tools/lttng_session.h"
#include "preflight.h"
#include "session_join_server.h"

namespace bdtrace::bdrun {

int fail(const std::string& message) {
  std::fprintf(stderr, "bd-run: error: %s\n", message.c_str());
  return kConfigError;
}

void warn(const std::string& message) { std::fprintf(stderr, "bd-run: warning: %s\n", message.c_str()); }

tools::Status check_tracing(const RunOptions& o) {
  if (o.trace_dir.empty()) return tools::Status();
  if (tools::Status st = check_trace_dir(o.trace_dir); !st) return st;
  return tools::check_session_daemon();
}

int run_in_session(const RunOptions& o, const std::function<tools::Result<int>(const SessionEnv&)>& guest,
                   const GuestReport* report) {
  std::optional<tools::LttngSession> session;
  std::unique_ptr<JoinServer> joins;
  SessionEnv env;
  if (!o.trace_dir.empty()) {
    tools::SessionOptions so;
    so.name = o.session_name;
    so.output_dir = o.trace_dir;
    so.subbuf_size = o.subbuf_size;
    so.subbuf_count = o.subbuf_count;
    so.only_included_processes = true;
    auto created = tools::LttngSession::create(so);
    if (!created) return fail(created.error());
    session.emplace(std::move(created).value());
    auto server = JoinServer::start(*session);
    if (!server) return fail(server.error());  // ~LttngSession destroys it
    joins = std::move(server).value();
    env.push_back(joins->env_entry());
    if (tools::Status st = session->start(); !st) return fail(st.error());
  }

  tools::Result<int> exit_status = guest(env);
  GuestCheck check = GuestCheck::Ok;
  if (report != nullptr && report->stats != nullptr && exit_status) {
    check = check_guest(exit_status.value(), report->stats->records());
    if (check == GuestCheck::FailedToStart) {
      fail(explain_guest_check(check, report->program, report->script));
    }
  }

  if (session) {
    bool trace_ok = true;
    joins->stop();  // before the session stops: the server is its only other user
    if (joins->refused() != 0) {
      warn(std::to_string(joins->refused()) + " process(es) could not join the session (" +
           joins->first_refusal() + "): their events are missing from the trace");
      trace_ok = false;
    }
    if (tools::Status st = session->stop(); !st) {
      warn(st.error());
      trace_ok = false;
    }
    if (tools::Result<uint64_t> lost = session->discarded_events(); !lost) {
      warn("could not read the discarded-event count: " + lost.error());
    } else if (lost.value() != 0) {
      warn("LTTng discarded " + std::to_string(lost.value()) +
           " events (buffers full): the trace is incomplete; raise --subbuf-size or --subbuf-count");
    }
    const std::string dir = session->output_dir();
    if (tools::Status st = session->destroy(); !st) {
      warn(st.error());
      trace_ok = false;
    }
    session.reset();
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
  return exit_status.value();
}

}  // namespace bdtrace::bdrun
