/* SPDX-License-Identifier: MIT */
// The one host-side validator of struct bd_record (see <bd/abi.h>).
//
// Every backend (the linux-user plugin, the full-system plugin) decides
// whether to trust a guest record with these functions and nothing else.
// They never read outside the 128-byte record they are given and never
// allocate, so they are safe on the plugin's hot path.
//
// Rules, checked in this order (the first failure is the reason):
//   address: the record must not cross a 4 KiB page (crosses_page), and must
//            be aligned to BD_RECORD_SIZE (misaligned). Checked BEFORE any
//            byte of the record is read.
//   magic == BD_MAGIC, version == BD_ABI_VERSION,
//   kind in 1..8 (bad_kind); SCHED_SWITCH only from a guest kernel
//            (kernel_only_kind; a user-mode backend always passes
//            from_kernel = false),
//   flags == 0, reserved == 0,
//   text_len <= BD_TEXT_MAX for every kind (text_too_long),
//   text kinds (MARK_TEXT, EVENT_NAME) only: text[text_len] == '\0'
//            (text_not_terminated) and no NUL in text[0, text_len)
//            (text_embedded_nul: the length the guest claims must be the
//            length consumers see). An empty text (text_len == 0) is valid.
//   SCHED_SWITCH (only reached with from_kernel = true): text_len == 0
//            (text_too_long otherwise) and each comm, text[0..15] and
//            text[16..31], NUL-terminated within its BD_COMM_LEN bytes
//            (text_not_terminated), so both are safe C strings.
//   Other kinds: the text bytes are ignored (never read).
//   reply, pid, tid, seq, event and args are not checked: reply is the
//   host's to write, the rest is payload.
//
// Byte order: the fields are in the guest's order (<bd/abi.h>, BYTE ORDER).
// The validator reads them as host-order values, so a record of a guest
// whose order differs (s390x) is first copied and converted with
// decode_record<true>() and the copy is validated; a guest of the host's
// order is validated in place or copied as it is (decode_record<false>).
#ifndef BDTRACE_RECORD_H
#define BDTRACE_RECORD_H

#include <bd/abi.h>
#include <bd/channel.h>

#include "bdtrace/byte_order.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace bdtrace {

// Values are stable (they appear in traces as bdtrace:rejected.reason);
// append new reasons before Count_, never renumber.
enum class RejectReason : uint32_t {
  Ok = 0,
  Misaligned = 1,
  CrossesPage = 2,
  BadMagic = 3,
  BadVersion = 4,
  BadKind = 5,
  BadFlags = 6,
  BadReserved = 7,
  TextTooLong = 8,
  TextNotTerminated = 9,
  KernelOnlyKind = 10,
  NotWritable = 11,  // the record's page cannot take the reply
  TextEmbeddedNul = 12,
  // System mode (the channel device): reasons about where a trap pointed.
  OutsideChannel = 13,  // physical address not in the channel's BAR
  NoChannel = 14,       // a trap before any handshake told where it is
  BadSlot = 15,         // in the channel, but not at a record slot
  // Ring channel (<bd/ring.h>, the host consumer): reasons about a ring's
  // indices and framing rather than a record's contents.
  RingBadIndex = 16,          // head - tail > ring_slots: resynchronised to head
  RingTruncated = 17,         // the ready slots end inside a two-slot record
  RingForbiddenKind = 18,     // HELLO, QUERY or CALL written into a ring
  RingDroppedDecreased = 19,  // the ring's dropped count went down
  NotReadable = 20,           // the record's page was gone when the plugin read it (API 5)
  // System mode, LOST RECORDS of <bd/channel.h>: not malformed, but lost
  // in the guest, which says so with a trap at a fixed offset.
  NoFreeSlot = 21,  // every user slot belonged to a live thread
  NestedCall = 22,  // a call nested in another call of its thread
  // Calls to host handlers (<bd/abi.h>, CALLS).
  CallBadPage = 23,    // a CALL record not at the start of a page
  CallBadStep = 24,    // a step out of order or too long (the guest gets -EINVAL / -E2BIG)
  CallNotServed = 25,  // a CALL where calls are not served (a channel slot, the ring)
  RingBadBlob = 26,    // a ring bulk mark claiming more than BD_CALL_IO_MAX bytes
  Count_               // number of reasons, not a reason
};

inline constexpr std::size_t kRejectReasonCount = static_cast<std::size_t>(RejectReason::Count_);

// Stable snake_case name ("ok", "bad_magic", ...); "unknown" out of range.
const char *reject_reason_name(RejectReason reason) noexcept;

// True for kinds whose text field is meaningful.
constexpr bool kind_has_text(uint32_t kind) noexcept {
  return kind == BD_KIND_MARK_TEXT || kind == BD_KIND_EVENT_NAME;
}

