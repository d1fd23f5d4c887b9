// SPDX-License-Identifier: GPL-2.0-or-later
// Opening and mapping the channel's backing file (see channel_file.h).
#include "bdtrace/device/channel_file.h"

#include <bd/channel.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "bdtrace/unique_fd.h"

namespace bdtrace::device {
namespace {

constexpr const char *kHowTo =
    "; the channel is the file given to QEMU as "
    "-object memory-backend-file,id=bdchan,mem-path=PATH,size=1M,share=on "
    "-device ivshmem-plain,memdev=bdchan (create it first, e.g. truncate -s 1M PATH; "
    "bd-run --system does all of this)";

}  // namespace

ChannelMapping::~ChannelMapping() { reset(); }

ChannelMapping::ChannelMapping(ChannelMapping &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

ChannelMapping &ChannelMapping::operator=(ChannelMapping &&other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void ChannelMapping::reset() noexcept {
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

Expected<ChannelMapping> ChannelMapping::open(const std::string &path) {
  if (path.empty()) {
    return make_error(std::string("system emulation needs channel=PATH (the ivshmem backing file)") + kHowTo);
  }
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) {
    return make_error("cannot open channel file '" + path + "' read-write: " + std::strerror(errno) + kHowTo);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return make_error("cannot stat channel file '" + path + "': " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error("channel file '" + path + "' is not a regular file" + kHowTo);
  }
  if (st.st_size < static_cast<off_t>(BD_CHANNEL_SIZE)) {
    return make_error("channel file '" + path + "' is " + std::to_string(st.st_size) +
                      " bytes; it must hold at least " + std::to_string(BD_CHANNEL_SIZE) +
                      " (size=1M in the memory-backend-file)" + kHowTo);
  }
  void *p = ::mmap(nullptr, BD_CHANNEL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) {
    return make_error("cannot map channel file '" + path + "': " + std::strerror(errno));
  }
  ChannelMapping out;
  out.data_ = static_cast<unsigned char *>(p);
  out.size_ = BD_CHANNEL_SIZE;
  return {std::move(out)};
}

}  // namespace bdtrace::device
