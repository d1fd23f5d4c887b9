// SPDX-License-Identifier: MIT
// bd-run --system --program FILE --run 'CMD': the kernel argument that
// carries CMD, the checks on programs (unit), and the program itself (black
// box) with a fake qemu-system-x86_64 and a fake image builder
// (BD_RUN_BUILD_IMAGE) in a private image cache (BDTRACE_CACHE), so these
// tests need neither a kernel nor Debian's packages.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "bd_run_harness.h"
#include "temp_dir.h"
#include "vm_image.h"

#ifndef BD_MARK_PATH
#error "BD_MARK_PATH must name the (static) bd-mark binary"
#endif

namespace bdtrace::bdrun {
namespace {

namespace fs = std::filesystem;
using testing::run_bd_run;
using testing::RunResult;
using testing::slurp;
using testing::TempDir;

// ---- units --------------------------------------------------------------

TEST(VmImage, Base64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(VmImage, RunCommandKernelArg) {
  Expected<std::string> arg = run_command_kernel_arg("hello-vm 5 && bd-mark 3 bye");
  ASSERT_TRUE(arg.ok()) << arg.error();
  EXPECT_EQ(arg.value(), "bd.cmd=" + base64_encode("hello-vm 5 && bd-mark 3 bye"));
  EXPECT_EQ(arg.value().find(' '), std::string::npos) << "one kernel argument";

  Expected<std::string> empty = run_command_kernel_arg("  ");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("--run needs a command"), std::string::npos) << empty.error();

  EXPECT_TRUE(run_command_kernel_arg(std::string(kMaxRunCommand, 'x')).ok());
  Expected<std::string> long_one = run_command_kernel_arg(std::string(kMaxRunCommand + 1, 'x'));
  ASSERT_FALSE(long_one.ok());
  EXPECT_NE(long_one.error().message.find("put it in a script and add that with --program"),
            std::string::npos)
      << long_one.error();
}

TEST(VmImage, BootKernelArgs) {
  EXPECT_EQ(boot_kernel_args(true, "", "bd.cmd=eA=="), "bd.kmod=1 bd.cmd=eA==");
  EXPECT_EQ(boot_kernel_args(true, "loglevel=3", "bd.cmd=eA=="), "bd.kmod=1 loglevel=3 bd.cmd=eA==");
  EXPECT_EQ(boot_kernel_args(false, "bd.kmod=1", "bd.cmd=eA=="), "bd.kmod=1 bd.cmd=eA==");
  EXPECT_EQ(boot_kernel_args(false, "", ""), "");
}

TEST(VmImage, ProgramChecks) {
  TempDir tmp;
  EXPECT_TRUE(check_image_program(BD_MARK_PATH).ok()) << check_image_program(BD_MARK_PATH).error();

  const std::string script = tmp / "job.sh";
  std::ofstream(script) << "#!/bin/sh\necho hi\n";
  ::chmod(script.c_str(), 0755);
  EXPECT_TRUE(check_image_program(script).ok()) << check_image_program(script).error();

  Status dynamic = check_image_program("/bin/ls");
  ASSERT_FALSE(dynamic.ok());
  EXPECT_NE(dynamic.error().message.find("--program /bin/ls is dynamically linked (it needs the loader /lib"),
            std::string::npos)
      << dynamic.error();
  EXPECT_NE(dynamic.error().message.find("link it with -static, e.g. cc -static"), std::string::npos)
      << dynamic.error();

  const std::string text = tmp / "notes.txt";
  std::ofstream(text) << "just text\n";
  ::chmod(text.c_str(), 0755);
  Status not_elf = check_image_program(text);
  ASSERT_FALSE(not_elf.ok());
  EXPECT_NE(not_elf.error().message.find("not an ELF"), std::string::npos) << not_elf.error();

  ::chmod(script.c_str(), 0644);
  Status not_exec = check_image_program(script);
  ASSERT_FALSE(not_exec.ok());
  EXPECT_NE(not_exec.error().message.find("is not readable and executable"), std::string::npos)
      << not_exec.error();

  Status missing = check_image_program(tmp / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("No such file or directory"), std::string::npos) << missing.error();
}

// ---- the program, with a fake QEMU and a fake image builder ---------------

class BdRunVmImage : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    qemu_ = tmp_ / "fake-qemu-system";
    std::ofstream(qemu_) << "#!/bin/sh\n"
                            "printf '%s\\n' \"$@\" > \"$FAKE_LOG\"\n"
                            "echo guest-console-output\n"
                            "[ -n \"$FAKE_NO_STATUS\" ] || printf 'bd-init: run-status %s (bd.cmd)\\r\\n' "
                            "\"${FAKE_RUN_STATUS:-0}\"\n";
    ::chmod(qemu_.c_str(), 0755);
    // Writes what an image has, logs its arguments (one run per line) and
    // talks on stdout, which bd-run must send to its stderr.
    builder_ = tmp_ / "fake-build-image.sh";
    std::ofstream(builder_) << "#!/bin/sh\n"
                               "echo \"$*\" >> \"$FAKE_BUILDER_LOG\"\n"
                               "echo fake-builder-progress\n"
                               "mkdir -p \"$1\" && echo kernel > \"$1/vmlinuz\"\n"
                               "echo initrd > \"$1/initramfs.cpio.gz\"\n"
                               "exit ${FAKE_BUILDER_EXIT:-0}\n";
    ::chmod(builder_.c_str(), 0755);
    program_ = tmp_ / "hello";
    std::ofstream(program_) << "#!/bin/sh\necho hello from the guest\n";
    ::chmod(program_.c_str(), 0755);
  }

