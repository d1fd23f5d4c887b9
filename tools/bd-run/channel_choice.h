/* SPDX-License-Identifier: MIT */
// Which channel a user-mode run uses (--channel trap|ring|auto), decided
// before anything starts: what the QEMU can load, what the guest knows.
#pragma once

#include <optional>
#include <string>

#include "bdtrace/status.h"
#include "options.h"

namespace bdtrace::bdrun {

enum class Channel { Trap, Ring, Both };

const char* channel_name(Channel c);

// What bd-run learned by asking a QEMU (`-version`, `-h`).
struct QemuCapabilities {
  bool known = false;  // the version line was understood
  int major = 0, minor = 0;
  std::string version;         // "10.0.2"
  bool plugin_option = false;  // -h lists -plugin (built with plugin support)
};

// "qemu-x86_64 version 10.0.2 (Debian ...)" -> major 10, minor 0. Pure.
QemuCapabilities parse_qemu_version(const std::string& version_output);
// Does `qemu -h` output list the -plugin option? Pure.
bool help_lists_plugin(const std::string& help_output);

// Runs `qemu -version` and `qemu -h`. A QEMU that does not answer like one
// (a wrapper script, a test stand-in) is "not known".
QemuCapabilities probe_qemu(const std::string& qemu);

// Can one of bdtrace's plugin builds (one per QEMU plugin API generation,
// plugin_api.h) load into it? nullopt when unknown; otherwise the reason why
// not ("" when it can): a QEMU built without plugin support, or older than
// 7.2, cannot.
std::optional<std::string> plugin_refusal(const QemuCapabilities& caps);

// The channel for a user-mode run under `qemu` (caps from probe_qemu):
// trap/ring as requested (an error when trap cannot work), auto = the trap
// when the plugin loads or when the QEMU is not known, the ring otherwise.
Expected<Channel> choose_channel(ChannelChoice requested, const QemuCapabilities& caps,
                                 const std::string& qemu);

// The guest side of the ring, from the program file itself: libbdguest
// since the ring embeds the marker "bdguest-ring-abi-1"; older libbdguest
// builds hold "BD_DEVICE" (the variable they read) but not the marker.
enum class GuestRingSupport { Yes, TooOld, NoLibbdguest };
GuestRingSupport guest_ring_support(const std::string& program);

}  // namespace bdtrace::bdrun
