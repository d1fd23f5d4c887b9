/* SPDX-License-Identifier: MIT */
// Everything bd-run checks before it creates a session or starts QEMU, so
// that configuration mistakes fail fast with a message saying what to do.
#pragma once

#include <string>

#include "bdtrace/tools/elf_check.h"
#include "bdtrace/status.h"

namespace bdtrace::bdrun {

// An executable named `name` in $PATH (like a shell would find it), or an
// error. Names containing '/' are returned as given if executable.
Expected<std::string> find_in_path(const std::string& name);

// --qemu PATH if given (must be executable), else qemu-<arch> from PATH.
Expected<std::string> resolve_qemu(const std::string& requested,
                                   tools::GuestArch arch = tools::GuestArch::X86_64);

// --qemu PATH if given (must be executable), else qemu-system-<arch> from
// PATH (arch "x86_64" or "aarch64").
Expected<std::string> resolve_system_qemu(const std::string& requested, const std::string& arch = "x86_64");

// A file QEMU must load (--kernel, --initrd): a readable regular file.
// Errors start with `option` and the path.
Status check_boot_file(const std::string& option, const std::string& path);

// --plugin PATH if given, else the build for plugin API generation `api`
// (libbdtrace-qemu.so for 1, libbdtrace-qemu-vN.so otherwise: plugin_api.h)
// from bd-run's place: <dir>/../lib in a build tree, the installed
// <libdir>/bdtrace otherwise (install_layout.h).
Expected<std::string> resolve_plugin(const std::string& requested, int api);

// The guest program: found in PATH when it has no '/', must exist, be
// executable and be an ELF of a supported guest architecture (stored in
// *arch when given). Returns the path QEMU should open.
Expected<std::string> resolve_program(const std::string& requested, tools::GuestArch* arch = nullptr);

// The trace directory must be absent or empty: LTTng would otherwise mix
// this run's streams with older ones.
Status check_trace_dir(const std::string& dir);

// LTTng's fork wrapper (liblttng-ust-fork.so), or "" when not installed.
std::string find_lttng_fork_wrapper();

}  // namespace bdtrace::bdrun
