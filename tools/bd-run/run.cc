// SPDX-License-Identifier: MIT
#include "run.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "channel_choice.h"
#include "child.h"
#include "filter_check.h"
#include "handler_check.h"
#include "guest_program.h"
#include "plugin_api.h"
#include "preflight.h"
#include "qemu_command.h"
#include "ring_run.h"
#include "run_stats.h"
#include "session_run.h"
#include "subprocess.h"
#include "system_run.h"

namespace bdtrace::bdrun {
namespace {

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

// The guest's architecture: --arch, else its ELF header's.
Expected<tools::GuestArch> guest_arch(const RunOptions& o, const GuestProgram& g) {
  if (o.arch.empty()) return g.arch;
  return tools::parse_arch(o.arch);
}

int run_user(const RunOptions& o) {
  // 1. Everything that can be checked before anything is started.
  Expected<StatsFile> stats = StatsFile::create();
  if (!stats) return fail(stats.error());
  Expected<GuestProgram> program = resolve_guest(o.program, o.program_args);
  if (!program) return fail(program.error());
  const GuestProgram& g = program.value();
  Expected<tools::GuestArch> arch_or = guest_arch(o, g);
  if (!arch_or) return fail(arch_or.error());
  const tools::GuestArch arch = arch_or.value();
  const char* arch_str = tools::arch_name(arch);
  const std::vector<std::string> env = guest_environment_for(current_environment(), arch);
  if (o.native) {
    if (arch != tools::GuestArch::X86_64) {
      return fail(g.path + " is an " + std::string(arch_str) +
                  " program: it cannot run natively on this "
                  "x86_64 host; drop --native and bd-run runs it under qemu-" +
                  arch_str);
    }
    note_script(g, false);
    RingGuest rg{g.path, g.script, "native", GuestCommand{{g.path}, env}, RingRole::Guest, &stats.value()};
    rg.command.argv.insert(rg.command.argv.end(), g.args.begin(), g.args.end());
    return run_with_ring(o, rg);
  }
  Expected<std::string> qemu = resolve_qemu(o.qemu, arch);
  if (!qemu) return fail(qemu.error());
  const QemuCapabilities caps = probe_qemu(qemu.value());
  Expected<Channel> channel = choose_channel(o.channel, caps, qemu.value());
  if (!channel) return fail(channel.error());
  if (channel.value() == Channel::Ring && !o.handlers.empty()) {
    return fail("--handler needs the trap channel, and " + qemu.value() +
                " cannot load the bdtrace plugin (no plugin support): use a QEMU built with plugins "
                "(e.g. ./bdtrace qemu 10.2, then --qemu PATH)");
  }
  if (channel.value() == Channel::Ring) {
    note_script(g, true);
    RingGuest rg{g.path,          g.script,       "user", GuestCommand{{qemu.value(), g.path}, env},
                 RingRole::Guest, &stats.value(), arch};
    rg.command.argv.insert(rg.command.argv.end(), g.args.begin(), g.args.end());
    return run_with_ring(o, rg);
  }
  Expected<std::string> plugin = resolve_plugin(o.plugin, plugin_api_for(caps));
  if (!plugin) return fail(plugin.error());
  if (Status st = check_tracing(o); !st) return fail(st.error());
  std::vector<std::pair<std::string, std::string>> plugin_args = o.plugin_args;
  if (!o.filter.empty()) {
    Expected<std::string> filter = check_filter(o.filter);
    if (!filter) return fail(filter.error());
    plugin_args.emplace_back("filter", filter.value());
  }
  Expected<std::vector<std::string>> handler_args = check_handlers(o.handlers);
  if (!handler_args) return fail(handler_args.error());
  for (const std::string& value : handler_args.value()) plugin_args.emplace_back("handler", value);
  plugin_args.emplace_back("stats", stats.value().path());
  if (caps.known) plugin_args.emplace_back("qemu_version", caps.version);
  note_script(g, true);

  QemuInvocation inv;
  inv.qemu = qemu.value();
  inv.plugin = plugin.value();
  inv.program = g.path;
  inv.program_args = g.args;
  inv.plugin_args = plugin_args;
  inv.fork_wrapper = find_lttng_fork_wrapper();
  const QemuCommand cmd = build_qemu_command(inv, env);

  // The guest, inside the session, beside a ring: with --channel both for
  // every libbdguest process; with the trap for the programs the guest
  // execs (qemu-user does not follow execve: they run natively, or for
  // another architecture under binfmt_misc's QEMU, where no plugin hears
  // their trap). run_with_ring forwards signals itself.
  const RingRole role = channel.value() == Channel::Both ? RingRole::Guest : RingRole::Exec;
  return run_with_ring(
      o, RingGuest{g.path, g.script, "user", GuestCommand{cmd.argv, cmd.envp}, role, &stats.value(), arch});
}

}  // namespace

int run(const RunOptions& o) { return o.system ? run_system(o) : run_user(o); }

}  // namespace bdtrace::bdrun
