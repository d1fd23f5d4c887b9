/* SPDX-License-Identifier: MIT */
// Test helpers for the ring consumer: a temporary region file and a minimal
// honest producer written from <bd/ring.h> alone (what libbdguest does for
// one thread), plus raw shared-memory stores for the hostile tests. Both
// work in either byte order: a big-endian region is what an s390x guest
// sees and writes.
#ifndef BDTRACE_TESTS_RING_TEST_PRODUCER_H
#define BDTRACE_TESTS_RING_TEST_PRODUCER_H

#include <bd/ring.h>

#include "bdtrace/byte_order.h"
#include "bdtrace/ring/guest_word.h"
#include "bdtrace/ring/region_file.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>
#include <string>

namespace bdtrace::ring::test {

// A region file in a fresh temporary directory; both removed at scope exit.
class TempRegion {
 public:
  TempRegion(uint32_t rings, uint32_t slots, bd_ring_mode mode = BD_RING_MODE_USER, uint32_t kernel_rings = 0,
             ByteOrder order = kHostByteOrder, bd_ring_clock clock = BD_RING_CLOCK_TSC) {
    char tmpl[] = "/tmp/bdring-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    path_ = dir_ + "/region";
    if (Status created = create_region_file(path_, rings, slots, mode, kernel_rings, 0, clock, order);
        !created) {
      error_ = created.error().ToString();
      path_.clear();
    }
  }
  ~TempRegion() {
    if (!path_.empty()) ::unlink(path_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  TempRegion(const TempRegion &) = delete;
  TempRegion &operator=(const TempRegion &) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string &path() const { return path_; }
  const std::string &dir() const { return dir_; }
  const std::string &error() const { return error_; }

 private:
  std::string dir_, path_, error_;
};

// MappedRegion::open into `out`, for fixtures that keep the mapping as a
// member.
inline Status open_region(const std::string &path, MappedRegion &out, ByteOrder order = kHostByteOrder) {
  Expected<MappedRegion> opened = MappedRegion::open(path, order);
  if (!opened) return opened.take_error();
  out = std::move(*opened);
  return Status::Ok();
}

// 8-byte atomic stores into shared memory (a racing writer must not be a
// data race the compiler may exploit).
inline void store_words(void *dst, const void *src, std::size_t bytes) {
  auto *d = static_cast<uint64_t *>(dst);
  const auto *s = static_cast<const unsigned char *>(src);
  for (std::size_t i = 0; i < bytes / 8; ++i) {
    uint64_t w;
    std::memcpy(&w, s + i * 8, 8);
    __atomic_store_n(d + i, w, __ATOMIC_RELAXED);
  }
}

// The guest side of one ring: single producer, as <bd/ring.h> describes.
// Addresses come from the layout of the header the host wrote (what a
// guest computes from it); every field is written in the layout's byte
// order, as a guest of that order does with plain stores.
class TestProducer {
 public:
  TestProducer(unsigned char *base, const RegionLayout &layout, uint32_t ring)
      : base_(base),
        layout_(layout),
        ring_(ring),
        ctl_(ctl(base, layout, ring)),
        swap_(layout.byte_order != kHostByteOrder) {
    head_ = g(__atomic_load_n(&ctl_->head, __ATOMIC_RELAXED));
    tail_ = g(__atomic_load_n(&ctl_->tail, __ATOMIC_ACQUIRE));
  }

  // A value between the host's order and the region's.
  template <class T>
  T g(T v) const {
    return swap_ ? byte_swap(v) : v;
  }

  static bd_ring_ctl *ctl(unsigned char *base, const RegionLayout &l, uint32_t ring) {
    return reinterpret_cast<bd_ring_ctl *>(base + l.ctl_offset + std::size_t{ring} * BD_RING_CTL_SIZE);
  }
  unsigned char *slot(uint64_t index) const {
    return base_ + layout_.data_offset +
           (uint64_t{ring_} * layout_.ring_slots + (index & (layout_.ring_slots - 1))) * BD_RING_SLOT_SIZE;
  }
  bd_ring_ctl *ctl() const { return ctl_; }

  // Claims the ring for {tid, pid} (one 8-byte store, as the CAS would).
  void claim(uint32_t pid, uint32_t tid) {
    bd_slot_claim c{g(tid), g(pid)};
    store_words(base_ + layout_.claims_offset + std::size_t{ring_} * sizeof c, &c, sizeof c);
  }

  // Writes one record (and its second slot for text kinds: `second`, 64
  // bytes). False when the ring is full: then `dropped` grows.
  // Room for n slots (re-reading tail when the cached copy says full);
  // else the drop is counted.
  bool room_for(uint64_t n) {
    if (head_ - tail_ + n > layout_.ring_slots) {
      tail_ = g(__atomic_load_n(&ctl_->tail, __ATOMIC_ACQUIRE));
      if (head_ - tail_ + n > layout_.ring_slots) {
        // The ring's one writer: a load and a store.
        const uint64_t d = g(__atomic_load_n(&ctl_->dropped, __ATOMIC_RELAXED));
        __atomic_store_n(&ctl_->dropped, g(d + 1), __ATOMIC_RELAXED);
        return false;
      }
    }
    return true;
  }

  bool write(const bd_ring_record &r, const void *second = nullptr) {
    const unsigned n = bd_ring_record_slots(r.kind);
    if (!room_for(n)) return false;
    bd_ring_record out = r;
    if (swap_) swap_ring_record_fields(out);
    store_words(slot(head_), &out, sizeof out);
    if (n == 2) {
      bd_ring_text t;
      std::memset(&t, 0, sizeof t);
      if (second != nullptr) std::memcpy(&t, second, sizeof t);
      store_words(slot(head_ + 1), &t, sizeof t);
    }
    head_ += n;
    __atomic_store_n(&ctl_->head, g(head_), __ATOMIC_RELEASE);
    return true;
  }

  // A bulk mark (<bd/ring.h>, BULK MARKS): the record claims `count`
  // bytes (args[0]); `bytes` are written into the slots after it (as
  // many slots as `count` needs, zero-padded; a lying count with fewer
  // bytes writes what there is). Published by one head store.
  bool blob(uint32_t event, const std::vector<uint8_t> &bytes, uint64_t seq, uint64_t ts, uint64_t count,
            uint32_t pid = 100, uint32_t tid = 101) {
    const uint64_t n = count <= BD_CALL_IO_MAX ? bd_ring_blob_slots(count) : 1;
    if (!room_for(n)) return false;
    bd_ring_record r = make(BD_KIND_MARK, event, seq, ts, pid, tid);
    r.kind = BD_RING_KIND_BLOB;
    r.args[0] = count;
    r.args[1] = r.args[2] = r.args[3] = 0;
    bd_ring_record out = r;
    if (swap_) swap_ring_record_fields(out);
    store_words(slot(head_), &out, sizeof out);
    for (uint64_t i = 1; i < n; ++i) {
      unsigned char chunk[BD_RING_SLOT_SIZE] = {};
      const std::size_t at = (i - 1) * BD_RING_SLOT_SIZE;
      if (at < bytes.size())
        std::memcpy(chunk, bytes.data() + at, std::min<std::size_t>(BD_RING_SLOT_SIZE, bytes.size() - at));
      store_words(slot(head_ + i), chunk, sizeof chunk);
    }
    head_ += n;
    __atomic_store_n(&ctl_->head, g(head_), __ATOMIC_RELEASE);
    return true;
  }

  bool mark(uint32_t event, uint64_t seq, uint64_t ts, uint32_t pid = 100, uint32_t tid = 101) {
    return write(make(BD_KIND_MARK, event, seq, ts, pid, tid));
  }

  bool text(uint16_t kind, uint32_t event, const char *s, uint64_t seq, uint64_t ts, uint32_t pid = 100,
            uint32_t tid = 101) {
    bd_ring_record r = make(kind, event, seq, ts, pid, tid);
    r.text_len = static_cast<uint16_t>(std::strlen(s));
    bd_ring_text t;
    std::memset(&t, 0, sizeof t);
    std::memcpy(t.text, s, std::min<std::size_t>(std::strlen(s), sizeof t.text));
    return write(r, &t);
  }

  static bd_ring_record make(uint16_t kind, uint32_t event, uint64_t seq, uint64_t ts, uint32_t pid = 100,
                             uint32_t tid = 101) {
    bd_ring_record r;
    std::memset(&r, 0, sizeof r);
    r.ts = ts;
    r.kind = kind;
    r.event = event;
    r.args[0] = seq * 3;
    r.args[1] = event;
    r.args[2] = ~seq;
    r.args[3] = 42;
    r.pid = pid;
    r.tid = tid;
    r.seq = seq;
    return r;
  }

  uint64_t head() const { return head_; }

 private:
  unsigned char *base_;
  RegionLayout layout_;
  uint32_t ring_;
  bd_ring_ctl *ctl_;
  uint64_t head_ = 0;
  uint64_t tail_ = 0;  // cached; re-read only when the ring looks full
  bool swap_;          // the region's byte order is not the host's
};

}  // namespace bdtrace::ring::test

#endif  // BDTRACE_TESTS_RING_TEST_PRODUCER_H
