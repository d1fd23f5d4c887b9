// SPDX-License-Identifier: MIT
// bd-run's channel choice (--channel trap|ring|both|auto, --native): what it
// concludes from QEMU's answers and from the guest binary, and the usage
// errors. Pure functions and the bd-run binary as a black box; the real
// runs are in tests/e2e/ring_e2e_test.cc.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "bd_run_harness.h"
#include "channel_choice.h"
#include "plugin_api.h"
#include "ring_run.h"
#include "temp_dir.h"

namespace bdtrace::bdrun {
namespace {

using testing::run_bd_run;
using testing::TempDir;

QemuCapabilities caps(int major, int minor, bool plugin_option) {
  QemuCapabilities c;
  c.known = true;
  c.major = major;
  c.minor = minor;
  c.version = std::to_string(major) + "." + std::to_string(minor);
  c.plugin_option = plugin_option;
  return c;
}

TEST(QemuProbe, ParsesDebianVersionLines) {
  QemuCapabilities c = parse_qemu_version(
      "qemu-x86_64 version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)\nCopyright (c) 2003-2025 ...\n");
  EXPECT_TRUE(c.known);
  EXPECT_EQ(c.major, 10);
  EXPECT_EQ(c.minor, 0);
  EXPECT_EQ(c.version, "10.0.2");
  EXPECT_FALSE(parse_qemu_version("guest-output\n").known);
}

TEST(QemuProbe, FindsThePluginOptionInHelp) {
  EXPECT_TRUE(
      help_lists_plugin("usage: qemu-x86_64 ...\n-plugin              QEMU_PLUGIN       [file=]<file>\n"));
  EXPECT_FALSE(help_lists_plugin("usage: qemu-x86_64 ...\n-d item1[,...]  QEMU_LOG   enable logging\n"));
}

TEST(ChannelChoice, AutoTakesTheTrapOnlyWhereThePluginLoads) {
  EXPECT_EQ(choose_channel(ChannelChoice::Auto, caps(7, 2, true), "q").value(), Channel::Trap);
  EXPECT_EQ(choose_channel(ChannelChoice::Auto, caps(8, 2, true), "q").value(), Channel::Trap);
  EXPECT_EQ(choose_channel(ChannelChoice::Auto, caps(10, 0, false), "q").value(), Channel::Ring);
  // QEMU >= 9.0 refuses API v1, but bd-run loads the build of its generation.
  EXPECT_EQ(choose_channel(ChannelChoice::Auto, caps(10, 2, true), "q").value(), Channel::Trap);
  EXPECT_EQ(choose_channel(ChannelChoice::Auto, caps(9, 0, true), "q").value(), Channel::Trap);
  // A QEMU that did not answer like one (a wrapper): keep the trap.
  EXPECT_EQ(choose_channel(ChannelChoice::Auto, QemuCapabilities{}, "q").value(), Channel::Trap);
}

TEST(ChannelChoice, TrapOnAQemuThatCannotLoadThePluginSaysWhy) {
  auto no_plugins = choose_channel(ChannelChoice::Trap, caps(10, 0, false), "/opt/q10");
  ASSERT_FALSE(no_plugins.ok());
  EXPECT_NE(no_plugins.error().message.find("/opt/q10 cannot load the bdtrace plugin"), std::string::npos);
  EXPECT_NE(no_plugins.error().message.find("without plugin support"), std::string::npos);
  EXPECT_NE(no_plugins.error().message.find("--channel ring"), std::string::npos);
  auto both = choose_channel(ChannelChoice::Both, caps(11, 1, false), "q11");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("--channel both: q11 cannot load the bdtrace plugin"),
            std::string::npos);
  EXPECT_EQ(choose_channel(ChannelChoice::Both, caps(9, 0, true), "q9").value(), Channel::Both);
  auto too_old = choose_channel(ChannelChoice::Trap, caps(6, 2, true), "/usr/bin/q6");
  ASSERT_FALSE(too_old.ok());
  EXPECT_NE(too_old.error().message.find("QEMU 6.2 is older than 7.2"), std::string::npos) << too_old.error();
  EXPECT_NE(too_old.error().message.find("--channel ring"), std::string::npos);
  EXPECT_EQ(choose_channel(ChannelChoice::Auto, caps(7, 1, true), "q").value(), Channel::Ring);
  // QEMU 11.1 loads plugins of API 7 only: the v7 build.
  EXPECT_EQ(choose_channel(ChannelChoice::Trap, caps(11, 1, true), "/opt/q11").value(), Channel::Trap);
  EXPECT_EQ(choose_channel(ChannelChoice::Auto, caps(11, 1, true), "q").value(), Channel::Trap);
  EXPECT_EQ(choose_channel(ChannelChoice::Auto, caps(11, 0, true), "q").value(), Channel::Trap);
  EXPECT_EQ(choose_channel(ChannelChoice::Ring, caps(7, 2, true), "q").value(), Channel::Ring);
}

// One plugin build per QEMU plugin API generation; the version decides.
TEST(PluginApi, EachQemuReleaseGetsItsGeneration) {
  EXPECT_EQ(plugin_api_for(caps(7, 2, true)), 1);
  EXPECT_EQ(plugin_api_for(caps(8, 2, true)), 1);
  EXPECT_EQ(plugin_api_for(caps(9, 0, true)), 2);
  EXPECT_EQ(plugin_api_for(caps(9, 1, true)), 3);
  EXPECT_EQ(plugin_api_for(caps(9, 2, true)), 4);
  EXPECT_EQ(plugin_api_for(caps(10, 0, true)), 4);
  EXPECT_EQ(plugin_api_for(caps(10, 1, true)), 5);
  EXPECT_EQ(plugin_api_for(caps(10, 2, true)), 5);
  EXPECT_EQ(plugin_api_for(caps(11, 0, true)), 6);
  EXPECT_EQ(plugin_api_for(caps(11, 1, true)), 7);
  EXPECT_EQ(plugin_api_for(caps(11, 2, true)), 7);
  EXPECT_EQ(plugin_api_for(QemuCapabilities{}), 1);
  EXPECT_EQ(plugin_file_name(1), "libbdtrace-qemu.so");
  EXPECT_EQ(plugin_file_name(4), "libbdtrace-qemu-v4.so");
  EXPECT_EQ(plugin_file_name(7), "libbdtrace-qemu-v7.so");
}

TEST(RingEnvironment, ReplacesAnyBdRing) {
  const std::vector<std::string> env = with_ring_env({"A=1", "BD_RING=/old", "BD_RINGX=2"}, "/dev/shm/r");
  EXPECT_EQ(env, (std::vector<std::string>{"A=1", "BD_RINGX=2", "BD_RING=/dev/shm/r"}));
}

TEST(GuestRingSupport, TellsOldLibrariesFromNone) {
  TempDir tmp;
  const std::string none = tmp / "none", old = tmp / "old", fresh = tmp / "fresh";
  std::ofstream(none) << "ELF nothing here";
  std::ofstream(old) << "ELF ... BD_DEVICE ... /sys/bus/pci";
  std::ofstream(fresh) << "ELF ... BD_DEVICE ... bdguest-ring-abi-1 ...";
  EXPECT_EQ(guest_ring_support(none), GuestRingSupport::NoLibbdguest);
  EXPECT_EQ(guest_ring_support(old), GuestRingSupport::TooOld);
  EXPECT_EQ(guest_ring_support(fresh), GuestRingSupport::Yes);
}

TEST(BdRunChannel, UsageErrors) {
  TempDir tmp;
  struct Case {
    std::string args, message;
  };
  for (const Case& c :
       {Case{"--channel fast /bin/true", "--channel fast is invalid"},
        Case{"--native --channel trap /bin/true", "--native needs the ring channel"},
        Case{"--native --qemu /usr/bin/qemu-x86_64 /bin/true", "--native runs no QEMU"},
        Case{"--system --channel both", "--system --channel both is not supported"},
        Case{"--system --accel kvm --kernel /dev/null", "KVM has no TCG plugins: use --channel ring"},
        Case{"--system --accel arm --kernel /dev/null", "--accel arm is invalid"},
        Case{"--accel kvm /bin/true", "--accel needs --system"},
        Case{"--system --channel ring --rings 2 --smp 2 --kernel /dev/null", "leaves no user ring"},
        Case{"--system --channel ring --no-plugin --kernel /dev/null", "loads no plugin"},
        Case{"--native --system", "cannot be combined with --system"},
        Case{"--ring-slots 100 /bin/true", "--ring-slots must be a power of two"},
        Case{"--rings 3 /bin/true", "--rings must be a power of two"}}) {
    SCOPED_TRACE(c.args);
    auto r = run_bd_run(tmp, c.args);
    EXPECT_EQ(r.exit_status, 2);
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

TEST(BdRunChannel, ABadFilterIsRefusedBeforeTheRingStarts) {
  TempDir tmp;
  std::ofstream(tmp / "bad.txtpb") << "rule { action: NOPE }\n";
  auto r = run_bd_run(tmp, "--native --filter '" + (tmp / "bad.txtpb") + "' /bin/true");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("bad.txtpb:1:"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bdtrace::bdrun
