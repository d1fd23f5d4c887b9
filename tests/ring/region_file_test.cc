// SPDX-License-Identifier: MIT
// The ring region file: creation, the consumer's checks when it maps one,
// and the private layout copy.
#include "bdtrace/ring/region_file.h"

#include "test_producer.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <string>

namespace bdtrace::ring {
namespace {

using test::TempRegion;

// Rewrites `len` bytes of the file at `offset`.
void poke(const std::string &path, off_t offset, const void *bytes, std::size_t len) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes, len, offset), static_cast<ssize_t>(len));
  ::close(fd);
}

template <class T>
void poke_field(const std::string &path, std::size_t offset, T value) {
  poke(path, static_cast<off_t>(offset), &value, sizeof value);
}

// Opening must fail with a message containing `what`.
void expect_refused(const std::string &path, const std::string &what) {
  const Expected<MappedRegion> m = MappedRegion::open(path);
  ASSERT_FALSE(m);
  const std::string err = m.error().message;
  EXPECT_NE(err.find(what), std::string::npos) << err;
  // Every refusal names the file and says where regions come from.
  EXPECT_NE(err.find(path), std::string::npos) << err;
}

TEST(RegionFile, CreateWritesAValidHeader) {
  TempRegion r(8, 64);
  ASSERT_TRUE(r.ok()) << r.error();
  struct stat st;
  ASSERT_EQ(::stat(r.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), bd_ring_region_size(8, 64));

  Expected<MappedRegion> opened = MappedRegion::open(r.path());
  ASSERT_TRUE(opened) << opened.error();
  MappedRegion &m = *opened;
  const RegionLayout &l = m.layout();
  EXPECT_EQ(l.ring_count, 8u);
  EXPECT_EQ(l.ring_slots, 64u);
  EXPECT_EQ(l.kernel_rings, 0u);
  EXPECT_EQ(l.mode, static_cast<uint32_t>(BD_RING_MODE_USER));
  EXPECT_EQ(l.clock, static_cast<uint32_t>(BD_RING_CLOCK_TSC));
  EXPECT_EQ(l.claims_offset, bd_ring_claims_offset());
  EXPECT_EQ(l.ctl_offset, bd_ring_ctl_offset(8));
  EXPECT_EQ(l.data_offset, bd_ring_data_offset(8));
  EXPECT_EQ(l.region_size, bd_ring_region_size(8, 64));
  const bd_ring_region *h = m.header();
  EXPECT_EQ(h->magic, BD_RING_MAGIC);
  EXPECT_EQ(h->version, BD_RING_VERSION);
  EXPECT_EQ(h->slot_size, BD_RING_SLOT_SIZE);
  EXPECT_EQ(h->consumer_pid, 0u);
  EXPECT_EQ(h->generation, 0u);
  for (uint64_t w : h->enable) EXPECT_EQ(w, ~uint64_t{0});
  EXPECT_EQ(h->sync_request, 0u);
  // Everything after the header starts zeroed.
  for (uint32_t i = 0; i < 8; ++i) {
    EXPECT_EQ(m.ctl(i)->head, 0u);
    EXPECT_EQ(m.ctl(i)->tail, 0u);
    EXPECT_EQ(m.ctl(i)->dropped, 0u);
    EXPECT_EQ(m.claim(i)->tid, 0u);
  }
  // Slot addresses: ring i's slot k modulo ring_slots.
  EXPECT_EQ(m.slot_offset(0, 0), l.data_offset);
  EXPECT_EQ(m.slot_offset(1, 0), l.data_offset + 64 * BD_RING_SLOT_SIZE);
  EXPECT_EQ(m.slot_offset(1, 64 + 3), l.data_offset + (64 + 3) * BD_RING_SLOT_SIZE);
  EXPECT_EQ(m.slot_offset(7, UINT64_MAX), l.region_size - BD_RING_SLOT_SIZE);
}

TEST(RegionFile, SystemModeKeepsKernelRings) {
  TempRegion r(4, 16, BD_RING_MODE_SYSTEM, 2);
  ASSERT_TRUE(r.ok()) << r.error();
  Expected<MappedRegion> opened = MappedRegion::open(r.path());
  ASSERT_TRUE(opened) << opened.error();
  MappedRegion &m = *opened;
  EXPECT_EQ(m.layout().kernel_rings, 2u);
  EXPECT_EQ(m.layout().mode, static_cast<uint32_t>(BD_RING_MODE_SYSTEM));
}

