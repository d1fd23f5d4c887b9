/* SPDX-License-Identifier: MIT */
// A RecordSink for tests: keeps (or only counts) what the consumer emits and
// re-validates every record on the way in, so a test can assert that
// nothing invalid ever left the consumer, whatever the guest did.
#ifndef BDTRACE_TESTS_RING_CAPTURE_SINK_H
#define BDTRACE_TESTS_RING_CAPTURE_SINK_H

#include "bdtrace/record.h"
#include "bdtrace/ring/consumer.h"

#include <cstdint>
#include <cstring>
#include <vector>

namespace bdtrace::ring::test {

struct Emitted {
  bd_record rec;
  EmitContext ctx;
};

struct Dropped {
  uint32_t ring, pid, tid;
  uint64_t count, total;
  bool final;
};

class CaptureSink final : public RecordSink {
 public:
  // keep = false: count and check only (long or hostile runs).
  explicit CaptureSink(uint32_t kernel_rings = 0, bool keep = true)
      : kernel_rings_(kernel_rings), keep_(keep) {}

  void record(const bd_record &r, const EmitContext &ctx) noexcept override {
    ++count;
    if (check_record(r, ctx.vcpu < kernel_rings_) != RejectReason::Ok) ++invalid;
    if (kind_has_text(r.kind) && std::strlen(r.text) != r.text_len) ++invalid;
    if (r.kind == BD_KIND_HELLO || r.kind == BD_KIND_QUERY) ++invalid;
    if (keep_) records.push_back(Emitted{r, ctx});
  }
  void ring_dropped(uint32_t ring, uint32_t pid, uint32_t tid, uint64_t c, uint64_t total,
                    bool final) noexcept override {
    drops.push_back(Dropped{ring, pid, tid, c, total, final});
  }
  void blob(uint32_t event, const uint8_t *data, uint32_t len, const EmitContext &ctx) noexcept override {
    ++blob_count;
    if (keep_) blobs.push_back(Blob{event, std::vector<uint8_t>(data, data + len), ctx});
  }

  uint64_t count = 0;
  uint64_t invalid = 0;  // must stay 0
  std::vector<Emitted> records;
  std::vector<Dropped> drops;
  struct Blob {
    uint32_t event;
    std::vector<uint8_t> bytes;
    EmitContext ctx;
  };
  uint64_t blob_count = 0;
  std::vector<Blob> blobs;

 private:
  uint32_t kernel_rings_;
  bool keep_;
};

}  // namespace bdtrace::ring::test

#endif  // BDTRACE_TESTS_RING_CAPTURE_SINK_H
