// SPDX-License-Identifier: MIT
#include "channel_choice.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <regex>

#include "subprocess.h"

namespace bdtrace::bdrun {
namespace {

// Marks in a guest binary (see guest-probes/lib/ring.c and channel.h).
constexpr char kRingMarker[] = "bdguest-ring-abi-1";
constexpr char kOldLibraryMarker[] = "BD_DEVICE";

// The oldest QEMU the plugin is built and tested for (major * 100 + minor):
// 7.2, Debian 12's; older ones speak plugin API 0 or 1 with other details.
constexpr int kOldestPluginQemu = 702;

}  // namespace

const char* channel_name(Channel c) {
  switch (c) {
    case Channel::Trap:
      return "trap";
    case Channel::Ring:
      return "ring";
    case Channel::Both:
      return "both";
  }
  return "?";
}

QemuCapabilities parse_qemu_version(const std::string& version_output) {
  QemuCapabilities caps;
  static const std::regex re(R"(version (\d+)\.(\d+)(\.\d+)?)");
  std::smatch m;
  if (std::regex_search(version_output, m, re)) {
    caps.known = true;
    caps.major = std::stoi(m[1]);
    caps.minor = std::stoi(m[2]);
    caps.version = m[1].str() + "." + m[2].str() + m[3].str();
  }
  return caps;
}

bool help_lists_plugin(const std::string& help_output) {
  static const std::regex re(R"((^|\n)-plugin\s)");
  return std::regex_search(help_output, re);
}

QemuCapabilities probe_qemu(const std::string& qemu) {
  Expected<Captured> version = capture_output({qemu, "-version"});
  if (!version || version->status != 0) return QemuCapabilities{};
  QemuCapabilities caps = parse_qemu_version(version->out);
  if (!caps.known) return caps;
  Expected<Captured> help = capture_output({qemu, "-h"});
  caps.plugin_option = help && help_lists_plugin(help->out);
  return caps;
}

std::optional<std::string> plugin_refusal(const QemuCapabilities& caps) {
  if (!caps.known) return std::nullopt;
  if (!caps.plugin_option) return "QEMU " + caps.version + " was built without plugin support";
  if (caps.major * 100 + caps.minor < kOldestPluginQemu) {
    return "QEMU " + caps.version + " is older than 7.2, the oldest QEMU bdtrace's plugin is built for";
  }
  return std::string();  // the QEMU's generation has a build (plugin_api.h)
}

Expected<Channel> choose_channel(ChannelChoice requested, const QemuCapabilities& caps,
                                 const std::string& qemu) {
  const std::optional<std::string> refusal = plugin_refusal(caps);
  switch (requested) {
    case ChannelChoice::Ring:
      return Channel::Ring;
    case ChannelChoice::Trap:
    case ChannelChoice::Both:
      if (refusal && !refusal->empty()) {
        return make_error(
            std::string("--channel ") + (requested == ChannelChoice::Trap ? "trap" : "both") + ": " + qemu +
            " cannot load the bdtrace plugin: " + *refusal +
            ". Use --channel ring (or auto), or pass --qemu with a QEMU built with plugins (Debian 12's "
            "qemu-user 7.2, or ./bdtrace qemu 10.2)");
      }
      return requested == ChannelChoice::Trap ? Channel::Trap : Channel::Both;
    case ChannelChoice::Auto:
      break;
  }
  return refusal && !refusal->empty() ? Channel::Ring : Channel::Trap;
}

GuestRingSupport guest_ring_support(const std::string& program) {
  const int fd = ::open(program.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return GuestRingSupport::NoLibbdguest;
  struct stat st;
  GuestRingSupport result = GuestRingSupport::NoLibbdguest;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    const size_t size = static_cast<size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
      if (::memmem(map, size, kRingMarker, sizeof kRingMarker - 1) != nullptr) {
        result = GuestRingSupport::Yes;
      } else if (::memmem(map, size, kOldLibraryMarker, sizeof kOldLibraryMarker - 1) != nullptr) {
        result = GuestRingSupport::TooOld;
      }
      ::munmap(map, size);
    }
  }
  ::close(fd);
  return result;
}

}  // namespace bdtrace::bdrun
