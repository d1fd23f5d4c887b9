// The qemu-system-x86_64 command line for one VM run (bd-run --system).
// Pure: no I/O, so tests can check it directly.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bdtrace::bdrun {

// The kernel command line bd-run always passes; --append adds to it.
inline constexpr const char kDefaultKernelArgs[] = "console=ttyS0 quiet panic=-1";

struct SystemInvocation {
  std::string qemu;           // path of qemu-system-x86_64
  unsigned smp = 2;
  uint64_t memory_mib = 512;
  std::string kernel;         // empty: no -kernel/-initrd/-append
  std::string initrd;         // empty: no -initrd
  std::string append;         // extra kernel arguments
  std::string channel_file;   // BAR2 backing file
  std::string plugin;         // empty: no -plugin
  std::string vm_name = "vm";
  std::vector<std::pair<std::string, std::string>> plugin_args;
  std::vector<std::string> qemu_args;  // appended last
};

// qemu -accel tcg -smp N -m <MiB>M -nographic -no-reboot -monitor none
//      -serial stdio [-kernel K [-initrd I] -append "<default> <append>"]
//      -object memory-backend-file,id=bdchan,mem-path=F,size=1M,share=on
//      -device ivshmem-plain,memdev=bdchan
//      [-plugin PLUGIN,channel=F,vm=NAME[,name=value...]] QEMU_ARGS...
std::vector<std::string> build_system_command(const SystemInvocation& inv);

}  // namespace bdtrace::bdrun
