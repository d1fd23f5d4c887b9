// trace-gen: emits a small, deterministic set of bdtrace:* events natively
// (no QEMU), so the analyzer can be tested on real CTF traces. It is how
// tests/analyzer/data/small-trace was captured (see capture-golden.sh).
//
// Usage: trace-gen [EXTRA_MARKS] — EXTRA_MARKS more marks (event ids 20..23)
// for throughput measurements; without it the output is the golden set.
//        trace-gen --system — a system-mode set instead: a VM session and
// sched_switch events on two fake vCPUs with sleeps between them (the
// timeline is in SystemMode; analyzer_test checks the times against it and
// tests/analyzer/data/system-trace was captured from it).
//
// The guest pid/tid fields are fixed numbers, not the real ids, so the
// captured report does not depend on the machine.
#include <bdtrace/bdtrace_tp.h>

#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <cstring>
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
    lttng_ust_tracepoint(bdtrace, mark, vcpu, kPid, tid, kKindMarkText, event, args, ++seq, text, uint64_t{0});
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
                       uint64_t{prev.tid == 0 ? 0u : 1u}, next.pid, next.tid, next.comm,
                       uint64_t{0});
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

  lttng_ust_tracepoint(bdtrace, session, "system", "x86_64", "vmlinuz", 1u, 4242u, "golden-vm", "trap");
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

}  // namespace

int main(int argc, char **argv) {
  if (argc > 1 && std::strcmp(argv[1], "--system") == 0) return SystemMode();
  const unsigned long long extra = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 0;
  lttng_ust_tracepoint(bdtrace, session, "user", "x86_64", "trace-gen", 1u, 4242u, "golden", "trap");
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
