/* SPDX-License-Identifier: GPL-2.0-or-later */
// The host side of the full-system channel (<bd/channel.h>), without QEMU.
//
// A Channel owns no memory: it is given the plugin's own mapping of the
// ivshmem backing file (BD_CHANNEL_SIZE bytes, shared with the guest) and
// decides, from the guest-physical address a trap loaded and whether the
// trapping instruction runs in guest kernel mode, what the trap was:
//   - a record in a slot: validated (check_record), answered (reply written
//     into the mapping), optionally copied out for the emitter;
//   - a call step on a data page: left to the backend, which takes the
//     record (take_call) and serves it (device/call_page.h);
//   - a handshake: the guest tells where its BAR2 is (base learned, ack);
//   - anything else: rejected with a reason (bad_slot, outside_channel,
//     no_channel), never touching memory.
// The QEMU glue (device_backend.cc) only turns a trap into (phys, kernel)
// and a verdict into an event, so this file is the whole policy and the
// unit tests drive it with a plain buffer.
//
// Trust: the guest can write every byte of the mapping at any time. The
// layout used here is the compile-time copy from <bd/channel.h>, never the
// header's fields; the only header field read is handshake_nonce (atomically
// exchanged). Every offset is checked against the layout before use, and a
// record is read at most once per field (or copied once) before validation.
//
// Thread safety: trap() runs concurrently on every vCPU thread. It takes
// no lock and allocates nothing; the base is a relaxed atomic (a trap that
// races a handshake sees the old or the new base, both consistent).
#ifndef BDTRACE_DEVICE_CHANNEL_H
#define BDTRACE_DEVICE_CHANNEL_H

#include <bd/abi.h>
#include <bd/channel.h>
#include <bdtrace/record.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace bdtrace::device {

// Where an offset into the channel points (the layout of <bd/channel.h>).
enum class Area : uint8_t {
  Header,      // [0, KERNEL_OFFSET): the header page and the gap after it
  KernelSlot,  // a BD_RECORD_SIZE-aligned kernel slot
  Claims,      // [CLAIMS_OFFSET, USER_OFFSET): the claim table
  UserSlot,    // a BD_RECORD_SIZE-aligned user slot
  DataPage,    // the first byte of a data page (CALLS)
  Misaligned,  // inside a slot area or a data page, not at its first byte
  Unused,      // between areas or past the last slot, inside the channel
  Outside,     // >= BD_CHANNEL_SIZE
};

inline constexpr uint64_t kKernelSlotsEnd =
    BD_CHANNEL_KERNEL_OFFSET + uint64_t{BD_CHANNEL_KERNEL_SLOTS} * BD_RECORD_SIZE;
inline constexpr uint64_t kUserSlotsEnd =
    BD_CHANNEL_USER_OFFSET + uint64_t{BD_CHANNEL_USER_SLOTS} * BD_RECORD_SIZE;
inline constexpr uint64_t kDataPagesEnd =
    BD_CHANNEL_DATA_OFFSET + uint64_t{BD_CHANNEL_USER_SLOTS} * BD_PAGE_SIZE;

// Full classification, for diagnostics and tests; the hot path uses
// is_slot_offset(), which answers the only question it needs.
constexpr Area classify_offset(uint64_t off) noexcept {
  if (off >= BD_CHANNEL_SIZE) return Area::Outside;
  if (off < BD_CHANNEL_KERNEL_OFFSET) return Area::Header;
  if (off < kKernelSlotsEnd) return off % BD_RECORD_SIZE == 0 ? Area::KernelSlot : Area::Misaligned;
  if (off < BD_CHANNEL_CLAIMS_OFFSET) return Area::Unused;
  if (off < BD_CHANNEL_USER_OFFSET) return Area::Claims;
  if (off < kUserSlotsEnd) return off % BD_RECORD_SIZE == 0 ? Area::UserSlot : Area::Misaligned;
  if (off < BD_CHANNEL_DATA_OFFSET) return Area::Unused;
  if (off < kDataPagesEnd) return off % BD_PAGE_SIZE == 0 ? Area::DataPage : Area::Misaligned;
  return Area::Unused;
}

