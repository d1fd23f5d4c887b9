// SPDX-License-Identifier: MIT
// Unit tests of libbdguest's ring mode, natively (and under plain
// qemu-x86_64): the region is a file this test creates in a temporary
// directory, with the header a host would write (<bd/ring.h>'s layout
// helpers). Nobody consumes the rings unless a test plays the consumer by
// moving `tail` itself.
//
// The process mode is decided once per process, at its first libbdguest
// call, so every scenario runs in a forked child that sets BD_RING first;
// this process never calls the public API. A child reports failed checks on
// stderr and through its exit status; the parent then reads the region.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bd/bd.h>
#include <bd/ring.h>

#include "internal.h"
#include "ring.h"

namespace {

uint32_t current_tid() { return static_cast<uint32_t>(syscall(SYS_gettid)); }
uint32_t current_pid() { return static_cast<uint32_t>(getpid()); }
uint64_t rdtsc() { return __builtin_ia32_rdtsc(); }

// The header a host writes for `rings` rings of `slots` slots.
bd_ring_region make_header(uint32_t rings, uint32_t slots) {
  bd_ring_region h;
  std::memset(&h, 0, sizeof h);
  h.magic = BD_RING_MAGIC;
  h.version = BD_RING_VERSION;
  h.slot_size = BD_RING_SLOT_SIZE;
  h.ring_count = rings;
  h.ring_slots = slots;
  h.region_size = bd_ring_region_size(rings, slots);
  h.claims_offset = bd_ring_claims_offset();
  h.ctl_offset = bd_ring_ctl_offset(rings);
  h.data_offset = bd_ring_data_offset(rings);
  h.mode = BD_RING_MODE_USER;
  h.clock = BD_RING_CLOCK_TSC;
  h.kernel_rings = 0;
  for (auto &w : h.enable) w = ~bd_u64{0};  // no filter
  return h;
}

// A region file in its own temporary directory, and the test's own shared
// mapping of it (inherited by forked children).
class Region {
 public:
  // `tweak` may spoil the header; `file_size` 0 = the region's size.
  explicit Region(uint32_t rings, uint32_t slots, const std::function<void(bd_ring_region &)> &tweak = {},
                  uint64_t file_size = 0)
      : rings_(rings), slots_(slots) {
    char dir[] = "/tmp/bdguest-ring-XXXXXX";
    if (mkdtemp(dir) == nullptr) return;
    dir_ = dir;
    path_ = dir_ + "/region";
    bd_ring_region h = make_header(rings, slots);
    if (tweak) tweak(h);
    size_ = bd_ring_region_size(rings, slots);
    if (file_size == 0) file_size = size_;
    const int fd = open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return;
    bool ok = ftruncate(fd, static_cast<off_t>(file_size)) == 0;
    // Everything but the magic, then the magic, as the host does.
    const uint32_t magic = h.magic;
    h.magic = 0;
    ok = ok && file_size >= sizeof h && pwrite(fd, &h, sizeof h, 0) == sizeof h;
    ok = ok && pwrite(fd, &magic, sizeof magic, 0) == sizeof magic;
    if (ok && file_size >= size_) {
      void *p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (p != MAP_FAILED) base_ = static_cast<unsigned char *>(p);
    }
    close(fd);
    ready_ = ok;
  }
  ~Region() {
    if (base_ != nullptr) munmap(base_, size_);
    if (!path_.empty()) unlink(path_.c_str());
    if (!dir_.empty()) rmdir(dir_.c_str());
  }
  Region(const Region &) = delete;
  Region &operator=(const Region &) = delete;

  bool ready() const { return ready_; }
  bool mapped() const { return base_ != nullptr; }
  const std::string &path() const { return path_; }
  uint32_t rings() const { return rings_; }
  uint32_t slots() const { return slots_; }

  bd_ring_region *header() const { return reinterpret_cast<bd_ring_region *>(base_); }
  uint64_t *claim_word(unsigned i) const {
    return reinterpret_cast<uint64_t *>(base_ + bd_ring_claims_offset()) + i;
  }
  bd_slot_claim claim(unsigned i) const {
    const uint64_t w = __atomic_load_n(claim_word(i), __ATOMIC_ACQUIRE);
    return bd_slot_claim{static_cast<uint32_t>(w), static_cast<uint32_t>(w >> 32)};
  }
  void set_claim(unsigned i, uint32_t pid, uint32_t tid) const {
    __atomic_store_n(claim_word(i), tid | (uint64_t{pid} << 32), __ATOMIC_RELEASE);
  }
  bd_ring_ctl *ctl(unsigned i) const {
    return reinterpret_cast<bd_ring_ctl *>(base_ + bd_ring_ctl_offset(rings_)) + i;
  }
  uint64_t head(unsigned i) const { return __atomic_load_n(&ctl(i)->head, __ATOMIC_ACQUIRE); }
  uint64_t dropped(unsigned i) const { return __atomic_load_n(&ctl(i)->dropped, __ATOMIC_RELAXED); }
  // Play the consumer: everything up to `tail` has been read.
  void consume_to(unsigned i, uint64_t tail) const {
    __atomic_store_n(&ctl(i)->tail, tail, __ATOMIC_RELEASE);
  }
  const unsigned char *slot(unsigned ring, uint64_t k) const {
    return base_ + bd_ring_data_offset(rings_) + (uint64_t{ring} * slots_ + (k % slots_)) * BD_RING_SLOT_SIZE;
  }
  const bd_ring_record &record(unsigned ring, uint64_t k) const {
    return *reinterpret_cast<const bd_ring_record *>(slot(ring, k));
  }
  const bd_ring_text &text(unsigned ring, uint64_t k) const {
    return *reinterpret_cast<const bd_ring_text *>(slot(ring, k));
  }
  void set_enable_bit(unsigned bit, bool on) const {
    bd_u64 *w = &header()->enable[bit / 64];
    const bd_u64 mask = bd_u64{1} << (bit % 64);
    __atomic_store_n(w, on ? *w | mask : *w & ~mask, __ATOMIC_RELEASE);
    __atomic_add_fetch(&header()->generation, 1, __ATOMIC_RELEASE);
  }

