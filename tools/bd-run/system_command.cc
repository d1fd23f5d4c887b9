// SPDX-License-Identifier: MIT
#include "system_command.h"

#include <bd/channel.h>

#include "qemu_command.h"

namespace bdtrace::bdrun {
namespace {

constexpr unsigned kMiB = 1024u * 1024u;
static_assert(BD_CHANNEL_SIZE % kMiB == 0, "the channel size is given to QEMU in MiB");

// The memory backends' ids, which the ivshmem devices refer to.
constexpr const char kBackendId[] = "bdchan";
constexpr const char kRingBackendId[] = "bdring";

// An ivshmem-plain device whose memory is `file` (share=on: without it QEMU
// maps the file privately and the host side never sees what the guest
// writes).
void add_ivshmem(std::vector<std::string>& argv, const char* id, const std::string& file,
                 const std::string& size) {
  argv.insert(argv.end(), {"-object",
                           std::string("memory-backend-file,id=") + id +
                               ",mem-path=" + escape_plugin_value(file) + ",size=" + size + ",share=on",
                           "-device", std::string("ivshmem-plain,memdev=") + id});
}

}  // namespace

const char* default_kernel_args(const std::string& arch) {
  return arch == "aarch64" ? kDefaultKernelArgsAarch64 : kDefaultKernelArgs;
}

std::vector<std::string> build_system_command(const SystemInvocation& inv) {
  std::vector<std::string> argv = {inv.qemu};
  // qemu-system-aarch64 has no default machine; virt is the one with PCI
  // (the ivshmem device) and a generated device tree, so the kernel boots
  // without firmware and assigns the BARs itself.
  if (inv.arch == "aarch64") argv.insert(argv.end(), {"-M", "virt", "-cpu", kAarch64Cpu});
  argv.insert(argv.end(), {
                              "-accel", inv.kvm ? "kvm" : "tcg", "-smp", std::to_string(inv.smp), "-m",
                              std::to_string(inv.memory_mib) + "M",
                              // No window, and not -nographic: with -nographic QEMU tells the
                              // firmware there is no display (fw_cfg's "nographic" entry), and
                              // SeaBIOS then runs its own serial console on ttyS0, which clears
                              // the user's terminal (ESC c, ESC [2J...) at boot and at the
                              // kernel's video-mode call and echoes the BIOS and iPXE banners.
                              // -display none keeps the (unseen) VGA, so all of that goes there.
                              "-display", "none", "-parallel",
                              "none",        // what -nographic would have done with it: nothing
                              "-no-reboot",  // a guest reboot (or panic=-1) ends the run
                              "-monitor", "none", "-serial", "stdio",  // the guest console is bd-run's stdout
                          });
  if (!inv.kernel.empty()) {
    argv.insert(argv.end(), {"-kernel", inv.kernel});
    if (!inv.initrd.empty()) argv.insert(argv.end(), {"-initrd", inv.initrd});
    std::string cmdline = default_kernel_args(inv.arch);
    if (!inv.append.empty()) cmdline += " " + inv.append;
    argv.insert(argv.end(), {"-append", cmdline});
  }

  if (!inv.channel_file.empty()) {
    add_ivshmem(argv, kBackendId, inv.channel_file, std::to_string(BD_CHANNEL_SIZE / kMiB) + "M");
  }
  if (!inv.ring_file.empty())
    add_ivshmem(argv, kRingBackendId, inv.ring_file, std::to_string(inv.ring_file_size));

  if (!inv.plugin.empty()) {
    std::string opt = escape_plugin_value(inv.plugin) + ",channel=" + escape_plugin_value(inv.channel_file) +
                      ",vm=" + escape_plugin_value(inv.vm_name);
    for (const auto& [name, value] : inv.plugin_args) {
      opt += "," + escape_plugin_value(name) + "=" + escape_plugin_value(value);
    }
    argv.insert(argv.end(), {"-plugin", opt});
  }
  argv.insert(argv.end(), inv.qemu_args.begin(), inv.qemu_args.end());
  return argv;
}

}  // namespace bdtrace::bdrun
