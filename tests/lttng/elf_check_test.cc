// SPDX-License-Identifier: MIT
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
  EXPECT_EQ(st.error().message, "/etc/passwd is not an ELF file");
}

TEST(ElfCheck, RejectsEmptyFile) {
  TempDir dir;
  const std::string path = write_file(dir, "empty", "", 0);
  Status st = check_x86_64_elf(path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, path + " is not an ELF file");
}

TEST(ElfCheck, RejectsAArch64Elf) {
  TempDir dir;
  Elf64_Ehdr h = header(ELFCLASS64, EM_AARCH64, ET_EXEC);
  const std::string path = write_file(dir, "arm64", &h, sizeof h);
  Status st = check_x86_64_elf(path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, path + " is an ELF for AArch64, bd-run runs x86_64 guests");
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
  EXPECT_EQ(st.error().message, path + " is an ELF for i386, bd-run runs x86_64 guests");
}

TEST(ElfCheck, RejectsObjectFile) {
  TempDir dir;
  Elf64_Ehdr h = header(ELFCLASS64, EM_X86_64, ET_REL);
  const std::string path = write_file(dir, "obj.o", &h, sizeof h);
  Status st = check_x86_64_elf(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not an executable"), std::string::npos) << st.error();
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
  EXPECT_NE(st.error().message.find("cannot read /nonexistent/bdtrace"), std::string::npos) << st.error();
}

// ---- the guest architectures bd-run runs in user mode -----------------------

TEST(GuestElf, KnowsEachSupportedArchitecture) {
  TempDir dir;
  const std::pair<uint16_t, GuestArch> cases[] = {
      {EM_X86_64, GuestArch::X86_64}, {EM_AARCH64, GuestArch::AArch64}, {EM_RISCV, GuestArch::RiscV64}};
  for (const auto& [machine, arch] : cases) {
    Elf64_Ehdr h = header(ELFCLASS64, machine, ET_EXEC);
    const std::string path = write_file(dir, arch_name(arch), &h, sizeof h);
    Expected<GuestArch> got = check_guest_elf(path);
    ASSERT_TRUE(got) << got.error();
    EXPECT_EQ(got.value(), arch) << arch_name(arch);
    EXPECT_FALSE(is_big_endian(arch)) << arch_name(arch);
    Expected<GuestArch> parsed = parse_arch(arch_name(arch));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed.value(), arch);
  }
  EXPECT_TRUE(check_guest_elf("/bin/true")) << "the host's own programs are x86_64 guests";
}

// An s390x ELF header as s390x-linux-gnu-gcc writes it: every field
// big-endian (EI_DATA = ELFDATA2MSB), so e_machine 22 is the bytes 00 16
// and e_type the bytes 00 02 or 00 03.
Elf64_Ehdr s390x_header(uint16_t type, unsigned char cls = ELFCLASS64) {
  Elf64_Ehdr h = header(cls, 0, 0);
  h.e_ident[EI_DATA] = ELFDATA2MSB;
  const unsigned char machine[2] = {0x00, EM_S390};
  const unsigned char type_be[2] = {static_cast<unsigned char>(type >> 8),
                                    static_cast<unsigned char>(type & 0xff)};
  std::memcpy(&h.e_machine, machine, 2);
  std::memcpy(&h.e_type, type_be, 2);
  return h;
}

