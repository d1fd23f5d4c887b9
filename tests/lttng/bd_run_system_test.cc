// SPDX-License-Identifier: MIT
// bd-run --system: its qemu-system-x86_64 command line (unit), the channel
// file (RAII), and the program itself (black box) with a fake
// qemu-system-x86_64 script that records what it was given and what it saw
// (the channel file while it "runs", its stdin) so these tests need neither
// a kernel nor the plugin.
#include <bd/channel.h>
#include <gtest/gtest.h>
#include <lttng/lttng.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bd_run_harness.h"
#include "channel_file.h"
#include "options.h"
#include "system_command.h"
#include "temp_dir.h"

namespace bdtrace::bdrun {
namespace {

namespace fs = std::filesystem;
using testing::run_bd_run;
using testing::RunResult;
using testing::slurp;
using testing::TempDir;

// ---- the command line -------------------------------------------------

const std::vector<std::string> kFixedArgs = {"-accel",     "tcg",      "-smp", "2",         "-m",
                                             "512M",       "-display", "none", "-parallel", "none",
                                             "-no-reboot", "-monitor", "none", "-serial",   "stdio"};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(SystemCommand, FullCommandLine) {
  SystemInvocation inv;
  inv.qemu = "/usr/bin/qemu-system-x86_64";
  inv.smp = 4;
  inv.memory_mib = 1024;
  inv.kernel = "/vm/vmlinuz";
  inv.initrd = "/vm/initrd.gz";
  inv.append = "init=/init loglevel=3";
  inv.channel_file = "/dev/shm/bdtrace-1-ab";
  inv.plugin = "/opt/lib/libbdtrace-qemu.so";
  inv.vm_name = "web1";
  inv.plugin_args = {{"log", "/tmp/p.log"}};
  inv.qemu_args = {"-rtc", "base=utc"};
  const std::vector<std::string> want = {
      "/usr/bin/qemu-system-x86_64",
      "-accel",
      "tcg",
      "-smp",
      "4",
      "-m",
      "1024M",
      "-display",
      "none",
      "-parallel",
      "none",
      "-no-reboot",
      "-monitor",
      "none",
      "-serial",
      "stdio",
      "-kernel",
      "/vm/vmlinuz",
      "-initrd",
      "/vm/initrd.gz",
      "-append",
      "console=ttyS0 quiet panic=-1 init=/init loglevel=3",
      "-object",
      "memory-backend-file,id=bdchan,mem-path=/dev/shm/bdtrace-1-ab,size=8M,share=on",
      "-device",
      "ivshmem-plain,memdev=bdchan",
      "-plugin",
      "/opt/lib/libbdtrace-qemu.so,channel=/dev/shm/bdtrace-1-ab,vm=web1,log=/tmp/p.log",
      "-rtc",
      "base=utc"};
  EXPECT_EQ(build_system_command(inv), want);
}

TEST(SystemCommand, DefaultsWithoutKernelOrPlugin) {
  SystemInvocation inv;
  inv.qemu = "qemu";
  inv.channel_file = "/dev/shm/c";
  inv.qemu_args = {"-kernel", "/k"};
  const std::vector<std::string> want =
      concat(concat({"qemu"}, kFixedArgs),
             {"-object", "memory-backend-file,id=bdchan,mem-path=/dev/shm/c,size=8M,share=on", "-device",
              "ivshmem-plain,memdev=bdchan", "-kernel", "/k"});
  EXPECT_EQ(build_system_command(inv), want);
}

// --channel ring: no channel device and no plugin; the ring region is the
// memory of its own ivshmem device, sized in bytes (a power of two).
TEST(SystemCommand, RingDeviceWithoutPluginOrChannel) {
  SystemInvocation inv;
  inv.qemu = "qemu";
  inv.ring_file = "/dev/shm/r";
  inv.ring_file_size = 134217728;
  inv.kvm = true;
  inv.qemu_args = {"-kernel", "/k"};
  std::vector<std::string> fixed = concat({"qemu"}, kFixedArgs);
  ASSERT_EQ(fixed[2], "tcg");
  fixed[2] = "kvm";
  const std::vector<std::string> want =
      concat(fixed, {"-object", "memory-backend-file,id=bdring,mem-path=/dev/shm/r,size=134217728,share=on",
                     "-device", "ivshmem-plain,memdev=bdring", "-kernel", "/k"});
  EXPECT_EQ(build_system_command(inv), want);
}

TEST(SystemCommand, KernelWithoutInitrdOrAppendGetsDefaultArgs) {
  SystemInvocation inv;
  inv.qemu = "qemu";
  inv.kernel = "/k";
  inv.channel_file = "/c";
  inv.plugin = "/p.so";
  const std::vector<std::string> argv = build_system_command(inv);
  const std::vector<std::string> want = concat(
      concat({"qemu"}, kFixedArgs), {"-kernel", "/k", "-append", "console=ttyS0 quiet panic=-1", "-object",
                                     "memory-backend-file,id=bdchan,mem-path=/c,size=8M,share=on", "-device",
                                     "ivshmem-plain,memdev=bdchan", "-plugin", "/p.so,channel=/c,vm=vm"});
  EXPECT_EQ(argv, want);
}

// aarch64: the virt machine (PCI for the ivshmem device, a generated device
// tree, no firmware needed), a CPU without pointer authentication, and the
// kernel console on the PL011 (ttyAMA0).
TEST(SystemCommand, Aarch64IsAVirtMachineWithThePl011Console) {
  SystemInvocation inv;
  inv.arch = "aarch64";
  inv.qemu = "qemu-system-aarch64";
  inv.kernel = "/k";
  inv.channel_file = "/c";
  inv.plugin = "/p.so";
  const std::vector<std::string> want =
      concat(concat({"qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57"}, kFixedArgs),
             {"-kernel", "/k", "-append", "console=ttyAMA0 quiet panic=-1", "-object",
              "memory-backend-file,id=bdchan,mem-path=/c,size=8M,share=on", "-device",
              "ivshmem-plain,memdev=bdchan", "-plugin", "/p.so,channel=/c,vm=vm"});
  EXPECT_EQ(build_system_command(inv), want);
  EXPECT_STREQ(default_kernel_args("aarch64"), "console=ttyAMA0 quiet panic=-1");
  EXPECT_STREQ(default_kernel_args("x86_64"), "console=ttyS0 quiet panic=-1");
}

TEST(SystemCommand, CommasInOptionValuesAreEscaped) {
  SystemInvocation inv;
  inv.qemu = "qemu";
  inv.channel_file = "/shm/a,b";
  inv.plugin = "/p,q.so";
  inv.vm_name = "x,y";
  const std::vector<std::string> argv = build_system_command(inv);
  ASSERT_GE(argv.size(), 2u);
  EXPECT_EQ(argv[argv.size() - 1], "/p,,q.so,channel=/shm/a,,b,vm=x,,y");
  EXPECT_EQ(argv[argv.size() - 4], "-device");
  EXPECT_EQ(argv[argv.size() - 5], "memory-backend-file,id=bdchan,mem-path=/shm/a,,b,size=8M,share=on");
}

TEST(SystemOptions, MemorySizes) {
  EXPECT_EQ(parse_memory_mib("512M"), 512u);
  EXPECT_EQ(parse_memory_mib("512m"), 512u);
  EXPECT_EQ(parse_memory_mib("512MB"), 512u);
  EXPECT_EQ(parse_memory_mib("512"), 512u);  // QEMU reads a bare number as MiB
  EXPECT_EQ(parse_memory_mib("1G"), 1024u);
  EXPECT_EQ(parse_memory_mib("65536K"), 64u);
  EXPECT_EQ(parse_memory_mib("1T"), 1024u * 1024u);
  for (const char* bad :
       {"", "M", "abc", "1.5G", "-1G", "8M", "100K", "2T", "1X", "512 M", "99999999999999999999G"}) {
    EXPECT_FALSE(parse_memory_mib(bad).has_value()) << bad;
  }
}

// ---- the channel file ---------------------------------------------------

TEST(ChannelFile, CreatedSizedPrivateAndRemoved) {
  std::string path;
  {
    Expected<ChannelFile> f = ChannelFile::create();
    ASSERT_TRUE(f.ok()) << f.error();
    path = f->path();
    EXPECT_EQ(path.rfind("/dev/shm/bdtrace-" + std::to_string(::getpid()) + "-", 0), 0u) << path;
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), uint64_t{BD_CHANNEL_SIZE});
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_TRUE(S_ISREG(st.st_mode));

