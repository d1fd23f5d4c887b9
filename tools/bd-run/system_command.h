/* SPDX-License-Identifier: MIT */
// The qemu-system-x86_64 or qemu-system-aarch64 command line for one VM
// run (bd-run --system). Pure: no I/O, so tests can check it directly.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bdtrace::bdrun {

// The kernel command line bd-run always passes; --append adds to it. The
// console is the machine's first serial port: the PC's 16550 (ttyS0), the
// virt machine's PL011 (ttyAMA0).
inline constexpr const char kDefaultKernelArgs[] = "console=ttyS0 quiet panic=-1";
inline constexpr const char kDefaultKernelArgsAarch64[] = "console=ttyAMA0 quiet panic=-1";

// The CPU an aarch64 VM gets (-cpu): cortex-a57 rather than max, because
// the Debian kernel then has no pointer authentication to run, which QEMU
// emulates slowly under TCG (see README, full-system aarch64, for the
// boot times measured).
inline constexpr const char kAarch64Cpu[] = "cortex-a57";

// The kernel arguments bd-run starts with for `arch` ("x86_64", "aarch64").
const char* default_kernel_args(const std::string& arch);

struct SystemInvocation {
  std::string arch = "x86_64";  // the guest's: x86_64 (PC) or aarch64 (-M virt -cpu kAarch64Cpu)
  std::string qemu;             // path of qemu-system-<arch>
  unsigned smp = 2;
  uint64_t memory_mib = 512;
  std::string kernel;           // empty: no -kernel/-initrd/-append
  std::string initrd;           // empty: no -initrd
  std::string append;           // extra kernel arguments
  std::string channel_file;     // trap channel's BAR2 backing file (empty: no channel device)
  std::string ring_file;        // ring region file (empty: no ring device)
  uint64_t ring_file_size = 0;  // its size in bytes, a power of two (ivshmem needs one)
  bool kvm = false;             // -accel kvm instead of tcg
  std::string plugin;           // empty: no -plugin
  std::string vm_name = "vm";
  std::vector<std::pair<std::string, std::string>> plugin_args;
  std::vector<std::string> qemu_args;  // appended last
};

// qemu [-M virt -cpu cortex-a57 (aarch64)]
//      -accel tcg|kvm -smp N -m <MiB>M -display none -parallel none -no-reboot
//      -monitor none -serial stdio [-kernel K [-initrd I] -append "<default> <append>"]
//      [-object memory-backend-file,id=bdchan,mem-path=F,size=8M,share=on
//       -device ivshmem-plain,memdev=bdchan]
//      [-object memory-backend-file,id=bdring,mem-path=R,size=BYTES,share=on
//       -device ivshmem-plain,memdev=bdring]
//      [-plugin PLUGIN,channel=F,vm=NAME[,name=value...]] QEMU_ARGS...
std::vector<std::string> build_system_command(const SystemInvocation& inv);

}  // namespace bdtrace::bdrun
