// SPDX-License-Identifier: MIT
#include "ctf/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bdtrace::analyzer::ctf {

Expected<MappedFile> MappedFile::Open(const std::string &path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{"cannot open " + path, {std::strerror(errno)}};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Error{"cannot stat " + path, {std::strerror(err)}};
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(path + " is not a regular file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return MappedFile(nullptr, 0, true);
  }
  void *p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the file
  if (p == MAP_FAILED) return Error{"cannot map " + path, {std::strerror(err)}};
  // Read front to back, once.
  ::madvise(p, size, MADV_SEQUENTIAL);
  return MappedFile(static_cast<const unsigned char *>(p), size, true);
}

MappedFile &MappedFile::operator=(MappedFile &&other) noexcept {
  if (this != &other) {
    if (data_ != nullptr && owned_) ::munmap(const_cast<unsigned char *>(data_), size_);
    data_ = other.data_;
    size_ = other.size_;
    released_ = other.released_;
    owned_ = other.owned_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

void MappedFile::Release(size_t offset) {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t end = std::min(offset, size_) / page * page;
  if (data_ == nullptr || !owned_ || end <= released_) return;
  // A private read-only file mapping: dropped pages read back from the file
  // if touched again, so this cannot lose data.
  ::madvise(const_cast<unsigned char *>(data_) + released_, end - released_, MADV_DONTNEED);
  released_ = end;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr && owned_) ::munmap(const_cast<unsigned char *>(data_), size_);
}

}  // namespace bdtrace::analyzer::ctf
