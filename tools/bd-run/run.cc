#include "run.h"

#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "bdtrace/tools/lttng_session.h"
#include "child.h"
#include "preflight.h"
#include "qemu_command.h"

extern char** environ;

namespace bdtrace::bdrun {
namespace {

constexpr int kConfigError = 2;

int fail(const std::string& message) {
  std::fprintf(stderr, "bd-run: error: %s\n", message.c_str());
  return kConfigError;
}

void warn(const std::string& message) { std::fprintf(stderr, "bd-run: warning: %s\n", message.c_str()); }

std::vector<std::string> current_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}

}  // namespace

int run(const RunOptions& o) {
  // 1. Everything that can be checked before anything is started.
  Result<std::string> qemu = resolve_qemu(o.qemu);
  if (!qemu) return fail(qemu.error());
  Result<std::string> plugin = resolve_plugin(o.plugin);
  if (!plugin) return fail(plugin.error());
  Result<std::string> program = resolve_program(o.program);
  if (!program) return fail(program.error());
  const bool tracing = !o.trace_dir.empty();
  if (tracing) {
    if (Status st = check_trace_dir(o.trace_dir); !st) return fail(st.error());
    if (Status st = tools::check_session_daemon(); !st) return fail(st.error());
  }

  QemuInvocation inv;
  inv.qemu = qemu.value();
  inv.plugin = plugin.value();
  inv.program = program.value();
  inv.program_args = o.program_args;
  inv.plugin_args = o.plugin_args;
  inv.fork_wrapper = find_lttng_fork_wrapper();
  const QemuCommand cmd = build_qemu_command(inv, current_environment());

  // 2. From here a signal must not kill bd-run before the session is gone.
  SignalForwarding signals;

  std::optional<tools::LttngSession> session;
  if (tracing) {
    tools::SessionOptions so;
    so.name = o.session_name;
    so.output_dir = o.trace_dir;
    so.subbuf_size = o.subbuf_size;
    so.subbuf_count = o.subbuf_count;
    auto created = tools::LttngSession::create(so);
    if (!created) return fail(created.error());
    session.emplace(std::move(created).value());
    if (Status st = session->start(); !st) return fail(st.error());  // ~LttngSession destroys it
  }

  // 3. The guest.
  Result<int> exit_status = run_child(cmd.argv, cmd.envp);

  // 4. Tear down, report.
  if (session) {
    bool trace_ok = true;
    if (Status st = session->stop(); !st) {
      warn(st.error());
      trace_ok = false;
    }
    if (Result<uint64_t> lost = session->discarded_events(); !lost) {
      warn("could not read the discarded-event count: " + lost.error());
    } else if (lost.value() != 0) {
      warn("LTTng discarded " + std::to_string(lost.value()) +
           " events (buffers full): the trace is incomplete; raise --subbuf-size or --subbuf-count");
    }
    const std::string dir = session->output_dir();
    if (Status st = session->destroy(); !st) {
      warn(st.error());
      trace_ok = false;
    }
    session.reset();
    if (trace_ok) {
      std::fprintf(stderr, "bd-run: trace written to %s\n", dir.c_str());
    } else {
      std::fprintf(stderr, "bd-run: trace in %s may be incomplete\n", dir.c_str());
    }
  }

  if (!exit_status) return fail(exit_status.error());
  return exit_status.value();
}

}  // namespace bdtrace::bdrun
