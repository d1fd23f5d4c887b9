// The plugin's option parser and guest-program guess.
#include "bdtrace/plugin/options.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace bdtrace::plugin {
namespace {

// Parses args into o, or sets err to the error's message.
bool parse(std::initializer_list<const char *> args, Options &o, std::string &err) {
    Expected<Options> parsed = parse_options(static_cast<int>(args.size()), args.begin());
    if (!parsed) {
        err = parsed.error().message;
        return false;
    }
    o = std::move(*parsed);
    return true;
}

TEST(PluginOptions, Defaults) {
    Options o;
    std::string err;
    ASSERT_TRUE(parse({}, o, err));
    EXPECT_EQ(o.vm, "");  // each backend names its default ("user", "system")
    EXPECT_EQ(o.program, "");
    EXPECT_EQ(o.channel, "");
    EXPECT_FALSE(o.verbose);
}

TEST(PluginOptions, AllKeys) {
    Options o;
    std::string err;
    ASSERT_TRUE(parse({"program=/bin/app", "vm=guest1", "verbose=on"}, o, err)) << err;
    EXPECT_EQ(o.program, "/bin/app");
    EXPECT_EQ(o.vm, "guest1");
    EXPECT_TRUE(o.verbose);
    ASSERT_TRUE(parse({"verbose=off"}, o, err));
    EXPECT_FALSE(o.verbose);
}

TEST(PluginOptions, Channel) {
    Options o;
    std::string err;
    ASSERT_TRUE(parse({"channel=/dev/shm/bdtrace-x", "vm=vm1"}, o, err)) << err;
    EXPECT_EQ(o.channel, "/dev/shm/bdtrace-x");
    EXPECT_EQ(o.vm, "vm1");
    EXPECT_FALSE(parse({"channel="}, o, err));
    EXPECT_NE(err.find("channel= needs a value"), std::string::npos) << err;
    EXPECT_FALSE(parse({"chanel=/x"}, o, err));
    EXPECT_NE(err.find("channel=PATH"), std::string::npos) << err;  // usage lists it
}

TEST(PluginOptions, Errors) {
    Options o;
    std::string err;
    EXPECT_FALSE(parse({"bogus=1"}, o, err));
    EXPECT_NE(err.find("unknown plugin option 'bogus'"), std::string::npos) << err;
    EXPECT_FALSE(parse({"verbose=maybe"}, o, err));
    EXPECT_NE(err.find("verbose=on"), std::string::npos) << err;
    EXPECT_FALSE(parse({"noequals"}, o, err));
    EXPECT_FALSE(parse({"=x"}, o, err));
    EXPECT_FALSE(parse({"program="}, o, err));
    EXPECT_FALSE(parse({"vm="}, o, err));
}

TEST(PluginOptions, GuestProgramFromQemuArgs) {
    auto guess = [](std::initializer_list<std::string> a) {
        return guest_program_from_qemu_args(a.begin(), a.size());
    };
    EXPECT_EQ(guess({"qemu-x86_64", "./app", "arg"}), "./app");
    EXPECT_EQ(guess({"qemu-x86_64", "-plugin", "lib.so,verbose=on", "-d", "plugin",
                     "-strace", "/bin/ls", "-l"}), "/bin/ls");
    EXPECT_EQ(guess({"qemu-x86_64", "--cpu", "max", "--", "-weird"}), "-weird");
    EXPECT_EQ(guess({"qemu-x86_64", "-plugin"}), "");
    // Other guest architectures: same options (bd-run's command lines).
    EXPECT_EQ(guess({"/usr/bin/qemu-aarch64", "-plugin", "/b/lib/libbdtrace-qemu.so,vm=user",
                     "-E", "BD_RING=x", "-U", "LD_PRELOAD", "-L", "/usr/aarch64-linux-gnu",
                     "./app-aarch64", "-x"}), "./app-aarch64");
    EXPECT_EQ(guess({"qemu-riscv64", "-cpu", "rv64", "-B", "0x10000", "-R", "1G", "-s", "8M",
                     "-D", "/tmp/log", "-d", "plugin", "-strace", "-singlestep", "/bin/rv-app"}),
              "/bin/rv-app");
    EXPECT_EQ(guess({"qemu-x86_64"}), "");
}

}  // namespace
}  // namespace bdtrace::plugin
