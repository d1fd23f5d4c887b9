#include "system_run.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "channel_file.h"
#include "child.h"
#include "filter_check.h"
#include "preflight.h"
#include "session_run.h"
#include "system_command.h"

extern char** environ;

namespace bdtrace::bdrun {

int run_system(const RunOptions& o) {
  const SystemOptions& sys = *o.system;

  // 1. Everything that can be checked before anything is started.
  if (!sys.kernel.empty()) {
    if (Status st = check_boot_file("--kernel", sys.kernel); !st) return fail(st.error());
  }
  if (!sys.initrd.empty()) {
    if (Status st = check_boot_file("--initrd", sys.initrd); !st) return fail(st.error());
  }
  if (sys.kernel.empty() && sys.qemu_args.empty()) {
    // Without one QEMU boots SeaBIOS into "No bootable device" and never exits.
    return fail("nothing to boot: pass --kernel VMLINUZ [--initrd INITRD], or QEMU boot options after --");
  }
  Result<std::string> qemu = resolve_system_qemu(o.qemu);
  if (!qemu) return fail(qemu.error());
  std::string plugin;
  if (!sys.no_plugin) {
    Result<std::string> found = resolve_plugin(o.plugin);
    if (!found) return fail(found.error());
    plugin = found.value();
  }
  if (Status st = check_tracing(o); !st) return fail(st.error());
  std::vector<std::pair<std::string, std::string>> plugin_args = o.plugin_args;
  if (!o.filter.empty()) {
    Result<std::string> filter = check_filter(o.filter);
    if (!filter) return fail(filter.error());
    plugin_args.emplace_back("filter", filter.value());
  }

  // 2. From here a signal must not kill bd-run before the channel file and
  // the session are gone (both are removed by destructors).
  SignalForwarding signals;
  Result<ChannelFile> channel = ChannelFile::create();
  if (!channel) return fail(channel.error());
  if (Status st = channel->write_header(sys.smp); !st) return fail(st.error());

  SystemInvocation inv;
  inv.qemu = qemu.value();
  inv.smp = sys.smp;
  inv.memory_mib = sys.memory_mib;
  inv.kernel = sys.kernel;
  inv.initrd = sys.initrd;
  inv.append = sys.append;
  inv.channel_file = channel->path();
  inv.plugin = plugin;
  inv.vm_name = sys.vm_name;
  inv.plugin_args = plugin_args;
  inv.qemu_args = sys.qemu_args;
  const std::vector<std::string> argv = build_system_command(inv);
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);  // no fork wrapper: QEMU forks no guests

  // -serial stdio would otherwise read bd-run's stdin; when that is not a
  // terminal (CI, pipes) it belongs to someone else.
  ChildStdio stdio;
  stdio.stdin_from_dev_null = ::isatty(STDIN_FILENO) == 0;

  // 3. The VM, inside the session.
  return run_in_session(o, [&] { return run_child(argv, env, stdio); });
}

}  // namespace bdtrace::bdrun
