/* SPDX-License-Identifier: MIT */
// A read-only mmap of a whole file, unmapped when the object goes (RAII).
// An empty file maps to no bytes.
#ifndef BDTRACE_ANALYZER_CTF_MAPPED_FILE_H
#define BDTRACE_ANALYZER_CTF_MAPPED_FILE_H

#include <cstddef>
#include <string>

#include "bdtrace/status.h"

namespace bdtrace::analyzer::ctf {

class MappedFile {
 public:
  static Expected<MappedFile> Open(const std::string &path);

  MappedFile(MappedFile &&other) noexcept : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
  }
  MappedFile &operator=(MappedFile &&other) noexcept;
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;
  ~MappedFile();

  const unsigned char *data() const { return data_; }
  size_t size() const { return size_; }

 private:
  MappedFile(const unsigned char *data, size_t size) : data_(data), size_(size) {}

  const unsigned char *data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace bdtrace::analyzer::ctf

#endif  // BDTRACE_ANALYZER_CTF_MAPPED_FILE_H
