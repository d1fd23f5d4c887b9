// SPDX-License-Identifier: MIT
// Fuzz harness: the ring consumer (ring/consumer.h), which drains regions
// the guest writes (rings, control words, claims) while it runs. One region
// file (system mode: 1 kernel ring and 3 user rings of 16 slots) is mapped
// twice, as the consumer and as the guest map it. Input: a program of
// 16-byte steps on the guest's mapping:
//   byte 0 = op: 0 write bytes 8..15 at data offset bytes 1..4, 1 set ring
//   byte 5's head to bytes 8..15, 2 set its dropped count, 3 write bytes
//   8..15 at any offset (header, claims, control words), 4 drain.
// Every input ends with finish() (a final drain and the drop reports).
// Invariants: every record handed to the sink passed the validator, a
// SCHED_SWITCH comes only from the kernel ring, and the consumer's counts
// add up; nothing crashes or hangs (each drain is bounded by the slots).
#include <bd/ring.h>

#include "bdtrace/ring/clock_map.h"
#include "bdtrace/ring/consumer.h"
#include "bdtrace/ring/region_file.h"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "fuzz_check.h"

namespace {

using namespace bdtrace::ring;
using bdtrace::Expected;
using bdtrace::Status;

constexpr uint32_t kRings = 4, kKernelRings = 1, kSlots = 16;

class CheckingSink final : public RecordSink {
 public:
  void record(const bd_record &r, const bdtrace::EmitContext &ctx) noexcept override {
    FUZZ_CHECK(bdtrace::check_record(r, /*from_kernel=*/true) == bdtrace::RejectReason::Ok);
    if (r.kind == BD_KIND_SCHED_SWITCH) FUZZ_CHECK(ctx.vcpu < kKernelRings);
    FUZZ_CHECK(ctx.vcpu < kRings);
    ++records;
  }
  void ring_dropped(uint32_t ring, uint32_t, uint32_t, uint64_t count, uint64_t total,
                    bool) noexcept override {
    FUZZ_CHECK(ring < kRings);
    FUZZ_CHECK(count <= total);
  }
  uint64_t records = 0;
};

// The region file and both mappings, made once per process.
struct Setup {
  std::string dir, path;
  MappedRegion consumer_view, guest_view;
  TscClock host;
  LinearClockMap identity;
  Setup() {
    char tmpl[] = "/tmp/bdtrace-fuzz-ring-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    dir = tmpl;
    path = dir + "/region";
    Status ready = create_region_file(path, kRings, kSlots, BD_RING_MODE_SYSTEM, kKernelRings);
    if (ready) ready = map(consumer_view);
    if (ready) ready = map(guest_view);
    if (!ready) {
      std::fprintf(stderr, "ring harness setup: %s\n", ready.error().ToString().c_str());
      std::abort();
    }
    // The file is mapped: it can go now.
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
    host.calibrate(1'000'000);
    identity.set_slope(1.0);
    identity.add_pair(0, 0);
  }
  // MappedRegion::open into one of the views.
  Status map(MappedRegion &view) const {
    Expected<MappedRegion> opened = MappedRegion::open(path);
    if (!opened) return opened.take_error();
    view = std::move(*opened);
    return Status::Ok();
  }
};

uint64_t u64_at(const uint8_t *p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Setup *s = new Setup;  // never destroyed: the mappings outlive every input
  const RegionLayout &layout = s->guest_view.layout();
  unsigned char *guest = s->guest_view.base();
  const uint64_t data_begin = layout.data_offset, end = layout.region_size;
  const uint64_t after_header = sizeof(bd_ring_region);
  // A fresh guest side per input: everything past the header zeroed.
  std::memset(guest + after_header, 0, end - after_header);
  CheckingSink sink;
  RingConsumer consumer(s->consumer_view, s->identity, s->host, sink);
  for (size_t at = 0; at + 16 <= size; at += 16) {
    const uint8_t *step = data + at;
    uint32_t off;
    std::memcpy(&off, step + 1, sizeof off);
    const uint32_t ring = step[5] % kRings;
    const uint64_t value = u64_at(step + 8);
    bd_ring_ctl *ctl = s->guest_view.ctl(ring);
    switch (step[0] % 5) {
      case 0:
        std::memcpy(guest + data_begin + (off % (end - data_begin - 8)) / 8 * 8, &value, 8);
        break;
      case 1:
        __atomic_store_n(&ctl->head, value, __ATOMIC_RELEASE);
        break;
      case 2:
        __atomic_store_n(&ctl->dropped, value, __ATOMIC_RELEASE);
        break;
      case 3:
        std::memcpy(guest + (off % (end - 8)) / 8 * 8, &value, 8);
        break;
      case 4:
        consumer.drain_once();
        break;
    }
  }
  consumer.finish();
  FUZZ_CHECK(consumer.records() == sink.records);
  return 0;
}
