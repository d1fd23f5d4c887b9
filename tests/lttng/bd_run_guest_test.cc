// SPDX-License-Identifier: MIT
// bd-run and the guest it starts: scripts run through their interpreter,
// this build's lib/ on the loader path, the ring for exec'd programs beside
// the trap, and the end-of-run checks (no record arrived; exit 127 before
// any record). Units, then bd-run as a black box with a fake QEMU.
#include <elf.h>
#include <gtest/gtest.h>
#include <lttng/lttng.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bd_run_harness.h"
#include "guest_program.h"
#include "run_stats.h"
#include "temp_dir.h"

namespace bdtrace::bdrun {
namespace {

using testing::run_bd_run;
using testing::RunResult;
using testing::slurp;
using testing::TempDir;

std::string write_executable(const TempDir& tmp, const std::string& name, const std::string& text) {
  const std::string path = tmp / name;
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0755);
  return path;
}

// ---- scripts ----------------------------------------------------------

TEST(Shebang, InterpreterAndOneArgument) {
  std::string interp, arg;
  ASSERT_TRUE(parse_shebang("#!/bin/sh", interp, arg));
  EXPECT_EQ(interp, "/bin/sh");
  EXPECT_EQ(arg, "");
  ASSERT_TRUE(parse_shebang("#! /usr/bin/env  python3 -u \r", interp, arg));
  EXPECT_EQ(interp, "/usr/bin/env");
  EXPECT_EQ(arg, "python3 -u") << "Linux passes the rest of the line as one argument";
  EXPECT_FALSE(parse_shebang("#!", interp, arg));
  EXPECT_FALSE(parse_shebang("#!   ", interp, arg));
  EXPECT_FALSE(
      parse_shebang("\x7f"
                    "ELF",
                    interp, arg));
  EXPECT_FALSE(parse_shebang("echo hi", interp, arg));
}

TEST(ResolveGuest, ScriptRunsThroughItsInterpreter) {
  TempDir tmp;
  const std::string script = write_executable(tmp, "s.sh", "#!/bin/sh\necho hi\n");
  Expected<GuestProgram> g = resolve_guest(script, {"a", "b"});
  ASSERT_TRUE(g) << g.error();
  EXPECT_EQ(g.value().path, "/bin/sh");
  EXPECT_EQ(g.value().args, (std::vector<std::string>{script, "a", "b"}));
  EXPECT_EQ(g.value().script, script);
}

TEST(ResolveGuest, InterpreterArgumentComesFirst) {
  TempDir tmp;
  const std::string script = write_executable(tmp, "e.sh", "#!/usr/bin/env sh\necho hi\n");
  Expected<GuestProgram> g = resolve_guest(script, {"x"});
  ASSERT_TRUE(g) << g.error();
  EXPECT_EQ(g.value().path, "/usr/bin/env");
  EXPECT_EQ(g.value().args, (std::vector<std::string>{"sh", script, "x"}));
}

TEST(ResolveGuest, ElfProgramIsUnchanged) {
  Expected<GuestProgram> g = resolve_guest("/bin/true", {"-x"});
  ASSERT_TRUE(g) << g.error();
  EXPECT_EQ(g.value().path, "/bin/true");
  EXPECT_EQ(g.value().args, (std::vector<std::string>{"-x"}));
  EXPECT_EQ(g.value().script, "");
}

TEST(ResolveGuest, UnusableInterpreterSaysWhatToRun) {
  TempDir tmp;
  const std::string script = write_executable(tmp, "bad.sh", "#!/nonexistent/shell\n");
  Expected<GuestProgram> g = resolve_guest(script, {});
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("/nonexistent/shell"), std::string::npos) << g.error();
  EXPECT_NE(g.error().message.find("bd-run -- /bin/sh " + script), std::string::npos) << g.error();
}

TEST(ResolveGuest, NonExecutableScriptIsRefused) {
  TempDir tmp;
  const std::string script = tmp / "plain.sh";
  std::ofstream(script) << "#!/bin/sh\n";
  Expected<GuestProgram> g = resolve_guest(script, {});
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("chmod +x"), std::string::npos) << g.error();
}

// ---- the loader path -------------------------------------------------------

