// SPDX-License-Identifier: GPL-2.0-or-later
// Plugin option parsing and the guest-program guess (see options.h).
#include "bdtrace/plugin/options.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace bdtrace::plugin {

namespace {

bool parse_bool(const std::string &v, bool &out) {
  if (v == "on" || v == "yes" || v == "true" || v == "1") {
    out = true;
    return true;
  }
  if (v == "off" || v == "no" || v == "false" || v == "0") {
    out = false;
    return true;
  }
  return false;
}

constexpr const char *kUsage =
    "accepted options: program=PATH, vm=NAME, filter=FILE, stats=FILE, handler=PATH[:ARGS] "
    "(repeatable), qemu_version=X.Y.Z, verbose=on|off, and in system "
    "emulation channel=PATH (e.g. -plugin libbdtrace-qemu.so,program=./app,verbose=on "
    "or -plugin libbdtrace-qemu.so,channel=/dev/shm/bdtrace-vm1,vm=vm1)";

}  // namespace

Expected<Options> parse_options(int argc, const char *const *argv) {
  Options out;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i] ? argv[i] : "";
    const auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) {
      return make_error("bad plugin argument '" + arg + "': expected name=value; " + kUsage);
    }
    const std::string key = arg.substr(0, eq);
    const std::string value = arg.substr(eq + 1);
    if (key == "program") {
      if (value.empty()) {
        return make_error("program= needs a value (the guest program's path)");
      }
      out.program = value;
    } else if (key == "vm") {
      if (value.empty()) {
        return make_error("vm= needs a value (a name for this guest, e.g. vm=user)");
      }
      out.vm = value;
    } else if (key == "channel") {
      if (value.empty()) {
        return make_error(
            "channel= needs a value (the ivshmem device's backing file, "
            "e.g. channel=/dev/shm/bdtrace-vm1)");
      }
      out.channel = value;
    } else if (key == "stats") {
      if (value.empty()) {
        return make_error("stats= needs a value (a file the plugin appends its counts to at exit)");
      }
      out.stats = value;
    } else if (key == "filter") {
      if (value.empty()) {
        return make_error(
            "filter= needs a value (a filter config in protobuf text format, "
            "e.g. filter=/path/to/filter.txtpb; see filter/README.md)");
      }
      out.filter = value;
    } else if (key == "handler") {
      if (value.empty()) {
        return make_error("handler= needs a value (a host handler as PATH[:ARGS], see bd/handler.h)");
      }
      out.handlers.push_back(value);
    } else if (key == "qemu_version") {
      out.qemu_version = value;  // information only: any text, "" allowed
    } else if (key == "verbose") {
      if (!parse_bool(value, out.verbose)) {
        return make_error("bad value '" + value + "' for verbose: use verbose=on or verbose=off");
      }
    } else {
      return make_error("unknown plugin option '" + key + "'; " + kUsage);
    }
  }
  return out;
}

std::string guest_program_from_qemu_args(const std::string *args, std::size_t n) {
  // Options of qemu-<arch> 7.2 that take a value; every other option is a
  // flag. The list is the same for qemu-x86_64, qemu-aarch64, qemu-riscv64
  // and qemu-s390x (their -h texts differ only in the architecture's name).
  static const char *const kWithValue[] = {"L", "s", "cpu",     "E", "U", "0",    "r",     "g",     "B",
                                           "R", "d", "dfilter", "D", "p", "seed", "trace", "plugin"};
  for (std::size_t i = 1; i < n; ++i) {
    const std::string &a = args[i];
    if (a.empty() || a[0] != '-') return a;
    std::string opt = a.substr(1);
    if (!opt.empty() && opt[0] == '-') opt.erase(0, 1);               // --opt == -opt
    if (opt.empty()) return i + 1 < n ? args[i + 1] : std::string();  // "--"
    for (const char *w : kWithValue) {
      if (opt == w) {
        ++i;
        break;
      }
    }
  }
  return {};
}

std::string guess_guest_program() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  if (!in) return {};
  const std::string all{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start < all.size()) {
    const auto end = all.find('\0', start);
    args.push_back(all.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return guest_program_from_qemu_args(args.data(), args.size());
}

}  // namespace bdtrace::plugin
