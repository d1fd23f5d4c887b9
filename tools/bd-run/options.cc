// SPDX-License-Identifier: MIT
#include "options.h"

#include <CLI/CLI.hpp>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "bdtrace/status.h"
#include "relayd.h"
#include "vm_image.h"

namespace bdtrace::bdrun {
namespace {

constexpr const char* kDescription =
    "bd-run: run an x86_64 program under qemu-x86_64 with the bdtrace plugin (aarch64\n"
    "and riscv64 programs under qemu-aarch64, qemu-riscv64), or (--system) boot a VM\n"
    "under qemu-system-x86_64 (--arch aarch64: qemu-system-aarch64) with the plugin\n"
    "and the bdtrace channel device, and with --trace record the bd_mark events into\n"
    "an LTTng trace.\n"
    "\n"
    "Channels (--channel): 'trap' = the guest's calls trap into the bdtrace QEMU\n"
    "plugin (needs a QEMU built with plugin support: Debian 12's qemu-user 7.2, or\n"
    "any QEMU from 7.2 on built with plugins, e.g. by ./bdtrace qemu 10.2; bd-run\n"
    "loads the plugin build of the QEMU's plugin API generation, from its version);\n"
    "'ring' = the guest writes records into shared-memory\n"
    "rings in a file bd-run creates in /dev/shm (named to the guest in BD_RING), and\n"
    "bd-run's helper bd-ring-consumer turns them into the same events: no plugin, any\n"
    "QEMU. 'auto' (default) = the trap when the QEMU can load the plugin, the ring\n"
    "otherwise (bd-run asks QEMU for its version and options first). --native runs\n"
    "PROGRAM directly on the host with the ring. The ring needs a guest linked with\n"
    "this libbdguest (older ones only know the trap). 'both' loads the plugin and\n"
    "offers the ring: libbdguest uses the ring, raw traps still reach the plugin (for\n"
    "comparing the two channels' timestamps).\n"
    "\n"
    "With --trace DIR, bd-run creates its own LTTng session (through the running\n"
    "lttng-sessiond) writing to DIR, starts it, runs QEMU, stops and destroys the\n"
    "session, and reports events the tracer had to discard. The session records\n"
    "only the processes bd-run starts and their children (they join it through the\n"
    "socket named in BD_SESSION_JOIN), not other tracing runs. Without --trace it\n"
    "only runs QEMU with the plugin (events are recorded only if some other LTTng\n"
    "session enables bdtrace:*).\n"
    "\n"
    "With --live the session is a live one, streamed through the lttng-relayd on this\n"
    "host (bd-run starts one when none listens, and stops it at the end); bd-run says\n"
    "on stderr how to follow it: bd-analyze --live net://localhost/host/HOST/SESSION.\n"
    "The relay daemon writes the trace too: with --trace DIR, one bd-run starts\n"
    "writes it under DIR/HOST/SESSION-DATE/ (a relay daemon that already runs: its\n"
    "own output directory, by default ~/lttng-traces). babeltrace2's live reader\n"
    "starts at the newest data: one that attaches late misses what came before;\n"
    "--live-wait holds the guest until a reader follows the session.\n"
    "\n"
    "With --relayd URL (net://HOST, or net://HOST:CONTROL_PORT:DATA_PORT; net6://\n"
    "for IPv6) the session streams to the lttng-relayd at URL instead of writing\n"
    "locally: a normal network session, or a live one with --live (then followed at\n"
    "net://HOST/host/THIS_HOST/SESSION, the relay daemon's live port). The relay\n"
    "daemon is someone else's, on this host or another: bd-run never starts or stops\n"
    "it, and says what to do when nothing listens at URL. It writes the trace into its\n"
    "output directory under THIS_HOST/SESSION-DATE/ (bd-run says where on stderr);\n"
    "several bd-run, here or on other hosts, can stream to one relay daemon, and\n"
    "bd-analyze OUTPUT_DIR merges their runs into one report with a vm column.\n"
    "--trace does not go with --relayd (the relay daemon decides where it writes).\n"
    "\n"
    "User mode: the program's stdin/stdout/stderr are its own; bd-run's messages go\n"
    "to stderr. The exit status is the program's (128+N if it was killed by signal\n"
    "N), 2 when bd-run could not start it, or 3 when it succeeded but the trace is\n"
    "incomplete because a part of tracing failed (the session daemon ended, the\n"
    "trace's filesystem filled up, the ring consumer died: the warnings say which).\n"
    "A script (#! line) runs through its\n"
    "interpreter (QEMU loads ELF programs only): bd-run -- ./job.sh runs\n"
    "'/bin/sh ./job.sh' under QEMU. qemu-x86_64 does not follow execve: programs the\n"
    "guest execs (a script's bd-mark calls) run natively; with the trap channel\n"
    "bd-run also offers them a ring (BD_RING_EXEC), which libbdguest takes where no\n"
    "plugin answers its trap, so their marks arrive too. The guest's LD_LIBRARY_PATH\n"
    "gets the directory of libbdguest.so (this build's lib/, or the installed\n"
    "libdir) for programs linked with -lbdguest. At the end bd-run reports a guest\n"
    "that exited with 127 before any mark as a failure to start, and warns when no\n"
    "mark of the guest arrived at all.\n"
    "\n"
    "System mode (--system): bd-run runs\n"
    "  qemu-system-x86_64 -accel tcg -smp N -m SIZE -display none -parallel none\n"
    "    -no-reboot -monitor none -serial stdio [-kernel K [-initrd I] -append ARGS]\n"
    "    -object memory-backend-file,...,mem-path=/dev/shm/bdtrace-...,share=on\n"
    "    -device ivshmem-plain,memdev=bdchan\n"
    "    -plugin PLUGIN,channel=/dev/shm/bdtrace-...,vm=NAME [QEMU_ARGS...]\n"
    "The channel file is created for the run and removed afterwards.\n"
    "With --channel ring there is no plugin and no channel device: the ring region\n"
    "(--smp kernel rings, then user rings; padded to a power of two) is the\n"
    "ivshmem device's memory (-object memory-backend-file,id=bdring,...), and\n"
    "bd-ring-consumer --mode system drains it; --accel kvm needs the ring. The guest's\n"
    "serial console is bd-run's stdout; QEMU's stdin is /dev/null unless bd-run's\n"
    "stdin is a terminal. bd-run returns when the guest powers off (QEMU exits),\n"
    "with QEMU's exit status. The kernel command line is\n"
    "'console=ttyS0 quiet panic=-1' followed by --append. On a terminal the console\n"
    "is interactive: Ctrl-A X quits QEMU.\n"
    "--arch aarch64 boots qemu-system-aarch64 -M virt -cpu cortex-a57 with the same\n"
    "options, console=ttyAMA0 instead of ttyS0, and an aarch64 image for --program\n"
    "(whose programs must then be static aarch64 ones); both channels (the ring's\n"
    "clock sync reads cntvct_el0 there).\n"
    "\n"
    "Your own programs (--program FILE, repeatable, with --run 'CMD'): bd-run\n"
    "builds a VM image with tools/vm/build-image.sh (Debian's kernel, the bd_sched\n"
    "module, busybox) holding them and bd-mark in /bin, boots it with bd.kmod=1 and\n"
    "runs CMD with the guest's sh as root; the guest powers off after it and prints\n"
    "'bd-init: run-status N', and bd-run exits with N (CMD's exit status).\n"
    "Programs must be static (cc -static ...) or #! scripts:\n"
    "the image has no C library; a dynamically linked one is refused. Images are\n"
    "cached by their inputs in $BDTRACE_CACHE/vm-images (default\n"
    "~/.cache/bdtrace/vm-images); the first build downloads Debian packages\n"
    "(kept in vm-debs beside it). BD_RUN_BUILD_IMAGE=PATH uses another builder.\n"
    "--run with --kernel/--initrd passes CMD to an image of build-image.sh's.\n"
    "\n"
    "Examples:\n"
    "  bd-run --trace /tmp/trace -- ./my-program --its-flag\n"
    "  bd-run --system --trace /tmp/vmtrace --kernel vmlinuz --initrd initramfs.cpio.gz\n"
    "  bd-run --system --no-plugin --kernel vmlinuz --initrd initrd.gz -- -rtc base=utc\n"
    "  bd-run --system --trace /tmp/vm --program ./my-static-prog --run 'my-static-prog 3'\n"
    "  bd-run --system --arch aarch64 --trace /tmp/vm --run 'bd-mark hello'\n"
    "  bd-run --trace /tmp/trace --filter only-marks.txtpb -- ./my-program\n"
    "  bd-run --qemu /opt/qemu-10/qemu-x86_64 --trace /tmp/trace -- ./my-program   # ring\n"
    "  bd-run --native --trace /tmp/trace -- ./my-program\n"
    "  babeltrace2 /tmp/trace      # or: bd-analyze /tmp/trace\n";

constexpr uint64_t kMinMemoryMib = 16;
constexpr uint64_t kMaxMemoryMib = 1024 * 1024;  // 1 TiB
constexpr unsigned kMaxSmp = 64;                 // BD_CHANNEL_KERNEL_SLOTS

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// CLI11 2.1 has no App::usage(); its default usage line omits PROGRAM.
class Formatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App*, std::string) const override {
    return "\nUsage: bd-run [OPTIONS] [--] PROGRAM [ARGS...]\n"
           "       bd-run --system [OPTIONS] [--program FILE]... [--run CMD] [-- QEMU_ARGS...]\n";
  }
};

