#include "run.h"

#include <cstdio>
#include <string>
#include <vector>

#include "channel_choice.h"
#include "child.h"
#include "filter_check.h"
#include "guest_program.h"
#include "preflight.h"
#include "qemu_command.h"
#include "ring_run.h"
#include "run_stats.h"
#include "session_run.h"
#include "subprocess.h"
#include "system_run.h"

namespace bdtrace::bdrun {
namespace {

// The guest's environment: bd-run's own, plus this build's lib/ on the
// loader path (a program linked with -lbdguest then starts).
std::vector<std::string> guest_environment() {
  return with_guest_library_path(current_environment(), own_lib_dir());
}

// Says how a script runs (once, before it starts).
void note_script(const GuestProgram& g, bool under_qemu) {
  if (g.script.empty()) return;
  std::string cmd = g.path;
  for (const std::string& a : g.args) cmd += " " + a;
  std::fprintf(stderr, "bd-run: %s is a script: running '%s'%s\n", g.script.c_str(), cmd.c_str(),
               under_qemu ? " (the programs it starts run natively, outside QEMU: libbdguest's ring "
                            "channel records their marks)"
                          : "");
}

int run_user(const RunOptions& o) {
  // 1. Everything that can be checked before anything is started.
  Result<StatsFile> stats = StatsFile::create();
  if (!stats) return fail(stats.error());
  if (o.native) {
    Result<GuestProgram> program = resolve_guest(o.program, o.program_args);
    if (!program) return fail(program.error());
    note_script(program.value(), false);
    RingGuest g{program.value().path, program.value().script, "native",
                GuestCommand{{program.value().path}, guest_environment()}, RingRole::Guest, &stats.value()};
    g.command.argv.insert(g.command.argv.end(), program.value().args.begin(), program.value().args.end());
    return run_with_ring(o, g);
  }
  Result<std::string> qemu = resolve_qemu(o.qemu);
  if (!qemu) return fail(qemu.error());
  Result<Channel> channel = choose_channel(o.channel, probe_qemu(qemu.value()), qemu.value());
  if (!channel) return fail(channel.error());
  if (channel.value() == Channel::Ring) {
    Result<GuestProgram> program = resolve_guest(o.program, o.program_args);
    if (!program) return fail(program.error());
    note_script(program.value(), true);
    RingGuest g{program.value().path, program.value().script, "user",
                GuestCommand{{qemu.value(), program.value().path}, guest_environment()}, RingRole::Guest,
                &stats.value()};
    g.command.argv.insert(g.command.argv.end(), program.value().args.begin(), program.value().args.end());
    return run_with_ring(o, g);
  }
  Result<std::string> plugin = resolve_plugin(o.plugin);
  if (!plugin) return fail(plugin.error());
  Result<GuestProgram> program = resolve_guest(o.program, o.program_args);
  if (!program) return fail(program.error());
  if (Status st = check_tracing(o); !st) return fail(st.error());
  std::vector<std::pair<std::string, std::string>> plugin_args = o.plugin_args;
  if (!o.filter.empty()) {
    Result<std::string> filter = check_filter(o.filter);
    if (!filter) return fail(filter.error());
    plugin_args.emplace_back("filter", filter.value());
  }
  plugin_args.emplace_back("stats", stats.value().path());
  note_script(program.value(), true);

  QemuInvocation inv;
  inv.qemu = qemu.value();
  inv.plugin = plugin.value();
  inv.program = program.value().path;
  inv.program_args = program.value().args;
  inv.plugin_args = plugin_args;
  inv.fork_wrapper = find_lttng_fork_wrapper();
  const QemuCommand cmd = build_qemu_command(inv, guest_environment());

  // The guest, inside the session, beside a ring: with --channel both for
  // every libbdguest process; with the trap for the programs the guest
  // execs (qemu-x86_64 does not follow execve: they run natively, where no
  // plugin hears their trap). run_with_ring forwards signals itself.
  const RingRole role = channel.value() == Channel::Both ? RingRole::Guest : RingRole::Exec;
  return run_with_ring(o, RingGuest{program.value().path, program.value().script, "user",
                                    GuestCommand{cmd.argv, cmd.envp}, role, &stats.value()});
}

}  // namespace

int run(const RunOptions& o) { return o.system ? run_system(o) : run_user(o); }

}  // namespace bdtrace::bdrun
