/* SPDX-License-Identifier: MIT */
// The guest command line bd-run starts: the program (a script runs through
// its #! interpreter, since QEMU loads ELF programs only), its arguments,
// and the loader path that lets a program linked with -lbdguest start.
#pragma once

#include <string>
#include <vector>

#include "bdtrace/tools/elf_check.h"
#include "bdtrace/status.h"

namespace bdtrace::bdrun {

struct GuestProgram {
  std::string path;                                  // the ELF program QEMU (or the host) runs
  tools::GuestArch arch = tools::GuestArch::X86_64;  // from its ELF header
  std::vector<std::string> args;                     // its arguments (the script's path first for a script)
  std::string script;                                // the script, when `requested` was one; else ""
};

// `requested` and its arguments as bd-run runs them. An ELF program is
// checked as resolve_program() does. A script ("#!INTERPRETER [ARG]" on its
// first line) becomes INTERPRETER [ARG] SCRIPT ARGS..., the interpreter
// checked likewise; errors name the script and say what to run instead.
Expected<GuestProgram> resolve_guest(const std::string& requested, const std::vector<std::string>& args);

// The #! line of `first_line` split into interpreter and optional argument
// (as Linux does: one argument, the rest of the line). Pure, for tests;
// false when the line is not a #! line or names no interpreter.
bool parse_shebang(const std::string& first_line, std::string& interpreter, std::string& arg);

// The environment a guest of `arch` runs with: `envp`, the directory of
// this build's or install's libbdguest.so for `arch` (install_layout.h) on
// LD_LIBRARY_PATH, and for a
// foreign architecture QEMU_LD_PREFIX=/usr/<triple> (Debian's cross libc,
// for dynamically linked programs) unless it is set already.
std::vector<std::string> guest_environment_for(const std::vector<std::string>& envp, tools::GuestArch arch);

// envp with `lib_dir` appended to LD_LIBRARY_PATH (created if absent), when
// `lib_dir` holds libbdguest.so: a guest linked with -lbdguest then finds
// the library of this build. The user's own entries keep precedence.
std::vector<std::string> with_guest_library_path(const std::vector<std::string>& envp,
                                                 const std::string& lib_dir);

}  // namespace bdtrace::bdrun
