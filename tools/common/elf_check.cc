// SPDX-License-Identifier: MIT
// Reads just the ELF identification and header fields we need; <elf.h>
// supplies the layout, so nothing here depends on the host's own format.
#include "bdtrace/tools/elf_check.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bdtrace/unique_fd.h"

namespace bdtrace::tools {
namespace {

// Reads up to n bytes, retrying on EINTR and short reads; returns bytes read
// or -1.
ssize_t read_fully(int fd, void* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::read(fd, static_cast<char*>(buf) + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

std::string elf_machine_name(unsigned machine) {
  switch (machine) {
    case EM_X86_64:
      return "x86_64";
    case EM_386:
      return "i386";
    case EM_AARCH64:
      return "AArch64";
    case EM_ARM:
      return "ARM";
    case EM_RISCV:
      return "RISC-V";
    case EM_PPC:
      return "PowerPC";
    case EM_PPC64:
      return "PowerPC64";
    case EM_S390:
      return "s390";
    case EM_MIPS:
      return "MIPS";
    case EM_SPARCV9:
      return "SPARC V9";
    case EM_LOONGARCH:
      return "LoongArch";
    default:
      return "machine " + std::to_string(machine);
  }
}

const char* arch_name(GuestArch arch) {
  switch (arch) {
    case GuestArch::X86_64:
      return "x86_64";
    case GuestArch::AArch64:
      return "aarch64";
    case GuestArch::RiscV64:
      return "riscv64";
    case GuestArch::S390X:
      return "s390x";
  }
  return "?";
}

Expected<GuestArch> parse_arch(const std::string& name) {
  for (GuestArch a : {GuestArch::X86_64, GuestArch::AArch64, GuestArch::RiscV64, GuestArch::S390X}) {
    if (name == arch_name(a)) return a;
  }
  return make_error("unknown guest architecture '" + name + "': use x86_64, aarch64, riscv64 or s390x");
}

bool is_big_endian(GuestArch arch) { return arch == GuestArch::S390X; }

namespace {

constexpr const char kSupported[] = "x86_64, aarch64, riscv64 and s390x";

// A 16-bit header field in the file's byte order.
uint16_t elf_half(uint16_t v, bool big_endian) {
  return big_endian ? static_cast<uint16_t>((v & 0xffu) << 8 | v >> 8) : v;
}

// The checks both functions share; `supported` names what the caller runs.
Expected<GuestArch> check_elf(const std::string& path, const char* supported, bool x86_only) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return make_error("cannot read " + path + ": " + std::strerror(errno));

  Elf64_Ehdr h;
  std::memset(&h, 0, sizeof h);
  const ssize_t n = read_fully(fd.get(), &h, sizeof h);
  if (n < 0) return make_error("cannot read " + path + ": " + std::strerror(errno));

  if (static_cast<size_t>(n) < EI_NIDENT || std::memcmp(h.e_ident, ELFMAG, SELFMAG) != 0) {
    return make_error(path + " is not an ELF file");
  }
  // e_machine sits at the same offset in 32- and 64-bit headers, so the
  // machine is known even for a 32-bit file.
  // The header's fields are in the file's byte order (EI_DATA): s390x
  // programs are big-endian.
  const bool big_endian = h.e_ident[EI_DATA] == ELFDATA2MSB;
  const unsigned machine = elf_half(h.e_machine, big_endian);
  if (static_cast<size_t>(n) < 20) return make_error(path + " is a truncated ELF file");

  GuestArch arch;
  if (machine == EM_X86_64) {
    arch = GuestArch::X86_64;
  } else if (machine == EM_AARCH64 && !x86_only) {
    arch = GuestArch::AArch64;
  } else if (machine == EM_RISCV && !x86_only) {
    arch = GuestArch::RiscV64;
  } else if (machine == EM_S390 && !x86_only) {
    arch = GuestArch::S390X;
  } else {
    return make_error(path + " is an ELF for " + elf_machine_name(machine) + ", bd-run runs " + supported +
                      " guests");
  }
  if (h.e_ident[EI_CLASS] != ELFCLASS64) {
    // EM_S390 names 31-bit s390 programs too.
    return make_error(path + " is a 32-bit ELF, bd-run runs 64-bit " + supported + " guests");
  }
  const unsigned char want_data = is_big_endian(arch) ? ELFDATA2MSB : ELFDATA2LSB;
  if (h.e_ident[EI_DATA] != want_data) {
    return make_error(path + " is a " + (big_endian ? "big" : "little") + "-endian ELF for " +
                      arch_name(arch) + ", whose programs are " + (is_big_endian(arch) ? "big" : "little") +
                      "-endian");
  }
  if (static_cast<size_t>(n) < sizeof h) return make_error(path + " is a truncated ELF file");
  const unsigned type = elf_half(h.e_type, big_endian);
  if (type != ET_EXEC && type != ET_DYN) {
    return make_error(path + " is an ELF " + (type == ET_REL ? "object file" : "file") +
                      " but not an executable: link it into a program first");
  }
  return arch;
}

}  // namespace

Status check_x86_64_elf(const std::string& path) {
  Expected<GuestArch> arch = check_elf(path, "x86_64", /*x86_only=*/true);
  if (!arch) return arch.take_error();
  return Status();
}

Expected<GuestArch> check_guest_elf(const std::string& path) { return check_elf(path, kSupported, false); }

}  // namespace bdtrace::tools
