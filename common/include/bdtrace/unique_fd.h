/* SPDX-License-Identifier: MIT */
// A file descriptor closed when its owner goes (RAII): for the host code
// that opens a file only long enough to size, read or map it.
#ifndef BDTRACE_UNIQUE_FD_H
#define BDTRACE_UNIQUE_FD_H

#include <unistd.h>

namespace bdtrace {

class UniqueFd {
 public:
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd &) = delete;
  UniqueFd &operator=(const UniqueFd &) = delete;
  // The descriptor, or the negative value open() returned.
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

}  // namespace bdtrace

#endif  // BDTRACE_UNIQUE_FD_H
