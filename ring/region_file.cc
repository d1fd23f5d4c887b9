// SPDX-License-Identifier: MIT
// Creating and mapping the ring region file (see region_file.h).
#include "bdtrace/ring/region_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <utility>

#include "bdtrace/unique_fd.h"

namespace bdtrace::ring {
namespace {

static_assert(sizeof(std::size_t) == sizeof(uint64_t), "64-bit hosts: any region size maps");

constexpr bool is_power_of_two(uint64_t v) noexcept { return v != 0 && (v & (v - 1)) == 0; }

constexpr const char *kCreatedBy =
    " (the region file is created by bd-run, or by create_region_file(), before the guest "
    "starts; pass the path bd-run named in the guest's " BD_RING_ENV " variable)";

// Writes all of `buf` at `offset`, retrying short writes.
bool pwrite_all(int fd, const void *buf, std::size_t len, off_t offset) {
  const auto *p = static_cast<const unsigned char *>(buf);
  while (len > 0) {
    const ssize_t n = ::pwrite(fd, p, len, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    len -= static_cast<std::size_t>(n);
    offset += n;
  }
  return true;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Status check_geometry(uint32_t rings, uint32_t slots) {
  if (!is_power_of_two(rings) || rings > BD_RING_MAX_RINGS) {
    return make_error("ring count " + std::to_string(rings) + " must be a power of two from 1 to " +
                      std::to_string(BD_RING_MAX_RINGS));
  }
  if (!is_power_of_two(slots) || slots < BD_RING_MIN_SLOTS || slots > BD_RING_MAX_SLOTS) {
    return make_error("slots per ring " + std::to_string(slots) + " must be a power of two from " +
                      std::to_string(BD_RING_MIN_SLOTS) + " to " + std::to_string(BD_RING_MAX_SLOTS));
  }
  return Status::Ok();
}

void swap_header_fields(bd_ring_region &h) noexcept {
  h.magic = byte_swap(h.magic);
  h.version = byte_swap(h.version);
  h.slot_size = byte_swap(h.slot_size);
  h.ring_count = byte_swap(h.ring_count);
  h.ring_slots = byte_swap(h.ring_slots);
  h.region_size = byte_swap(h.region_size);
  h.claims_offset = byte_swap(h.claims_offset);
  h.ctl_offset = byte_swap(h.ctl_offset);
  h.data_offset = byte_swap(h.data_offset);
  h.mode = byte_swap(h.mode);
  h.clock = byte_swap(h.clock);
  h.kernel_rings = byte_swap(h.kernel_rings);
  h.consumer_pid = byte_swap(h.consumer_pid);
  h.generation = byte_swap(h.generation);
  for (auto &w : h.enable) w = byte_swap(w);
  h.sync_request = byte_swap(h.sync_request);
  h.sync_ack = byte_swap(h.sync_ack);
  h.sync_guest_ts = byte_swap(h.sync_guest_ts);
}

Status create_region_file(const std::string &path, uint32_t rings, uint32_t slots, bd_ring_mode mode,
                          uint32_t kernel_rings, uint64_t file_size, bd_ring_clock clock, ByteOrder order) {
  if (Status geometry = check_geometry(rings, slots); !geometry) {
    return make_error("cannot create ring region '" + path + "': " + geometry.error().message);
  }
  if (mode != BD_RING_MODE_USER && mode != BD_RING_MODE_SYSTEM) {
    return make_error("cannot create ring region '" + path + "': unknown mode " +
                      std::to_string(static_cast<int>(mode)) + " (BD_RING_MODE_USER or _SYSTEM)");
  }
  if ((mode == BD_RING_MODE_USER && kernel_rings != 0) || kernel_rings > rings) {
    return make_error("cannot create ring region '" + path + "': " + std::to_string(kernel_rings) +
                      " kernel rings (0 in user mode, at most the ring count in system mode)");
  }
  if (mode == BD_RING_MODE_SYSTEM && order != kHostByteOrder) {
    return make_error("cannot create ring region '" + path +
                      "': system mode serves x86_64 guests, "
                      "in the host's byte order only");
  }
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    const int err = errno;
    return make_error("cannot create ring region '" + path + "': " + std::strerror(err) +
                      (err == EEXIST ? " (remove the stale file or pick another name)"
                                     : " (is the directory writable, e.g. /dev/shm a tmpfs?)"));
  }
  // From here the file is ours: remove it on every failure.
  auto fail = [&](const std::string &what, int err) {
    Status failed = make_error("cannot " + what + " ring region '" + path + "': " + std::strerror(err));
    ::unlink(path.c_str());
    return failed;
  };
  const uint64_t size = bd_ring_region_size(rings, slots);
  if (file_size != 0 && file_size < size) {
    ::unlink(path.c_str());
    return make_error("cannot create ring region '" + path + "': a file of " + std::to_string(file_size) +
                      " bytes cannot hold the region's " + std::to_string(size));
  }
  const uint64_t on_disk = file_size != 0 ? file_size : size;
  if (::ftruncate(fd.get(), static_cast<off_t>(on_disk)) != 0)
    return fail("size (" + std::to_string(on_disk) + " bytes)", errno);

  bd_ring_region h;
  std::memset(&h, 0, sizeof h);
  h.version = BD_RING_VERSION;
  h.slot_size = BD_RING_SLOT_SIZE;
  h.ring_count = rings;
  h.ring_slots = slots;
  h.region_size = size;
  h.claims_offset = bd_ring_claims_offset();
  h.ctl_offset = bd_ring_ctl_offset(rings);
  h.data_offset = bd_ring_data_offset(rings);
  h.mode = mode;
  h.clock = clock;
  h.kernel_rings = kernel_rings;
  for (auto &w : h.enable) w = ~uint64_t{0};
  if (order != kHostByteOrder) swap_header_fields(h);
  if (!pwrite_all(fd.get(), &h, sizeof h, 0)) return fail("write the header of", errno);
  const uint32_t magic = order != kHostByteOrder ? byte_swap(BD_RING_MAGIC) : BD_RING_MAGIC;
  if (!pwrite_all(fd.get(), &magic, sizeof magic, offsetof(bd_ring_region, magic)))
    return fail("write the magic of", errno);
  return Status::Ok();
}

uint64_t ivshmem_file_size(uint32_t rings, uint32_t slots) {
  const uint64_t size = bd_ring_region_size(rings, slots);
  uint64_t p = 1;
  while (p < size) p <<= 1;
  return p;
}

Expected<RegionLayout> check_header(const bd_ring_region &guest, uint64_t file_size, ByteOrder order) {
  bd_ring_region h = guest;
  if (order != kHostByteOrder) swap_header_fields(h);
  if (h.magic == byte_swap(BD_RING_MAGIC)) {
    const ByteOrder other = order == ByteOrder::Big ? ByteOrder::Little : ByteOrder::Big;
    return make_error(std::string("a region in ") + byte_order_name(other) + " byte order, read as " +
                      byte_order_name(order) +
                      " (the guest architecture given, e.g. bd-ring-consumer --arch, is not the one "
                      "the region was created for: s390x regions are big-endian, the others "
                      "little-endian)");
  }
  if (h.magic != BD_RING_MAGIC) {
    return make_error("not a bdtrace ring region (magic " + hex(h.magic) + ", expected " +
                      hex(BD_RING_MAGIC) + "; a zero magic means it is not initialised yet)");
  }
  if (h.version != BD_RING_VERSION) {
    return make_error("ring ABI version " + std::to_string(h.version) + ", this consumer speaks " +
                      std::to_string(BD_RING_VERSION) +
                      " (use the bd-ring-consumer built with the "
                      "bd-run that created the region)");
  }
  if (h.slot_size != BD_RING_SLOT_SIZE) {
    return make_error("slot size " + std::to_string(h.slot_size) + ", expected " +
                      std::to_string(BD_RING_SLOT_SIZE));
  }
  if (Status geometry = check_geometry(h.ring_count, h.ring_slots); !geometry) return geometry.take_error();
  if (h.mode != BD_RING_MODE_USER && h.mode != BD_RING_MODE_SYSTEM) {
    return make_error("unknown mode " + std::to_string(h.mode));
  }
  // Every architecture's clock serves user mode; system mode runs x86_64
  // (TSC) and aarch64 (cntvct_el0) VMs.
  const bool clock_known = h.clock == BD_RING_CLOCK_TSC || h.clock == BD_RING_CLOCK_CNTVCT ||
                           (h.mode == BD_RING_MODE_USER &&
                            (h.clock == BD_RING_CLOCK_RISCV_TIME || h.clock == BD_RING_CLOCK_S390X_TOD));
  if (!clock_known) {
    return make_error("unknown clock " + std::to_string(h.clock));
  }
  if (h.mode == BD_RING_MODE_SYSTEM && order != kHostByteOrder) {
    return make_error(std::string("a system-mode region read as ") + byte_order_name(order) +
                      " (system mode serves little-endian guests only)");
  }
  if (h.kernel_rings > h.ring_count || (h.mode == BD_RING_MODE_USER && h.kernel_rings != 0)) {
    return make_error(std::to_string(h.kernel_rings) + " kernel rings of " + std::to_string(h.ring_count) +
                      " (0 in user mode)");
  }
  const uint64_t size = bd_ring_region_size(h.ring_count, h.ring_slots);
  if (h.claims_offset != bd_ring_claims_offset() || h.ctl_offset != bd_ring_ctl_offset(h.ring_count) ||
      h.data_offset != bd_ring_data_offset(h.ring_count) || h.region_size != size) {
    return make_error("layout fields do not match <bd/ring.h> for " + std::to_string(h.ring_count) +
                      " rings of " + std::to_string(h.ring_slots) + " slots (claims " + hex(h.claims_offset) +
                      ", ctl " + hex(h.ctl_offset) + ", data " + hex(h.data_offset) + ", size " +
                      std::to_string(h.region_size) + ")");
  }
  if (file_size < size) {
    return make_error("the file holds " + std::to_string(file_size) + " bytes but the region needs " +
                      std::to_string(size) + " (truncated?)");
  }
  RegionLayout out;
  out.ring_count = h.ring_count;
  out.ring_slots = h.ring_slots;
  out.kernel_rings = h.kernel_rings;
  out.mode = h.mode;
  out.clock = h.clock;
  out.byte_order = order;
  out.claims_offset = h.claims_offset;
  out.ctl_offset = h.ctl_offset;
  out.data_offset = h.data_offset;
  out.region_size = size;
  return out;
}

MappedRegion::~MappedRegion() { reset(); }

MappedRegion::MappedRegion(MappedRegion &&other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      layout_(std::exchange(other.layout_, RegionLayout{})) {}

MappedRegion &MappedRegion::operator=(MappedRegion &&other) noexcept {
  if (this != &other) {
    reset();
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    layout_ = std::exchange(other.layout_, RegionLayout{});
  }
  return *this;
}

void MappedRegion::reset() noexcept {
  if (base_ != nullptr) ::munmap(base_, size_);
  base_ = nullptr;
  size_ = 0;
  layout_ = RegionLayout{};
}

Expected<MappedRegion> MappedRegion::open(const std::string &path, ByteOrder order) {
  const std::string where = "ring region '" + path + "': ";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) {
    return make_error("cannot open " + where + std::strerror(errno) + kCreatedBy);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return make_error("cannot stat " + where + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(where + "not a regular file" + kCreatedBy);
  }
  if (st.st_size < static_cast<off_t>(BD_RING_HEADER_SIZE)) {
    return make_error(where + "the file holds " + std::to_string(st.st_size) +
                      " bytes, less than the header's " + std::to_string(BD_RING_HEADER_SIZE) +
                      " (truncated, or not a region)" + kCreatedBy);
  }
  // The header is read once, through the descriptor, before anything is
  // mapped: the mapping's size comes from this checked copy only.
  bd_ring_region h;
  const ssize_t n = ::pread(fd.get(), &h, sizeof h, 0);
  if (n != static_cast<ssize_t>(sizeof h)) {
    return make_error("cannot read the header of " + where + (n < 0 ? std::strerror(errno) : "short read"));
  }
  const Expected<RegionLayout> checked = check_header(h, static_cast<uint64_t>(st.st_size), order);
  if (!checked) return make_error(where + checked.error().message + kCreatedBy);
  const RegionLayout &layout = *checked;
  void *p = ::mmap(nullptr, static_cast<std::size_t>(layout.region_size), PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd.get(), 0);
  if (p == MAP_FAILED) {
    return make_error("cannot map " + where + std::strerror(errno) +
                      " (is there enough address space / memory for " + std::to_string(layout.region_size) +
                      " bytes?)");
  }
  MappedRegion out;
  out.base_ = static_cast<unsigned char *>(p);
  out.size_ = static_cast<std::size_t>(layout.region_size);
  out.layout_ = layout;
  return {std::move(out)};
}

}  // namespace bdtrace::ring
