// SPDX-License-Identifier: MIT
// Draining the rings (see consumer.h).
#include "bdtrace/ring/consumer.h"

#include "bdtrace/ring/guest_word.h"
#include "bdtrace/ring/shared_copy.h"

#include <cstddef>
#include <cstring>

namespace bdtrace::ring {
namespace {

// Slots given back to the producer (tail stored) at least this often within
// one ring's batch, so a long batch frees space as it goes rather than at
// its end; a store to the consumer's own cache line is cheap.
constexpr uint64_t kPublishEvery = 256;

constexpr std::size_t kWordsPerSlot = BD_RING_SLOT_SIZE / sizeof(uint64_t);
constexpr std::size_t kTextWords = sizeof(bd_record::text) / sizeof(uint64_t);
static_assert(sizeof(bd_record::text) % sizeof(uint64_t) == 0, "text copies in whole words");
static_assert(sizeof(bd_record::text) <= sizeof(bd_ring_text), "text fits the second slot");

}  // namespace

// ------------------------------------------------------------------ LttngSink

void LttngSink::record(const bd_record &r, const EmitContext &ctx) noexcept { emit_record(r, ctx); }

void LttngSink::blob(uint32_t event, const uint8_t *data, uint32_t len, const EmitContext &ctx) noexcept {
  lttng_ust_tracepoint(bdtrace, blob, ctx.vcpu, ctx.pid, ctx.tid, event, data, len, ctx.guest_ts);
}

void LttngSink::ring_dropped(uint32_t ring, uint32_t pid, uint32_t tid, uint64_t count, uint64_t total,
                             bool final) noexcept {
  lttng_ust_tracepoint(bdtrace, ring_dropped, ring, pid, tid, count, total,
                       static_cast<uint8_t>(final ? 1 : 0));
}

// --------------------------------------------------------------- RingConsumer

RingConsumer::RingConsumer(const MappedRegion &region, GuestClock &guest_clock, TscClock &host_clock,
                           RecordSink &sink)
    : region_(region),
      layout_(region.layout()),
      swap_(layout_.byte_order != kHostByteOrder),
      guest_clock_(guest_clock),
      host_clock_(host_clock),
      sink_(sink),
      rings_(layout_.ring_count),
      blob_bytes_(new uint8_t[BD_CALL_IO_MAX + BD_RING_SLOT_SIZE]) {
  // Start where the ring says the last consumer stopped (0 in a fresh
  // region); a bogus value is caught by the first pass's bound check.
  // Every drop the ring counts is reported (last_dropped starts at 0).
  for (uint32_t i = 0; i < layout_.ring_count; ++i)
    rings_[i].tail = load_guest(layout_.byte_order, &region_.ctl(i)->tail, __ATOMIC_RELAXED);
}

uint64_t RingConsumer::drain_once() noexcept {
  guest_clock_.refresh();
  // A record that came after refresh() looked would be mapped with a map
  // that is not one yet (seen: aarch64 marks at guest_ts 0 under QEMU 7.2,
  // whose counter runs at 62.5 MHz): it waits for the next pass.
  if (!guest_clock_.ready()) return 0;
  if (static_cast<GuestClock *>(&host_clock_) != &guest_clock_) host_clock_.refresh();
  const LinearMap guest = guest_clock_.current();
  const LinearMap host = host_clock_.current();
  return swap_ ? drain_all<true>(guest, host) : drain_all<false>(guest, host);
}

template <bool kSwap>
uint64_t RingConsumer::drain_all(const LinearMap &guest, const LinearMap &host) noexcept {
  uint64_t consumed = 0;
  for (uint32_t i = 0; i < layout_.ring_count; ++i) consumed += drain_ring<kSwap>(i, guest, host);
  check_drops<kSwap>(BD_RING_NO_RING, &region_.header()->unowned_dropped,
                     offsetof(bd_ring_region, unowned_dropped), unowned_);
  return consumed;
}

template <bool kSwap>
void RingConsumer::publish_tail(uint32_t ring, const RingState &st) noexcept {
  // Release: the slots' contents were copied out before the producer may
  // reuse them.
  store_guest<kSwap>(&region_.ctl(ring)->tail, st.tail, __ATOMIC_RELEASE);
}

template <bool kSwap>
void RingConsumer::owner(uint32_t ring, uint32_t &pid, uint32_t &tid) const noexcept {
  // One 8-byte load: tid and pid of the same claim (two 32-bit fields in
  // the guest's order, wherever its compare-and-swap put them).
  bd_slot_claim c;
  static_assert(sizeof c == sizeof(uint64_t), "a claim is one word");
  copy_from_shared(&c, region_.claim(ring), 1);
  pid = guest_order<kSwap>(c.pid);
  tid = guest_order<kSwap>(c.tid);
}

template <bool kSwap>
uint64_t RingConsumer::drain_ring(uint32_t ring, const LinearMap &guest, const LinearMap &host) noexcept {
  RingState &st = rings_[ring];
  bd_ring_ctl *ctl = region_.ctl(ring);
  // Read once: everything below works on this value.
  const uint64_t head = load_guest<kSwap>(&ctl->head, __ATOMIC_ACQUIRE);
  uint64_t ready = head - st.tail;
  uint64_t consumed = 0;
  if (ready > layout_.ring_slots) {
    // An honest producer never gets more than a ring ahead: the slots
    // in between cannot be told apart. Skip to head.
    uint32_t pid, tid;
    owner<kSwap>(ring, pid, tid);
    rejects_.reject(RejectReason::RingBadIndex, ring, tid,
                    layout_.ctl_offset + uint64_t{ring} * BD_RING_CTL_SIZE);
    st.tail = head;
    publish_tail<kSwap>(ring, st);
    consumed = 1;
  } else if (ready > 0) {
    const bool from_kernel = ring < layout_.kernel_rings;
    uint64_t since_publish = 0;
    while (ready > 0) {
      const uint64_t offset = region_.slot_offset(ring, st.tail);
      // Copy first: from here on only private memory is looked at.
      bd_ring_record slot;
      copy_from_shared(&slot, region_.base() + offset, kWordsPerSlot);
      if constexpr (kSwap) swap_ring_record_fields(slot);
      // Slots the record takes: one or two, or a bulk mark's bytes too.
      const bool blob = slot.kind == BD_RING_KIND_BLOB;
      const uint64_t blob_len = blob ? slot.args[0] : 0;
      if (blob_len > BD_CALL_IO_MAX) {
        // No telling where its bytes end: skip the record's slot.
        rejects_.reject(RejectReason::RingBadBlob, ring, slot.tid, offset);
        st.tail += 1;
        ready -= 1;
        consumed += 1;
        continue;
      }
      const uint64_t n = blob ? bd_ring_blob_slots(blob_len) : bd_ring_record_slots(slot.kind);
      if (n > ready) {
        // The producer publishes a record's slots with one head
        // store: a ready count ending inside a record is a lie.
        // Skip what is ready; the next slot published starts a
        // record.
        rejects_.reject(RejectReason::RingTruncated, ring, slot.tid, offset);
        st.tail += ready;
        consumed += ready;
        break;
      }
      alignas(BD_RECORD_SIZE) bd_record rec;
      std::memset(&rec, 0, sizeof rec);
      if (blob) {
        for (uint64_t i = 1; i < n; ++i)
          copy_from_shared(blob_bytes_.get() + (i - 1) * BD_RING_SLOT_SIZE, region_.slot(ring, st.tail + i),
                           kWordsPerSlot);
      } else if (n == 2) {
        copy_from_shared(rec.text, region_.slot(ring, st.tail + 1), kTextWords);
      }
      st.tail += n;
      ready -= n;
      consumed += n;
      since_publish += n;
      if (since_publish >= kPublishEvery) {
        publish_tail<kSwap>(ring, st);
        since_publish = 0;
      }
      if (blob) {
        st.owner_pid = slot.pid;
        st.owner_tid = slot.tid;
        const uint64_t guest_ns = map_time(st, slot.ts, guest, host);
        sink_.blob(slot.event, blob_bytes_.get(), static_cast<uint32_t>(blob_len),
                   EmitContext{ring, slot.pid, slot.tid, guest_ns});
        ++st.records;
        ++records_;
        ++blobs_;
        continue;
      }
      rec.magic = BD_MAGIC;
      rec.version = BD_ABI_VERSION;
      rec.kind = slot.kind;
      rec.event = slot.event;
      rec.text_len = slot.text_len;
      std::memcpy(rec.args, slot.args, sizeof rec.args);
      rec.pid = slot.pid;
      rec.tid = slot.tid;
      rec.seq = slot.seq;
      if (rec.kind == BD_KIND_HELLO || rec.kind == BD_KIND_QUERY || rec.kind == BD_KIND_CALL) {
        rejects_.reject(RejectReason::RingForbiddenKind, ring, rec.tid, offset);
        continue;
      }
      const RejectReason why = check_record(rec, from_kernel);
      if (why != RejectReason::Ok) {
        rejects_.reject(why, ring, rec.tid, offset);
        continue;
      }
      // Who writes the ring: drop reports made after the thread
      // released it (the report interval, or a thread that ended
      // before the first pass) still name it.
      st.owner_pid = rec.pid;
      st.owner_tid = rec.tid;
      handle(ring, st, rec, slot.ts, guest, host);
    }
    publish_tail<kSwap>(ring, st);
  }
  check_drops<kSwap>(ring, &ctl->dropped,
                     layout_.ctl_offset + uint64_t{ring} * BD_RING_CTL_SIZE + offsetof(bd_ring_ctl, dropped),
                     st);
  return consumed;
}

uint64_t RingConsumer::map_time(RingState &st, uint64_t ts, const LinearMap &guest,
                                const LinearMap &host) noexcept {
  uint64_t guest_ns = guest.map(ts);
  // A fresh clock pair between two records may move the map by a few
  // tens of ns: keep the mapped times in the order of the raw ones.
  if (st.have_ts && ts >= st.last_ts && guest_ns < st.last_guest_ns) guest_ns = st.last_guest_ns;
  st.last_ts = ts;
  st.last_guest_ns = guest_ns;
  st.have_ts = true;
  const uint64_t now = host.map(read_tsc());
  delay_.add(now > guest_ns ? now - guest_ns : 0);
  return guest_ns;
}

void RingConsumer::handle(uint32_t ring, RingState &st, const bd_record &rec, uint64_t ts,
                          const LinearMap &guest, const LinearMap &host) noexcept {
  const uint64_t guest_ns = map_time(st, ts, guest, host);
  sink_.record(rec, EmitContext{ring, rec.pid, rec.tid, guest_ns});
  ++st.records;
  ++records_;
}

namespace {

uint64_t saturating_add(uint64_t a, uint64_t b) noexcept {
  uint64_t sum;
  return __builtin_add_overflow(a, b, &sum) ? UINT64_MAX : sum;
}

}  // namespace

template <bool kSwap>
void RingConsumer::check_drops(uint32_t ring, const bd_u64 *counter, uint64_t offset,
                               RingState &st) noexcept {
  if (drop_report_interval_ns_ != 0 && !finishing_) {
    const uint64_t now = host_clock_.now_ns();
    if (st.last_drop_look_ns != 0 && now - st.last_drop_look_ns < drop_report_interval_ns_) return;
    st.last_drop_look_ns = now;
  }
  const uint64_t d = load_guest<kSwap>(counter, __ATOMIC_RELAXED);
  if (d == st.last_dropped) return;
  uint32_t pid = 0, tid = 0;
  if (ring != BD_RING_NO_RING) {
    owner<kSwap>(ring, pid, tid);
    if (tid == 0) {  // released since: the writer of its last record
      pid = st.owner_pid;
      tid = st.owner_tid;
    }
  }
  if (d < st.last_dropped) {
    // The count only grows for an honest producer: resynchronise
    // without reporting a negative count.
    rejects_.reject(RejectReason::RingDroppedDecreased, ring, tid, offset);
    st.last_dropped = d;
    return;
  }
  const uint64_t growth = d - st.last_dropped;
  st.last_dropped = d;
  // Saturating: a guest that lowers the count (rejected above) and raises
  // it again can claim more than 2^64 drops in all; the totals stop at
  // UINT64_MAX instead of wrapping below the growth just reported (found
  // by the ring fuzz harness).
  st.dropped_total = saturating_add(st.dropped_total, growth);
  dropped_ = saturating_add(dropped_, growth);
  sink_.ring_dropped(ring, pid, tid, growth, st.dropped_total, false);
}

void RingConsumer::finish() noexcept {
  finishing_ = true;
  drain_once();
  for (uint32_t i = 0; i < layout_.ring_count; ++i) {
    if (rings_[i].dropped_total == 0) continue;
    uint32_t pid, tid;
    if (swap_)
      owner<true>(i, pid, tid);
    else
      owner<false>(i, pid, tid);
    sink_.ring_dropped(i, pid, tid, 0, rings_[i].dropped_total, true);
  }
  if (unowned_.dropped_total != 0) sink_.ring_dropped(BD_RING_NO_RING, 0, 0, 0, unowned_.dropped_total, true);
  rejects_.emit_totals();
}

}  // namespace bdtrace::ring
