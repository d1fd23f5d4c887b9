#include "system_command.h"

#include <bd/channel.h>

#include "qemu_command.h"

namespace bdtrace::bdrun {
namespace {

constexpr unsigned kMiB = 1024u * 1024u;
static_assert(BD_CHANNEL_SIZE % kMiB == 0, "the channel size is given to QEMU in MiB");

// The memory backend's id, which the ivshmem device refers to.
constexpr const char kBackendId[] = "bdchan";

}  // namespace

std::vector<std::string> build_system_command(const SystemInvocation& inv) {
  std::vector<std::string> argv = {
      inv.qemu,
      "-accel", "tcg",
      "-smp", std::to_string(inv.smp),
      "-m", std::to_string(inv.memory_mib) + "M",
      "-nographic",
      "-no-reboot",    // a guest reboot (or panic=-1) ends the run
      "-monitor", "none",
      "-serial", "stdio",  // the guest console is bd-run's stdout
  };
  if (!inv.kernel.empty()) {
    argv.insert(argv.end(), {"-kernel", inv.kernel});
    if (!inv.initrd.empty()) argv.insert(argv.end(), {"-initrd", inv.initrd});
    std::string cmdline = kDefaultKernelArgs;
    if (!inv.append.empty()) cmdline += " " + inv.append;
    argv.insert(argv.end(), {"-append", cmdline});
  }

  // share=on: without it QEMU maps the file privately and the plugin never
  // sees what the guest writes.
  const std::string channel = escape_plugin_value(inv.channel_file);
  argv.insert(argv.end(), {"-object",
                           std::string("memory-backend-file,id=") + kBackendId + ",mem-path=" + channel +
                               ",size=" + std::to_string(BD_CHANNEL_SIZE / kMiB) + "M,share=on",
                           "-device", std::string("ivshmem-plain,memdev=") + kBackendId});

  if (!inv.plugin.empty()) {
    std::string opt = escape_plugin_value(inv.plugin) + ",channel=" + channel +
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