 private:
  uint32_t rings_, slots_;
  uint64_t size_ = 0;
  std::string dir_, path_;
  unsigned char *base_ = nullptr;
  bool ready_ = false;
};

// Values a child hands back to the test (anonymous shared memory).
struct Shared {
  int ring[16];
  uint32_t pid[16];
  uint32_t tid[16];
  uint64_t n[16];
};

class SharedBlock {
 public:
  SharedBlock() {
    void *p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) s_ = new (p) Shared{};
  }
  ~SharedBlock() {
    if (s_ != nullptr) munmap(s_, sizeof(Shared));
  }
  SharedBlock(const SharedBlock &) = delete;
  SharedBlock &operator=(const SharedBlock &) = delete;
  Shared *operator->() const { return s_; }
  bool ok() const { return s_ != nullptr; }

 private:
  Shared *s_ = nullptr;
};

// Checks inside a child: reported on stderr, counted into the exit status.
int g_child_failures = 0;
#define CHILD_EXPECT(cond)                                                                                  \
  do {                                                                                                      \
    if (!(cond)) {                                                                                          \
      std::fprintf(stderr, "child %d: %s:%d: failed: %s\n", static_cast<int>(getpid()), __FILE__, __LINE__, \
                   #cond);                                                                                  \
      ++g_child_failures;                                                                                   \
    }                                                                                                       \
  } while (0)

// Run `body` in a fresh child process whose environment has BD_RING =
// `ring` (nullptr: unset) and BD_DEVICE = `device`; the child leaves with
// exit() (atexit handlers run: the library releases the main thread's
// ring). Returns its exit status (0 = every check passed), or -1.
int in_child(const char *ring, const std::function<void()> &body, const char *device = "none") {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = fork();
  if (child < 0) return -1;
  if (child == 0) {
    g_child_failures = 0;
    if (ring != nullptr)
      setenv(BD_RING_ENV, ring, 1);
    else
      unsetenv(BD_RING_ENV);
    setenv("BD_DEVICE", device, 1);
    body();
    std::fflush(stderr);
    std::exit(g_child_failures == 0 ? 0 : 1);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// ---- records -----------------------------------------------------------------

TEST(RingMode, RecordsHaveExactContentsInOrder) {
  Region r(4, 64);
  ASSERT_TRUE(r.mapped());
  SharedBlock out;
  ASSERT_TRUE(out.ok());
  const uint64_t t0 = rdtsc();
  ASSERT_EQ(in_child(r.path().c_str(),
                     [&] {
                       CHILD_EXPECT(bd_mark_args(7, 11, 22, 33, 0xfeedfacecafeULL) == 1);
                       CHILD_EXPECT(bd_internal_process_mode() == BD_INTERNAL_MODE_RING);
                       out->ring[0] = bd_internal_ring_index();
                       out->pid[0] = current_pid();
                       out->tid[0] = current_tid();
                       CHILD_EXPECT(bd_mark(8) == 1);
                       CHILD_EXPECT(bd_present() == 1);  // writes nothing
                       CHILD_EXPECT(bd_region_begin(3) == 1);
                       CHILD_EXPECT(bd_region_end(3) == 1);
                       CHILD_EXPECT(bd_enabled(3) == 1);  // writes nothing
                       CHILD_EXPECT(bd_mark_text(2, nullptr) == -EINVAL);
                       CHILD_EXPECT(bd_name_event(2, "") == -EINVAL);
                       CHILD_EXPECT(bd_internal_depth() == 0);
                       CHILD_EXPECT(bd_internal_sys_slot() == -1);
                     }),
            0);
  const uint64_t t1 = rdtsc();
  const int ring = out->ring[0];
  ASSERT_GE(ring, 0);
  ASSERT_LT(ring, 4);
  EXPECT_EQ(r.head(ring), 4u) << "HELLO and QUERY are never written";
  EXPECT_EQ(r.dropped(ring), 0u);
  EXPECT_EQ(r.claim(ring).tid, 0u) << "released at exit()";

  struct Want {
    uint16_t kind;
    uint32_t event;
    uint64_t a0, a3;
  } want[] = {{BD_KIND_MARK, 7, 11, 0xfeedfacecafeULL},
              {BD_KIND_MARK, 8, 0, 0},
              {BD_KIND_REGION_BEGIN, 3, 0, 0},
              {BD_KIND_REGION_END, 3, 0, 0}};
  uint64_t last_ts = t0;
  for (unsigned k = 0; k < 4; k++) {
    const bd_ring_record &rec = r.record(ring, k);
    EXPECT_EQ(rec.kind, want[k].kind) << k;
    EXPECT_EQ(rec.event, want[k].event) << k;
    EXPECT_EQ(rec.text_len, 0u) << k;
    EXPECT_EQ(rec.args[0], want[k].a0) << k;
    EXPECT_EQ(rec.args[3], want[k].a3) << k;
    EXPECT_EQ(rec.pid, out->pid[0]) << k;
    EXPECT_EQ(rec.tid, out->tid[0]) << k;
    EXPECT_EQ(rec.seq, k + 1u) << "one sequence per thread, from 1";
    EXPECT_GE(rec.ts, last_ts) << "ts non-decreasing and after the fork, record " << k;
    EXPECT_LE(rec.ts, t1) << "ts before the child was reaped, record " << k;
    last_ts = rec.ts;
  }
  EXPECT_EQ(r.record(ring, 0).args[1], 22u);
  EXPECT_EQ(r.record(ring, 0).args[2], 33u);
  EXPECT_EQ(r.record(ring, 1).args[1], 0u);
}

TEST(RingMode, TextRecordsTakeTwoSlotsAndWrapAtTheRingEnd) {
  Region r(2, BD_RING_MIN_SLOTS);  // 16 slots
  ASSERT_TRUE(r.mapped());
  SharedBlock out;
  const std::string long_text(200, 'x');
  ASSERT_EQ(in_child(r.path().c_str(),
                     [&] {
                       for (unsigned i = 0; i < 15; i++) CHILD_EXPECT(bd_mark(100 + i) == 1);
                       const int ring = bd_internal_ring_index();
                       out->ring[0] = ring;
                       // Full for a two-slot record until the consumer moves.
                       CHILD_EXPECT(bd_mark_text(2, "wrapped") == 0);
                       r.consume_to(ring, 15);
                       CHILD_EXPECT(bd_mark_text(2, "wrapped") == 1);          // slots 15, 0
                       CHILD_EXPECT(bd_name_event(5, "five") == 1);            // slots 1, 2
                       CHILD_EXPECT(bd_mark_text(6, long_text.c_str()) == 1);  // 3, 4
                       CHILD_EXPECT(bd_mark_text(7, "") == 1);                 // 5, 6
                     }),
            0);
  const int ring = out->ring[0];
  ASSERT_GE(ring, 0);
  EXPECT_EQ(r.head(ring), 15u + 8u);
  EXPECT_EQ(r.dropped(ring), 1u);

  const bd_ring_record &t = r.record(ring, 15);
  EXPECT_EQ(t.kind, BD_KIND_MARK_TEXT);
  EXPECT_EQ(t.event, 2u);
  EXPECT_EQ(t.text_len, 7u);
  EXPECT_EQ(t.args[0], 0u);
  EXPECT_EQ(t.seq, 16u) << "the dropped record took no sequence number";
  EXPECT_STREQ(r.text(ring, 16).text, "wrapped") << "text slot wrapped to slot 0";
  EXPECT_EQ(&r.text(ring, 16), &r.text(ring, 0));

  const bd_ring_record &n = r.record(ring, 17);
  EXPECT_EQ(n.kind, BD_KIND_EVENT_NAME);
  EXPECT_EQ(n.event, 5u);
  EXPECT_EQ(n.text_len, 4u);
  EXPECT_EQ(n.seq, 17u);
  EXPECT_STREQ(r.text(ring, 18).text, "five");

  const bd_ring_record &l = r.record(ring, 19);
  EXPECT_EQ(l.text_len, BD_TEXT_MAX);
  EXPECT_EQ(std::string(r.text(ring, 20).text), long_text.substr(0, BD_TEXT_MAX));

  EXPECT_EQ(r.record(ring, 21).text_len, 0u);
  EXPECT_STREQ(r.text(ring, 22).text, "");
  // The first mark's slot was overwritten by the text (slot 0); the others
  // still hold the marks.
  EXPECT_EQ(r.record(ring, 7).event, 107u);
  EXPECT_EQ(r.record(ring, 7).seq, 8u);
}

TEST(RingMode, AFullRingCountsEveryDropAndNeverBlocks) {
  Region r(2, 16);
  ASSERT_TRUE(r.mapped());
  SharedBlock out;
  ASSERT_EQ(in_child(r.path().c_str(),
                     [&] {
                       constexpr unsigned kIssued = 100000;
                       unsigned written = 0, zero = 0;
                       for (unsigned i = 0; i < kIssued; i++) {
                         const int rc = bd_mark_args(1, i, 0, 0, 0);
                         written += rc == 1;
                         zero += rc == 0;
                       }
                       const int ring = bd_internal_ring_index();
                       out->ring[0] = ring;
                       out->n[0] = written;
                       out->n[1] = zero;
                       CHILD_EXPECT(written + zero == kIssued);
                       CHILD_EXPECT(written == 16);
                       CHILD_EXPECT(r.dropped(ring) == kIssued - 16);
                       // The consumer frees 15 slots: 15 one-slot records fit, then a
                       // text record does not (one free slot).
                       r.consume_to(ring, 15);
                       for (unsigned i = 0; i < 15; i++) CHILD_EXPECT(bd_mark(2) == 1);
                       CHILD_EXPECT(bd_mark_text(3, "no room") == 0);
                       CHILD_EXPECT(bd_mark(4) == 0);
                       CHILD_EXPECT(r.head(ring) == 31);
                       CHILD_EXPECT(r.dropped(ring) == kIssued - 16 + 2);
                       // Everything consumed: a two-slot record fits again.
                       r.consume_to(ring, 31);
                       CHILD_EXPECT(bd_mark_text(3, "room") == 1);
                       out->n[2] = r.record(ring, 31).seq;
                     }),
            0);
  const int ring = out->ring[0];
  ASSERT_GE(ring, 0);
  EXPECT_EQ(out->n[0], 16u);
  EXPECT_EQ(r.head(ring), 33u);
  EXPECT_EQ(r.dropped(ring), 100000u - 16u + 2u) << "issued = written + dropped";
  EXPECT_EQ(out->n[2], 32u) << "sequence numbers count written records";
  // The ring holds the newest written records.
  EXPECT_EQ(r.record(ring, 30).event, 2u);
  EXPECT_EQ(r.record(ring, 30).seq, 31u);
  EXPECT_EQ(r.record(ring, 31).kind, BD_KIND_MARK_TEXT);
  EXPECT_STREQ(r.text(ring, 32).text, "room");
}

// ---- nesting and signals --------------------------------------------------------

int nested_calls(void *) {
  int sum = 0;
  sum += bd_mark(2);
  sum += bd_mark_args(2, 1, 2, 3, 4);
  sum += bd_mark_text(3, "nested");
  sum += bd_region_begin(4);
  sum += bd_name_event(5, "nested");
  return sum;
}

TEST(RingMode, ANestedCallWritesNothingAndCountsADrop) {
  Region r(2, 64);
  ASSERT_TRUE(r.mapped());
  ASSERT_EQ(in_child(r.path().c_str(),
                     [&] {
                       CHILD_EXPECT(bd_mark(1) == 1);
                       const int ring = bd_internal_ring_index();
                       CHILD_EXPECT(ring >= 0);
                       CHILD_EXPECT(bd_internal_nested(nested_calls, nullptr) == 0);
                       CHILD_EXPECT(r.head(ring) == 1);
                       CHILD_EXPECT(r.dropped(ring) == 5);
                       CHILD_EXPECT(bd_internal_depth() == 0);
                       // A disabled event still counts when nested: the depth check
                       // comes first (it must not touch anything else).
                       r.set_enable_bit(2, false);
                       CHILD_EXPECT(bd_internal_nested(nested_calls, nullptr) == 0);
                       CHILD_EXPECT(r.dropped(ring) == 10);
                       CHILD_EXPECT(bd_mark(1) == 1);
                       CHILD_EXPECT(r.record(ring, 1).seq == 2);
                     }),
            0);
}

std::atomic<int> g_handler_calls{0};
std::atomic<int> g_handler_nested{0};
std::atomic<int> g_handler_written{0};
std::atomic<int> g_handler_bad{0};

void on_alarm(int) {
  const int saved_errno = errno;
  const bool nested = bd_internal_depth() != 0;
  const int rc = bd_mark_args(9, 1, 2, 3, 4);
  if (nested) g_handler_nested++;
  if (rc == 1) g_handler_written++;
  if ((nested && rc != 0) || rc < 0) g_handler_bad++;
  g_handler_calls++;
  errno = saved_errno;
}

TEST(RingMode, MarksFromSignalHandlersAreWrittenOrCountedNeverLostOrTorn) {
  Region r(2, 1024);
  ASSERT_TRUE(r.mapped());
  SharedBlock out;
  ASSERT_EQ(in_child(r.path().c_str(),
                     [&] {
                       CHILD_EXPECT(bd_mark(1) == 1);
                       const int ring = bd_internal_ring_index();
                       out->ring[0] = ring;
                       struct sigaction sa = {};
                       sa.sa_handler = on_alarm;
                       sigemptyset(&sa.sa_mask);
                       sa.sa_flags = SA_RESTART;
                       CHILD_EXPECT(sigaction(SIGALRM, &sa, nullptr) == 0);
                       struct itimerval every_20us = {{0, 20}, {0, 20}};
                       CHILD_EXPECT(setitimer(ITIMER_REAL, &every_20us, nullptr) == 0);
                       uint64_t calls = 1, written = 1;
                       // A consumer keeps up now and then, so that both full and
                       // non-full rings are seen.
                       for (uint64_t i = 0; g_handler_calls.load() < 3000 && i < 50000000; i++) {
                         written += bd_mark_args(1, i, 0, 0, 0) == 1;
                         calls++;
                         if ((i & 0xfff) == 0) r.consume_to(ring, r.head(ring));
                       }
                       struct itimerval off = {};
                       setitimer(ITIMER_REAL, &off, nullptr);
                       signal(SIGALRM, SIG_IGN);
                       const uint64_t all = calls + g_handler_calls.load();
                       const uint64_t all_written = written + g_handler_written.load();
                       CHILD_EXPECT(g_handler_bad.load() == 0);
                       CHILD_EXPECT(r.head(ring) == all_written);
                       CHILD_EXPECT(r.dropped(ring) == all - all_written);
                       CHILD_EXPECT(bd_internal_depth() == 0);
                       // The last ring_slots records are whole and in sequence.
                       const uint64_t h = r.head(ring);
                       for (uint64_t k = h - 1; k > h - r.slots(); k--)
                         CHILD_EXPECT(r.record(ring, k).seq == r.record(ring, k - 1).seq + 1);
                       out->n[0] = all;
                       out->n[1] = g_handler_calls.load();
                       out->n[2] = g_handler_nested.load();
                     }),
            0);
  RecordProperty("calls", std::to_string(out->n[0]));
  RecordProperty("handler_calls", std::to_string(out->n[1]));
  RecordProperty("handler_nested", std::to_string(out->n[2]));
}

// ---- the enable bitmap ----------------------------------------------------------

TEST(RingMode, DisabledEventsAreNeitherWrittenNorCounted) {
  Region r(2, 64);
  ASSERT_TRUE(r.mapped());
  ASSERT_EQ(in_child(r.path().c_str(),
                     [&] {
                       CHILD_EXPECT(bd_mark(8) == 1);
                       const int ring = bd_internal_ring_index();
                       r.set_enable_bit(9, false);
                       r.set_enable_bit(BD_ENABLE_BIT_HIGH_IDS, false);
                       CHILD_EXPECT(bd_enabled(9) == 0);
                       CHILD_EXPECT(bd_enabled(5000) == 0);
                       CHILD_EXPECT(bd_enabled(8) == 1);
                       CHILD_EXPECT(bd_mark(9) == 0);
                       CHILD_EXPECT(bd_mark_args(9, 1, 2, 3, 4) == 0);
                       CHILD_EXPECT(bd_mark_text(9, "skipped") == 0);
                       CHILD_EXPECT(bd_region_begin(9) == 0);
                       CHILD_EXPECT(bd_region_end(9) == 0);
                       CHILD_EXPECT(bd_mark(192) == 0);
                       CHILD_EXPECT(bd_mark(0xffffffffu) == 0);
                       CHILD_EXPECT(r.head(ring) == 1);
                       CHILD_EXPECT(r.dropped(ring) == 0);
                       // Names are never skipped; other ids go through.
                       CHILD_EXPECT(bd_name_event(9, "nine") == 1);
                       CHILD_EXPECT(bd_mark(191) == 1);
                       CHILD_EXPECT(r.head(ring) == 4);
                       // The guest follows the bitmap as the host rewrites it.
                       r.set_enable_bit(9, true);
                       r.set_enable_bit(BD_ENABLE_BIT_HIGH_IDS, true);
                       CHILD_EXPECT(bd_enabled(9) == 1);
                       CHILD_EXPECT(bd_mark(9) == 1);
                       CHILD_EXPECT(bd_mark(5000) == 1);
                       CHILD_EXPECT(r.head(ring) == 6);
                       CHILD_EXPECT(r.record(ring, 5).event == 5000);
                       CHILD_EXPECT(r.record(ring, 5).seq == 5);
                     }),
            0);
}

// ---- ring ownership ---------------------------------------------------------------

TEST(RingMode, ThreadsOwnDistinctRingsAndReleaseThemAtExit) {
  constexpr int kThreads = 4;
  Region r(8, 64);
  ASSERT_TRUE(r.mapped());
  SharedBlock out;
  ASSERT_EQ(in_child(r.path().c_str(),
                     [&] {
                       CHILD_EXPECT(bd_mark(1) == 1);
                       const int main_ring = bd_internal_ring_index();
                       out->ring[kThreads] = main_ring;
                       pthread_barrier_t marked, checked;
                       pthread_barrier_init(&marked, nullptr, kThreads + 1);
                       pthread_barrier_init(&checked, nullptr, kThreads + 1);
                       std::vector<std::thread> threads;
                       for (int k = 0; k < kThreads; k++)
                         threads.emplace_back([&, k] {
                           for (int i = 0; i < 10; i++) bd_mark_args(2, k, i, 0, 0);
                           out->ring[k] = bd_internal_ring_index();
                           out->tid[k] = current_tid();
                           pthread_barrier_wait(&marked);
                           pthread_barrier_wait(&checked);
                         });
                       pthread_barrier_wait(&marked);
                       std::set<int> rings{main_ring};
                       for (int k = 0; k < kThreads; k++) {
                         const int ring = out->ring[k];
                         CHILD_EXPECT(ring >= 0 && ring < 8);
                         CHILD_EXPECT(rings.insert(ring).second);
                         if (ring < 0 || ring >= 8) continue;
                         CHILD_EXPECT(r.claim(ring).tid == out->tid[k]);
                         CHILD_EXPECT(r.claim(ring).pid == current_pid());
                         CHILD_EXPECT(r.head(ring) == 10);
                         CHILD_EXPECT(r.record(ring, 9).tid == out->tid[k]);
                         CHILD_EXPECT(r.record(ring, 9).args[0] == static_cast<uint64_t>(k));
                         CHILD_EXPECT(r.record(ring, 9).seq == 10);
                       }
                       pthread_barrier_wait(&checked);
                       for (auto &t : threads) t.join();
                       for (int k = 0; k < kThreads; k++)
                         if (out->ring[k] >= 0) CHILD_EXPECT(r.claim(out->ring[k]).tid == 0);
                       CHILD_EXPECT(r.claim(main_ring).tid == current_tid());
                       pthread_barrier_destroy(&marked);
                       pthread_barrier_destroy(&checked);
                     }),
            0);
  ASSERT_GE(out->ring[kThreads], 0);
  EXPECT_EQ(r.claim(out->ring[kThreads]).tid, 0u) << "the main thread's ring, released by exit()";
}

TEST(RingMode, ANewOwnerContinuesWhereTheLastOneStopped) {
  Region r(1, 16);
  ASSERT_TRUE(r.mapped());
  ASSERT_EQ(in_child(r.path().c_str(),
                     [&] {
                       CHILD_EXPECT(bd_mark(1) == 1);
                       std::thread([&] {
                         // The only ring is the main thread's: none for this one.
                         CHILD_EXPECT(bd_mark(2) == 0);
                         CHILD_EXPECT(bd_internal_ring_index() == -1);
                       }).join();
                       CHILD_EXPECT(bd_internal_ring_unowned_lost() == 1);
                       r.consume_to(0, 1);
                     }),
            0);
  EXPECT_EQ(r.head(0), 1u);
  ASSERT_EQ(in_child(r.path().c_str(),
                     [&] {
                       CHILD_EXPECT(bd_mark(3) == 1);
                       CHILD_EXPECT(bd_internal_ring_index() == 0);
                     }),
            0);
  EXPECT_EQ(r.head(0), 2u);
  EXPECT_EQ(r.record(0, 1).event, 3u);
  EXPECT_EQ(r.record(0, 1).seq, 1u) << "sequences are per thread, not per ring";
}

TEST(RingMode, WithoutAFreeRingCallsAreCountedAndTheClaimIsRetried) {
  Region r(2, 16);
  ASSERT_TRUE(r.mapped());
  // Both rings belong to a live thread (this one).
  r.set_claim(0, current_pid(), current_tid());
  r.set_claim(1, current_pid(), current_tid());
  SharedBlock out;
  ASSERT_EQ(in_child(r.path().c_str(),
                     [&] {
                       for (int i = 0; i < 10; i++) CHILD_EXPECT(bd_mark(1) == 0);
                       CHILD_EXPECT(bd_internal_ring_index() == -1);
                       CHILD_EXPECT(bd_internal_ring_unowned_lost() == 10);
                       CHILD_EXPECT(bd_present() == 1);
                       r.set_claim(1, 0, 0);
                       uint64_t calls = 0;
                       int rc = 0;
                       while (rc == 0 && calls < 10000) {
                         rc = bd_mark(2);
                         calls++;
                       }
                       out->n[0] = calls;
                       CHILD_EXPECT(rc == 1);
                       CHILD_EXPECT(bd_internal_ring_index() == 1);
                       CHILD_EXPECT(bd_internal_ring_unowned_lost() == 10 + calls - 1);
                     }),
            0);
  EXPECT_LE(out->n[0], 4096u) << "a thread without a ring retries every 4096 calls";
  EXPECT_GT(out->n[0], 1000u) << "but not on every call";
  EXPECT_EQ(r.head(1), 1u);
  EXPECT_EQ(r.claim(1).tid, 0u);
  EXPECT_EQ(r.claim(0).tid, current_tid()) << "a live thread's ring is never taken";
}

TEST(RingMode, AForkedChildClaimsItsOwnRing) {
  Region r(4, 64);
  ASSERT_TRUE(r.mapped());
  SharedBlock out;
  ASSERT_EQ(in_child(r.path().c_str(),
                     [&] {
                       CHILD_EXPECT(bd_mark(1) == 1);
                       CHILD_EXPECT(bd_mark(1) == 1);
                       const int parent_ring = bd_internal_ring_index();
                       out->ring[0] = parent_ring;
                       std::fflush(stderr);
                       const pid_t grandchild = fork();
                       if (grandchild == 0) {
                         CHILD_EXPECT(bd_mark_args(2, 5, 0, 0, 0) == 1);
                         out->ring[1] = bd_internal_ring_index();
                         out->pid[1] = current_pid();
                         std::exit(g_child_failures == 0 ? 0 : 1);  // releases its ring
                       }
                       int status = 0;
                       CHILD_EXPECT(waitpid(grandchild, &status, 0) == grandchild);
                       CHILD_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                       CHILD_EXPECT(bd_internal_ring_index() == parent_ring);
                       CHILD_EXPECT(r.claim(parent_ring).tid == current_tid());
                       CHILD_EXPECT(bd_mark(3) == 1);
                       CHILD_EXPECT(r.record(parent_ring, 2).seq == 3);
                     }),
            0);
  const int parent_ring = out->ring[0], child_ring = out->ring[1];
  ASSERT_GE(parent_ring, 0);
  ASSERT_GE(child_ring, 0);
  EXPECT_NE(child_ring, parent_ring);
  EXPECT_EQ(r.head(parent_ring), 3u);
  EXPECT_EQ(r.head(child_ring), 1u);
  const bd_ring_record &c = r.record(child_ring, 0);
  EXPECT_EQ(c.pid, out->pid[1]);
  EXPECT_EQ(c.tid, out->pid[1]) << "the child's only thread";
  EXPECT_EQ(c.seq, 1u) << "a fresh sequence in the child";
  EXPECT_EQ(c.args[0], 5u);
  EXPECT_EQ(r.claim(child_ring).tid, 0u);
}

// ---- discovery --------------------------------------------------------------------

// In a child with BD_RING = `ring`: the mode the first call chose.
int mode_in_child(const char *ring, const char *device = "none") {
  SharedBlock out;
  if (!out.ok()) return -1;
  out->n[0] = 99;
  if (in_child(
          ring,
          [&] {
            CHILD_EXPECT(bd_mark(1) >= 0);
            out->n[0] = static_cast<uint64_t>(bd_internal_process_mode());
            if (out->n[0] != BD_INTERNAL_MODE_RING) {
              CHILD_EXPECT(bd_present() == 0);
              CHILD_EXPECT(bd_internal_ring_index() == -1);
            }
          },
          device) != 0)
    return -1;
  return static_cast<int>(out->n[0]);
}

TEST(RingDiscovery, AValidRegionWinsOverBdDevice) {
  Region r(2, 16);
  ASSERT_TRUE(r.ready());
  EXPECT_EQ(mode_in_child(r.path().c_str(), "/nonexistent/resource2"), BD_INTERNAL_MODE_RING);
}

TEST(RingDiscovery, NoneUnsetOrEmptyMeansTheTrap) {
  Region r(2, 16);
  ASSERT_TRUE(r.ready());
  EXPECT_EQ(mode_in_child("none"), BD_INTERNAL_MODE_USER);
  EXPECT_EQ(mode_in_child(nullptr), BD_INTERNAL_MODE_USER);
  EXPECT_EQ(mode_in_child(""), BD_INTERNAL_MODE_USER);
  EXPECT_EQ(mode_in_child("/nonexistent/bd-ring"), BD_INTERNAL_MODE_USER);
}

// BD_RING_EXEC (<bd/ring.h>): the ring of a process no plugin hears, as a
// program exec'd from a guest under qemu-x86_64 runs natively. Here, run
// natively, the trap goes unheard: the ring is taken.
TEST(RingDiscovery, ExecRingIsTakenWhenNoTrapAnswers) {
  Region r(2, 16);
  ASSERT_TRUE(r.ready());
  SharedBlock out;
  ASSERT_TRUE(out.ok());
  const std::string path = r.path();
  EXPECT_EQ(in_child(nullptr,
                     [&] {
                       setenv(BD_RING_EXEC_ENV, path.c_str(), 1);
                       CHILD_EXPECT(bd_mark(7) == 1);
                       out->n[0] = static_cast<uint64_t>(bd_internal_process_mode());
                     }),
            0);
  EXPECT_EQ(out->n[0], uint64_t{BD_INTERNAL_MODE_RING});
  EXPECT_EQ(r.head(0) + r.head(1), 1u) << "the mark is in the ring";

  for (const char *off : {"none", ""}) {
    EXPECT_EQ(in_child(nullptr,
                       [&] {
                         setenv(BD_RING_EXEC_ENV, off, 1);
                         CHILD_EXPECT(bd_mark(7) == 0);
                         out->n[0] = static_cast<uint64_t>(bd_internal_process_mode());
                       }),
              0);
    EXPECT_EQ(out->n[0], uint64_t{BD_INTERNAL_MODE_USER}) << "BD_RING_EXEC=" << off;
  }
}

TEST(RingDiscovery, BdRingWinsOverTheExecRing) {
  Region mine(2, 16), exec(2, 16);
  ASSERT_TRUE(mine.ready() && exec.ready());
  const std::string exec_path = exec.path();
  EXPECT_EQ(in_child(mine.path().c_str(),
                     [&] {
                       setenv(BD_RING_EXEC_ENV, exec_path.c_str(), 1);
                       CHILD_EXPECT(bd_mark(7) == 1);
                     }),
            0);
  EXPECT_EQ(mine.head(0) + mine.head(1), 1u);
  EXPECT_EQ(exec.head(0) + exec.head(1), 0u);
}

TEST(RingDiscovery, AnUnusableRegionMeansTheTrap) {
  struct Case {
    const char *what;
    std::function<void(bd_ring_region &)> tweak;
  } cases[] = {
      {"magic", [](bd_ring_region &h) { h.magic = 0; }},
      {"version", [](bd_ring_region &h) { h.version = BD_RING_VERSION + 1; }},
      {"slot size", [](bd_ring_region &h) { h.slot_size = 128; }},
      {"system mode", [](bd_ring_region &h) { h.mode = BD_RING_MODE_SYSTEM; }},
      {"clock", [](bd_ring_region &h) { h.clock = 2; }},
      {"kernel rings", [](bd_ring_region &h) { h.kernel_rings = 1; }},
      {"no rings", [](bd_ring_region &h) { h.ring_count = 0; }},
      {"slots not a power of two", [](bd_ring_region &h) { h.ring_slots = 24; }},
      {"too few slots", [](bd_ring_region &h) { h.ring_slots = 8; }},
      {"claims offset", [](bd_ring_region &h) { h.claims_offset += 64; }},
      {"ctl offset", [](bd_ring_region &h) { h.ctl_offset += 4096; }},
      {"data offset", [](bd_ring_region &h) { h.data_offset += 4096; }},
      {"region size", [](bd_ring_region &h) { h.region_size += 4096; }},
  };
  for (const Case &c : cases) {
    Region r(2, 16, c.tweak);
    ASSERT_TRUE(r.ready()) << c.what;
    EXPECT_EQ(mode_in_child(r.path().c_str()), BD_INTERNAL_MODE_USER) << c.what;
  }
  Region short_file(2, 16, {}, bd_ring_region_size(2, 16) - 1);
  ASSERT_TRUE(short_file.ready());
  EXPECT_EQ(mode_in_child(short_file.path().c_str()), BD_INTERNAL_MODE_USER) << "short file";
  Region header_only(2, 16, {}, BD_RING_HEADER_SIZE - 1);
  EXPECT_EQ(mode_in_child(header_only.path().c_str()), BD_INTERNAL_MODE_USER) << "no header";
}

TEST(RingDiscovery, HeaderCheck) {
  bd_ring_region h = make_header(64, 16384);
  EXPECT_EQ(bd_ring_check_header(&h), 0);
  h = make_header(BD_RING_MAX_RINGS, BD_RING_MIN_SLOTS);
  EXPECT_EQ(bd_ring_check_header(&h), 0);
  h = make_header(BD_RING_MAX_RINGS + 1, BD_RING_MIN_SLOTS);
  EXPECT_EQ(bd_ring_check_header(&h), -ENODEV);
  h = make_header(1, BD_RING_MAX_SLOTS);
  EXPECT_EQ(bd_ring_check_header(&h), 0);
  h = make_header(1, BD_RING_MAX_SLOTS * 2);
  EXPECT_EQ(bd_ring_check_header(&h), -ENODEV);
  h = make_header(3, 32);  // any ring count
  EXPECT_EQ(bd_ring_check_header(&h), 0);
}

// System mode (a ring found behind an ivshmem device): kernel rings are
// required, 1 to ring_count; BD_RING only ever accepts user mode.
TEST(RingDiscovery, SystemModeHeaderCheck) {
  bd_ring_region h = make_header(64, 16384);
  h.mode = BD_RING_MODE_SYSTEM;
  h.kernel_rings = 2;
  EXPECT_EQ(bd_ring_check_header_mode(&h, BD_RING_MODE_SYSTEM), 0);
  EXPECT_EQ(bd_ring_check_header(&h), -ENODEV);
  h.kernel_rings = 64;
  EXPECT_EQ(bd_ring_check_header_mode(&h, BD_RING_MODE_SYSTEM), 0);
  h.kernel_rings = 65;
  EXPECT_EQ(bd_ring_check_header_mode(&h, BD_RING_MODE_SYSTEM), -ENODEV);
  h.kernel_rings = 0;
  EXPECT_EQ(bd_ring_check_header_mode(&h, BD_RING_MODE_SYSTEM), -ENODEV);
  h = make_header(64, 16384);
  EXPECT_EQ(bd_ring_check_header_mode(&h, BD_RING_MODE_SYSTEM), -ENODEV) << "a user-mode region";
}

TEST(RingDiscovery, TheLibraryComputesTheLayoutItself) {
  Region r(5, 32);
  ASSERT_TRUE(r.mapped());
  bd_ring_map m;
  ASSERT_EQ(bd_ring_open_path(&m, r.path().c_str()), 0);
  EXPECT_EQ(m.ring_count, 5u);
  EXPECT_EQ(m.ring_slots, 32u);
  EXPECT_EQ(m.size, bd_ring_region_size(5, 32));
  EXPECT_EQ(reinterpret_cast<unsigned char *>(m.claims) - m.base, bd_ring_claims_offset());
  EXPECT_EQ(reinterpret_cast<unsigned char *>(m.ctl) - m.base, bd_ring_ctl_offset(5));
  EXPECT_EQ(m.data - m.base, static_cast<ptrdiff_t>(bd_ring_data_offset(5)));
  EXPECT_EQ(bd_ring_data_of(&m, 4) - m.base,
            static_cast<ptrdiff_t>(bd_ring_data_offset(5) + 4 * 32 * BD_RING_SLOT_SIZE));
  // A header changed after mapping changes nothing the library indexes with.
  r.header()->ring_slots = 1u << 20;
  EXPECT_EQ(m.ring_slots, 32u);
  bd_ring_close(&m);
  EXPECT_EQ(m.base, nullptr);
}

// ---- the claim table (shared with the system channel) --------------------------

TEST(ClaimTable, OnlyEntriesFromFirstOnAreClaimedOrReleased) {
  std::vector<bd_slot_claim> t(6, bd_slot_claim{0, 0});
  std::set<int> got;
  for (uint32_t tid = 100; tid < 104; tid++) {
    const int i = bd_claim_free(t.data(), 6, 2, 7, tid);
    EXPECT_GE(i, 2);
    EXPECT_LT(i, 6);
    got.insert(i);
  }
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(bd_claim_free(t.data(), 6, 2, 7, 200), -1);
  EXPECT_EQ(t[0].tid, 0u);
  EXPECT_EQ(t[1].tid, 0u);
  EXPECT_EQ(bd_claim_release(t.data(), 6, 2, 1, 0, 0), 0) << "below first";
  EXPECT_EQ(bd_claim_release(t.data(), 6, 2, 6, 7, 100), 0) << "past the end";
  const int i = *got.begin();
  EXPECT_EQ(bd_claim_release(t.data(), 6, 2, i, 7, t[i].tid), 1);
  EXPECT_EQ(bd_claim_free(t.data(), 6, 2, 7, 300), i);
  EXPECT_EQ(bd_claim_free(t.data(), 2, 2, 7, 300), -1) << "no claimable entry";
}

TEST(ClaimTable, ReclaimStaysInItsRange) {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  const uint32_t dead = static_cast<uint32_t>(child);  // gone: reaped
  std::vector<bd_slot_claim> t(4, bd_slot_claim{dead, dead});
  EXPECT_EQ(bd_claim_free(t.data(), 4, 1, current_pid(), current_tid()), -1);
  const int i = bd_claim(t.data(), 4, 1, current_pid(), current_tid());
  ASSERT_GE(i, 1);
  EXPECT_EQ(t[i].tid, current_tid());
  EXPECT_EQ(t[0].tid, dead) << "entries below first are not the table's";
  EXPECT_EQ(bd_claim_reclaim(t.data(), 4, 1), 0u);
}

// ---- bd-mark and the ABI marker ------------------------------------------------------

std::string read_file(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

TEST(RingAbiMarker, StaticGuestProgramsCarryIt) {
  const std::string marker = "bdguest-ring-abi-1";
  EXPECT_NE(read_file(BD_MARK_PATH).find(marker), std::string::npos) << BD_MARK_PATH;
  EXPECT_NE(read_file("/proc/self/exe").find(marker), std::string::npos);
}

// Run bd-mark with BD_RING = `ring`; returns its exit status.
int bd_mark_cmd(const std::string &ring, std::vector<std::string> args) {
  std::fflush(stdout);
  const pid_t child = fork();
  if (child == 0) {
    setenv(BD_RING_ENV, ring.c_str(), 1);
    setenv("BD_DEVICE", "none", 1);
    std::vector<char *> argv{const_cast<char *>(BD_MARK_PATH)};
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(BD_MARK_PATH, argv.data());
    _exit(127);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(RingMode, BdMarkWritesIntoARing) {
  Region r(1, 16);
  ASSERT_TRUE(r.mapped());
  EXPECT_EQ(bd_mark_cmd(r.path(), {"42", "hello ring"}), 0);
  EXPECT_EQ(bd_mark_cmd(r.path(), {"--begin", "7"}), 0);
  EXPECT_EQ(bd_mark_cmd(r.path(), {"--name", "7", "seven"}), 0);
  EXPECT_EQ(bd_mark_cmd(r.path(), {"--present"}), 0);
  EXPECT_EQ(bd_mark_cmd(r.path(), {"0x10"}), 0);
  ASSERT_EQ(r.head(0), 6u) << "each bd-mark claimed the one ring and released it";
  EXPECT_EQ(r.claim(0).tid, 0u);
  EXPECT_EQ(r.record(0, 0).kind, BD_KIND_MARK_TEXT);
  EXPECT_EQ(r.record(0, 0).event, 42u);
  EXPECT_STREQ(r.text(0, 1).text, "hello ring");
  EXPECT_EQ(r.record(0, 2).kind, BD_KIND_REGION_BEGIN);
  EXPECT_EQ(r.record(0, 2).event, 7u);
  EXPECT_EQ(r.record(0, 3).kind, BD_KIND_EVENT_NAME);
  EXPECT_STREQ(r.text(0, 4).text, "seven");
  EXPECT_EQ(r.record(0, 5).kind, BD_KIND_MARK);
  EXPECT_EQ(r.record(0, 5).event, 16u);
  // Every bd-mark marked as its parent (this process): one thread in reports.
  for (uint64_t k : {0, 2, 3, 5}) {
    EXPECT_EQ(r.record(0, k).pid, static_cast<uint32_t>(getpid())) << "record " << k;
    EXPECT_EQ(r.record(0, k).tid, static_cast<uint32_t>(getpid())) << "record " << k;
  }
}

TEST(RingMode, ActingAsParentIsDecidedBeforeTheFirstCall) {
  Region r(1, 16);
  ASSERT_TRUE(r.mapped());
  const uint32_t me = static_cast<uint32_t>(getpid());
  EXPECT_EQ(in_child(r.path().c_str(),
                     [] {
                       CHILD_EXPECT(bd_act_as_parent() == 0);
                       CHILD_EXPECT(bd_mark(1) == 1);
                       CHILD_EXPECT(bd_act_as_parent() == -EBUSY);
                     }),
            0);
  ASSERT_EQ(r.head(0), 1u);
  EXPECT_EQ(r.record(0, 0).pid, me) << "the child's records carry its parent's pid";
  EXPECT_EQ(r.record(0, 0).tid, me);
}

TEST(RingMode, BdMarkOwnPidMarksAsItself) {
  Region r(1, 16);
  ASSERT_TRUE(r.mapped());
  EXPECT_EQ(bd_mark_cmd(r.path(), {"--own-pid", "42"}), 0);
  EXPECT_EQ(bd_mark_cmd(r.path(), {"--own-pid", "--begin", "7"}), 0);
  ASSERT_EQ(r.head(0), 2u);
  EXPECT_EQ(r.record(0, 0).event, 42u);
  EXPECT_EQ(r.record(0, 1).kind, BD_KIND_REGION_BEGIN);
  EXPECT_NE(r.record(0, 0).pid, static_cast<uint32_t>(getpid()));
  EXPECT_NE(r.record(0, 0).pid, r.record(0, 1).pid) << "one process per bd-mark";
  EXPECT_EQ(bd_mark_cmd(r.path(), {"--own-pid"}), 2) << "--own-pid alone is a usage error";
}

}  // namespace