    ChannelFile moved = std::move(f.value());
    EXPECT_EQ(moved.path(), path);
    EXPECT_TRUE(fs::exists(path));
    Expected<ChannelFile> other = ChannelFile::create();
    ASSERT_TRUE(other.ok()) << other.error();
    EXPECT_NE(other->path(), path);
  }
  EXPECT_FALSE(fs::exists(path)) << "the channel file outlived its owner";
}

TEST(ChannelFile, HeaderDescribesTheLayout) {
  Expected<ChannelFile> f = ChannelFile::create();
  ASSERT_TRUE(f.ok()) << f.error();
  ASSERT_TRUE(f->write_header(3).ok());
  std::ifstream in(f->path(), std::ios::binary);
  bd_channel_header h;
  ASSERT_TRUE(in.read(reinterpret_cast<char*>(&h), sizeof h));
  EXPECT_EQ(h.magic, BD_CHANNEL_MAGIC);
  EXPECT_EQ(h.version, BD_CHANNEL_VERSION);
  EXPECT_EQ(h.record_size, BD_RECORD_SIZE);
  EXPECT_EQ(h.channel_size, BD_CHANNEL_SIZE);
  EXPECT_EQ(h.nr_vcpus, 3u);
  EXPECT_EQ(h.kernel_offset, BD_CHANNEL_KERNEL_OFFSET);
  EXPECT_EQ(h.user_offset, BD_CHANNEL_USER_OFFSET);
  EXPECT_EQ(h.user_slots, BD_CHANNEL_USER_SLOTS);
  EXPECT_EQ(h.handshake_nonce, 0u);
  EXPECT_EQ(h.enable[0][0], ~uint64_t{0});
  EXPECT_EQ(fs::file_size(f->path()), uint64_t{BD_CHANNEL_SIZE});
}