TEST(GuestLibraryPath, AddedOnlyWhereLibbdguestIs) {
  TempDir lib;
  const std::vector<std::string> env = {"HOME=/root"};
  EXPECT_EQ(with_guest_library_path(env, lib.path()), env) << "no libbdguest.so there: unchanged";
  std::ofstream(lib / "libbdguest.so") << "";
  EXPECT_EQ(with_guest_library_path(env, lib.path()),
            (std::vector<std::string>{"HOME=/root", "LD_LIBRARY_PATH=" + lib.path()}));
  EXPECT_EQ(with_guest_library_path({"LD_LIBRARY_PATH=/mine"}, lib.path()),
            (std::vector<std::string>{"LD_LIBRARY_PATH=/mine:" + lib.path()}))
      << "the user's own entries come first";
  EXPECT_EQ(with_guest_library_path({"LD_LIBRARY_PATH="}, lib.path()),
            (std::vector<std::string>{"LD_LIBRARY_PATH=" + lib.path()}));
}

// ---- the end-of-run checks --------------------------------------------------

TEST(RunStats, SumsEveryRecordsLine) {
  EXPECT_EQ(sum_records(""), std::nullopt);
  EXPECT_EQ(sum_records("records 0 dropped 0 rejected 0\n"), 0u);
  EXPECT_EQ(sum_records("records 3 rejected 1 pid 10\nrecords 4 dropped 0 rejected 0\ngarbage\n"), 7u);
}

TEST(RunStats, Verdicts) {
  EXPECT_EQ(check_guest(0, 5), GuestCheck::Ok);
  EXPECT_EQ(check_guest(127, 5), GuestCheck::Ok) << "it started: it made marks";
  EXPECT_EQ(check_guest(127, 0), GuestCheck::FailedToStart);
  EXPECT_EQ(check_guest(127, std::nullopt), GuestCheck::FailedToStart);
  EXPECT_EQ(check_guest(0, 0), GuestCheck::NoRecords);
  EXPECT_EQ(check_guest(3, std::nullopt), GuestCheck::NoRecords);
}

// ---- bd-run as a black box ----------------------------------------------

// A stand-in for qemu-x86_64: logs its arguments and the environment
// variables bd-run sets for the guest, appends "records $FAKE_RECORDS" to
// the plugin's stats= file when set, exits with $FAKE_EXIT.
std::string write_fake_qemu(const TempDir& tmp) {
  return write_executable(
      tmp, "fake-qemu",
      "#!/bin/sh\n"
      "printf '%s\\n' \"$@\" > \"$FAKE_LOG\"\n"
      "printf 'LD_LIBRARY_PATH=%s\\nBD_RING_EXEC=%s\\nBD_RING=%s\\n' \"$LD_LIBRARY_PATH\" "
      "\"$BD_RING_EXEC\" \"$BD_RING\" >> \"$FAKE_LOG\"\n"
      "stats=$(printf '%s\\n' \"$@\" | sed -n 's/.*,stats=\\([^,]*\\).*/\\1/p')\n"
      "[ -n \"$FAKE_RECORDS\" ] && echo \"records $FAKE_RECORDS rejected 0 pid $$\" >> \"$stats\"\n"
      "exit ${FAKE_EXIT:-0}\n");
}

TEST(BdRunGuest, ScriptRunsUnderQemuThroughItsInterpreter) {
  TempDir tmp;
  const std::string qemu = write_fake_qemu(tmp);
  const std::string script = write_executable(tmp, "s.sh", "#!/bin/sh\nbd-mark 1\n");
  RunResult r = run_bd_run(tmp, "--qemu '" + qemu + "' --channel trap -- '" + script + "' arg",
                           "FAKE_LOG='" + (tmp / "log") + "'");
  EXPECT_EQ(r.exit_status, 0) << r.err;
  const std::string log = slurp(tmp / "log");
  EXPECT_NE(log.find("program=/bin/sh"), std::string::npos) << log;
  EXPECT_NE(log.find("\n/bin/sh\n" + script + "\narg\n"), std::string::npos) << log;
  EXPECT_NE(r.err.find("bd-run: " + script + " is a script: running '/bin/sh " + script + " arg'"),
            std::string::npos)
      << r.err;
}

TEST(BdRunGuest, TrapRunOffersTheRingToExecdProgramsOnly) {
  TempDir tmp;
  const std::string qemu = write_fake_qemu(tmp);
  RunResult r = run_bd_run(tmp, "--qemu '" + qemu + "' --channel trap -- /bin/true",
                           "FAKE_LOG='" + (tmp / "log") + "'");
  EXPECT_EQ(r.exit_status, 0) << r.err;
  const std::string log = slurp(tmp / "log");
  EXPECT_NE(log.find("BD_RING_EXEC=/dev/shm/bdtrace-ring-"), std::string::npos) << log;
  EXPECT_NE(log.find("BD_RING=\n"), std::string::npos) << "BD_RING would take the trap's place:\n" << log;
}

