/* SPDX-License-Identifier: MIT */
// bd-run --system --program FILE... --run 'CMD': the VM image bd-run builds
// with tools/vm/build-image.sh (Debian's kernel, bd_sched, a busybox
// initramfs with the programs and bd-mark in /bin), caches outside the work
// tree, and the kernel arguments that make the image's /init run CMD.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bdtrace/status.h"

namespace bdtrace::bdrun {

// The longest --run command: its base64 form must fit on the kernel command
// line (2048 bytes on x86) beside bd-run's own arguments and --append.
inline constexpr size_t kMaxRunCommand = 1024;

// RFC 4648 base64 with padding (what busybox's `base64 -d` reads).
std::string base64_encode(const std::string& bytes);

// "bd.cmd=<base64 of cmd>": the image's /init runs cmd with sh, then powers
// off. An error for an empty command or one longer than kMaxRunCommand.
Expected<std::string> run_command_kernel_arg(const std::string& cmd);

// The --append of a boot: "bd.kmod=1" first when `kmod`, then the user's
// --append, then `cmd_arg` (each only when not empty).
std::string boot_kernel_args(bool kmod, const std::string& user_append, const std::string& cmd_arg);

// The exit status in a console line "bd-init: run-status N (...)" (the
// image's init says how --run's CMD ended), or nothing.
std::optional<int> parse_run_status(const std::string& console_line);

// bd-run's exit status for --run: CMD's when QEMU ended normally and the
// guest said it; QEMU's (or bd-run's) when that is not 0; otherwise an
// error (the guest stopped before CMD ended).
int run_command_exit_status(int qemu_status, std::optional<int> cmd_status);

// A --program must be able to run in the image, which has no C library and
// no dynamic loader: a readable, executable regular file that is a script
// (#!...) or a statically linked ELF of the image's architecture (`arch`:
// "x86_64" or "aarch64"). A dynamically linked program is refused with the
// loader it asks for and how to link it statically.
Status check_image_program(const std::string& path, const std::string& arch = "x86_64");

// What goes into an image and where it is built.
struct ImageInputs {
  std::string arch = "x86_64";        // the image's: x86_64 or aarch64
  std::vector<std::string> programs;  // absolute paths; /bin/<file name> in the guest
  std::string bd_mark;                // bd-mark of that architecture, added to every image
  std::string builder;                // tools/vm/build-image.sh
  std::string source_dir;             // the tree whose VM and module sources the key covers
  std::string cache_dir;              // <cache>: images in vm-images/<key>, debs in vm-debs
};

// The inputs for `programs` (as the user gave them) in an `arch` image:
// bd-mark next to bd-run (aarch64: in its aarch64/ beside it), the builder from $BD_RUN_BUILD_IMAGE or the source tree bd-run
// was built from, the cache from $BDTRACE_CACHE, else
// $XDG_CACHE_HOME/bdtrace, else ~/.cache/bdtrace. Checks every program.
Expected<ImageInputs> image_inputs(const std::vector<std::string>& programs,
                                   const std::string& arch = "x86_64");

// The cache key: a hash of the architecture, the programs' names and contents, bd-mark, the
// builder, the VM scripts (tools/vm), the module sources (guest-probes/kmod)
// and the protocol headers (proto/include/bd), as 16 hex digits.
Expected<std::string> image_key(const ImageInputs& in);

struct VmImage {
  std::string dir;      // <cache>/vm-images/<key>
  std::string kernel;   // dir/vmlinuz
  std::string initrd;   // dir/initramfs.cpio.gz
  bool reused = false;  // found in the cache
};

// The image for `in`, from the cache or built now (build-image.sh's output
// goes to stderr after a "bd-run: building a VM image with ..." line). A
// build happens in a temporary directory renamed into place, so an
// interrupted one leaves no half image behind; older images beyond the
// newest few are removed.
Expected<VmImage> prepare_vm_image(const ImageInputs& in);

}  // namespace bdtrace::bdrun
