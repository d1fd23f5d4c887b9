#include "run.h"

#include <string>
#include <vector>

#include "channel_choice.h"
#include "child.h"
#include "filter_check.h"
#include "preflight.h"
#include "qemu_command.h"
#include "ring_run.h"
#include "session_run.h"
#include "subprocess.h"
#include "system_run.h"

namespace bdtrace::bdrun {
namespace {

int run_user(const RunOptions& o) {
  // 1. Everything that can be checked before anything is started.
  if (o.native) {
    Result<std::string> program = resolve_program(o.program);
    if (!program) return fail(program.error());
    GuestCommand guest{{program.value()}, current_environment()};
    guest.argv.insert(guest.argv.end(), o.program_args.begin(), o.program_args.end());
    return run_with_ring(o, program.value(), "native", std::move(guest));
  }
  Result<std::string> qemu = resolve_qemu(o.qemu);
  if (!qemu) return fail(qemu.error());
  Result<Channel> channel = choose_channel(o.channel, probe_qemu(qemu.value()), qemu.value());
  if (!channel) return fail(channel.error());
  if (channel.value() == Channel::Ring) {
    Result<std::string> program = resolve_program(o.program);
    if (!program) return fail(program.error());
    GuestCommand guest{{qemu.value(), program.value()}, current_environment()};
    guest.argv.insert(guest.argv.end(), o.program_args.begin(), o.program_args.end());
    return run_with_ring(o, program.value(), "user", std::move(guest));
  }
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

  // With --channel both the ring runs beside the plugin (run_with_ring
  // forwards signals itself).
  if (channel.value() == Channel::Both) {
    return run_with_ring(o, program.value(), "user", GuestCommand{cmd.argv, cmd.envp});
  }

  // 2. From here a signal must not kill bd-run before the session is gone.
  SignalForwarding signals;

  // 3. The guest, inside the session.
  return run_in_session(o, [&cmd] { return run_child(cmd.argv, cmd.envp); });
}

}  // namespace

int run(const RunOptions& o) { return o.system ? run_system(o) : run_user(o); }

}  // namespace bdtrace::bdrun