// An ivshmem-plain device needs a power-of-two memory size: the file is
// padded after the region, which still opens as itself.
TEST(RegionFile, PaddedForIvshmem) {
  EXPECT_EQ(ivshmem_file_size(1, 16), 16384u);  // header, claims and ctl pages + 1 KiB
  const uint64_t size = ivshmem_file_size(64, 16384);
  EXPECT_EQ(size, 128u << 20);  // 64 MiB of rings plus the header pages
  EXPECT_GE(size, bd_ring_region_size(64, 16384));
  char tmpl[] = "/tmp/bdring-pad-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/region";
  const Status created = create_region_file(path, 4, 16, BD_RING_MODE_SYSTEM, 2, ivshmem_file_size(4, 16));
  ASSERT_TRUE(created) << created.error();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), ivshmem_file_size(4, 16));
  const Expected<MappedRegion> m = MappedRegion::open(path);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->layout().region_size, bd_ring_region_size(4, 16));
  ::unlink(path.c_str());
  const Status too_small = create_region_file(path, 4, 16, BD_RING_MODE_SYSTEM, 2, 4096);
  ASSERT_FALSE(too_small);
  EXPECT_NE(too_small.error().message.find("cannot hold"), std::string::npos) << too_small.error();
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "a refused file is removed";
  ::rmdir(tmpl);
}

TEST(RegionFile, CreateRefusesAnExistingFile) {
  TempRegion r(1, 16);
  ASSERT_TRUE(r.ok()) << r.error();
  const Status created = create_region_file(r.path(), 1, 16, BD_RING_MODE_USER);
  ASSERT_FALSE(created);
  const std::string err = created.error().message;
  EXPECT_NE(err.find("exists"), std::string::npos) << err;
  EXPECT_NE(err.find("remove the stale file"), std::string::npos) << err;
  // Not ours: still there, still valid.
  const Expected<MappedRegion> m = MappedRegion::open(r.path());
  EXPECT_TRUE(m) << m.error();
}

TEST(RegionFile, CreateChecksGeometryAndMode) {
  TempRegion dir(1, 16);
  ASSERT_TRUE(dir.ok()) << dir.error();
  const std::string path = dir.dir() + "/other";
  struct Case {
    uint32_t rings, slots;
    bd_ring_mode mode;
    uint32_t kernel_rings;
    const char *what;
  };
  const Case cases[] = {
      {0, 16, BD_RING_MODE_USER, 0, "ring count 0"},
      {3, 16, BD_RING_MODE_USER, 0, "power of two"},
      {BD_RING_MAX_RINGS * 2, 16, BD_RING_MODE_USER, 0, "ring count"},
      {4, 8, BD_RING_MODE_USER, 0, "slots per ring 8"},
      {4, 100, BD_RING_MODE_USER, 0, "slots per ring 100"},
      {4, BD_RING_MAX_SLOTS * 2, BD_RING_MODE_USER, 0, "slots per ring"},
      // 3: not a mode, yet inside the enum's range of values (7 would
      // be undefined behaviour, which UBSan reports).
      {4, 16, static_cast<bd_ring_mode>(3), 0, "unknown mode"},
      {4, 16, BD_RING_MODE_USER, 1, "kernel rings"},
      {4, 16, BD_RING_MODE_SYSTEM, 5, "kernel rings"},
  };
  for (const Case &c : cases) {
    const Status created = create_region_file(path, c.rings, c.slots, c.mode, c.kernel_rings);
    EXPECT_FALSE(created) << c.what;
    const std::string err = created ? std::string() : created.error().message;
    EXPECT_NE(err.find(c.what), std::string::npos) << err;
    EXPECT_NE(::access(path.c_str(), F_OK), 0) << "nothing is left behind: " << c.what;
  }
}

TEST(RegionFile, CreateInAMissingDirectorySaysWhatToCheck) {
  const Status created = create_region_file("/nonexistent-dir/region", 1, 16, BD_RING_MODE_USER);
  ASSERT_FALSE(created);
  const std::string err = created.error().message;
  EXPECT_NE(err.find("No such file"), std::string::npos) << err;
  EXPECT_NE(err.find("writable"), std::string::npos) << err;
}

TEST(RegionFile, CreateSucceedsOnlyForAFreshPathAndAValidGeometry) {
  TempRegion dir(1, 16);
  ASSERT_TRUE(dir.ok()) << dir.error();
  EXPECT_FALSE(create_region_file(dir.path(), 1, 16, BD_RING_MODE_USER));  // exists
  EXPECT_FALSE(create_region_file(dir.dir() + "/x", 3, 16, BD_RING_MODE_USER));
  const std::string fresh = dir.dir() + "/fresh";
  EXPECT_TRUE(create_region_file(fresh, 2, 16, BD_RING_MODE_USER));
  ::unlink(fresh.c_str());
}

TEST(RegionFile, OpenRefusesMissingAndOddFiles) {
  expect_refused("/nonexistent-dir/region", "No such file");
  expect_refused("/dev/null", "not a regular file");
}

TEST(RegionFile, OpenRefusesBadMagicVersionAndSlotSize) {
  {
    TempRegion r(2, 16);
    ASSERT_TRUE(r.ok());
    poke_field<uint32_t>(r.path(), offsetof(bd_ring_region, magic), 0x12345678u);
    expect_refused(r.path(), "not a bdtrace ring region");
  }
  {
    TempRegion r(2, 16);
    ASSERT_TRUE(r.ok());
    poke_field<uint32_t>(r.path(), offsetof(bd_ring_region, magic), 0u);
    expect_refused(r.path(), "not initialised yet");
  }
  {
    TempRegion r(2, 16);
    ASSERT_TRUE(r.ok());
    poke_field<uint16_t>(r.path(), offsetof(bd_ring_region, version), 2);
    expect_refused(r.path(), "ring ABI version 2");
  }
  {
    TempRegion r(2, 16);
    ASSERT_TRUE(r.ok());
    poke_field<uint16_t>(r.path(), offsetof(bd_ring_region, slot_size), 128);
    expect_refused(r.path(), "slot size 128");
  }
}

