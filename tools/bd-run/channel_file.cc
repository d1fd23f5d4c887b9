// SPDX-License-Identifier: MIT
#include "channel_file.h"

#include <bd/channel.h>
#include <bdtrace/device/channel.h>
#include <bdtrace/device/channel_file.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <utility>

#include "bdtrace/unique_fd.h"

namespace bdtrace::bdrun {
namespace {

std::string random_suffix() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

}  // namespace

Expected<ChannelFile> ChannelFile::create(const std::string& dir) {
  // A name collision (same pid reused, same random) is astronomically rare;
  // O_EXCL turns it into a retry instead of sharing someone else's file.
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string path = dir + "/bdtrace-" + std::to_string(::getpid()) + "-" + random_suffix();
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
      const int err = errno;
      if (err == EEXIST) continue;
      return make_error("cannot create the channel file " + path + ": " + std::strerror(err) +
                        (dir == "/dev/shm" ? " (is /dev/shm a writable tmpfs?)" : ""));
    }
    ChannelFile file(path);  // from here the file is removed on every path
    if (::ftruncate(fd.get(), BD_CHANNEL_SIZE) != 0) {
      const int err = errno;
      return make_error("cannot size the channel file " + path + " to " + std::to_string(BD_CHANNEL_SIZE) +
                        " bytes: " + std::strerror(err));
    }
    return file;  // moved (implicit move on return)
  }
  return make_error("cannot create a channel file in " + dir + ": every name tried exists already");
}

Status ChannelFile::write_header(unsigned nr_vcpus) const {
  // The one header writer is the plugin's (device/): reuse it.
  Expected<device::ChannelMapping> mapping = device::ChannelMapping::open(path_);
  if (!mapping) return mapping.take_error();
  device::Channel channel(mapping->data());
  channel.init_header(nr_vcpus);
  return Status();
}

ChannelFile::ChannelFile(ChannelFile&& other) noexcept : path_(std::exchange(other.path_, std::string())) {}

ChannelFile& ChannelFile::operator=(ChannelFile&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, std::string());
  }
  return *this;
}

ChannelFile::~ChannelFile() { remove(); }

void ChannelFile::remove() noexcept {
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

}  // namespace bdtrace::bdrun
