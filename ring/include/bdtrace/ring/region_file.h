/* SPDX-License-Identifier: MIT */
// The ring channel's region file (<bd/ring.h>): creating it (bd-run, tests)
// and mapping it for the host consumer.
//
// Everything in the region is guest memory. The consumer reads the header
// once, when it maps the file, checks every field against what the ring.h
// layout helpers compute, and from then on uses only its own copy of the
// layout (RegionLayout): a guest that scribbles on the header afterwards
// cannot move the consumer's reads outside the mapping.
//
// Byte order (<bd/ring.h>, BYTE ORDER): the header, like everything in the
// region, is in the guest's order. Creating writes it in the order given;
// mapping reads it in the order given and keeps that order in the layout
// (RegionLayout::byte_order) for everything read or written later.
#ifndef BDTRACE_RING_REGION_FILE_H
#define BDTRACE_RING_REGION_FILE_H

#include <bd/ring.h>

#include "bdtrace/byte_order.h"

#include <cstddef>
#include <cstdint>
#include <string>

#include "bdtrace/status.h"

namespace bdtrace::ring {

// Checks a ring geometry: rings in [1, BD_RING_MAX_RINGS] and slots in
// [BD_RING_MIN_SLOTS, BD_RING_MAX_SLOTS], both powers of two. An error
// says which value is wrong and what is allowed.
Status check_geometry(uint32_t rings, uint32_t slots);

// Creates the region file at `path` (O_CREAT | O_EXCL, mode 0600: never
// someone else's file), sizes it to bd_ring_region_size(rings, slots) and
// writes a complete header in the guest's byte order `order`: layout from
// the ring.h helpers, `mode`, `clock` (the guest architecture's:
// BD_RING_CLOCK_TSC on x86_64; system mode TSC or CNTVCT, and only in the host's
// order), the enable bitmap all ones (no filter) and
// `kernel_rings` (must be 0 in BD_RING_MODE_USER; at most `rings` in system
// mode). Claims, control blocks and rings are zero (ftruncate). The magic is
// written last, so a reader never sees a valid magic over a partial header.
// On failure the file is removed (when this call created it), and the
// error says what failed and what to do.
//
// `file_size` 0 sizes the file to the region; a larger value pads it with
// zeros after the region (an ivshmem-plain device needs a power-of-two
// memory size: ivshmem_file_size()).
Status create_region_file(const std::string &path, uint32_t rings, uint32_t slots, bd_ring_mode mode,
                          uint32_t kernel_rings = 0, uint64_t file_size = 0,
                          bd_ring_clock clock = BD_RING_CLOCK_TSC, ByteOrder order = kHostByteOrder);

// The file size that holds a region of `rings` x `slots` as an ivshmem-plain
// device's memory: the region size rounded up to a power of two.
uint64_t ivshmem_file_size(uint32_t rings, uint32_t slots);

// The consumer's private copy of the header's layout fields, checked once.
struct RegionLayout {
  uint32_t ring_count = 0;
  uint32_t ring_slots = 0;                // a power of two
  uint32_t kernel_rings = 0;              // rings [0, kernel_rings) are per-CPU kernel rings
  uint32_t mode = 0;                      // enum bd_ring_mode
  uint32_t clock = 0;                     // enum bd_ring_clock
  ByteOrder byte_order = kHostByteOrder;  // of every field in the region
  uint32_t claims_offset = 0;
  uint32_t ctl_offset = 0;
  uint64_t data_offset = 0;
  uint64_t region_size = 0;
};

// Checks a header copy (in the guest's byte order `order`, as it lies in
// the file) against <bd/ring.h>: magic, version, slot_size, geometry,
// mode, clock, kernel_rings and every offset and the size equal to what the
// layout helpers compute. A magic that reads byte-swapped is refused as a
// region of the other order. `file_size`: bytes available behind the
// header (the region must fit). The layout in host values, or what is wrong.
Expected<RegionLayout> check_header(const bd_ring_region &header, uint64_t file_size,
                                    ByteOrder order = kHostByteOrder);

// Reverses the byte order of every field of a header copy.
void swap_header_fields(bd_ring_region &h) noexcept;

// A region file mapped MAP_SHARED read-write (the consumer writes tails and
// consumer_pid). Unmapped when destroyed. Move-only.
class MappedRegion {
 public:
  MappedRegion() noexcept = default;
  ~MappedRegion();
  MappedRegion(MappedRegion &&other) noexcept;
  MappedRegion &operator=(MappedRegion &&other) noexcept;
  MappedRegion(const MappedRegion &) = delete;
  MappedRegion &operator=(const MappedRegion &) = delete;

  // Opens and maps `path`, reads the header once and validates it
  // (check_header, in the guest's byte order `order`), or an error naming
  // the file, the cause and what to do.
  static Expected<MappedRegion> open(const std::string &path, ByteOrder order = kHostByteOrder);

  explicit operator bool() const noexcept { return base_ != nullptr; }
  const RegionLayout &layout() const noexcept { return layout_; }
  unsigned char *base() const noexcept { return base_; }

  // Shared memory the guest can change at any time: access it with
  // atomic loads/stores only. Every address is computed from the private
  // layout and a bounded index, so it lies inside the mapping.
  bd_ring_region *header() const noexcept { return reinterpret_cast<bd_ring_region *>(base_); }
  bd_ring_ctl *ctl(uint32_t ring) const noexcept {
    return reinterpret_cast<bd_ring_ctl *>(base_ + layout_.ctl_offset + std::size_t{ring} * BD_RING_CTL_SIZE);
  }
  bd_slot_claim *claim(uint32_t ring) const noexcept {
    return reinterpret_cast<bd_slot_claim *>(base_ + layout_.claims_offset +
                                             std::size_t{ring} * sizeof(bd_slot_claim));
  }
  // Byte offset of slot `index` (any counter value: taken modulo
  // ring_slots) of `ring` from the start of the region.
  uint64_t slot_offset(uint32_t ring, uint64_t index) const noexcept {
    return layout_.data_offset +
           (uint64_t{ring} * layout_.ring_slots + (index & (layout_.ring_slots - 1u))) * BD_RING_SLOT_SIZE;
  }
  unsigned char *slot(uint32_t ring, uint64_t index) const noexcept {
    return base_ + slot_offset(ring, index);
  }

 private:
  void reset() noexcept;

  unsigned char *base_ = nullptr;
  std::size_t size_ = 0;
  RegionLayout layout_;
};

}  // namespace bdtrace::ring

#endif  // BDTRACE_RING_REGION_FILE_H
