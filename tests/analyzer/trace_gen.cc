// trace-gen: emits a small, deterministic set of bdtrace:* events natively
// (no QEMU), so the analyzer can be tested on real CTF traces. It is how
// tests/analyzer/data/small-trace was captured (see capture-golden.sh).
//
// Usage: trace-gen [EXTRA_MARKS] — EXTRA_MARKS more marks (event ids 20..23)
// for throughput measurements; without it the output is the golden set.
//
// The guest pid/tid fields are fixed numbers, not the real ids, so the
// captured report does not depend on the machine.
#include <bdtrace/bdtrace_tp.h>

#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <thread>

namespace {

constexpr uint32_t kPid = 4242;
constexpr uint32_t kMainTid = 4242;
constexpr uint32_t kWorkerTid = 4243;
constexpr uint32_t kKindMark = 1;
constexpr uint32_t kKindMarkText = 2;

struct Thread {
  uint32_t vcpu;
  uint32_t tid;
  uint64_t seq = 0;

  void Mark(uint32_t event, uint64_t a0) {
    const uint64_t args[4] = {a0, a0 + 1, 0, 0};
    lttng_ust_tracepoint(bdtrace, mark, vcpu, kPid, tid, kKindMark, event, args, ++seq, "");
  }
  void MarkText(uint32_t event, const char *text) {
    const uint64_t args[4] = {0, 0, 0, 0};
    lttng_ust_tracepoint(bdtrace, mark, vcpu, kPid, tid, kKindMarkText, event, args, ++seq, text);
  }
  void Begin(uint32_t region) {
    lttng_ust_tracepoint(bdtrace, region_begin, vcpu, kPid, tid, region, ++seq);
  }
  void End(uint32_t region) {
    lttng_ust_tracepoint(bdtrace, region_end, vcpu, kPid, tid, region, ++seq);
  }
  void Name(uint32_t event, const char *name) {
    lttng_ust_tracepoint(bdtrace, event_name, vcpu, kPid, tid, event, name);
  }
};

void Pause() { std::this_thread::sleep_for(std::chrono::microseconds(200)); }

void Worker() {
  Thread t{1, kWorkerTid};
  for (uint64_t i = 0; i < 4; ++i) t.Mark(1, i);
  t.Begin(10);
  Pause();
  t.End(10);
  t.Begin(10);
  Pause();
  t.End(10);
  t.End(12);  // an end without a begin
}

}  // namespace

int main(int argc, char **argv) {
  const unsigned long long extra = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 0;
  lttng_ust_tracepoint(bdtrace, session, "user", "x86_64", "trace-gen", 1u, 4242u, "golden");
  Thread t{0, kMainTid};
  for (uint64_t i = 0; i < 5; ++i) t.Mark(1, i);
  for (uint64_t i = 0; i < 3; ++i) t.Mark(2, 100 + i);
  t.MarkText(3, "hello, trace");
  t.Begin(10);
  t.Begin(11);  // nested in 10
  Pause();
  t.End(11);
  t.Begin(11);
  Pause();
  t.End(11);
  t.End(10);
  t.Begin(13);  // never ended

  for (unsigned long long i = 0; i < extra; ++i) t.Mark(20 + static_cast<uint32_t>(i % 4), i);

  std::thread worker(Worker);
  worker.join();

  lttng_ust_tracepoint(bdtrace, rejected, 0u, kMainTid, 1u, "bad_magic", 0x1000u);
  // Names come last: the analyzer must resolve them at the end.
  t.Name(1, "tick");
  t.Name(2, "work");
  t.Name(3, "note");
  t.Name(10, "outer");
  t.Name(11, "inner");
  lttng_ust_tracepoint(bdtrace, rejected_total, 1u, "bad_magic", 3u);
  lttng_ust_tracepoint(bdtrace, rejected_total, 4u, "bad_kind", 1u);
  return 0;
}
