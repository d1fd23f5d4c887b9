// Reads just the ELF identification and header fields we need; <elf.h>
// supplies the layout, so nothing here depends on the host's own format.
#include "bdtrace/tools/elf_check.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bdtrace::tools {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

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
    case EM_X86_64: return "x86_64";
    case EM_386: return "i386";
    case EM_AARCH64: return "AArch64";
    case EM_ARM: return "ARM";
    case EM_RISCV: return "RISC-V";
    case EM_PPC: return "PowerPC";
    case EM_PPC64: return "PowerPC64";
    case EM_S390: return "s390";
    case EM_MIPS: return "MIPS";
    case EM_SPARCV9: return "SPARC V9";
    case EM_LOONGARCH: return "LoongArch";
    default: return "machine " + std::to_string(machine);
  }
}

Status check_x86_64_elf(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
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
  const bool big_endian = h.e_ident[EI_DATA] == ELFDATA2MSB;
  unsigned machine = h.e_machine;
  if (big_endian) machine = ((machine & 0xffu) << 8) | (machine >> 8);
  if (static_cast<size_t>(n) < 20) return make_error(path + " is a truncated ELF file");

  if (machine != EM_X86_64) {
    return make_error(path + " is an ELF for " + elf_machine_name(machine) + ", bd-run runs x86_64 guests");
  }
  if (h.e_ident[EI_CLASS] != ELFCLASS64) {
    return make_error(path + " is a 32-bit ELF, bd-run runs 64-bit x86_64 guests");
  }
  if (h.e_ident[EI_DATA] != ELFDATA2LSB) {
    return make_error(path + " is a big-endian ELF, bd-run runs x86_64 guests");
  }
  if (static_cast<size_t>(n) < sizeof h) return make_error(path + " is a truncated ELF file");
  if (h.e_type != ET_EXEC && h.e_type != ET_DYN) {
    return make_error(path + " is an ELF " + (h.e_type == ET_REL ? "object file" : "file") +
                      " but not an executable: link it into a program first");
  }
  return Status();
}

}  // namespace bdtrace::tools
