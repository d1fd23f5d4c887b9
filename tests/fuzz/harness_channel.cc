// SPDX-License-Identifier: MIT
// Fuzz harness: the full-system channel (device/channel.h), the BAR the
// guest writes and the plugin reads on every system-mode trap. Input: a
// program of 16-byte steps run against one channel (1 MiB, as mapped):
//   byte 0 = op: 0 write (bytes 8..15 at offset bytes 1..4), 1 set the
//   handshake nonce (bytes 8..15), 2 trap at channel base + offset
//   (user mode), 3 the same from the kernel, 4 trap at a raw physical
//   address (bytes 8..15), 5 set the reply of offset bytes 1..4.
// Invariants: an accepted or rejected record lies in a slot inside the
// channel; an accepted record passed the validator; nothing reads or
// writes outside the mapping (AddressSanitizer watches the buffer's ends).
#include <bdtrace/device/channel.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "fuzz_check.h"

namespace {

using bdtrace::RejectReason;
using bdtrace::device::Channel;
using bdtrace::device::Outcome;
using bdtrace::device::Verdict;

constexpr uint64_t kBase = 0x80000000ull;  // BD_CHANNEL_SIZE-aligned, as a BAR is

uint32_t u32_at(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
uint64_t u64_at(const uint8_t *p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void check(const Verdict &v, const bd_record *copy) {
  if (v.outcome == Outcome::Accepted) {
    FUZZ_CHECK(v.reason == RejectReason::Ok);
    FUZZ_CHECK(v.offset + sizeof(bd_record) <= BD_CHANNEL_SIZE);
    FUZZ_CHECK(v.offset % BD_RECORD_SIZE == 0);
    if (copy != nullptr) FUZZ_CHECK(bdtrace::check_record(*copy, true) == RejectReason::Ok);
  }
  if (v.outcome == Outcome::Rejected) FUZZ_CHECK(v.reason != RejectReason::Ok);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Exactly the channel's size, so AddressSanitizer catches any access
  // past either end.
  static std::unique_ptr<unsigned char[]> mem(new unsigned char[BD_CHANNEL_SIZE]);
  std::memset(mem.get(), 0, BD_CHANNEL_SIZE);
  Channel channel(mem.get());
  channel.init_header(4);
  auto *header = reinterpret_cast<bd_channel_header *>(mem.get());
  for (size_t at = 0; at + 16 <= size; at += 16) {
    const uint8_t *step = data + at;
    const uint32_t off = u32_at(step + 1) % BD_CHANNEL_SIZE;
    const uint64_t value = u64_at(step + 8);
    bd_record copy;
    switch (step[0] % 6) {
      case 0:
        std::memcpy(mem.get() + (off < BD_CHANNEL_SIZE - 8 ? off : BD_CHANNEL_SIZE - 8), &value,
                    sizeof value);
        break;
      case 1:
        header->handshake_nonce = value;
        break;
      case 2:
      case 3: {
        const bool kernel = step[0] % 6 == 3;
        const bool want_copy = (step[5] & 1) != 0;
        const Verdict v = channel.on_trap(kBase + off, kernel, want_copy ? &copy : nullptr);
        check(v, want_copy ? &copy : nullptr);
        break;
      }
      case 4: {
        const Verdict v = channel.on_trap(value, (step[5] & 1) != 0, &copy);
        check(v, &copy);
        break;
      }
      case 5:
        channel.set_reply(off, static_cast<int32_t>(value));
        break;
    }
  }
  return 0;
}