TEST(ChannelFile, UnwritableDirectoryIsAnError) {
  Expected<ChannelFile> f = ChannelFile::create("/nonexistent-dir");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("cannot create the channel file /nonexistent-dir/bdtrace-"),
            std::string::npos)
      << f.error();
}

// ---- the program ------------------------------------------------------

// A stand-in for qemu-system-x86_64. Writes to FAKE_LOG (atomically, so a
// waiting test sees all or nothing): its arguments one per line, then
// "MEMPATH <size> <mode>" / "CHANNEL <size> <mode>" for the files named by
// mem-path= and channel=, "MAGIC <first word of mem-path, hex>", "STDIN <what fd 0 is>", and lists the LTTng
// sessions into FAKE_LIST if set. Then prints a console line and exits with
// FAKE_EXIT, or sleeps FAKE_SLEEP seconds (to be signalled).
std::string write_fake_system_qemu(const TempDir& tmp) {
  const std::string path = tmp / "fake-qemu-system";
  std::ofstream(path) << "#!/bin/sh\n"
                         "log=\"$FAKE_LOG\"\n"
                         "printf '%s\\n' \"$@\" > \"$log.tmp\"\n"
                         "for a in \"$@\"; do\n"
                         "  case \"$a\" in\n"
                         "  *mem-path=*) f=$(printf '%s' \"$a\" | sed 's/.*mem-path=\\([^,]*\\).*/\\1/')\n"
                         "     echo \"MEMPATH $(stat -c '%s %a' \"$f\" 2>&1)\" >> \"$log.tmp\"\n"
                         "     echo \"MAGIC $(od -An -tx4 -N4 \"$f\" | tr -d ' ')\" >> \"$log.tmp\" ;;\n"
                         "  *,channel=*) f=$(printf '%s' \"$a\" | sed 's/.*,channel=\\([^,]*\\).*/\\1/')\n"
                         "     echo \"CHANNEL $(stat -c '%s %a' \"$f\" 2>&1)\" >> \"$log.tmp\" ;;\n"
                         "  esac\n"
                         "done\n"
                         "echo \"STDIN $(readlink /proc/$$/fd/0)\" >> \"$log.tmp\"\n"
                         "[ -n \"$FAKE_LIST\" ] && lttng list > \"$FAKE_LIST\" 2>&1\n"
                         "mv \"$log.tmp\" \"$log\"\n"
                         "echo guest-console-output\n"
                         "[ -n \"$FAKE_SLEEP\" ] && exec sleep \"$FAKE_SLEEP\"\n"
                         "exit ${FAKE_EXIT:-0}\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The fake's log split into QEMU's arguments and its observations.
struct FakeLog {
  std::vector<std::string> args;
  std::vector<std::string> seen;  // MEMPATH/CHANNEL/MAGIC/STDIN lines
  std::string channel_file;       // from mem-path=
};

FakeLog read_fake_log(const std::string& path) {
  FakeLog log;
  for (const std::string& line : lines_of(slurp(path))) {
    if (line.rfind("MEMPATH ", 0) == 0 || line.rfind("CHANNEL ", 0) == 0 || line.rfind("STDIN ", 0) == 0 ||
        line.rfind("MAGIC ", 0) == 0) {
      log.seen.push_back(line);
    } else {
      log.args.push_back(line);
    }
  }
  for (const std::string& a : log.args) {
    const std::string key = "mem-path=";
    const size_t at = a.find(key);
    if (at != std::string::npos) {
      const size_t end = a.find(',', at);
      log.channel_file = a.substr(at + key.size(), end - at - key.size());
    }
  }
  return log;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const std::string& e : v) {
    if (e == s) return true;
  }
  return false;
}

