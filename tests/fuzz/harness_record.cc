// SPDX-License-Identifier: MIT
// Fuzz harness: the record validator (tracepoints/record.h), the gate every
// guest record passes. Input: the first 128 bytes are a record as the
// guest left it (shorter inputs are zero-padded); it is validated as a
// user and as a kernel record, in the host's order and byte-swapped.
// Invariants: an accepted record's text is terminated within the field and
// its kind is in range; a user-mode accept is also a kernel-mode accept.
#include <bdtrace/record.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_check.h"

namespace {

using bdtrace::RejectReason;

void check_accepted(const bd_record &r) {
  FUZZ_CHECK(r.kind != BD_KIND_INVALID && r.kind < BD_KIND_MAX_);
  FUZZ_CHECK(r.text_len <= BD_TEXT_MAX);
  if (bdtrace::kind_has_text(r.kind)) {
    FUZZ_CHECK(r.text[r.text_len] == '\0');
    FUZZ_CHECK(std::strlen(r.text) == r.text_len);
  }
}

void validate(const bd_record &r) {
  const RejectReason user = bdtrace::check_record(r, /*from_kernel=*/false);
  const RejectReason kernel = bdtrace::check_record(r, /*from_kernel=*/true);
  FUZZ_CHECK(bdtrace::reject_reason_name(user) != nullptr);
  if (user == RejectReason::Ok) {
    check_accepted(r);
    FUZZ_CHECK(kernel == RejectReason::Ok);
    FUZZ_CHECK(r.kind != BD_KIND_SCHED_SWITCH);
  }
  if (kernel == RejectReason::Ok) check_accepted(r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  alignas(BD_RECORD_SIZE) bd_record guest;
  std::memset(&guest, 0, sizeof guest);
  std::memcpy(&guest, data, size < sizeof guest ? size : sizeof guest);
  validate(guest);
  bd_record swapped;
  bdtrace::decode_record<true>(guest, swapped);
  validate(swapped);
  (void)bdtrace::check_record_address(size > 8 ? *reinterpret_cast<const uint64_t *>(&guest) : size);
  return 0;
}
