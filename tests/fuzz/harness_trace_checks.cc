// SPDX-License-Identifier: MIT
// Fuzz harness: bd-analyze's checks of a trace before babeltrace2 reads it
// (analyzer/metadata_check.h: babeltrace2 2.0.4 spins forever on metadata
// whose last packet is cut short). Input: a metadata file's bytes.
// Invariants: the check never reads outside the input (ASan), always ends,
// and when it accepts packetized metadata, the packets it accepted tile
// the file exactly, each with the magic number and sane sizes: what
// babeltrace2 needs not to spin.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "metadata_check.h"

namespace {

constexpr uint32_t kMagic = 0x75d11d57;

uint32_t read32(const uint8_t *p, bool big) {
  return big ? (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]
             : (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | p[0];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const bdtrace::Status st = bdtrace::analyzer::CheckMetadataBytes(data, size, "metadata");
  if (!st || size < 4) return 0;
  const bool little = read32(data, false) == kMagic;
  const bool big = !little && read32(data, true) == kMagic;
  if (!little && !big) return 0;  // plain text: babeltrace2's parser decides
  size_t offset = 0;
  while (offset < size) {
    FUZZ_CHECK(size - offset >= 37);
    FUZZ_CHECK(read32(data + offset, big) == kMagic);
    const uint64_t content_bits = read32(data + offset + 24, big);
    const uint64_t packet_bits = read32(data + offset + 28, big);
    FUZZ_CHECK(packet_bits % 8 == 0 && content_bits <= packet_bits && packet_bits >= 37 * 8);
    FUZZ_CHECK(packet_bits / 8 <= size - offset);
    offset += packet_bits / 8;
  }
  FUZZ_CHECK(offset == size);
  return 0;
}
