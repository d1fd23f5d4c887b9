/* SPDX-License-Identifier: MIT */
// The host consumer of the ring channel (<bd/ring.h>): drains every ring of
// a mapped region, validates every record with the one validator
// (check_record in <bdtrace/record.h>) and hands the valid ones, with their
// time mapped to host CLOCK_MONOTONIC, to a RecordSink (production:
// LttngSink, the same bdtrace:* events as the trap channel).
//
// The region is guest memory, hostile in the worst case. The consumer:
//   - uses only the layout it checked when mapping (MappedRegion);
//   - reads each ring's head once per pass (acquire) and keeps the tail in
//     private memory, storing it to the ring (release) only to give slots
//     back: a guest that rewrites tail cannot make the consumer re-read or
//     skip anything it did not decide to;
//   - accepts at most ring_slots ready slots: more is impossible for an
//     honest producer (counted as ring_bad_index, tail resynchronised to
//     head), so one drain_once() is bounded by the region's slot count;
//   - copies every slot out of shared memory before looking at it, and
//     builds a private struct bd_record from the copy (magic, version,
//     flags and reserved set by the consumer), which is what gets
//     validated and emitted;
//   - never allocates, locks or prints per record;
//   - reads and writes every field in the guest's byte order (the region's,
//     RegionLayout::byte_order): a guest of the other order (s390x) is
//     drained by the kSwap instance of the draining code, chosen once per
//     pass, so a guest of the host's order runs the code it always ran.
#ifndef BDTRACE_RING_CONSUMER_H
#define BDTRACE_RING_CONSUMER_H

#include <bd/ring.h>

#include "bdtrace/emitter.h"
#include "bdtrace/record.h"
#include "bdtrace/ring/clock_map.h"
#include "bdtrace/ring/log_histogram.h"
#include "bdtrace/ring/region_file.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace bdtrace::ring {

// Where the consumer's output goes. Called from the draining thread only.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // A record check_record() accepted. `r` is the consumer's private copy
  // (text NUL-terminated); ctx.vcpu is the ring index and ctx.guest_ts the
  // call's time in host CLOCK_MONOTONIC ns.
  virtual void record(const bd_record &r, const EmitContext &ctx) noexcept = 0;
  // bdtrace:ring_dropped (see bdtrace_tp.h): `count` new drops of `ring`
  // since the previous call for it, `total` so far; owner pid/tid from the
  // claims table; final = the end-of-run report.
  virtual void ring_dropped(uint32_t ring, uint32_t pid, uint32_t tid, uint64_t count, uint64_t total,
                            bool final) noexcept = 0;
  // A bulk mark (<bd/ring.h>, BULK MARKS): `len` bytes at `data` (the
  // consumer's copy, valid during the call) of `event`; ctx as for
  // record(). Not filtered (like the trap channel's). Default: ignored.
  virtual void blob(uint32_t event, const uint8_t *data, uint32_t len, const EmitContext &ctx) noexcept {
    (void)event, (void)data, (void)len, (void)ctx;
  }
};

// The production sink: emit_record() and bdtrace:ring_dropped.
class LttngSink final : public RecordSink {
 public:
  void record(const bd_record &r, const EmitContext &ctx) noexcept override;
  void ring_dropped(uint32_t ring, uint32_t pid, uint32_t tid, uint64_t count, uint64_t total,
                    bool final) noexcept override;
  void blob(uint32_t event, const uint8_t *data, uint32_t len, const EmitContext &ctx) noexcept override;
};

class RingConsumer {
 public:
  // `guest_clock` maps bd_ring_record.ts (user mode: the TscClock);
  // `host_clock` gives host "now" for the emission-delay statistics (in
  // user mode the same object). Both are refreshed once per drain pass.
  // Every reference must outlive the consumer.
  RingConsumer(const MappedRegion &region, GuestClock &guest_clock, TscClock &host_clock, RecordSink &sink);

  // Drains every ring once, at most ring_slots slots each. Returns the
  // slots consumed (records, rejected ones and resynchronisations): 0 means
  // nothing was ready.
  uint64_t drain_once() noexcept;

  // End of the run: a final drain, one final ring_dropped per ring that
  // dropped anything, and the rejection totals (bdtrace:rejected_total).
  void finish() noexcept;

