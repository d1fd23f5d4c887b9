/* SPDX-License-Identifier: GPL-2.0-or-later */
// How the linux-user backend reads a trapped record and stores its reply,
// per plugin API generation (<bdtrace/qemu_plugin_api.h>).
//
// API 1 to 4: directly through QEMU's host mapping of guest memory
// (guest_base + vaddr). The trap's own load proved the page readable a
// moment earlier, and the reply goes through a ReplyWriter that proves the
// page writable first (reply_writer.h). What this cannot close: another
// guest thread unmapping or write-protecting the page between that proof
// and the plugin's access makes QEMU fault (the race reply_writer.h
// documents).
//
// API 5 (QEMU 10.1 and later): through QEMU, qemu_plugin_read_memory_vaddr
// and qemu_plugin_write_memory_vaddr, which check the guest's mapping
// themselves and fail instead of faulting: nothing a guest does to its
// mappings can crash QEMU here (the write still waits for the page's
// writability proof, see write_reply). The record is always a private copy then
// (what is validated cannot change under it). Each guest thread keeps two
// glib byte arrays for it, freed when the thread ends.
#ifndef BDTRACE_USERMODE_GUEST_RECORD_ACCESS_H
#define BDTRACE_USERMODE_GUEST_RECORD_ACCESS_H

#include <bd/abi.h>
#include <bdtrace/qemu_plugin_api.h>

#include <cstdint>
#include <cstring>
#include <new>

#include "reply_writer.h"

namespace bdtrace::usermode {

#if BDTRACE_QEMU_PLUGIN_API >= 5

// Reads through QEMU; the arrays are made on a thread's first trap.
class GuestRecordAccess {
 public:
  GuestRecordAccess() = default;
  GuestRecordAccess(const GuestRecordAccess &) = delete;
  GuestRecordAccess &operator=(const GuestRecordAccess &) = delete;
  ~GuestRecordAccess() {
    if (record_ != nullptr) g_byte_array_unref(record_);
    if (reply_ != nullptr) g_byte_array_unref(reply_);
    delete copy_;
  }

  // The record at `vaddr` (the guest's host mapping at `host` is not
  // used), as a private copy; nullptr when the guest cannot read it.
  const bd_record *record(uint64_t vaddr, uintptr_t /*host*/) noexcept {
    if (record_ == nullptr && (record_ = g_byte_array_sized_new(BD_RECORD_SIZE)) == nullptr) return nullptr;
    if (!qemu_plugin_read_memory_vaddr(vaddr, record_, BD_RECORD_SIZE) || record_->len != BD_RECORD_SIZE)
      return nullptr;
    // GLib's buffer is malloc-aligned; a bd_record is 128-byte aligned
    // (UBSan: "reference binding to misaligned address" without this).
    // On the heap: this object lives in the plugin's initial-exec TLS,
    // whose little room a 128-byte-aligned member overflowed
    // ("cannot allocate memory in static TLS block", measured).
    if (copy_ == nullptr && (copy_ = new (std::nothrow) bd_record) == nullptr) return nullptr;
    std::memcpy(copy_, record_->data, BD_RECORD_SIZE);
    return copy_;
  }

  // Stores `value` (already in the guest's byte order) as the reply of
  // the record at `vaddr` (host address `host`); false when the guest
  // cannot write there. QEMU's write ignores the guest's page protection
  // (it is a debugger's write), so the page is still proven writable the
  // way API 1-4 do (ReplyWriter): a record in a read-only page is
  // rejected, not answered. Only the store goes through QEMU.
  bool write_reply(uint64_t vaddr, uintptr_t host, int32_t value) noexcept {
    return writer_.write_with(host + offsetof(bd_record, reply), value, [this, vaddr, value]() noexcept {
      if (reply_ == nullptr) {
        reply_ = g_byte_array_sized_new(sizeof value);
        if (reply_ == nullptr) return false;
        g_byte_array_set_size(reply_, sizeof value);
      }
      std::memcpy(reply_->data, &value, sizeof value);
      return qemu_plugin_write_memory_vaddr(vaddr + offsetof(bd_record, reply), reply_);
    });
  }

  // A private copy: callers need not copy again before emitting.
  static constexpr bool kPrivateCopy = true;

  void reset() noexcept { writer_.reset(); }

 private:
  ReplyWriter writer_;
  bd_record *copy_ = nullptr;  // the record as read, aligned as its type says
  bdtrace_gbyte_array *record_ = nullptr;
  bdtrace_gbyte_array *reply_ = nullptr;
};

#else

// Reads the guest's memory in place, replies through a ReplyWriter.
class GuestRecordAccess {
 public:
  const bd_record *record(uint64_t /*vaddr*/, uintptr_t host) noexcept {
    return reinterpret_cast<const bd_record *>(host);
  }
  bool write_reply(uint64_t /*vaddr*/, uintptr_t host, int32_t value) noexcept {
    return writer_.write(host + offsetof(bd_record, reply), value);
  }
  // The guest's own memory: copy before emitting what was validated.
  static constexpr bool kPrivateCopy = false;
  void reset() noexcept { writer_.reset(); }

 private:
  ReplyWriter writer_;
};

#endif

}  // namespace bdtrace::usermode

#endif  // BDTRACE_USERMODE_GUEST_RECORD_ACCESS_H
