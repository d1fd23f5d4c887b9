// check_x86_64_elf and check_guest_elf on real and crafted files.
#include "bdtrace/tools/elf_check.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>

#include "temp_dir.h"

namespace bdtrace::tools {
namespace {

using testing::TempDir;

std::string write_file(const TempDir& dir, const std::string& name, const void* data, size_t size) {
  const std::string path = dir / name;
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

Elf64_Ehdr header(unsigned char cls, uint16_t machine, uint16_t type) {
  Elf64_Ehdr h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = cls;
  h.e_ident[EI_DATA] = ELFDATA2LSB;
  h.e_ident[EI_VERSION] = EV_CURRENT;
  h.e_type = type;
  h.e_machine = machine;
  h.e_version = EV_CURRENT;
  return h;
}

TEST(ElfCheck, AcceptsThisTestBinary) {
  // The test itself is an x86_64 executable (this project builds on x86_64).
  Status st = check_x86_64_elf("/proc/self/exe");
  EXPECT_TRUE(st.ok()) << st.error();
}

TEST(ElfCheck, AcceptsBinTrue) {
  Status st = check_x86_64_elf("/bin/true");
  EXPECT_TRUE(st.ok()) << st.error();
}

TEST(ElfCheck, RejectsTextFile) {
  Status st = check_x86_64_elf("/etc/passwd");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "/etc/passwd is not an ELF file");
}

TEST(ElfCheck, RejectsEmptyFile) {
  TempDir dir;
  const std::string path = write_file(dir, "empty", "", 0);
  Status st = check_x86_64_elf(path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), path + " is not an ELF file");
}

TEST(ElfCheck, RejectsAArch64Elf) {
  TempDir dir;
  Elf64_Ehdr h = header(ELFCLASS64, EM_AARCH64, ET_EXEC);
  const std::string path = write_file(dir, "arm64", &h, sizeof h);
  Status st = check_x86_64_elf(path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), path + " is an ELF for AArch64, bd-run runs x86_64 guests");
}

TEST(ElfCheck, RejectsI386Elf) {
  TempDir dir;
  Elf32_Ehdr h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = ELFCLASS32;
  h.e_ident[EI_DATA] = ELFDATA2LSB;
  h.e_type = ET_EXEC;
  h.e_machine = EM_386;
  const std::string path = write_file(dir, "i386", &h, sizeof h);
  Status st = check_x86_64_elf(path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), path + " is an ELF for i386, bd-run runs x86_64 guests");
}

TEST(ElfCheck, RejectsObjectFile) {
  TempDir dir;
  Elf64_Ehdr h = header(ELFCLASS64, EM_X86_64, ET_REL);
  const std::string path = write_file(dir, "obj.o", &h, sizeof h);
  Status st = check_x86_64_elf(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("not an executable"), std::string::npos) << st.error();
}

TEST(ElfCheck, AcceptsCraftedX86_64Pie) {
  TempDir dir;
  Elf64_Ehdr h = header(ELFCLASS64, EM_X86_64, ET_DYN);
  const std::string path = write_file(dir, "pie", &h, sizeof h);
  Status st = check_x86_64_elf(path);
  EXPECT_TRUE(st.ok()) << st.error();
}

TEST(ElfCheck, MissingFile) {
  Status st = check_x86_64_elf("/nonexistent/bdtrace");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("cannot read /nonexistent/bdtrace"), std::string::npos) << st.error();
}

// ---- the guest architectures bd-run runs in user mode -----------------------

TEST(GuestElf, KnowsEachSupportedArchitecture) {
  TempDir dir;
  const std::pair<uint16_t, GuestArch> cases[] = {
      {EM_X86_64, GuestArch::X86_64}, {EM_AARCH64, GuestArch::AArch64}, {EM_RISCV, GuestArch::RiscV64}};
  for (const auto& [machine, arch] : cases) {
    Elf64_Ehdr h = header(ELFCLASS64, machine, ET_EXEC);
    const std::string path = write_file(dir, arch_name(arch), &h, sizeof h);
    Result<GuestArch> got = check_guest_elf(path);
    ASSERT_TRUE(got) << got.error();
    EXPECT_EQ(got.value(), arch) << arch_name(arch);
    Result<GuestArch> parsed = parse_arch(arch_name(arch));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed.value(), arch);
  }
  EXPECT_TRUE(check_guest_elf("/bin/true")) << "the host's own programs are x86_64 guests";
}

TEST(GuestElf, RefusesOthersSayingWhatItRuns) {
  TempDir dir;
  Elf64_Ehdr s390 = header(ELFCLASS64, EM_S390, ET_EXEC);
  s390.e_ident[EI_DATA] = ELFDATA2MSB;
  s390.e_machine = static_cast<uint16_t>((EM_S390 >> 8) | ((EM_S390 & 0xff) << 8));
  const std::string path = write_file(dir, "s390x", &s390, sizeof s390);
  Result<GuestArch> got = check_guest_elf(path);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), path + " is an ELF for s390, bd-run runs x86_64, aarch64 and riscv64 guests");
  Elf64_Ehdr arm = header(ELFCLASS64, EM_AARCH64, ET_EXEC);
  const std::string arm_path = write_file(dir, "arm", &arm, sizeof arm);
  EXPECT_FALSE(check_x86_64_elf(arm_path).ok()) << "system mode stays x86_64";
  Result<GuestArch> unknown = parse_arch("s390x");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().find("use x86_64, aarch64 or riscv64"), std::string::npos) << unknown.error();
}

}  // namespace
}  // namespace bdtrace::tools