  // Report a ring's new drops at most once per `ns` of host time (0, the
  // default: at every pass that sees them). The count accumulates in the
  // ring meanwhile, so nothing is lost, and finish() reports everything:
  // in a flood a pass takes microseconds, and a report per pass per ring
  // would flood the trace with reports.
  void set_drop_report_interval_ns(uint64_t ns) noexcept { drop_report_interval_ns_ = ns; }

  // Statistics (read from the draining thread).
  uint64_t records() const noexcept { return records_; }  // bulk marks included
  uint64_t blobs() const noexcept { return blobs_; }
  uint64_t ring_records(uint32_t ring) const noexcept {
    return ring < rings_.size() ? rings_[ring].records : 0;
  }
  uint64_t dropped() const noexcept { return dropped_; }
  // ring: an index, or BD_RING_NO_RING for the unowned drops.
  uint64_t ring_dropped_total(uint32_t ring) const noexcept {
    if (ring == BD_RING_NO_RING) return unowned_.dropped_total;
    return ring < rings_.size() ? rings_[ring].dropped_total : 0;
  }
  uint64_t rejected() const noexcept { return rejects_.total(); }
  const RejectStats &rejects() const noexcept { return rejects_; }
  // Host now - guest_ts at emission, in ns (negative clock error counts as 0).
  const LogHistogram &delay() const noexcept { return delay_; }

 private:
  struct RingState {
    uint64_t tail = 0;                      // the consumer's own copy
    uint64_t last_dropped = 0;              // the ring's dropped count at the last look
    uint64_t dropped_total = 0;             // sum of the increases seen
    uint64_t last_drop_look_ns = 0;         // host time the counter was last read (0: never)
    uint32_t owner_pid = 0, owner_tid = 0;  // who wrote the last valid record
    uint64_t records = 0;
    uint64_t last_ts = 0;        // raw ts of the last emitted record
    uint64_t last_guest_ns = 0;  // its mapped time
    bool have_ts = false;
  };

  // Every ring once, in the guest's byte order (kSwap: not the host's).
  template <bool kSwap>
  uint64_t drain_all(const LinearMap &guest, const LinearMap &host) noexcept;
  template <bool kSwap>
  uint64_t drain_ring(uint32_t ring, const LinearMap &guest, const LinearMap &host) noexcept;
  // Maps the time, emits, counts.
  void handle(uint32_t ring, RingState &st, const bd_record &rec, uint64_t ts, const LinearMap &guest,
              const LinearMap &host) noexcept;
  // The guest time of a record's ts, kept in order with the ring's
  // earlier ones; counts the emission delay.
  uint64_t map_time(RingState &st, uint64_t ts, const LinearMap &guest, const LinearMap &host) noexcept;
  // A drop counter in the region (a ring's `dropped`, or the header's
  // unowned_dropped for ring BD_RING_NO_RING at `offset`): its increases
  // become ring_dropped reports, a decrease a rejection.
  template <bool kSwap>
  void check_drops(uint32_t ring, const bd_u64 *counter, uint64_t offset, RingState &st) noexcept;
  template <bool kSwap>
  void owner(uint32_t ring, uint32_t &pid, uint32_t &tid) const noexcept;
  template <bool kSwap>
  void publish_tail(uint32_t ring, const RingState &st) noexcept;

  const MappedRegion &region_;
  const RegionLayout layout_;  // a copy: never re-read
  const bool swap_;            // the region's byte order is not the host's
  GuestClock &guest_clock_;
  TscClock &host_clock_;
  RecordSink &sink_;
  std::vector<RingState> rings_;
  RingState unowned_;  // drops of threads that own no ring (drop fields only)
  RejectStats rejects_;
  LogHistogram delay_;
  uint64_t records_ = 0;
  uint64_t blobs_ = 0;
  uint64_t dropped_ = 0;
  // A bulk mark's bytes, copied out of the ring (whole slots).
  std::unique_ptr<uint8_t[]> blob_bytes_;
  uint64_t drop_report_interval_ns_ = 0;
  bool finishing_ = false;  // finish(): every counter is read
};

}  // namespace bdtrace::ring

#endif  // BDTRACE_RING_CONSUMER_H
