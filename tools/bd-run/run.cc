#include "run.h"

#include <string>
#include <vector>

#include "child.h"
#include "filter_check.h"
#include "preflight.h"
#include "qemu_command.h"
#include "session_run.h"
#include "system_run.h"

extern char** environ;

namespace bdtrace::bdrun {
namespace {

std::vector<std::string> current_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}

int run_user(const RunOptions& o) {
  // 1. Everything that can be checked before anything is started.
  Result<std::string> qemu = resolve_qemu(o.qemu);
  if (!qemu) return fail(qemu.error());
  Result<std::string> plugin = resolve_plugin(o.plugin);
  if (!plugin) return fail(plugin.error());
  Result<std::string> program = resolve_program(o.program);
  if (!program) return fail(program.error());
  if (Status st = check_tracing(o); !st) return fail(st.error());
  std::vector<std::pair<std::string, std::string>> plugin_args = o.plugin_args;
  if (!o.filter.empty()) {
    Result<std::string> filter = check_filter(o.filter);
    if (!filter) return fail(filter.error());
    plugin_args.emplace_back("filter", filter.value());
  }

  QemuInvocation inv;
  inv.qemu = qemu.value();
  inv.plugin = plugin.value();
  inv.program = program.value();
  inv.program_args = o.program_args;
  inv.plugin_args = plugin_args;
  inv.fork_wrapper = find_lttng_fork_wrapper();
  const QemuCommand cmd = build_qemu_command(inv, current_environment());

  // 2. From here a signal must not kill bd-run before the session is gone.
  SignalForwarding signals;

  // 3. The guest, inside the session.
  return run_in_session(o, [&cmd] { return run_child(cmd.argv, cmd.envp); });
}

}  // namespace

int run(const RunOptions& o) { return o.system ? run_system(o) : run_user(o); }

}  // namespace bdtrace::bdrun
