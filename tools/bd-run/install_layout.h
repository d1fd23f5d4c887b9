/* SPDX-License-Identifier: MIT */
// Where bd-run finds what it loads and starts (the QEMU plugin,
// bd-ring-consumer, libbdguest for the guest, bd-mark for VM images), from
// its own place: in a build tree (build/bin/bd-run beside build/lib) and in
// an installed prefix (P/bin/bd-run; the layout is
// cmake/InstallLayout.cmake, whose relative paths are compiled in). Each
// list has the build tree's place first, then the installed one.
#pragma once

#include <string>
#include <vector>

#include "bdtrace/tools/elf_check.h"

namespace bdtrace::bdrun {

// The directory of this executable, or "" when /proc/self/exe is unreadable.
std::string own_exe_dir();

// Where the plugin builds (libbdtrace-qemu*.so) are: <exe>/../lib, then
// the installed <libdir>/bdtrace.
std::vector<std::string> plugin_dirs();

// Where bd-run's helper programs are (bd-ring-consumer; <arch>/bd-mark for
// a guest architecture other than x86_64): <exe>, then the installed
// <libexecdir>/bdtrace.
std::vector<std::string> helper_dirs();

// Where libbdguest for guests of `arch` is: <exe>/../lib (lib/<arch> for
// other architectures), then the installed <libdir> (lib/<arch>-linux-gnu).
std::vector<std::string> guest_lib_dirs(tools::GuestArch arch);

// dir/name for the first dir where access(dir/name, mode) succeeds, or "".
std::string first_accessible(const std::vector<std::string>& dirs, const std::string& name, int mode);

// The candidates dir/name, joined with " or " (for error messages).
std::string candidates_text(const std::vector<std::string>& dirs, const std::string& name);

}  // namespace bdtrace::bdrun