class BdRunSystem : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty()) << "cannot create a temporary directory";
    qemu_ = write_fake_system_qemu(tmp_);
    std::ofstream(tmp_ / "vmlinuz") << "kernel";
    std::ofstream(tmp_ / "initrd.gz") << "initrd";
    log_ = tmp_ / "qemu.log";
  }

  std::string q(const std::string& s) const { return "'" + s + "'"; }
  std::string kernel() const { return tmp_ / "vmlinuz"; }
  std::string initrd() const { return tmp_ / "initrd.gz"; }
  std::string env(const std::string& more = "") const { return "FAKE_LOG=" + q(log_) + " " + more; }

  TempDir tmp_;
  std::string qemu_;
  std::string log_;
};

TEST_F(BdRunSystem, MissingKernelFileExits2) {
  RunResult r = run_bd_run(
      tmp_, "--system --qemu " + q(qemu_) + " --plugin /dev/null --kernel /nonexistent/vmlinuz", env());
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--kernel /nonexistent/vmlinuz: No such file or directory"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(log_)) << "QEMU must not start";
}

TEST_F(BdRunSystem, MissingInitrdFileExits2) {
  RunResult r = run_bd_run(
      tmp_,
      "--system --qemu " + q(qemu_) + " --no-plugin --kernel " + q(kernel()) + " --initrd /nonexistent/i.gz",
      env());
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--initrd /nonexistent/i.gz: No such file or directory"), std::string::npos) << r.err;
}

TEST_F(BdRunSystem, InitrdWithoutKernelExits2) {
  RunResult r =
      run_bd_run(tmp_, "--system --qemu " + q(qemu_) + " --no-plugin --initrd " + q(initrd()), env());
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--initrd needs --kernel"), std::string::npos) << r.err;
}

TEST_F(BdRunSystem, BadSmpExits2) {
  for (const char* smp : {"0", "65", "two", "-1"}) {
    RunResult r = run_bd_run(
        tmp_, "--system --qemu " + q(qemu_) + " --no-plugin --smp " + smp + " --kernel " + q(kernel()),
        env());
    EXPECT_EQ(r.exit_status, 2) << smp;
    EXPECT_NE(r.err.find("give a number of vCPUs from 1 to 64"), std::string::npos) << smp << ": " << r.err;
  }
}

TEST_F(BdRunSystem, BadMemoryExits2) {
  for (const char* mem : {"lots", "1.5G", "8M", "12X"}) {
    RunResult r = run_bd_run(
        tmp_, "--system --qemu " + q(qemu_) + " --no-plugin --memory " + mem + " --kernel " + q(kernel()),
        env());
    EXPECT_EQ(r.exit_status, 2) << mem;
    EXPECT_NE(r.err.find("--memory " + std::string(mem) + " is invalid"), std::string::npos) << r.err;
  }
}

TEST_F(BdRunSystem, SystemOptionsNeedSystem) {
  RunResult r = run_bd_run(tmp_, "--plugin /dev/null --kernel " + q(kernel()) + " /bin/true", env());
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--kernel needs --system"), std::string::npos) << r.err;
}

