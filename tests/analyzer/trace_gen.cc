// SPDX-License-Identifier: MIT
// trace-gen: emits a small, deterministic set of bdtrace:* events natively
// (no QEMU), so the analyzer can be tested on real CTF traces. It is how
// tests/analyzer/data/small-trace was captured (see capture-golden.sh).
//
// Usage: trace-gen [EXTRA_MARKS] — EXTRA_MARKS more marks (event ids 20..23)
// for throughput measurements; without it the output is the golden set.
//        trace-gen --all-kinds — one or more of every bdtrace:* event kind
// (see AllKindsMode).
//        trace-gen --system — a system-mode set instead: a VM session and
// sched_switch events on two fake vCPUs with sleeps between them (the
// timeline is in SystemMode; analyzer_test checks the times against it and
// tests/analyzer/data/system-trace was captured from it).
//        trace-gen --ring [EXTRA_MARKS] — ring-channel events as
// bd-ring-consumer emits them: each carries guest_ts, when the guest made
// the call, earlier than its LTTng time and out of order across threads;
// plus bdtrace:ring_dropped (the timeline is in RingMode; ring_test checks
// it and tests/analyzer/data/ring-trace was captured from it). With
// EXTRA_MARKS, that many more ring marks from 4 threads whose emission lags
// differ (for throughput measurements of the reordering).
//
// The guest pid/tid fields are fixed numbers, not the real ids, so the
// captured report does not depend on the machine.
#include <bdtrace/bdtrace_tp.h>

#include <time.h>

#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <initializer_list>
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
    lttng_ust_tracepoint(bdtrace, mark, vcpu, kPid, tid, kKindMark, event, args, ++seq, "", uint64_t{0});
  }
  void MarkText(uint32_t event, const char *text) {
    const uint64_t args[4] = {0, 0, 0, 0};
    lttng_ust_tracepoint(bdtrace, mark, vcpu, kPid, tid, kKindMarkText, event, args, ++seq, text,
                         uint64_t{0});
  }
  void Begin(uint32_t region) {
    lttng_ust_tracepoint(bdtrace, region_begin, vcpu, kPid, tid, region, ++seq, uint64_t{0});
  }
  void End(uint32_t region) {
    lttng_ust_tracepoint(bdtrace, region_end, vcpu, kPid, tid, region, ++seq, uint64_t{0});
  }
  void Name(uint32_t event, const char *name) {
    lttng_ust_tracepoint(bdtrace, event_name, vcpu, kPid, tid, event, name, uint64_t{0});
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

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// One guest task as sched_switch names it.
struct Task {
  uint32_t pid, tid;
  const char *comm;
};

void Switch(uint32_t vcpu, const Task &prev, const Task &next) {
  lttng_ust_tracepoint(bdtrace, sched_switch, vcpu, prev.pid, prev.tid, prev.comm,
                       uint64_t{prev.tid == 0 ? 0u : 1u}, next.pid, next.tid, next.comm, uint64_t{0});
}

void GuestMark(uint32_t vcpu, uint32_t pid, uint32_t tid, uint32_t event) {
  const uint64_t args[4] = {0, 0, 0, 0};
  lttng_ust_tracepoint(bdtrace, mark, vcpu, pid, tid, kKindMark, event, args, 1u, "", uint64_t{0});
}

// The timeline, in ms after vCPU 0's first switch (sleeps only ever last
// longer than asked, so each interval is at least as long as written):
//   vcpu 0: guest-pingpong[100] 0-11, idle 11-14, guest-pingpong[100] 14-20,
//           sh[300] 20-21, idle 21-22, bd-mark[300] (the same task after
//           exec) 22-25, idle 25-27 (trace end)
//   vcpu 1: unknown 0-1, bd-demo-workload[200] 1-11, guest-pingpong[100]
//           tid 101 11-14, idle 14-27
// So: guest-pingpong 17 + 3 ms (2 threads), bd-demo-workload 10 ms,
// bd-mark 3 ms, sh 1 ms; vcpu 0 idle 6 ms of 27, vcpu 1 idle 13 ms of 26.
int SystemMode() {
  const Task idle0{0, 0, "swapper/0"}, idle1{0, 0, "swapper/1"};
  const Task pingpong{100, 100, "guest-pingpong"}, pingpong_worker{100, 101, "guest-pingpong"};
  const Task workload{200, 200, "bd-demo-workload"};
  const Task sh{300, 300, "sh"}, bdmark{300, 300, "bd-mark"};

  lttng_ust_tracepoint(bdtrace, session, "system", "x86_64", "vmlinuz", 1u, 4242u, "golden-vm", "trap",
                       "7.2.22", 1u, 1u);
  Switch(0, idle0, pingpong);
  GuestMark(0, 100, 100, 1);
  SleepMs(1);
  Switch(1, idle1, workload);
  SleepMs(10);
  Switch(0, pingpong, idle0);
  Switch(1, workload, pingpong_worker);
  GuestMark(1, 100, 101, 1);
  SleepMs(3);
  Switch(0, idle0, pingpong);
  Switch(1, pingpong_worker, idle1);
  SleepMs(6);
  Switch(0, pingpong, sh);
  SleepMs(1);
  Switch(0, sh, idle0);
  SleepMs(1);
  Switch(0, idle0, bdmark);
  GuestMark(0, 300, 300, 2);
  SleepMs(3);
  Switch(0, bdmark, idle0);
  SleepMs(2);
  // A mark from a task no switch named, and the trace's last event.
  GuestMark(1, 400, 400, 3);
  return 0;
}

// ---- ring mode -------------------------------------------------------------------------

int64_t MonotonicNs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec;
}