// Address rules only: a record at vaddr must be BD_RECORD_SIZE-aligned and
// must not cross a BD_PAGE_SIZE page. Crossing is reported first because it
// is the one that would make the host read an unrelated page.
inline RejectReason check_record_address(uint64_t vaddr) noexcept {
  const uint64_t in_page = vaddr % BD_PAGE_SIZE;
  if (in_page + BD_RECORD_SIZE > BD_PAGE_SIZE) return RejectReason::CrossesPage;
  if (vaddr % BD_RECORD_SIZE != 0) return RejectReason::Misaligned;
  return RejectReason::Ok;
}

// Reads a field exactly once: the compiler may neither re-read it nor
// assume it unchanged, so a bound checked on the loaded value stays true.
template <class T>
inline T load_once(const T &field) noexcept {
  return __atomic_load_n(&field, __ATOMIC_RELAXED);
}

namespace detail {

// check_record() for a known mode. A template, so the user-mode instance
// (kFromKernel = false) is exactly the rules that apply to it: the
// SCHED_SWITCH block is removed before the optimiser ever weighs the
// function for inlining into the user-mode hot path.
template <bool kFromKernel>
inline RejectReason check_record_as(const bd_record &r) noexcept {
  if (load_once(r.magic) != BD_MAGIC) return RejectReason::BadMagic;
  if (load_once(r.version) != BD_ABI_VERSION) return RejectReason::BadVersion;
  const uint16_t kind = load_once(r.kind);
  if (kind == BD_KIND_INVALID || kind >= BD_KIND_MAX_) return RejectReason::BadKind;
  if (!kFromKernel && kind == BD_KIND_SCHED_SWITCH) return RejectReason::KernelOnlyKind;
  if (load_once(r.flags) != 0) return RejectReason::BadFlags;
  if (load_once(r.reserved) != 0) return RejectReason::BadReserved;
  const uint16_t len = load_once(r.text_len);
  if (len > BD_TEXT_MAX) return RejectReason::TextTooLong;
  if (kind_has_text(kind)) {
    // len <= BD_TEXT_MAX (55) < sizeof(text) (56): index is in bounds.
    if (load_once(r.text[len]) != '\0') return RejectReason::TextNotTerminated;
    if (std::memchr(r.text, '\0', len) != nullptr) return RejectReason::TextEmbeddedNul;
  }
  if constexpr (kFromKernel) {
    if (kind == BD_KIND_SCHED_SWITCH) {
      if (len != 0) return RejectReason::TextTooLong;
      // Both comms lie inside text (static_assert below).
      if (std::memchr(r.text, '\0', BD_COMM_LEN) == nullptr ||
          std::memchr(r.text + BD_COMM_LEN, '\0', BD_COMM_LEN) == nullptr)
        return RejectReason::TextNotTerminated;
    }
  }
  return RejectReason::Ok;
}

}  // namespace detail

// Content rules (see the top of this file). Safe on guest memory that other
// guest threads write meanwhile: every field is read once and every index
// is bounded by the value read, so nothing outside the record is touched.
// The verdict only holds for the bytes as they were read: a caller that
// passes record contents on (the emitter) must validate a private copy.
// Inline: this runs on every trap; callers pass a constant from_kernel
// (fixed per translation) so only one instance remains.
inline RejectReason check_record(const bd_record &r, bool from_kernel) noexcept {
  return from_kernel ? detail::check_record_as<true>(r) : detail::check_record_as<false>(r);
}

// Reverses the byte order of every integer field of `r` (a private copy):
// turns a record in the other byte order into one in the host's and back.
// The text is bytes and stays as it is.
inline void swap_record_fields(bd_record &r) noexcept {
  r.magic = byte_swap(r.magic);
  r.version = byte_swap(r.version);
  r.kind = byte_swap(r.kind);
  r.event = byte_swap(r.event);
  r.text_len = byte_swap(r.text_len);
  r.flags = byte_swap(r.flags);
  for (auto &a : r.args) a = byte_swap(a);
  r.pid = byte_swap(r.pid);
  r.tid = byte_swap(r.tid);
  r.seq = byte_swap(r.seq);
  r.reply = byte_swap(r.reply);
  r.reserved = byte_swap(r.reserved);
}

// A private copy of the guest's record with every field in host order:
// the copy (one memcpy: other guest threads may write the original
// meanwhile), then, for a guest of the other byte order (kSwap), the swap.
// Validate and emit `out`, never the original.
template <bool kSwap>
inline void decode_record(const bd_record &guest, bd_record &out) noexcept {
  std::memcpy(&out, &guest, sizeof out);
  if constexpr (kSwap) swap_record_fields(out);
}

// The value of bd_record.reply as the guest must find it in its memory.
template <bool kSwap>
constexpr int32_t reply_in_guest_order(int32_t reply) noexcept {
  return guest_order<kSwap>(reply);
}

static_assert(BD_TEXT_MAX < sizeof(bd_record::text), "text[text_len] must be in bounds");
static_assert(BD_PAGE_SIZE % BD_RECORD_SIZE == 0, "aligned records never cross pages");
static_assert(2 * BD_COMM_LEN <= sizeof(bd_record::text), "both comms fit the text");

}  // namespace bdtrace

#endif  // BDTRACE_RECORD_H