// True when a whole record at `off` lies in a slot area, at a slot boundary.
constexpr bool is_slot_offset(uint64_t off) noexcept {
  return off % BD_RECORD_SIZE == 0 &&
         (off - BD_CHANNEL_KERNEL_OFFSET < kKernelSlotsEnd - BD_CHANNEL_KERNEL_OFFSET ||
          off - BD_CHANNEL_USER_OFFSET < kUserSlotsEnd - BD_CHANNEL_USER_OFFSET);
}

// True when `off` is the first byte of a data page (a call's record).
constexpr bool is_data_page_offset(uint64_t off) noexcept {
  return off % BD_PAGE_SIZE == 0 && off - BD_CHANNEL_DATA_OFFSET < kDataPagesEnd - BD_CHANNEL_DATA_OFFSET;
}

// True when `off` lies in the data-page area.
constexpr bool in_data_pages(uint64_t off) noexcept {
  return off - BD_CHANNEL_DATA_OFFSET < kDataPagesEnd - BD_CHANNEL_DATA_OFFSET;
}

static_assert(kKernelSlotsEnd <= BD_CHANNEL_CLAIMS_OFFSET, "kernel slots end before claims");
static_assert(kUserSlotsEnd <= BD_CHANNEL_DATA_OFFSET && kDataPagesEnd <= BD_CHANNEL_SIZE,
              "data pages after the user slots, inside the channel");
static_assert(kUserSlotsEnd <= BD_CHANNEL_SIZE, "user slots end inside the channel");
static_assert(BD_CHANNEL_KERNEL_OFFSET % BD_RECORD_SIZE == 0 && BD_CHANNEL_USER_OFFSET % BD_RECORD_SIZE == 0,
              "slot areas start at a record boundary");

// What trap() made of a trap.
enum class Outcome : uint8_t {
  Accepted,   // a valid record in a slot; reply OK written
  Handshake,  // the channel base was (re)learned; ack written
  Rejected,   // see Verdict::reason; a slot's reply was set to REJECTED
  CallStep,   // a trap on a data page (Verdict::offset): take_call() it
};

struct Verdict {
  Outcome outcome;
  RejectReason reason;  // Ok unless Rejected
  uint32_t tid;         // the tid the record claims (0 if no record was read)
  uint32_t offset;      // the slot's offset in the channel (0 if no record was read)
};

class Channel {
 public:
  // Never BD_CHANNEL_SIZE-aligned, so no handshake can set it.
  static constexpr uint64_t kNoBase = ~uint64_t{0};

  constexpr Channel() noexcept = default;
  explicit Channel(unsigned char *mem) noexcept : mem_(mem) {}
  Channel(const Channel &) = delete;
  Channel &operator=(const Channel &) = delete;

  // Points the channel at a mapping of BD_CHANNEL_SIZE bytes (page-aligned,
  // outliving every trap() call). Only before traps can arrive.
  void attach(unsigned char *mem) noexcept {
    mem_ = mem;
    base_.store(kNoBase, std::memory_order_relaxed);
  }

  // Zeroes the whole channel (stale claims, records, handshakes of an
  // earlier run) and writes a fresh header: magic last, after a release
  // fence, so a guest that sees the magic sees the rest.
  void init_header(uint32_t nr_vcpus) noexcept;

