/* SPDX-License-Identifier: GPL-2.0-or-later */
// The full-system backend's side of calls (<bd/channel.h>, CALLS): the
// channel's data pages as CallPages (<bdtrace/plugin/call_server.h>) and
// the call in progress on each.
//
// A data page is memory of the plugin's own mapping of the backing file:
// it never goes away, so reads and writes cannot fail, and they never
// leave the page. The guest may rewrite it at any time; the server reads
// each byte it uses once (copies), so what it serves is what it read.
//
// Thread safety: a page's steps come from the thread that owns its user
// slot, so one at a time; two guest threads that share a page (a hostile
// or buggy guest) would race, so a page is held while a step is served and
// a step that finds it held is answered -EBUSY (counted as call_bad_step).
#ifndef BDTRACE_DEVICE_CALL_PAGES_H
#define BDTRACE_DEVICE_CALL_PAGES_H

#include <bd/channel.h>
#include <bdtrace/plugin/call_server.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace bdtrace::device {

class MappedCallPage final : public plugin::CallPage {
 public:
  explicit MappedCallPage(unsigned char *page) noexcept : page_(page) {}
  bool read(uint32_t offset, void *to, std::size_t n) noexcept override {
    if (offset > BD_PAGE_SIZE || n > BD_PAGE_SIZE - offset) return false;
    std::memcpy(to, page_ + offset, n);
    return true;
  }
  bool write(uint32_t offset, const void *from, std::size_t n) noexcept override {
    if (offset > BD_PAGE_SIZE || n > BD_PAGE_SIZE - offset) return false;
    std::memcpy(page_ + offset, from, n);
    return true;
  }

 private:
  unsigned char *page_;
};

// The call state of every data page: what plugin::serve_call_step keeps
// between steps, and whether a step is being served.
class CallPages {
 public:
  struct Page {
    std::atomic<bool> busy{false};
    std::unique_ptr<plugin::CallBuffers> buffers;  // from its first call
  };

  // The state of the data page at channel offset `offset` (a CallStep
  // verdict's), or nullptr if it is none.
  Page *at(uint32_t offset) noexcept {
    if (offset < BD_CHANNEL_DATA_OFFSET || (offset - BD_CHANNEL_DATA_OFFSET) % BD_PAGE_SIZE != 0)
      return nullptr;
    const uint32_t i = (offset - BD_CHANNEL_DATA_OFFSET) / BD_PAGE_SIZE;
    return i < BD_CHANNEL_USER_SLOTS ? &pages_[i] : nullptr;
  }

 private:
  Page pages_[BD_CHANNEL_USER_SLOTS];
};

}  // namespace bdtrace::device

#endif  // BDTRACE_DEVICE_CALL_PAGES_H