TEST_F(BdRunSystem, NothingToBootExits2) {
  RunResult r = run_bd_run(tmp_, "--system --qemu " + q(qemu_) + " --no-plugin", env());
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("nothing to boot"), std::string::npos) << r.err;
}

TEST_F(BdRunSystem, MissingQemuExits2) {
  RunResult r = run_bd_run(tmp_, "--system --no-plugin --kernel " + q(kernel()), "PATH=/nonexistent");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("qemu-system-x86_64 not found: install Debian's qemu-system-x86 or pass --qemu PATH"),
            std::string::npos)
      << r.err;
  r = run_bd_run(tmp_, "--system --arch aarch64 --no-plugin --kernel " + q(kernel()), "PATH=/nonexistent");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("qemu-system-aarch64 not found: install Debian's qemu-system-arm or pass --qemu PATH"),
            std::string::npos)
      << r.err;
}

TEST_F(BdRunSystem, BuildsTheCommandLineAndRemovesTheChannelFile) {
  RunResult r =
      run_bd_run(tmp_,
                 "--system --qemu " + q(qemu_) + " --plugin /dev/null --plugin-arg a=b --smp 3 --memory 1G" +
                     " --kernel " + q(kernel()) + " --initrd " + q(initrd()) +
                     " --append 'init=/init x=1' --vm web1 -- -rtc base=utc < /dev/null",
                 env("FAKE_EXIT=5"));
  EXPECT_EQ(r.exit_status, 5) << "bd-run must return QEMU's status\n" << r.err;
  EXPECT_EQ(r.out, "guest-console-output\n") << "the guest console is bd-run's stdout, and nothing else";
  const FakeLog log = read_fake_log(log_);
  const std::string f = log.channel_file;
  ASSERT_EQ(f.rfind("/dev/shm/bdtrace-", 0), 0u) << f;
  const std::vector<std::string> want = {"-accel",
                                         "tcg",
                                         "-smp",
                                         "3",
                                         "-m",
                                         "1024M",
                                         "-display",
                                         "none",
                                         "-parallel",
                                         "none",
                                         "-no-reboot",
                                         "-monitor",
                                         "none",
                                         "-serial",
                                         "stdio",
                                         "-kernel",
                                         kernel(),
                                         "-initrd",
                                         initrd(),
                                         "-append",
                                         "console=ttyS0 quiet panic=-1 init=/init x=1",
                                         "-object",
                                         "memory-backend-file,id=bdchan,mem-path=" + f + ",size=8M,share=on",
                                         "-device",
                                         "ivshmem-plain,memdev=bdchan",
                                         "-plugin",
                                         "/dev/null,channel=" + f + ",vm=web1,a=b",
                                         "-rtc",
                                         "base=utc"};
  EXPECT_EQ(log.args, want);
  // While QEMU ran, both references named one existing file of the
  // channel's size, private to root.
  const std::string stat_line = std::to_string(BD_CHANNEL_SIZE) + " 600";
  EXPECT_TRUE(contains(log.seen, "MEMPATH " + stat_line)) << ::testing::PrintToString(log.seen);
  EXPECT_TRUE(contains(log.seen, "CHANNEL " + stat_line)) << ::testing::PrintToString(log.seen);
  EXPECT_FALSE(fs::exists(f)) << "bd-run left the channel file " << f << " behind";
}

TEST_F(BdRunSystem, DefaultsAndNoPluginDropsOnlyThePlugin) {
  RunResult r = run_bd_run(
      tmp_, "--system --qemu " + q(qemu_) + " --no-plugin --kernel " + q(kernel()) + " </dev/null", env());
  EXPECT_EQ(r.exit_status, 0) << r.err;
  const FakeLog log = read_fake_log(log_);
  const std::string f = log.channel_file;
  ASSERT_FALSE(f.empty()) << slurp(log_);
  const std::vector<std::string> want =
      concat(kFixedArgs, {"-kernel", kernel(), "-append", "console=ttyS0 quiet panic=-1", "-object",
                          "memory-backend-file,id=bdchan,mem-path=" + f + ",size=8M,share=on", "-device",
                          "ivshmem-plain,memdev=bdchan"});
  EXPECT_EQ(log.args, want);
  EXPECT_TRUE(contains(log.seen, "MEMPATH " + std::to_string(BD_CHANNEL_SIZE) + " 600"))
      << ::testing::PrintToString(log.seen);
  // Without a plugin bd-run's header is what the guest finds.
  EXPECT_TRUE(contains(log.seen, "MAGIC 62646368")) << ::testing::PrintToString(log.seen);
  EXPECT_FALSE(fs::exists(f));
}