  std::string q(const std::string& s) const { return "'" + s + "'"; }
  std::string cache() const { return tmp_ / "cache"; }
  std::string env(const std::string& more = "") const {
    return "FAKE_LOG=" + q(tmp_ / "qemu.log") + " FAKE_BUILDER_LOG=" + q(tmp_ / "builder.log") +
           " BD_RUN_BUILD_IMAGE=" + q(builder_) + " BDTRACE_CACHE=" + q(cache()) + " " + more;
  }
  RunResult bd_run(const std::string& args, const std::string& more_env = "") {
    return run_bd_run(tmp_, "--qemu " + q(qemu_) + " --plugin /dev/null " + args + " </dev/null",
                      env(more_env));
  }
  std::vector<std::string> qemu_args() const {
    std::vector<std::string> out;
    std::istringstream in(slurp(tmp_ / "qemu.log"));
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  std::string after(const std::vector<std::string>& args, const std::string& flag) const {
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == flag) return args[i + 1];
    }
    return "";
  }
  std::vector<std::string> builder_runs() const {
    std::vector<std::string> out;
    std::istringstream in(slurp(tmp_ / "builder.log"));
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  bool cache_is_empty() const {
    return !fs::exists(cache() + "/vm-images") || fs::is_empty(cache() + "/vm-images");
  }

  TempDir tmp_;
  std::string qemu_, builder_, program_;
};

TEST_F(BdRunVmImage, ProgramAndRunNeedSystem) {
  RunResult r = bd_run("--program " + q(program_) + " /bin/true");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(
      r.err.find(
          "bd-run: error: --program needs --system: it runs a program in a VM bd-run boots (in user mode "
          "the program goes last"),
      std::string::npos)
      << r.err;
  r = bd_run("--run 'hello' /bin/true");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("bd-run: error: --run needs --system"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "qemu.log"));
}

TEST_F(BdRunVmImage, ProgramNeedsRun) {
  RunResult r = bd_run("--system --program " + q(program_));
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--program needs --run 'CMD': the command to run in the VM, e.g. --run 'hello'"),
            std::string::npos)
      << r.err;
}

TEST_F(BdRunVmImage, ProgramExcludesKernel) {
  std::ofstream(tmp_ / "vmlinuz") << "k";
  RunResult r = bd_run("--system --program " + q(program_) + " --run hello --kernel " + q(tmp_ / "vmlinuz"));
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--program boots an image bd-run builds"), std::string::npos) << r.err;
}

TEST_F(BdRunVmImage, EmptyOrLongRunIsAUsageError) {
  RunResult r = bd_run("--system --run ''");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--run needs a command to run in the VM"), std::string::npos) << r.err;
  r = bd_run("--system --run " + std::string(kMaxRunCommand + 1, 'x'));
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("fit on the kernel command line"), std::string::npos) << r.err;
  EXPECT_TRUE(builder_runs().empty());
}

TEST_F(BdRunVmImage, DynamicProgramIsRefusedBeforeAnythingStarts) {
  RunResult r = bd_run("--system --program /bin/ls --run 'ls /'");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("bd-run: error: --program /bin/ls is dynamically linked"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cc -static"), std::string::npos) << r.err;
  EXPECT_TRUE(builder_runs().empty()) << "no image may be built";
  EXPECT_FALSE(fs::exists(tmp_ / "qemu.log")) << "QEMU must not start";
  EXPECT_TRUE(cache_is_empty());
}

TEST_F(BdRunVmImage, TwoProgramsOfOneNameAreRefused) {
  fs::create_directories(tmp_ / "other");
  fs::copy_file(program_, tmp_ / "other/hello");
  RunResult r =
      bd_run("--system --program " + q(program_) + " --program " + q(tmp_ / "other/hello") + " --run hello");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("the image already has a /bin/hello"), std::string::npos) << r.err;
  r = bd_run("--system --program " BD_MARK_PATH " --run bd-mark");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("bd-run adds its own bd-mark"), std::string::npos) << r.err;
}

