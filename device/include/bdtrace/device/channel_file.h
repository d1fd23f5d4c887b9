/* SPDX-License-Identifier: GPL-2.0-or-later */
// The plugin's own mapping of the channel's backing file: the file behind
// QEMU's `-object memory-backend-file,mem-path=PATH,size=1M,share=on` that
// ivshmem-plain exposes to the guest as BAR2.
//
// Mapped MAP_SHARED (like QEMU's share=on mapping), so the plugin and the
// guest see the same bytes. Only the first BD_CHANNEL_SIZE bytes are mapped
// and nothing outside them is ever touched.
#ifndef BDTRACE_DEVICE_CHANNEL_FILE_H
#define BDTRACE_DEVICE_CHANNEL_FILE_H

#include <cstddef>
#include <string>

#include "bdtrace/status.h"

namespace bdtrace::device {

// Owns one mapping; unmaps it when destroyed. Move-only.
class ChannelMapping {
 public:
  ChannelMapping() noexcept = default;
  ~ChannelMapping();
  ChannelMapping(ChannelMapping &&other) noexcept;
  ChannelMapping &operator=(ChannelMapping &&other) noexcept;
  ChannelMapping(const ChannelMapping &) = delete;
  ChannelMapping &operator=(const ChannelMapping &) = delete;

  // Opens `path` read-write and maps its first BD_CHANNEL_SIZE bytes, or
  // an error naming the file, the cause and what to do.
  static Expected<ChannelMapping> open(const std::string &path);

  unsigned char *data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  explicit operator bool() const noexcept { return data_ != nullptr; }

 private:
  void reset() noexcept;

  unsigned char *data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace bdtrace::device

#endif  // BDTRACE_DEVICE_CHANNEL_FILE_H