std::optional<unsigned> parse_smp(const std::string& text) {
  if (text.empty() || text.size() > 3 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const unsigned n = static_cast<unsigned>(std::stoul(text));
  if (n < 1 || n > kMaxSmp) return std::nullopt;
  return n;
}

}  // namespace

std::optional<uint64_t> parse_memory_mib(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  const uint64_t number = std::stoull(text.substr(0, digits));
  // Every valid size is at most 2^30 of its unit (1 TiB in KiB): larger
  // numbers are rejected before they could overflow below.
  if (number > (uint64_t{1} << 30)) return std::nullopt;
  std::string suffix = text.substr(digits);
  for (char& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (suffix.size() == 2 && suffix[1] == 'B') suffix.pop_back();  // "512MB"
  uint64_t kib;  // the size in KiB; QEMU reads a bare number as MiB
  if (suffix.empty() || suffix == "M") {
    kib = number * 1024;
  } else if (suffix == "K") {
    kib = number;
  } else if (suffix == "G") {
    kib = number * 1024 * 1024;
  } else if (suffix == "T") {
    kib = number * 1024 * 1024 * 1024;
  } else {
    return std::nullopt;
  }
  if (kib % 1024 != 0) return std::nullopt;
  const uint64_t mib = kib / 1024;
  if (mib < kMinMemoryMib || mib > kMaxMemoryMib) return std::nullopt;
  return mib;
}

namespace {

// What CLI11 fills in; the checks below turn it into RunOptions.
struct Parsed {
  RunOptions o;
  SystemOptions sys;
  std::vector<std::string> raw_plugin_args;
  bool system = false;
  std::string smp_text = "2", memory_text = "512M";
  std::string channel_text = "auto";
  std::string accel_text = "tcg";
  std::string run_text;
};

// The options of every run, in --help's order: tracing, QEMU and plugin.
void add_run_options(CLI::App& app, Parsed& p) {
  RunOptions& o = p.o;
  app.add_option("--trace", o.trace_dir, "Record a trace into DIR (created if missing; must be empty)")
      ->type_name("DIR");
  app.add_option("--session", o.session_name,
                 "LTTng session name (default: unique, bdtrace-<pid>-...); needs --trace or --live")
      ->type_name("NAME");
  app.add_flag("--live", o.live,
               "Stream the session through the local lttng-relayd (started if none runs, stopped after) "
               "for bd-analyze --live; the relay daemon writes the trace (with --trace: into DIR/HOST/ when "
               "bd-run starts it)");
  app.add_option(
         "--relayd", o.relayd_url,
         "Stream the session to the lttng-relayd at URL (net://HOST[:CTRL:DATA]; someone else's, "
         "never started by bd-run), which writes it under HOST/SESSION-DATE/ in its output directory; "
         "live with --live; not with --trace")
      ->type_name("URL");
  app.add_flag("--live-wait", o.live_wait,
               "With --live: start the guest only once a live reader (bd-analyze --live) follows the session "
               "(up to 10 min), so that it sees the run from its first event");
  app.add_option(
         "--qemu", o.qemu,
         "QEMU to use (default: qemu-ARCH for the guest's architecture, or qemu-system-ARCH with --system, "
         "from PATH)")
      ->type_name("PATH");
  app.add_option(
         "--plugin", o.plugin,
         "bdtrace QEMU plugin (default: the build for the QEMU's plugin API generation, in ../lib beside "
         "bd-run or in the installed lib/bdtrace: "
         "libbdtrace-qemu.so for QEMU 7.2-8.2, libbdtrace-qemu-vN.so for API N: 2 = 9.0, "
         "3 = 9.1, 4 = 9.2-10.0, 5 = 10.1 and later)")
      ->type_name("PATH");
  app.add_option("--plugin-arg", p.raw_plugin_args, "Extra plugin argument, repeatable")
      ->type_name("NAME=VALUE")
      ->allow_extra_args(false);
  app.add_option("--filter", o.filter,
                 "Filter config (protobuf text format, see filter/README.md): which events of which "
                 "vCPUs and processes are recorded. Checked before QEMU starts; applied by the "
                 "plugin (trap) or bd-ring-consumer (ring) and reloaded when the file changes")
      ->type_name("FILE");
  app.add_option("--handler", o.handlers,
                 "Host handler to load into the plugin (a shared object built against bd/handler.h; "
                 "ARGS go to its bd_handler_init), repeatable. Guest calls (bd_call) of the event ids "
                 "it registers reach it. Checked before QEMU starts (bd-handler-check loads one by "
                 "itself). User and full-system mode, with the trap channel")
      ->type_name("PATH[:ARGS]");
}

// The channel, the guest architecture and the buffers, after add_run_options.
void add_channel_options(CLI::App& app, Parsed& p) {
  RunOptions& o = p.o;
  app.add_option("--channel", p.channel_text,
                 "How records reach the host: trap (the QEMU plugin), ring (shared-memory rings "
                 "and bd-ring-consumer, any QEMU) or auto (default: the trap where the plugin loads)")
      ->type_name("trap|ring|auto");
  app.add_option("--arch", o.arch,
                 "Guest architecture (x86_64, aarch64, riscv64, s390x; default: PROGRAM's ELF header): "
                 "picks qemu-ARCH and the build's lib/ARCH for the loader; with --system x86_64 (default) "
                 "or aarch64: picks qemu-system-ARCH and the image's architecture")
      ->type_name("ARCH")
      ->check(CLI::IsMember({"x86_64", "aarch64", "riscv64", "s390x"}));
  app.add_flag("--native", o.native, "Run PROGRAM natively on the host (no QEMU) with the ring channel");
  app.add_option("--rings", o.rings,
                 "Ring channel: rings in the region, one per guest thread marking at once (power of "
                 "two, default 64; a thread beyond that finds none and its calls return 0); with "
                 "--system the first --smp rings are the guest kernel's (one per vCPU)")
      ->type_name("N");
  app.add_option("--ring-slots", o.ring_slots,
                 "Ring channel: 64-byte slots per ring (power of two, 16 to 16777216, default 16384 = "
                 "1 MiB); a full ring drops records and counts them (bdtrace:ring_dropped)")
      ->type_name("N");
  app.add_option("--subbuf-size", o.subbuf_size,
                 "LTTng sub-buffer size in bytes, a power of two (default 4 MiB)")
      ->type_name("BYTES");
  app.add_option("--subbuf-count", o.subbuf_count, "LTTng sub-buffers per buffer, a power of two (default 8)")
      ->type_name("N");
}

// The "System mode (--system)" group, last in --help.
void add_system_options(CLI::App& app, Parsed& p) {
  SystemOptions& sys = p.sys;
  const std::string group = "System mode (--system)";
  app.add_flag(
         "--system", p.system,
         "Boot a VM under qemu-system-x86_64 (--arch aarch64: qemu-system-aarch64) instead of running a "
         "PROGRAM")
      ->group(group);
  app.add_option("--smp", p.smp_text, "vCPUs, 1-64 (default 2)")->type_name("N")->group(group);
  app.add_option("--memory", p.memory_text, "Guest RAM, e.g. 512M or 1G (default 512M)")
      ->type_name("SIZE")
      ->group(group);
  app.add_option("--kernel", sys.kernel, "Kernel image to boot (QEMU -kernel)")
      ->type_name("FILE")
      ->group(group);
  app.add_option("--initrd", sys.initrd, "Initial ramdisk (QEMU -initrd); needs --kernel")
      ->type_name("FILE")
      ->group(group);
  app.add_option(
         "--append", sys.append,
         "More kernel arguments, after 'console=ttyS0 quiet panic=-1' (aarch64: console=ttyAMA0); needs "
         "--kernel (or --program/--run)")
      ->type_name("ARGS")
      ->group(group);
  app.add_option("--program", sys.programs,
                 "A static program or #! script to put into a VM image bd-run builds (as /bin/NAME, "
                 "beside bd-mark); repeatable; needs --run")
      ->type_name("FILE")
      ->allow_extra_args(false)
      ->group(group);
  app.add_option("--run", p.run_text,
                 "Shell command to run in the VM as root (then it powers off); without --kernel bd-run "
                 "boots its own image (with --program's programs)")
      ->type_name("CMD")
      ->group(group);
  app.add_option("--vm", sys.vm_name, "VM name the plugin records (default: vm)")
      ->type_name("NAME")
      ->group(group);
  app.add_flag("--no-plugin", sys.no_plugin, "Run QEMU without the plugin (the channel device stays)")
      ->group(group);
  app.add_option("--accel", p.accel_text,
                 "tcg (default) or kvm; kvm needs --channel ring (KVM runs no TCG plugin) and /dev/kvm")
      ->type_name("tcg|kvm")
      ->group(group);
}

// The words after bd-run's options: PROGRAM [ARGS...], or QEMU's after --.
struct GuestWords {
  std::vector<std::string> words;
  bool after_separator = false;  // they followed a "--"
};

// remaining() is the tail of argv from PROGRAM on; CLI11 keeps or drops a
// "--" before it depending on what follows, so look at argv too.
GuestWords guest_words(const CLI::App& app, int argc, char** argv) {
  GuestWords g{app.remaining(), false};
  if (!g.words.empty() && g.words.front() == "--") {
    g.words.erase(g.words.begin());
    g.after_separator = true;
  }
  const size_t separator = static_cast<size_t>(argc) - g.words.size() - 1;
  if (!g.words.empty() && separator >= 1 && std::string(argv[separator]) == "--") g.after_separator = true;
  return g;
}

// --channel and the ring's geometry, both modes.
Status check_channel(Parsed& p) {
  RunOptions& o = p.o;
  if (p.channel_text == "auto") {
    o.channel = ChannelChoice::Auto;
  } else if (p.channel_text == "trap") {
    o.channel = ChannelChoice::Trap;
  } else if (p.channel_text == "ring") {
    o.channel = ChannelChoice::Ring;
  } else if (p.channel_text == "both") {
    o.channel = ChannelChoice::Both;
  } else {
    return make_error("--channel " + p.channel_text + " is invalid: give trap, ring or auto");
  }
  if (!is_power_of_two(o.rings) || o.rings > 4096) {
    return make_error("--rings must be a power of two from 1 to 4096, e.g. 64");
  }
  if (!is_power_of_two(o.ring_slots) || o.ring_slots < 16 || o.ring_slots > (1u << 24)) {
    return make_error("--ring-slots must be a power of two from 16 to 16777216, e.g. 16384");
  }
  return Status::Ok();
}

// What may go with the channel: --native, --handler, --system, --accel.
Status check_channel_users(Parsed& p) {
  RunOptions& o = p.o;
  if (o.native) {
    if (p.system)
      return make_error("--native runs one PROGRAM on the host: it cannot be combined with --system");
    if (o.channel == ChannelChoice::Trap || o.channel == ChannelChoice::Both) {
      return make_error("--native needs the ring channel: natively there is no QEMU plugin to trap into");
    }
    if (!o.qemu.empty() || !o.plugin.empty() || !p.raw_plugin_args.empty()) {
      return make_error("--native runs no QEMU: --qemu, --plugin and --plugin-arg do not apply");
    }
    o.channel = ChannelChoice::Ring;
  }
  if (!o.handlers.empty() && (o.native || o.channel == ChannelChoice::Ring)) {
    return make_error(
        "--handler needs the trap channel (bd-run [--system] [--channel trap] --handler "
        "PATH ...): guest calls reach host handlers through the plugin's trap, which the "
        "ring channel and --native runs do not have");
  }
  if (p.system && o.channel == ChannelChoice::Both) {
    return make_error("--system --channel both is not supported: give --channel trap (the plugin) or ring");
  }
  if (p.accel_text != "tcg" && p.accel_text != "kvm") {
    return make_error("--accel " + p.accel_text + " is invalid: give tcg or kvm");
  }
  p.sys.kvm = p.accel_text == "kvm";
  if (p.system && p.sys.kvm && o.channel != ChannelChoice::Ring) {
    return make_error("KVM has no TCG plugins: use --channel ring with --accel kvm");
  }
  return Status::Ok();
}

// --system: the machine (QEMU's words, --arch, --smp, --rings, --memory).
Status check_system_machine(Parsed& p, GuestWords guest) {
  const RunOptions& o = p.o;
  SystemOptions& sys = p.sys;
  if (!guest.words.empty() && !guest.after_separator) {
    return make_error("unexpected argument '" + guest.words.front() +
                      "' with --system: QEMU options go after --, e.g. bd-run --system -- -rtc base=utc");
  }
  sys.qemu_args = std::move(guest.words);
  if (!o.arch.empty()) {
    if (o.arch != "x86_64" && o.arch != "aarch64") {
      return make_error(
          "--system runs x86_64 and aarch64 VMs (qemu-system-x86_64, qemu-system-aarch64); "
          "--arch " +
          o.arch + " is for user mode so far");
    }
    sys.arch = o.arch;
  }
  const std::optional<unsigned> smp = parse_smp(p.smp_text);
  if (!smp) return make_error("--smp " + p.smp_text + " is invalid: give a number of vCPUs from 1 to 64");
  sys.smp = *smp;
  if (o.channel == ChannelChoice::Ring && o.rings <= sys.smp) {
    return make_error("--rings " + std::to_string(o.rings) +
                      " leaves no user ring: with --system the first --smp (" + std::to_string(sys.smp) +
                      ") rings are the guest kernel's; give a larger power of two");
  }
  const std::optional<uint64_t> mib = parse_memory_mib(p.memory_text);
  if (!mib) {
    return make_error("--memory " + p.memory_text +
                      " is invalid: give whole MiB from 16M to 1T, e.g. 512M or 1G");
  }
  sys.memory_mib = *mib;
  return Status::Ok();
}

// --system: what it boots and runs (--kernel, --program, --run, --append,
// --vm) and the plugin options that go with them.
Status check_system_boot(Parsed& p, const CLI::App& app) {
  const RunOptions& o = p.o;
  SystemOptions& sys = p.sys;
  if (!sys.initrd.empty() && sys.kernel.empty()) {
    return make_error("--initrd needs --kernel (QEMU loads an initrd only with a kernel it boots itself)");
  }
  if (app.count("--run") != 0) sys.run_command = p.run_text;
  if (!sys.programs.empty() && !sys.run_command) {
    return make_error("--program needs --run 'CMD': the command to run in the VM, e.g. --run '" +
                      std::filesystem::path(sys.programs.front()).filename().string() + "'");
  }
  if (!sys.programs.empty() && !sys.kernel.empty()) {
    return make_error(
        "--program boots an image bd-run builds (its own kernel and initramfs): drop "
        "--kernel/--initrd, or add your programs to your image with tools/vm/build-image.sh "
        "--programs");
  }
  if (sys.run_command) {
    if (Expected<std::string> arg = run_command_kernel_arg(*sys.run_command); !arg) return arg.take_error();
  }
  if (app.count("--append") != 0 && sys.kernel.empty() && !sys.builds_image()) {
    return make_error("--append needs --kernel (or --program/--run, which boot bd-run's own image)");
  }
  if (sys.vm_name.empty()) return make_error("--vm NAME must not be empty");
  const bool plugin_options = !o.plugin.empty() || !p.raw_plugin_args.empty();
  if (o.channel == ChannelChoice::Ring && (sys.no_plugin || plugin_options)) {
    return make_error(
        "--system --channel ring loads no plugin: --no-plugin, --plugin and --plugin-arg do "
        "not apply");
  }
  if (sys.no_plugin && (plugin_options || !o.filter.empty())) {
    return make_error("--no-plugin cannot be combined with --plugin, --plugin-arg or --filter");
  }
  return Status::Ok();
}

// User mode: no system-mode options, and a PROGRAM.
Status check_user(Parsed& p, const CLI::App& app, GuestWords guest) {
  if (app.count("--program") != 0 || app.count("--run") != 0) {
    return make_error(std::string(app.count("--program") != 0 ? "--program" : "--run") +
                      " needs --system: it runs a program in a VM bd-run boots (in user mode the program "
                      "goes last: bd-run [OPTIONS] [--] PROGRAM [ARGS...])");
  }
  for (const char* name :
       {"--smp", "--memory", "--kernel", "--initrd", "--append", "--vm", "--no-plugin", "--accel"}) {
    if (app.count(name) != 0) return make_error(std::string(name) + " needs --system");
  }
  const std::vector<std::string>& words = guest.words;
  if (words.empty()) return make_error("no PROGRAM given: bd-run [OPTIONS] [--] PROGRAM [ARGS...]");
  if (words.front().size() > 1 && words.front()[0] == '-' && !guest.after_separator) {
    return make_error("unknown option " + words.front() + " (a PROGRAM starting with '-' goes after --)");
  }
  p.o.program = words.front();
  p.o.program_args.assign(words.begin() + 1, words.end());
  return Status::Ok();
}

// --plugin-arg NAME=VALUE, --session and the LTTng buffer sizes.
Status check_plugin_and_session(Parsed& p) {
  RunOptions& o = p.o;
  for (const std::string& a : p.raw_plugin_args) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return make_error("--plugin-arg '" + a + "' is not NAME=VALUE (e.g. --plugin-arg log=/tmp/plugin.log)");
    }
    o.plugin_args.emplace_back(a.substr(0, eq), a.substr(eq + 1));
    if (o.plugin_args.back().first == "filter") {
      return make_error(
          "give the filter as --filter FILE (bd-run checks it first), not --plugin-arg filter=");
    }
  }
  if (o.live_wait && !o.live) return make_error("--live-wait needs --live");
  if (!o.relayd_url.empty()) {
    Expected<RelaydUrl> url = parse_relayd_url(o.relayd_url);
    if (!url) return url.take_error();
    if (!o.trace_dir.empty()) {
      return make_error(
          "--trace and --relayd do not go together: with --relayd the relay daemon writes the trace into "
          "its own output directory (under HOST/SESSION-DATE/); drop --trace, or drop --relayd to record "
          "locally");
    }
    if (o.live_wait && url.value().ports_given) {
      return make_error(
          "--live-wait with --relayd needs the relay daemon's default ports (net://HOST): bd-run cannot "
          "know the live port of one started with other ports");
    }
  }
  if (!o.session_name.empty() && !o.traces()) {
    return make_error(
        "--session needs --trace DIR, --live or --relayd URL (without them bd-run creates no session)");
  }
  if (!is_power_of_two(o.subbuf_size) || o.subbuf_size < 4096) {
    return make_error("--subbuf-size must be a power of two of at least 4096, e.g. 4194304");
  }
  if (!is_power_of_two(o.subbuf_count) || o.subbuf_count < 2) {
    return make_error("--subbuf-count must be a power of two of at least 2, e.g. 8");
  }
  return Status::Ok();
}