  // Handles one trap whose load hit guest-physical address `phys`.
  // kFromKernel: the trapping instruction is in guest kernel space (fixed
  // at translation, hence a template argument: each QEMU callback gets its
  // own fully inlined copy). copy: where to put the validated record for
  // the emitter, or nullptr when nothing records (then it is validated in
  // place, each field read once, and never passed on).
  template <bool kFromKernel>
  __attribute__((always_inline)) Verdict trap(uint64_t phys, bd_record *copy) noexcept {
    const uint64_t base = base_.load(std::memory_order_relaxed);
    const uint64_t off = phys - base;
    if (base != kNoBase && off < BD_CHANNEL_SIZE) {
      if (is_slot_offset(off)) return take_record<kFromKernel>(off, copy);
      if (__builtin_expect(in_data_pages(off), 0)) return on_data_page<kFromKernel>(off);
      if (off == 0 && try_handshake(phys)) return {Outcome::Handshake, RejectReason::Ok, 0, 0};
      return {Outcome::Rejected, not_a_slot_reason(off), 0, 0};
    }
    // Not in the known channel: a (first or moved) handshake, or stray.
    if (try_handshake(phys)) return {Outcome::Handshake, RejectReason::Ok, 0, 0};
    return {Outcome::Rejected, base == kNoBase ? RejectReason::NoChannel : RejectReason::OutsideChannel, 0,
            0};
  }

  // The same with the mode as a value (tests, tools).
  Verdict on_trap(uint64_t phys, bool from_kernel, bd_record *copy) noexcept {
    return from_kernel ? trap<true>(phys, copy) : trap<false>(phys, copy);
  }

  // The record of a CallStep verdict's data page, copied into `copy` and
  // validated (a BD_KIND_CALL record): Ok, or the reason it was rejected
  // (its reply then set to REJECTED). Ok leaves the reply to the caller,
  // who serves the step (data_page()) and then answers set_reply(OK).
  RejectReason take_call(uint32_t offset, bd_record &copy) noexcept {
    if (!is_data_page_offset(offset)) return RejectReason::CallBadPage;
    auto *rec = reinterpret_cast<bd_record *>(mem_ + offset);
    std::memcpy(static_cast<void *>(&copy), rec, sizeof copy);
    RejectReason why = check_record(copy, false);
    if (why == RejectReason::Ok && copy.kind != BD_KIND_CALL) why = RejectReason::BadSlot;
    if (why != RejectReason::Ok) __atomic_store_n(&rec->reply, int32_t{BD_REPLY_REJECTED}, __ATOMIC_RELAXED);
    return why;
  }

  // The BD_PAGE_SIZE bytes of the data page at `offset` (a CallStep's).
  unsigned char *data_page(uint32_t offset) const noexcept {
    return is_data_page_offset(offset) ? mem_ + offset : nullptr;
  }

  // Overwrites the reply of the record trap() just accepted at `offset`
  // (Verdict::offset): the filter answers BD_REPLY_FILTERED instead of OK;
  // a served call step (a data page's offset) OK.
  // The guest reads the reply only after the trap returns.
  void set_reply(uint32_t offset, int32_t reply) noexcept {
    if (!is_slot_offset(offset) && !is_data_page_offset(offset)) return;
    __atomic_store_n(&reinterpret_cast<bd_record *>(mem_ + offset)->reply, reply, __ATOMIC_RELAXED);
  }

  // Writes the enable bitmaps and their union (<bd/channel.h>, ENABLE
  // BITMAPS) into the header, word by word (atomic stores: the guest
  // reads them concurrently). Call set_generation() after it.
  void set_enable_maps(const uint64_t (&maps)[BD_CHANNEL_KERNEL_SLOTS][4],
                       const uint64_t (&unions)[4]) noexcept {
    bd_channel_header *h = header();
    for (unsigned v = 0; v < BD_CHANNEL_KERNEL_SLOTS; ++v)
      for (unsigned w = 0; w < 4; ++w) __atomic_store_n(&h->enable[v][w], maps[v][w], __ATOMIC_RELAXED);
    for (unsigned w = 0; w < 4; ++w) __atomic_store_n(&h->unions[w], unions[w], __ATOMIC_RELAXED);
  }

  // Publishes a new filter generation in the header (release: a guest
  // that sees it sees whatever was written before, e.g. enable bitmaps).
  void set_generation(uint64_t generation) noexcept {
    __atomic_store_n(&header()->generation, generation, __ATOMIC_RELEASE);
  }
  uint64_t generation() const noexcept { return __atomic_load_n(&header()->generation, __ATOMIC_ACQUIRE); }

