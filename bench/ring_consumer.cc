// SPDX-License-Identifier: MIT
// bench-ring-consumer: how many records per second bd-ring-consumer's
// engine (ring/: drain, copy, validate, map the clock, emit) gets through on
// one core. Run it inside a recording session (bench/ring.sh runs it under
// `bd-run --native --trace`) to include LTTng's own cost per event, or
// without one for the engine alone.
//
//   bench-ring-consumer [ROUNDS]   (default 20)
//
// Each round fills 4 rings of 16384 slots with marks (as a guest would:
// ts, kind, event, args, pid, tid, seq, then the head), then times
// drain_once() until every ring is empty, on this thread's CPU clock.
// Prints "records N", "records_per_s R" (best round) and "rejected R"
// (must be 0).
#include <bd/ring.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bdtrace/ring/clock_map.h"
#include "bdtrace/ring/consumer.h"
#include "bdtrace/ring/region_file.h"

namespace br = bdtrace::ring;

namespace {

constexpr uint32_t kRings = 4;
constexpr uint32_t kSlots = 16384;

double thread_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Writes `n` marks into `ring` at its head, then publishes them.
void fill(unsigned char* base, const bd_ring_region& hdr, uint32_t ring, uint32_t n, uint64_t& seq) {
  auto* ctl = reinterpret_cast<bd_ring_ctl*>(base + hdr.ctl_offset + ring * BD_RING_CTL_SIZE);
  auto* slots = reinterpret_cast<bd_ring_record*>(base + hdr.data_offset +
                                                  static_cast<uint64_t>(ring) * kSlots * BD_RING_SLOT_SIZE);
  uint64_t head = ctl->head;
  for (uint32_t i = 0; i < n; ++i, ++head) {
    bd_ring_record& r = slots[head % kSlots];
    r.ts = __builtin_ia32_rdtsc();
    r.kind = BD_KIND_MARK;
    r.text_len = 0;
    r.event = 42;
    r.args[0] = i;
    r.args[1] = r.args[2] = r.args[3] = 0;
    r.pid = static_cast<uint32_t>(getpid());
    r.tid = 1000 + ring;
    r.seq = ++seq;
  }
  __atomic_store_n(&ctl->head, head, __ATOMIC_RELEASE);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 20;
  const std::string path = "/dev/shm/bdbench-ring-consumer-" + std::to_string(getpid());
  if (const bdtrace::Status created = br::create_region_file(path, kRings, kSlots, BD_RING_MODE_USER);
      !created) {
    std::fprintf(stderr, "bench-ring-consumer: %s\n", created.error().ToString().c_str());
    return 1;
  }
  bdtrace::Expected<br::MappedRegion> mapped = br::MappedRegion::open(path);
  unlink(path.c_str());  // the mapping stays
  if (!mapped) {
    std::fprintf(stderr, "bench-ring-consumer: %s\n", mapped.error().ToString().c_str());
    return 1;
  }
  br::MappedRegion& region = *mapped;
  br::TscClock clock;
  if (!clock.calibrate()) {
    std::fprintf(stderr, "bench-ring-consumer: cannot calibrate the TSC\n");
    return 1;
  }
  br::LttngSink sink;
  br::RingConsumer consumer(region, clock, clock, sink);
  // The producer writes through the consumer's own shared mapping.
  unsigned char* base = region.base();
  const auto& hdr = *reinterpret_cast<const bd_ring_region*>(base);
  uint64_t seq = 0, total = 0;
  double best = 0;
  for (int round = 0; round < rounds; ++round) {
    for (uint32_t ring = 0; ring < kRings; ++ring) fill(base, hdr, ring, kSlots, seq);
    const uint64_t before = consumer.records();
    const double t0 = thread_cpu_s();
    while (consumer.drain_once() != 0) {
    }
    const double t1 = thread_cpu_s();
    const uint64_t n = consumer.records() - before;
    total += n;
    if (t1 > t0 && n / (t1 - t0) > best) best = static_cast<double>(n) / (t1 - t0);
  }
  consumer.finish();
  std::printf("records %llu\nrecords_per_s %.0f\nrejected %llu\n", static_cast<unsigned long long>(total),
              best, static_cast<unsigned long long>(consumer.rejected()));
  return consumer.rejected() == 0 && total == static_cast<uint64_t>(rounds) * kRings * kSlots ? 0 : 1;
}