TEST(RegionFile, OpenRefusesWrongSizesAndOffsets) {
  struct Case {
    std::size_t offset;
    uint64_t value;
    unsigned width;
    const char *what;
  };
  const Case cases[] = {
      {offsetof(bd_ring_region, ring_count), 3, 4, "power of two"},
      {offsetof(bd_ring_region, ring_count), 0, 4, "ring count 0"},
      {offsetof(bd_ring_region, ring_count), 1u << 20, 4, "ring count"},
      {offsetof(bd_ring_region, ring_slots), 24, 4, "slots per ring 24"},
      {offsetof(bd_ring_region, ring_slots), 1u << 30, 4, "slots per ring"},
      // A consistent-looking bigger geometry the file does not hold.
      {offsetof(bd_ring_region, ring_slots), 32, 4, "layout fields"},
      {offsetof(bd_ring_region, region_size), 1ull << 40, 8, "layout fields"},
      {offsetof(bd_ring_region, claims_offset), 0, 4, "layout fields"},
      {offsetof(bd_ring_region, ctl_offset), 4096, 4, "layout fields"},
      {offsetof(bd_ring_region, data_offset), 8192, 8, "layout fields"},
      {offsetof(bd_ring_region, mode), 9, 4, "unknown mode"},
      {offsetof(bd_ring_region, clock), 9, 4, "unknown clock"},  // 1-3 are architectures' clocks
      {offsetof(bd_ring_region, kernel_rings), 1, 4, "kernel rings"},
  };
  for (const Case &c : cases) {
    TempRegion r(2, 16);
    ASSERT_TRUE(r.ok());
    if (c.width == 4)
      poke_field<uint32_t>(r.path(), c.offset, static_cast<uint32_t>(c.value));
    else
      poke_field<uint64_t>(r.path(), c.offset, c.value);
    expect_refused(r.path(), c.what);
  }
}

TEST(RegionFile, OpenRefusesATruncatedFile) {
  TempRegion r(2, 16);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(::truncate(r.path().c_str(), bd_ring_region_size(2, 16) - 1), 0);
  expect_refused(r.path(), "truncated");
  ASSERT_EQ(::truncate(r.path().c_str(), 100), 0);
  expect_refused(r.path(), "less than the header");
  ASSERT_EQ(::truncate(r.path().c_str(), 0), 0);
  expect_refused(r.path(), "holds 0 bytes");
}

TEST(RegionFile, LargerFileIsFine) {
  TempRegion r(2, 16);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(::truncate(r.path().c_str(), bd_ring_region_size(2, 16) + 4096), 0);
  Expected<MappedRegion> opened = MappedRegion::open(r.path());
  EXPECT_TRUE(opened) << opened.error();
}

// The layout is read once: a guest rewriting the header afterwards changes
// nothing the consumer computes.
TEST(RegionFile, LayoutIsAPrivateCopy) {
  TempRegion r(4, 16);
  ASSERT_TRUE(r.ok());
  Expected<MappedRegion> opened = MappedRegion::open(r.path());
  ASSERT_TRUE(opened) << opened.error();
  MappedRegion &m = *opened;
  const RegionLayout before = m.layout();
  const uint64_t slot_before = m.slot_offset(3, 15);
  bd_ring_region *h = m.header();
  h->ring_count = 0xffffffffu;
  h->ring_slots = 0x80000000u;
  h->data_offset = ~uint64_t{0};
  h->ctl_offset = 0x7fffffffu;
  h->region_size = 1;
  EXPECT_EQ(m.layout().ring_count, before.ring_count);
  EXPECT_EQ(m.layout().ring_slots, before.ring_slots);
  EXPECT_EQ(m.layout().data_offset, before.data_offset);
  EXPECT_EQ(m.slot_offset(3, 15), slot_before);
  EXPECT_EQ(reinterpret_cast<unsigned char *>(m.ctl(3)), m.base() + before.ctl_offset + 3 * 256);
}

TEST(RegionFile, MoveTransfersTheMapping) {
  TempRegion r(1, 16);
  ASSERT_TRUE(r.ok());
  Expected<MappedRegion> opened = MappedRegion::open(r.path());
  ASSERT_TRUE(opened) << opened.error();
  MappedRegion &a = *opened;
  unsigned char *base = a.base();
  MappedRegion b(std::move(a));
  EXPECT_FALSE(a);
  EXPECT_EQ(b.base(), base);
  EXPECT_EQ(b.layout().ring_count, 1u);
  MappedRegion c;
  c = std::move(b);
  EXPECT_FALSE(b);
  EXPECT_EQ(c.base(), base);
  EXPECT_EQ(c.header()->magic, BD_RING_MAGIC);
}

}  // namespace
}  // namespace bdtrace::ring
