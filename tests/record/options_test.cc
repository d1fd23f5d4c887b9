// SPDX-License-Identifier: MIT
// The plugin's option parser and guest-program guess.
#include "bdtrace/plugin/options.h"

#include <gtest/gtest.h>

#include <string>

namespace bdtrace::plugin {
namespace {

Expected<Options> parse(std::initializer_list<const char *> args) {
  return parse_options(static_cast<int>(args.size()), args.begin());
}

// The message parse_options refuses `args` with ("" and a failure if it
// accepts them).
std::string refusal(std::initializer_list<const char *> args) {
  const Expected<Options> o = parse(args);
  EXPECT_FALSE(o) << *args.begin();
  return o ? std::string() : o.error().message;
}

TEST(PluginOptions, Defaults) {
  const Expected<Options> o = parse({});
  ASSERT_TRUE(o) << o.error();
  EXPECT_EQ(o->vm, "");  // each backend names its default ("user", "system")
  EXPECT_EQ(o->program, "");
  EXPECT_EQ(o->channel, "");
  EXPECT_FALSE(o->verbose);
}

TEST(PluginOptions, AllKeys) {
  const Expected<Options> o = parse({"program=/bin/app", "vm=guest1", "verbose=on"});
  ASSERT_TRUE(o) << o.error();
  EXPECT_EQ(o->program, "/bin/app");
  EXPECT_EQ(o->vm, "guest1");
  EXPECT_TRUE(o->verbose);
  const Expected<Options> off = parse({"verbose=off"});
  ASSERT_TRUE(off) << off.error();
  EXPECT_FALSE(off->verbose);
}

TEST(PluginOptions, Channel) {
  const Expected<Options> o = parse({"channel=/dev/shm/bdtrace-x", "vm=vm1"});
  ASSERT_TRUE(o) << o.error();
  EXPECT_EQ(o->channel, "/dev/shm/bdtrace-x");
  EXPECT_EQ(o->vm, "vm1");
  std::string err = refusal({"channel="});
  EXPECT_NE(err.find("channel= needs a value"), std::string::npos) << err;
  err = refusal({"chanel=/x"});
  EXPECT_NE(err.find("channel=PATH"), std::string::npos) << err;  // usage lists it
}

TEST(PluginOptions, Errors) {
  std::string err = refusal({"bogus=1"});
  EXPECT_NE(err.find("unknown plugin option 'bogus'"), std::string::npos) << err;
  err = refusal({"verbose=maybe"});
  EXPECT_NE(err.find("verbose=on"), std::string::npos) << err;
  EXPECT_FALSE(parse({"noequals"}));
  EXPECT_FALSE(parse({"=x"}));
  EXPECT_FALSE(parse({"program="}));
  EXPECT_FALSE(parse({"vm="}));
}

TEST(PluginOptions, GuestProgramFromQemuArgs) {
  auto guess = [](std::initializer_list<std::string> a) {
    return guest_program_from_qemu_args(a.begin(), a.size());
  };
  EXPECT_EQ(guess({"qemu-x86_64", "./app", "arg"}), "./app");
  EXPECT_EQ(
      guess({"qemu-x86_64", "-plugin", "lib.so,verbose=on", "-d", "plugin", "-strace", "/bin/ls", "-l"}),
      "/bin/ls");
  EXPECT_EQ(guess({"qemu-x86_64", "--cpu", "max", "--", "-weird"}), "-weird");
  EXPECT_EQ(guess({"qemu-x86_64", "-plugin"}), "");
  // Other guest architectures: same options (bd-run's command lines).
  EXPECT_EQ(guess({"/usr/bin/qemu-aarch64", "-plugin", "/b/lib/libbdtrace-qemu.so,vm=user", "-E", "BD_RING=x",
                   "-U", "LD_PRELOAD", "-L", "/usr/aarch64-linux-gnu", "./app-aarch64", "-x"}),
            "./app-aarch64");
  EXPECT_EQ(guess({"qemu-riscv64", "-cpu", "rv64", "-B", "0x10000", "-R", "1G", "-s", "8M", "-D", "/tmp/log",
                   "-d", "plugin", "-strace", "-singlestep", "/bin/rv-app"}),
            "/bin/rv-app");
  EXPECT_EQ(guess({"qemu-x86_64"}), "");
}

}  // namespace
}  // namespace bdtrace::plugin