TEST_F(BdRunSystem, StdinIsDevNullWhenNotATerminal) {
  std::ofstream(tmp_ / "input") << "must not reach QEMU\n";
  RunResult r = run_bd_run(
      tmp_, "--system --qemu " + q(qemu_) + " --no-plugin --kernel " + q(kernel()) + " <" + q(tmp_ / "input"),
      env());
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_TRUE(contains(read_fake_log(log_).seen, "STDIN /dev/null")) << slurp(log_);
}

TEST_F(BdRunSystem, QemuThatCannotStartStillRemovesTheFile) {
  // A QEMU that exits at once with an error (as for -kernel /nonexistent).
  RunResult r =
      run_bd_run(tmp_, "--system --qemu " + q(qemu_) + " --no-plugin -- -kernel /nonexistent </dev/null",
                 env("FAKE_EXIT=1"));
  EXPECT_EQ(r.exit_status, 1) << r.err;
  const FakeLog log = read_fake_log(log_);
  ASSERT_FALSE(log.channel_file.empty());
  EXPECT_FALSE(fs::exists(log.channel_file));
}

// bd-run is signalled while QEMU runs: QEMU gets the signal, bd-run
// returns its status and still removes the channel file.
class BdRunSystemSignal : public BdRunSystem, public ::testing::WithParamInterface<int> {};

TEST_P(BdRunSystemSignal, ChannelFileRemovedAfterSignal) {
  const int sig = GetParam();
  const std::string rc_file = tmp_ / "rc";
  const std::string script = env("FAKE_SLEEP=30") + " '" BD_RUN_PATH "' --system --qemu " + q(qemu_) +
                             " --no-plugin --kernel " + q(kernel()) + " </dev/null >" + q(tmp_ / "out") +
                             " 2>" + q(tmp_ / "err") + " & p=$!; i=0; while [ ! -s " + q(log_) +
                             " ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; "
                             "sleep 0.2; kill -" +
                             std::to_string(sig) + " $p; wait $p; echo $? > " + q(rc_file);
  ASSERT_EQ(std::system(script.c_str()), 0);
  EXPECT_EQ(slurp(rc_file), std::to_string(128 + sig) + "\n") << slurp(tmp_ / "err");
  const FakeLog log = read_fake_log(log_);
  ASSERT_FALSE(log.channel_file.empty());
  EXPECT_FALSE(fs::exists(log.channel_file)) << "left behind after signal " << sig;
}

INSTANTIATE_TEST_SUITE_P(IntTerm, BdRunSystemSignal, ::testing::Values(SIGINT, SIGTERM));

TEST_F(BdRunSystem, TraceSessionAroundTheVm) {
  ASSERT_EQ(lttng_session_daemon_alive(), 1)
      << "no lttng-sessiond is running: start one with `lttng-sessiond --daemonize` "
         "or run the tests through ./bdtrace test, which starts it";
  const std::string trace = tmp_ / "trace";
  const std::string name = "bdtrace-bdrunsys-" + std::to_string(::getpid());
  RunResult r = run_bd_run(tmp_,
                           "--system --trace " + q(trace) + " --session " + name + " --qemu " + q(qemu_) +
                               " --plugin /dev/null --kernel " + q(kernel()) + " </dev/null",
                           env("FAKE_EXIT=0 FAKE_LIST=" + q(tmp_ / "list")));
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(slurp(tmp_ / "list").find(name + " [active]"), std::string::npos)
      << "session not active while QEMU ran:\n"
      << slurp(tmp_ / "list");
  EXPECT_NE(r.err.find("bd-run: trace written to " + trace), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "guest-console-output\n");
  lttng_session* sessions = nullptr;
  const int n = lttng_list_sessions(&sessions);
  for (int i = 0; i < n; ++i) EXPECT_NE(std::string(sessions[i].name), name) << "session left behind";
  std::free(sessions);
  const FakeLog log = read_fake_log(log_);
  EXPECT_FALSE(log.channel_file.empty());
  EXPECT_FALSE(fs::exists(log.channel_file));
}

}  // namespace
}  // namespace bdtrace::bdrun
