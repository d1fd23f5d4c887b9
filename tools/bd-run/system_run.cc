// SPDX-License-Identifier: MIT
#include "system_run.h"

#include <unistd.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bdtrace/ring/region_file.h"

#include "channel_choice.h"
#include "channel_file.h"
#include "child.h"
#include "filter_check.h"
#include "handler_check.h"
#include "plugin_api.h"
#include "preflight.h"
#include "ring_run.h"
#include "session_run.h"
#include "subprocess.h"
#include "system_command.h"
#include "vm_image.h"

extern char** environ;

namespace bdtrace::bdrun {
namespace {

// KVM needs /dev/kvm, read-write. Checked before anything starts: QEMU's
// own message comes after the session exists and the console is set up.
Status check_kvm() {
  if (::access("/dev/kvm", F_OK) != 0) {
    return make_error(
        "--accel kvm: /dev/kvm does not exist (no KVM on this host: load kvm_intel or kvm_amd, enable "
        "nested virtualisation when this is itself a VM, or use --accel tcg)");
  }
  if (::access("/dev/kvm", R_OK | W_OK) != 0) {
    return make_error(
        "--accel kvm: /dev/kvm is not readable and writable by this user (add it to the "
        "kvm group, or use --accel tcg)");
  }
  return {};
}

// --channel ring: no plugin, no channel device; the ring region is the
// memory of an ivshmem device (kernel rings for the --smp vCPUs, then user
// rings) and bd-ring-consumer drains it.
int run_system_ring(const RunOptions& o, SystemInvocation inv, const ChildStdio& stdio) {
  const SystemOptions& sys = *o.system;
  RingSetup setup;
  setup.mode = "system";
  setup.program = sys.kernel.empty() ? "qemu-system-" + sys.arch : sys.kernel;
  setup.kernel_rings = sys.smp;
  // Records are stamped with the guest's counter: the TSC on x86_64,
  // cntvct_el0 on aarch64 (bd_sched's bd_arch.h; the consumer fits its rate).
  setup.clock = sys.arch == "aarch64" ? BD_RING_CLOCK_CNTVCT : BD_RING_CLOCK_TSC;
  setup.pad_for_ivshmem = true;
  setup.consumer_args = {"--vm", sys.vm_name, "--accel", sys.kvm ? "kvm" : "tcg", "--arch", sys.arch};
  setup.stdio = stdio;
  SignalForwarding signals;
  return run_ring_session(o, setup, [&](const std::string& region) {
    inv.ring_file = region;
    inv.ring_file_size = ring::ivshmem_file_size(o.rings, o.ring_slots);
    return GuestCommand{build_system_command(inv), current_environment()};
  });
}

}  // namespace

int run_system(const RunOptions& given) {
  RunOptions o = given;  // an image bd-run builds fills in kernel, initrd and append
  SystemOptions& sys = *o.system;

  // 1. Everything that can be checked before anything is started (and
  // before an image is built: that can take minutes).
  std::optional<ImageInputs> image_in;
  if (sys.builds_image()) {
    Expected<ImageInputs> in = image_inputs(sys.programs, sys.arch);  // refuses dynamic programs
    if (!in) return fail(in.error());
    image_in = std::move(in.value());
  }
  std::string cmd_arg;
  if (sys.run_command) {
    Expected<std::string> arg = run_command_kernel_arg(*sys.run_command);
    if (!arg) return fail(arg.error());
    cmd_arg = arg.value();
  }
  if (!sys.kernel.empty()) {
    if (Status st = check_boot_file("--kernel", sys.kernel); !st) return fail(st.error());
  }
  if (!sys.initrd.empty()) {
    if (Status st = check_boot_file("--initrd", sys.initrd); !st) return fail(st.error());
  }
  if (sys.kernel.empty() && sys.qemu_args.empty() && !image_in) {
    // Without one QEMU boots SeaBIOS into "No bootable device" and never exits.
    return fail(
        "nothing to boot: pass --program FILE --run 'CMD' (bd-run builds the image), --kernel VMLINUZ "
        "[--initrd "
        "INITRD], or QEMU boot options after --");
  }
  Expected<std::string> qemu = resolve_system_qemu(o.qemu, sys.arch);
  if (!qemu) return fail(qemu.error());
  const bool ring = o.channel == ChannelChoice::Ring;
  if (sys.kvm) {
    if (Status st = check_kvm(); !st) return fail(st.error());
  }
  std::string plugin, qemu_version;
  if (!sys.no_plugin && !ring) {
    const QemuCapabilities caps = probe_qemu(qemu.value());
    const std::optional<std::string> refusal = plugin_refusal(caps);
    if (refusal && !refusal->empty()) {
      return fail(qemu.value() + " cannot load the bdtrace plugin: " + *refusal +
                  ". Use --channel ring, or --qemu with a QEMU built with plugins (Debian 12's "
                  "qemu-system-x86 7.2, or ./bdtrace qemu 10.2)");
    }
    Expected<std::string> found = resolve_plugin(o.plugin, plugin_api_for(caps));
    if (!found) return fail(found.error());
    plugin = found.value();
    if (caps.known) qemu_version = caps.version;
  }
  if (Status st = check_tracing(o); !st) return fail(st.error());
  std::vector<std::pair<std::string, std::string>> plugin_args = o.plugin_args;
  if (!o.filter.empty()) {
    Expected<std::string> filter = check_filter(o.filter);
    if (!filter) return fail(filter.error());
    plugin_args.emplace_back("filter", filter.value());
  }
  if (!o.handlers.empty() && plugin.empty()) {
    return fail(
        "--handler needs the bdtrace plugin in QEMU (the trap channel): guest calls reach host "
        "handlers through its trap; drop --no-plugin");
  }
  Expected<std::vector<std::string>> handler_args = check_handlers(o.handlers);
  if (!handler_args) return fail(handler_args.error());
  for (const std::string& value : handler_args.value()) plugin_args.emplace_back("handler", value);
  if (!qemu_version.empty()) plugin_args.emplace_back("qemu_version", qemu_version);
  if (image_in) {
    Expected<VmImage> image = prepare_vm_image(*image_in);
    if (!image) return fail(image.error());
    sys.kernel = image->kernel;
    sys.initrd = image->initrd;
  }
  if (sys.run_command) sys.append = boot_kernel_args(image_in.has_value(), sys.append, cmd_arg);

  SystemInvocation inv;
  inv.arch = sys.arch;
  inv.qemu = qemu.value();
  inv.smp = sys.smp;
  inv.memory_mib = sys.memory_mib;
  inv.kernel = sys.kernel;
  inv.initrd = sys.initrd;
  inv.append = sys.append;
  inv.kvm = sys.kvm;
  inv.plugin = plugin;
  inv.vm_name = sys.vm_name;
  inv.plugin_args = plugin_args;
  inv.qemu_args = sys.qemu_args;

  // -serial stdio would otherwise read bd-run's stdin; when that is not a
  // terminal (CI, pipes) it belongs to someone else.
  ChildStdio stdio;
  stdio.stdin_from_dev_null = ::isatty(STDIN_FILENO) == 0;
  // --run: bd-run's exit status is the command's, which the guest's init
  // prints on the console.
  std::optional<int> cmd_status;
  if (sys.run_command) {
    stdio.on_stdout_line = [&cmd_status](const std::string& line) {
      if (std::optional<int> s = parse_run_status(line)) cmd_status = s;
    };
  }
  const auto finish = [&](int status) {
    return sys.run_command ? run_command_exit_status(status, cmd_status) : status;
  };
  if (ring) return finish(run_system_ring(o, std::move(inv), stdio));

  // 2. From here a signal must not kill bd-run before the channel file and
  // the session are gone (both are removed by destructors).
  SignalForwarding signals;
  Expected<ChannelFile> channel = ChannelFile::create();
  if (!channel) return fail(channel.error());
  if (Status st = channel->write_header(sys.smp); !st) return fail(st.error());
  inv.channel_file = channel->path();
  const std::vector<std::string> argv = build_system_command(inv);
  const std::vector<std::string> env = current_environment();

  // 3. The VM, inside the session.
  return finish(run_in_session(
      o, [&](SessionContext& session) { return run_child(argv, with_env(env, session.env), stdio); }));
}

}  // namespace bdtrace::bdrun