// Sleeps until CLOCK_MONOTONIC reads at least ns (never returns earlier).
void SleepUntil(int64_t ns) {
  const timespec t{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr) != 0) {
  }
}

constexpr int64_t kUs = 1000;
constexpr int64_t kMsNs = 1000000;

// What a ring consumer emits for one guest thread's ring (or a vCPU's
// kernel ring): every event carries guest_ts = base + the offset given.
struct RingThread {
  int64_t base;
  uint32_t vcpu, pid, tid;
  uint64_t seq = 0;

  uint64_t At(int64_t offset_ns) const { return static_cast<uint64_t>(base + offset_ns); }
  void Mark(int64_t at, uint32_t event, uint64_t a0) {
    const uint64_t args[4] = {a0, 0, 0, 0};
    lttng_ust_tracepoint(bdtrace, mark, vcpu, pid, tid, kKindMark, event, args, ++seq, "", At(at));
  }
  void Begin(int64_t at, uint32_t region) {
    lttng_ust_tracepoint(bdtrace, region_begin, vcpu, pid, tid, region, ++seq, At(at));
  }
  void End(int64_t at, uint32_t region) {
    lttng_ust_tracepoint(bdtrace, region_end, vcpu, pid, tid, region, ++seq, At(at));
  }
  void Name(int64_t at, uint32_t event, const char *name) {
    lttng_ust_tracepoint(bdtrace, event_name, vcpu, pid, tid, event, name, At(at));
  }
  void Switch(int64_t at, const Task &prev, const Task &next) {
    lttng_ust_tracepoint(bdtrace, sched_switch, vcpu, prev.pid, prev.tid, prev.comm,
                         uint64_t{prev.tid == 0 ? 0u : 1u}, next.pid, next.tid, next.comm, At(at));
  }
};

void RingDropped(uint32_t ring, uint32_t tid, uint64_t count, uint64_t total, bool final) {
  lttng_ust_tracepoint(bdtrace, ring_dropped, ring, 500u, tid, count, total,
                       static_cast<uint8_t>(final ? 1 : 0));
}

// Throughput: marks from 4 threads, thread t's emitted t x 100 us after
// its call, interleaved, so every emission is out of order across threads.
void RingExtra(unsigned long long n) {
  RingThread threads[4] = {{0, 0, 500, 510}, {0, 1, 500, 511}, {0, 0, 500, 512}, {0, 1, 500, 513}};
  for (unsigned long long i = 0; i < n; ++i) {
    RingThread &t = threads[i % 4];
    t.base = MonotonicNs();
    t.Mark(-static_cast<int64_t>(i % 4) * 100 * kUs, 20 + static_cast<uint32_t>(i % 4), i);
  }
}

// The guest's timeline, in ms after B (CLOCK_MONOTONIC read just before
// the session event, which is therefore the trace's first event, at B
// plus a few us):
//   vcpu 0: idle until 1, ring-app[500/501] 1-6, ring-app[500/502] 6-10,
//           idle after 10 (the trace ends at the last ring_dropped, ~120)
//   tid 501 (ring 1): names 1 "tick", 10 "work" at 0.5, region 10 begins
//           at 2, mark 1 (a0 1) at 3, region 10 ends at 5 (3 ms), mark 1
//           (a0 3) at 60
//   taskless mark 2 on vcpu 0 (pid 0, tid 0) at 4.5: ran by 501
//   tid 502 (ring 2): region 10 at 6.5-9 (2.5 ms), mark 1 (a0 2) at 7,
//           mark 1 (a0 4) at 115
//   tid 503 (ring 3, vcpu 1): mark 4 at 30, emitted after ~120: later
//           than the 50 ms reorder window (the 60 ms mark is out by then)
// The first batch (up to 10 ms) is emitted at >= 12 ms in a scrambled
// order: thread 502's events, then the switches, then thread 501's earlier
// ones. The user rings keep their own order, as a consumer does; the
// taskless mark comes after the 6 ms switch that follows it, which one
// consumer draining one kernel ring would not do: proof that the analyzer
// goes by guest times alone.
// Drops: ring 1 (tid 501) 5 then 2 (final total 7), ring 2 (tid 502) 3
// (final): 10 in all.
int RingMode(unsigned long long extra) {
  const Task idle{0, 0, "swapper/0"};
  const Task app{500, 501, "ring-app"}, worker{500, 502, "ring-app"};
  const int64_t b = MonotonicNs();
  lttng_ust_tracepoint(bdtrace, session, "system", "x86_64", "vmlinuz", 1u, 4242u, "ring-vm", "ring", "", 0u,
                       0u);
  RingThread kernel{b, 0, 0, 0}, main_ring{b, 0, 500, 501}, worker_ring{b, 0, 500, 502},
      late_ring{b, 1, 500, 503};

  SleepUntil(b + 12 * kMsNs);
  worker_ring.Begin(6500 * kUs, 10);
  worker_ring.Mark(7 * kMsNs, 1, 2);
  worker_ring.End(9 * kMsNs, 10);
  kernel.Switch(1 * kMsNs, idle, app);
  kernel.Switch(6 * kMsNs, app, worker);
  kernel.Mark(4500 * kUs, 2, 0);
  kernel.Switch(10 * kMsNs, worker, idle);
  main_ring.Name(500 * kUs, 1, "tick");
  main_ring.Name(500 * kUs, 10, "work");
  main_ring.Begin(2 * kMsNs, 10);
  main_ring.Mark(3 * kMsNs, 1, 1);
  main_ring.End(5 * kMsNs, 10);

  SleepUntil(b + 61 * kMsNs);
  main_ring.Mark(60 * kMsNs, 1, 3);
  SleepUntil(b + 120 * kMsNs);
  worker_ring.Mark(115 * kMsNs, 1, 4);
  late_ring.Mark(30 * kMsNs, 4, 0);

  RingExtra(extra);
  RingDropped(1, 501, 5, 5, false);
  RingDropped(2, 502, 3, 3, true);
  RingDropped(1, 501, 2, 7, true);
  return 0;
}

}  // namespace

