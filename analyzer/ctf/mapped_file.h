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
  // Bytes someone else owns (tests, fuzzing): never unmapped or released.
  static MappedFile Borrow(const unsigned char *data, size_t size) { return MappedFile(data, size, false); }

  MappedFile(MappedFile &&other) noexcept
      : data_(other.data_), size_(other.size_), released_(other.released_), owned_(other.owned_) {
    other.data_ = nullptr;
    other.size_ = 0;
  }
  MappedFile &operator=(MappedFile &&other) noexcept;
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;
  ~MappedFile();

  const unsigned char *data() const { return data_; }
  size_t size() const { return size_; }

  // Done with the bytes before offset: their pages leave this process's
  // memory (the page cache keeps them), so a reader's resident size stays
  // at about one packet per stream however big the file is.
  void Release(size_t offset);
  // Released pages read back from the file when touched: start counting
  // what is released from the beginning again (a second pass).
  void Rewind() { released_ = 0; }

 private:
  MappedFile(const unsigned char *data, size_t size, bool owned) : data_(data), size_(size), owned_(owned) {}

  const unsigned char *data_ = nullptr;
  size_t size_ = 0;
  size_t released_ = 0;  // bytes from the start already released
  bool owned_ = true;    // mapped by Open: unmap at the end
};

}  // namespace bdtrace::analyzer::ctf

#endif  // BDTRACE_ANALYZER_CTF_MAPPED_FILE_H