  // The learned base (kNoBase before the first handshake).
  uint64_t base() const noexcept { return base_.load(std::memory_order_relaxed); }
  uint64_t handshakes() const noexcept { return handshakes_.load(std::memory_order_relaxed); }

 private:
  // A trap inside the channel but not on a slot: a guest's report of a
  // record it lost (LOST RECORDS of <bd/channel.h>), or a bad address.
  static constexpr RejectReason not_a_slot_reason(uint64_t off) noexcept {
    if (off == BD_CHANNEL_LOST_NO_SLOT_OFFSET) return RejectReason::NoFreeSlot;
    if (off == BD_CHANNEL_LOST_NESTED_OFFSET) return RejectReason::NestedCall;
    return RejectReason::BadSlot;
  }

  // A trap in the data-page area: a call step at a page's first byte from
  // guest user space; anything else rejected without reading.
  template <bool kFromKernel>
  static constexpr Verdict on_data_page(uint64_t off) noexcept {
    if (kFromKernel) return {Outcome::Rejected, RejectReason::CallNotServed, 0, 0};
    if (off % BD_PAGE_SIZE != 0) return {Outcome::Rejected, RejectReason::CallBadPage, 0, 0};
    return {Outcome::CallStep, RejectReason::Ok, 0, static_cast<uint32_t>(off)};
  }

  bd_channel_header *header() const noexcept { return reinterpret_cast<bd_channel_header *>(mem_); }

  // Accepts `phys` as the base when it is BD_CHANNEL_SIZE-aligned and the
  // guest left a non-zero nonce; takes the nonce (so one nonce is accepted
  // once even when several vCPUs race) and acknowledges it.
  bool try_handshake(uint64_t phys) noexcept {
    if (phys % BD_CHANNEL_SIZE != 0) return false;
    bd_channel_header *h = header();
    const uint64_t nonce = __atomic_exchange_n(&h->handshake_nonce, uint64_t{0}, __ATOMIC_ACQ_REL);
    if (nonce == 0) return false;
    base_.store(phys, std::memory_order_relaxed);
    __atomic_store_n(&h->handshake_ack, nonce, __ATOMIC_RELEASE);
    handshakes_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  // `off` passed is_slot_offset(): the record lies inside the mapping.
  template <bool kFromKernel>
  Verdict take_record(uint64_t off, bd_record *copy) noexcept {
    auto *slot = reinterpret_cast<bd_record *>(mem_ + off);
    RejectReason why;
    uint32_t tid;
    if (copy != nullptr) {
      // What is emitted must be what was validated: the guest may
      // rewrite the slot meanwhile.
      std::memcpy(static_cast<void *>(copy), slot, sizeof *copy);
      why = check_record(*copy, kFromKernel);
      tid = copy->tid;
    } else {
      why = check_record(*slot, kFromKernel);
      tid = load_once(slot->tid);
    }
    // Calls travel through data pages (<bd/channel.h>, CALLS): a slot
    // has no room for their bytes.
    if (why == RejectReason::Ok &&
        __builtin_expect((copy != nullptr ? copy->kind : load_once(slot->kind)) == BD_KIND_CALL, 0))
      why = RejectReason::CallNotServed;
    const bool ok = why == RejectReason::Ok;
    __atomic_store_n(&slot->reply, ok ? int32_t{BD_REPLY_OK} : int32_t{BD_REPLY_REJECTED}, __ATOMIC_RELAXED);
    return {ok ? Outcome::Accepted : Outcome::Rejected, why, tid, static_cast<uint32_t>(off)};
  }

  unsigned char *mem_ = nullptr;
  std::atomic<uint64_t> base_{kNoBase};
  std::atomic<uint64_t> handshakes_{0};
};

static_assert(BD_CHANNEL_SIZE % BD_PAGE_SIZE == 0, "channel is whole pages");
static_assert(Channel::kNoBase % BD_CHANNEL_SIZE != 0, "kNoBase is never a base");

}  // namespace bdtrace::device

#endif  // BDTRACE_DEVICE_CHANNEL_H