TEST(GuestElf, ReadsABigEndianS390xHeader) {
  TempDir dir;
  for (uint16_t type : {uint16_t{ET_EXEC}, uint16_t{ET_DYN}}) {
    Elf64_Ehdr h = s390x_header(type);
    const std::string path = write_file(dir, "s390x-" + std::to_string(type), &h, sizeof h);
    Expected<GuestArch> got = check_guest_elf(path);
    ASSERT_TRUE(got) << got.error();
    EXPECT_EQ(got.value(), GuestArch::S390X);
  }
  EXPECT_STREQ(arch_name(GuestArch::S390X), "s390x");
  EXPECT_TRUE(is_big_endian(GuestArch::S390X));
  Expected<GuestArch> parsed = parse_arch("s390x");
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed.value(), GuestArch::S390X);
  // An object file: e_type 1 read big-endian (little-endian it would be 256).
  Elf64_Ehdr obj = s390x_header(ET_REL);
  const std::string obj_path = write_file(dir, "s390x.o", &obj, sizeof obj);
  Expected<GuestArch> rel = check_guest_elf(obj_path);
  ASSERT_FALSE(rel);
  EXPECT_EQ(rel.error().message,
            obj_path + " is an ELF object file but not an executable: link it into a program first");
  // The 31-bit s390 shares the machine number.
  Elf64_Ehdr s31 = s390x_header(ET_EXEC, ELFCLASS32);
  const std::string s31_path = write_file(dir, "s390-31", &s31, sizeof s31);
  Expected<GuestArch> narrow = check_guest_elf(s31_path);
  ASSERT_FALSE(narrow);
  EXPECT_NE(narrow.error().message.find("is a 32-bit ELF"), std::string::npos) << narrow.error();
  // System mode stays x86_64.
  Elf64_Ehdr exec = s390x_header(ET_EXEC);
  const std::string exec_path = write_file(dir, "s390x-exec", &exec, sizeof exec);
  Status x86 = check_x86_64_elf(exec_path);
  ASSERT_FALSE(x86.ok());
  EXPECT_EQ(x86.error().message, exec_path + " is an ELF for s390, bd-run runs x86_64 guests");
}

#ifdef BD_S390X_PROGRAM
// The cross-built s390x bd-mark (defined when the build cross-builds s390x).
TEST(GuestElf, AcceptsARealS390xProgram) {
  Expected<GuestArch> got = check_guest_elf(BD_S390X_PROGRAM);
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(got.value(), GuestArch::S390X);
}
#endif

TEST(GuestElf, RefusesTheWrongByteOrderForAnArchitecture) {
  TempDir dir;
  // A little-endian header claiming s390x, a big-endian one claiming aarch64.
  Elf64_Ehdr s390x_le = header(ELFCLASS64, EM_S390, ET_EXEC);
  const std::string s390x_path = write_file(dir, "s390x-le", &s390x_le, sizeof s390x_le);
  Expected<GuestArch> got = check_guest_elf(s390x_path);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message,
            s390x_path + " is a little-endian ELF for s390x, whose programs are big-endian");
  Elf64_Ehdr arm_be = header(ELFCLASS64, 0, 0);
  arm_be.e_ident[EI_DATA] = ELFDATA2MSB;
  arm_be.e_machine = static_cast<uint16_t>((EM_AARCH64 >> 8) | ((EM_AARCH64 & 0xff) << 8));
  arm_be.e_type = static_cast<uint16_t>(ET_EXEC << 8);
  const std::string arm_path = write_file(dir, "arm-be", &arm_be, sizeof arm_be);
  got = check_guest_elf(arm_path);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message,
            arm_path + " is a big-endian ELF for aarch64, whose programs are little-endian");
}

TEST(GuestElf, RefusesOthersSayingWhatItRuns) {
  TempDir dir;
  Elf64_Ehdr ppc = header(ELFCLASS64, 0, 0);
  ppc.e_ident[EI_DATA] = ELFDATA2MSB;
  ppc.e_machine = static_cast<uint16_t>((EM_PPC64 >> 8) | ((EM_PPC64 & 0xff) << 8));
  const std::string path = write_file(dir, "ppc64", &ppc, sizeof ppc);
  Expected<GuestArch> got = check_guest_elf(path);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message,
            path + " is an ELF for PowerPC64, bd-run runs x86_64, aarch64, riscv64 and s390x guests");
  Elf64_Ehdr arm = header(ELFCLASS64, EM_AARCH64, ET_EXEC);
  const std::string arm_path = write_file(dir, "arm", &arm, sizeof arm);
  EXPECT_FALSE(check_x86_64_elf(arm_path).ok()) << "system mode stays x86_64";
  Expected<GuestArch> unknown = parse_arch("ppc64");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message,
            "unknown guest architecture 'ppc64': use x86_64, aarch64, riscv64 or s390x");
}

}  // namespace
}  // namespace bdtrace::tools