// --system --arch aarch64: the image is an aarch64 one (the builder is told,
// bd-mark comes from the build's bin/aarch64), the VM a virt machine with
// the PL011 console, and an x86_64 program is refused for it.
TEST_F(BdRunVmImage, Aarch64ImageAndMachine) {
  const std::string a64_bd_mark =
      (fs::path(BD_MARK_PATH).parent_path() / "aarch64" / "bd-mark").lexically_normal().string();
  if (!fs::exists(a64_bd_mark)) GTEST_SKIP() << "no aarch64 cross build (" << a64_bd_mark << ")";
  RunResult r = bd_run("--system --arch aarch64 --program " + q(program_) + " --run 'hello'");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::vector<std::string> runs = builder_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_NE(runs[0].find(" --arch aarch64 --debs " + cache() + "/vm-debs "), std::string::npos) << runs[0];
  const std::string rest = " --programs " + program_ + " --programs " + a64_bd_mark;
  ASSERT_GT(runs[0].size(), rest.size());
  EXPECT_EQ(runs[0].substr(runs[0].size() - rest.size()), rest);
  const std::vector<std::string> args = qemu_args();
  ASSERT_GE(args.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(args.begin(), args.begin() + 4),
            (std::vector<std::string>{"-M", "virt", "-cpu", "cortex-a57"}));
  EXPECT_EQ(after(args, "-append"),
            "console=ttyAMA0 quiet panic=-1 bd.kmod=1 bd.cmd=" + base64_encode("hello"));

  // The same program in an x86_64 image is another image (the key covers
  // the architecture).
  r = bd_run("--system --program " + q(program_) + " --run 'hello'");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(builder_runs().size(), 2u);

  r = bd_run("--system --arch aarch64 --program " BD_MARK_PATH " --run 'bd-mark 1'");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--program " BD_MARK_PATH " is an x86_64 program (the aarch64 VM runs static aarch64 "
                       "programs and #! scripts)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(builder_runs().size(), 2u) << "no image may be built for it";
}

TEST_F(BdRunVmImage, BuildsOnceThenBootsFromTheCache) {
  RunResult r =
      bd_run("--system --vm v1 --program " + q(program_) + " --append loglevel=3 --run 'hello && bd-mark 1'");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.out, "guest-console-output\nbd-init: run-status 0 (bd.cmd)\r\n")
      << "the builder's output belongs on stderr";
  EXPECT_NE(r.err.find("bd-run: building a VM image with hello, bd-mark in " + cache() + "/vm-images/"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("fake-builder-progress"), std::string::npos) << r.err;

  const std::vector<std::string> args = qemu_args();
  const std::string kernel = after(args, "-kernel");
  const std::smatch m = [&] {
    std::smatch sm;
    std::regex_match(kernel, sm,
                     std::regex(std::regex_replace(cache(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                                "/vm-images/([0-9a-f]{16})/vmlinuz"));
    return sm;
  }();
  ASSERT_FALSE(m.empty()) << kernel;
  const std::string dir = cache() + "/vm-images/" + m[1].str();
  EXPECT_EQ(after(args, "-initrd"), dir + "/initramfs.cpio.gz");
  EXPECT_EQ(after(args, "-append"), "console=ttyS0 quiet panic=-1 bd.kmod=1 loglevel=3 bd.cmd=" +
                                        base64_encode("hello && bd-mark 1"));

  // The builder wrote into a temporary directory next to the image, with
  // the shared .deb cache, the program and bd-mark.
  std::vector<std::string> runs = builder_runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].rfind(dir + ".tmp-", 0), 0u) << runs[0];
  const std::string rest =
      " --debs " + cache() + "/vm-debs --programs " + program_ + " --programs " BD_MARK_PATH;
  ASSERT_GT(runs[0].size(), rest.size());
  EXPECT_EQ(runs[0].substr(runs[0].size() - rest.size()), rest);
  EXPECT_TRUE(fs::exists(dir + "/.bd-run-image"));
  for (const fs::directory_entry& e : fs::directory_iterator(cache() + "/vm-images")) {
    EXPECT_EQ(e.path().string(), dir) << "only the finished image is left";
  }

  // The same inputs again: no build, the same image.
  r = bd_run("--system --vm v1 --program " + q(program_) + " --run 'hello'");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.err.find("bd-run: VM image with hello, bd-mark: " + dir + " (cached)"), std::string::npos)
      << r.err;
  EXPECT_EQ(builder_runs().size(), 1u);
  EXPECT_EQ(after(qemu_args(), "-kernel"), dir + "/vmlinuz");

  // A changed program is another image.
  std::ofstream(program_, std::ios::app) << "echo changed\n";
  r = bd_run("--system --vm v1 --program " + q(program_) + " --run 'hello'");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(builder_runs().size(), 2u);
  EXPECT_NE(after(qemu_args(), "-kernel"), dir + "/vmlinuz");
}