// Every bdtrace:* event kind, a few of each, with values that use their
// fields' whole ranges (sequences of 0, 1 and many elements, negative
// status, empty and long strings): what the fast reader is compared with
// babeltrace2 on (tests/analyzer/ctf_lttng_test.sh).
int AllKindsMode() {
  lttng_ust_tracepoint(bdtrace, session, "user", "x86_64", "trace-gen", 1u, 4242u, "all-kinds", "trap",
                       "7.2.22", 1u, 1u);
  Thread t{1, kMainTid};
  t.Mark(1, ~uint64_t{0} - 1);
  t.MarkText(2, "a text with \"quotes\" and, commas");
  t.Begin(10);
  t.End(10);
  t.Name(1, "");
  lttng_ust_tracepoint(bdtrace, rejected, 0u, kMainTid, 2u, "bad_version", 0xdeadbeefu);
  lttng_ust_tracepoint(bdtrace, rejected_total, 2u, "bad_version", 1u);
  lttng_ust_tracepoint(bdtrace, sched_switch, 1u, 0u, 0u, "swapper/1", 0u, 100u, 101u, "worker", uint64_t{0});
  lttng_ust_tracepoint(bdtrace, filter, 1u, "ok", "0123abcd", "/etc/bd.filter", "", 3u);
  lttng_ust_tracepoint(bdtrace, dropped, 1u, 1u, 2u, "noisy", 5u, 5u, uint8_t{1});
  lttng_ust_tracepoint(bdtrace, filter_stats, 1u, 10u, 20u, 30u);
  lttng_ust_tracepoint(bdtrace, tb_exec, 1u, kPid, kMainTid, uint64_t{0x401000}, 7u);
  uint64_t pcs[300];
  uint16_t insns[300];
  uint64_t executions[300];
  for (uint32_t i = 0; i < 300; ++i) {
    pcs[i] = 0x400000 + 16 * i;
    insns[i] = static_cast<uint16_t>(1 + i % 60000);
    executions[i] = uint64_t{1} << (i % 64);
  }
  for (uint32_t count : {0u, 1u, 256u}) {
    lttng_ust_tracepoint(bdtrace, tb_batch, 1u, kPid, kMainTid, uint64_t{0}, uint64_t{1000}, uint64_t{count},
                         count, pcs, insns);
    lttng_ust_tracepoint(bdtrace, tb_counts, kPid, count, pcs, insns, executions);
  }
  lttng_ust_tracepoint(bdtrace, call, 1u, kPid, kMainTid, 5u, -22, 16u, 0u, uint64_t{1234});
  uint8_t data[100];
  for (uint32_t i = 0; i < 100; ++i) data[i] = static_cast<uint8_t>(i * 7);
  for (uint32_t len : {0u, 3u, 100u}) {
    lttng_ust_tracepoint(bdtrace, blob, 1u, kPid, kMainTid, 6u, data, len, uint64_t{0});
  }
  lttng_ust_tracepoint(bdtrace, ring_dropped, 0u, kPid, kMainTid, 2u, 2u, uint8_t{0});
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && std::strcmp(argv[1], "--system") == 0) return SystemMode();
  if (argc > 1 && std::strcmp(argv[1], "--all-kinds") == 0) return AllKindsMode();
  if (argc > 1 && std::strcmp(argv[1], "--ring") == 0) {
    return RingMode(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0);
  }
  const unsigned long long extra = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 0;
  lttng_ust_tracepoint(bdtrace, session, "user", "x86_64", "trace-gen", 1u, 4242u, "golden", "trap", "7.2.22",
                       1u, 1u);
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
