/* SPDX-License-Identifier: MIT */
// The host file behind the bdtrace channel device's BAR2 (<bd/channel.h>):
// QEMU maps it shared as the ivshmem-plain device's memory, the plugin maps
// it to read the guest's records. bd-run creates one per VM run and removes
// it when the object goes away.
#pragma once

#include <string>

#include "bdtrace/status.h"

namespace bdtrace::bdrun {

class ChannelFile {
 public:
  // Creates DIR/bdtrace-<pid>-<random> (mode 0600, new: never an existing
  // file), BD_CHANNEL_SIZE bytes of zeros.
  static Expected<ChannelFile> create(const std::string& dir = "/dev/shm");

  ChannelFile(ChannelFile&& other) noexcept;
  ChannelFile& operator=(ChannelFile&& other) noexcept;
  ChannelFile(const ChannelFile&) = delete;
  ChannelFile& operator=(const ChannelFile&) = delete;
  ~ChannelFile();  // removes the file

  // Writes a fresh channel header (magic, layout, nr_vcpus, everything
  // enabled) the way the plugin does, so that the guest finds a valid
  // channel even when no plugin runs (--no-plugin comparison runs). The
  // plugin rewrites it when it starts.
  Status write_header(unsigned nr_vcpus) const;

  const std::string& path() const { return path_; }

 private:
  explicit ChannelFile(std::string path) : path_(std::move(path)) {}
  void remove() noexcept;

  std::string path_;  // empty: moved-from
};

}  // namespace bdtrace::bdrun