TEST(VmImage, ParseRunStatus) {
  EXPECT_EQ(parse_run_status("bd-init: run-status 0 (bd.cmd)"), 0);
  EXPECT_EQ(parse_run_status("bd-init: run-status 127 (/etc/bd/x.sh)"), 127);
  EXPECT_EQ(parse_run_status("bd-init: run-status 3"), 3);
  EXPECT_EQ(parse_run_status("bd-init: run-status 256 (bd.cmd)"), std::nullopt);
  EXPECT_EQ(parse_run_status("bd-init: run-status x"), std::nullopt);
  EXPECT_EQ(parse_run_status("bd-init: run-status 3x"), std::nullopt);
  EXPECT_EQ(parse_run_status("guest says bd-init: run-status 3"), std::nullopt);
  EXPECT_EQ(run_command_exit_status(0, 5), 5);
  EXPECT_EQ(run_command_exit_status(130, 5), 130) << "QEMU's (or a signal's) status wins";
  EXPECT_EQ(run_command_exit_status(0, std::nullopt), 1);
}

TEST_F(BdRunVmImage, ExitStatusIsTheCommands) {
  RunResult r = bd_run("--system --run 'exit 3'", "FAKE_RUN_STATUS=3");
  EXPECT_EQ(r.exit_status, 3) << r.err;
  EXPECT_EQ(r.out, "guest-console-output\nbd-init: run-status 3 (bd.cmd)\r\n")
      << "the console passes unchanged";

  RunResult silent = bd_run("--system --run 'true'", "FAKE_NO_STATUS=1");
  EXPECT_EQ(silent.exit_status, 1);
  EXPECT_NE(silent.err.find("bd-run: error: the guest never said how --run's command ended"),
            std::string::npos)
      << silent.err;
}

TEST_F(BdRunVmImage, RunAloneBootsAnImageWithBdMark) {
  RunResult r = bd_run("--system --run 'bd-mark 7 hi'");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.err.find("bd-run: building a VM image with bd-mark in"), std::string::npos) << r.err;
  EXPECT_EQ(after(qemu_args(), "-append"),
            "console=ttyS0 quiet panic=-1 bd.kmod=1 bd.cmd=" + base64_encode("bd-mark 7 hi"));
}

TEST_F(BdRunVmImage, FailedBuildLeavesNothingAndBootsNothing) {
  RunResult r = bd_run("--system --program " + q(program_) + " --run hello", "FAKE_BUILDER_EXIT=3");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(
      r.err.find("building the VM image failed (" + builder_ + " exited with 3; its messages are above)"),
      std::string::npos)
      << r.err;
  // bd-run asked QEMU for its version (which plugin build it loads) before
  // building, but never booted it.
  EXPECT_EQ(after(qemu_args(), "-kernel"), "") << "QEMU must not boot";
  EXPECT_TRUE(cache_is_empty()) << "no half image may stay in the cache";
}

TEST_F(BdRunVmImage, RunWithOwnKernelOnlyAddsTheCommand) {
  std::ofstream(tmp_ / "vmlinuz") << "k";
  std::ofstream(tmp_ / "initrd.gz") << "i";
  RunResult r = bd_run("--system --kernel " + q(tmp_ / "vmlinuz") + " --initrd " + q(tmp_ / "initrd.gz") +
                       " --append bd.kmod=1 --run 'uname -a'");
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const std::vector<std::string> args = qemu_args();
  EXPECT_EQ(after(args, "-kernel"), tmp_ / "vmlinuz");
  EXPECT_EQ(after(args, "-append"),
            "console=ttyS0 quiet panic=-1 bd.kmod=1 bd.cmd=" + base64_encode("uname -a"));
  EXPECT_TRUE(builder_runs().empty());
}

}  // namespace
}  // namespace bdtrace::bdrun
