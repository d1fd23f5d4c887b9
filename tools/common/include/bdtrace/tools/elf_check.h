/* SPDX-License-Identifier: MIT */
// Checks that a file is a program qemu-x86_64 can run, so bd-run can say
// what is wrong before it starts a session and QEMU.
#pragma once

#include <string>

#include "bdtrace/status.h"

namespace bdtrace::tools {

// OK when `path` is a 64-bit x86_64 ELF executable or shared object
// (position-independent executables are ET_DYN). Errors name the file:
// "PROGRAM is not an ELF file", "PROGRAM is an ELF for <machine>, bd-run
// runs x86_64 guests", "... is a 32-bit ELF ...", "cannot read PROGRAM: ...".
Status check_x86_64_elf(const std::string& path);

// Human name of an ELF e_machine value ("x86_64", "AArch64", "machine 1234").
std::string elf_machine_name(unsigned machine);

// The guest architectures bdtrace runs in user mode (qemu-<name>).
enum class GuestArch { X86_64, AArch64, RiscV64, S390X };

// "x86_64", "aarch64", "riscv64", "s390x": QEMU's target names (qemu-<name>).
const char* arch_name(GuestArch arch);

// The GuestArch whose arch_name() is `name`; an error listing the supported
// names otherwise.
Expected<GuestArch> parse_arch(const std::string& name);

// True for the big-endian guest architectures (s390x): their programs and
// their records and ring regions are big-endian.
bool is_big_endian(GuestArch arch);

// The architecture of `path`, a 64-bit ELF executable or shared object for
// one of the GuestArch in that architecture's byte order (the header is
// read in the byte order it declares: s390x's is big-endian); errors as
// check_x86_64_elf's, with "bd-run runs x86_64, aarch64, riscv64 and s390x
// guests".
Expected<GuestArch> check_guest_elf(const std::string& path);

}  // namespace bdtrace::tools