TEST(BdRunGuest, LoaderPathHasTheBuildsLib) {
  TempDir tmp;
  const std::string qemu = write_fake_qemu(tmp);
  RunResult r = run_bd_run(tmp, "--qemu '" + qemu + "' --channel trap -- /bin/true",
                           "LD_LIBRARY_PATH=/mine FAKE_LOG='" + (tmp / "log") + "'");
  EXPECT_EQ(r.exit_status, 0) << r.err;
  const std::string lib =
      std::filesystem::weakly_canonical(std::filesystem::path(BD_RUN_PATH).parent_path() / ".." / "lib")
          .string();
  EXPECT_NE(slurp(tmp / "log").find("LD_LIBRARY_PATH=/mine:" + lib + "\n"), std::string::npos)
      << slurp(tmp / "log");
}

TEST(BdRunGuest, Exit127BeforeAnyRecordIsAFailureToStart) {
  TempDir tmp;
  const std::string qemu = write_fake_qemu(tmp);
  RunResult r = run_bd_run(tmp, "--qemu '" + qemu + "' --channel trap -- /bin/true",
                           "FAKE_LOG='" + (tmp / "log") + "' FAKE_EXIT=127");
  EXPECT_EQ(r.exit_status, 127);
  EXPECT_NE(r.err.find("bd-run: error: /bin/true did not start (exit status 127 before any mark)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("-Wl,-rpath"), std::string::npos) << r.err;

  // Marks arrived: 127 is then the program's own status.
  RunResult marked = run_bd_run(tmp, "--qemu '" + qemu + "' --channel trap -- /bin/true",
                                "FAKE_LOG='" + (tmp / "log") + "' FAKE_EXIT=127 FAKE_RECORDS=2");
  EXPECT_EQ(marked.exit_status, 127);
  EXPECT_EQ(marked.err.find("did not start"), std::string::npos) << marked.err;
}

TEST(BdRunGuest, TraceWithoutRecordsWarns) {
  ASSERT_EQ(lttng_session_daemon_alive(), 1) << "no lttng-sessiond: run through ./bdtrace test";
  TempDir tmp;
  const std::string qemu = write_fake_qemu(tmp);
  RunResult r =
      run_bd_run(tmp, "--trace '" + (tmp / "t1") + "' --qemu '" + qemu + "' --channel trap -- /bin/true",
                 "FAKE_LOG='" + (tmp / "log") + "'");
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.err.find("bd-run: warning: no mark of the guest reached bdtrace"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bd-run: trace written to"), std::string::npos) << r.err;

  RunResult marked =
      run_bd_run(tmp, "--trace '" + (tmp / "t2") + "' --qemu '" + qemu + "' --channel trap -- /bin/true",
                 "FAKE_LOG='" + (tmp / "log") + "' FAKE_RECORDS=1");
  EXPECT_EQ(marked.exit_status, 0) << marked.err;
  EXPECT_EQ(marked.err.find("warning"), std::string::npos) << marked.err;
}

// ---- other guest architectures -------------------------------------------

// An executable file with just an ELF header for `machine` (64-bit, LSB).
std::string write_elf(const TempDir& tmp, const std::string& name, uint16_t machine) {
  Elf64_Ehdr h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = ELFCLASS64;
  h.e_ident[EI_DATA] = ELFDATA2LSB;
  h.e_ident[EI_VERSION] = EV_CURRENT;
  h.e_type = ET_EXEC;
  h.e_machine = machine;
  const std::string path = tmp / name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(&h), sizeof h);
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(BdRunGuest, PicksQemuOfTheProgramsArchitecture) {
  TempDir tmp;
  const std::string bin = tmp / "bin";
  std::filesystem::create_directory(bin);
  // qemu-aarch64 in PATH is the fake; it also logs QEMU_LD_PREFIX.
  const std::string fake = write_executable(tmp, "bin/qemu-aarch64",
                                            "#!/bin/sh\n"
                                            "printf '%s\\n' \"$@\" > \"$FAKE_LOG\"\n"
                                            "printf 'LD_LIBRARY_PATH=%s\\nQEMU_LD_PREFIX=%s\\n' "
                                            "\"$LD_LIBRARY_PATH\" \"$QEMU_LD_PREFIX\" >> \"$FAKE_LOG\"\n");
  const std::string prog = write_elf(tmp, "arm-prog", EM_AARCH64);
  RunResult r = run_bd_run(tmp, "--channel trap -- '" + prog + "'",
                           "PATH='" + bin + "':/usr/bin:/bin FAKE_LOG='" + (tmp / "log") + "'");
  EXPECT_EQ(r.exit_status, 0) << r.err;
  const std::string log = slurp(tmp / "log");
  EXPECT_NE(log.find(",program=" + prog), std::string::npos) << log;
  const std::string lib =
      std::filesystem::weakly_canonical(std::filesystem::path(BD_RUN_PATH).parent_path() / ".." / "lib")
          .string();
  // The cross-built libbdguest.so, where the build made one.
  const bool cross = std::filesystem::exists(lib + "/aarch64/libbdguest.so");
  EXPECT_NE(log.find("LD_LIBRARY_PATH=" + (cross ? lib + "/aarch64" : std::string()) + "\n"),
            std::string::npos)
      << log;
  if (std::filesystem::is_directory("/usr/aarch64-linux-gnu")) {
    EXPECT_NE(log.find("QEMU_LD_PREFIX=/usr/aarch64-linux-gnu\n"), std::string::npos) << log;
  }
}

// The header of a big-endian s390x executable: e_machine 22 and e_type 2
// stored big-endian, as s390x-linux-gnu-gcc writes them.
std::string write_s390x_elf(const TempDir& tmp, const std::string& name) {
  Elf64_Ehdr h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = ELFCLASS64;
  h.e_ident[EI_DATA] = ELFDATA2MSB;
  h.e_ident[EI_VERSION] = EV_CURRENT;
  const unsigned char type[2] = {0, ET_EXEC}, machine[2] = {0, EM_S390};
  std::memcpy(&h.e_type, type, 2);
  std::memcpy(&h.e_machine, machine, 2);
  const std::string path = tmp / name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(&h), sizeof h);
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(BdRunGuest, PicksQemuS390xForABigEndianProgram) {
  TempDir tmp;
  const std::string bin = tmp / "bin";
  std::filesystem::create_directory(bin);
  write_executable(tmp, "bin/qemu-s390x",
                   "#!/bin/sh\n"
                   "printf '%s\\n' \"$@\" > \"$FAKE_LOG\"\n"
                   "printf 'QEMU_LD_PREFIX=%s\\n' \"$QEMU_LD_PREFIX\" >> \"$FAKE_LOG\"\n");
  const std::string prog = write_s390x_elf(tmp, "s390x-prog");
  RunResult r = run_bd_run(tmp, "--channel trap -- '" + prog + "'",
                           "PATH='" + bin + "':/usr/bin:/bin FAKE_LOG='" + (tmp / "log") + "'");
  EXPECT_EQ(r.exit_status, 0) << r.err;
  const std::string log = slurp(tmp / "log");
  EXPECT_NE(log.find(",program=" + prog), std::string::npos) << log;
  if (std::filesystem::is_directory("/usr/s390x-linux-gnu")) {
    EXPECT_NE(log.find("QEMU_LD_PREFIX=/usr/s390x-linux-gnu\n"), std::string::npos) << log;
  }
  RunResult native = run_bd_run(tmp, "--native -- '" + prog + "'");
  EXPECT_EQ(native.exit_status, 2);
  EXPECT_NE(native.err.find("is an s390x program: it cannot run natively"), std::string::npos) << native.err;
}

TEST(BdRunGuest, ForeignArchitecturesRunNeitherNativelyNorAsVms) {
  TempDir tmp;
  const std::string prog = write_elf(tmp, "rv-prog", EM_RISCV);
  RunResult native = run_bd_run(tmp, "--native -- '" + prog + "'");
  EXPECT_EQ(native.exit_status, 2);
  EXPECT_NE(native.err.find("is an riscv64 program: it cannot run natively"), std::string::npos)
      << native.err;
  RunResult arch = run_bd_run(tmp, "--system --arch riscv64 --kernel /dev/null");
  EXPECT_EQ(arch.exit_status, 2);
  EXPECT_NE(arch.err.find("--system runs x86_64 and aarch64 VMs (qemu-system-x86_64, qemu-system-aarch64); "
                          "--arch riscv64 is for user mode so far"),
            std::string::npos)
      << arch.err;
}

}  // namespace
}  // namespace bdtrace::bdrun