// Every check, in the order their messages take precedence.
Status check_options(Parsed& p, const CLI::App& app, GuestWords guest) {
  if (Status st = check_channel(p); !st) return st;
  if (Status st = check_channel_users(p); !st) return st;
  if (p.system) {
    if (Status st = check_system_machine(p, std::move(guest)); !st) return st;
    if (Status st = check_system_boot(p, app); !st) return st;
    p.o.system = std::move(p.sys);
  } else if (Status st = check_user(p, app, std::move(guest)); !st) {
    return st;
  }
  return check_plugin_and_session(p);
}

// Prints a usage error the way CLI11's own errors are printed: exit status 2.
ParseOutcome usage_error(const std::string& message) {
  std::fprintf(stderr, "bd-run: error: %s\nRun 'bd-run --help' for usage.\n", message.c_str());
  return ParseOutcome{std::nullopt, 2};
}

}  // namespace

ParseOutcome parse_command_line(int argc, char** argv) {
  Parsed p;
  CLI::App app(kDescription, "bd-run");
  app.formatter(std::make_shared<Formatter>());
  // Everything from PROGRAM on belongs to the guest, even words that look
  // like bd-run options.
  app.prefix_command();
  add_run_options(app, p);
  add_channel_options(app, p);
  add_system_options(app, p);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return ParseOutcome{std::nullopt, app.exit(e)};
  } catch (const CLI::CallForAllHelp& e) {
    return ParseOutcome{std::nullopt, app.exit(e)};
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  if (Status st = check_options(p, app, guest_words(app, argc, argv)); !st) {
    return usage_error(st.error().ToString());
  }
  return ParseOutcome{std::move(p.o), 0};
}

}  // namespace bdtrace::bdrun
