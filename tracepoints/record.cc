// SPDX-License-Identifier: MIT
// Names of rejection reasons; the validator itself is inline in record.h.
#include "bdtrace/record.h"

namespace bdtrace {

const char *reject_reason_name(RejectReason reason) noexcept {
  switch (reason) {
    case RejectReason::Ok:
      return "ok";
    case RejectReason::Misaligned:
      return "misaligned";
    case RejectReason::CrossesPage:
      return "crosses_page";
    case RejectReason::BadMagic:
      return "bad_magic";
    case RejectReason::BadVersion:
      return "bad_version";
    case RejectReason::BadKind:
      return "bad_kind";
    case RejectReason::BadFlags:
      return "bad_flags";
    case RejectReason::BadReserved:
      return "bad_reserved";
    case RejectReason::TextTooLong:
      return "text_too_long";
    case RejectReason::TextNotTerminated:
      return "text_not_terminated";
    case RejectReason::KernelOnlyKind:
      return "kernel_only_kind";
    case RejectReason::NotWritable:
      return "not_writable";
    case RejectReason::NotReadable:
      return "not_readable";
    case RejectReason::TextEmbeddedNul:
      return "text_embedded_nul";
    case RejectReason::OutsideChannel:
      return "outside_channel";
    case RejectReason::NoChannel:
      return "no_channel";
    case RejectReason::BadSlot:
      return "bad_slot";
    case RejectReason::RingBadIndex:
      return "ring_bad_index";
    case RejectReason::RingTruncated:
      return "ring_truncated";
    case RejectReason::RingForbiddenKind:
      return "ring_forbidden_kind";
    case RejectReason::RingDroppedDecreased:
      return "ring_dropped_decreased";
    case RejectReason::NoFreeSlot:
      return "no_free_slot";
    case RejectReason::NestedCall:
      return "nested_call";
    case RejectReason::CallBadPage:
      return "call_bad_page";
    case RejectReason::CallBadStep:
      return "call_bad_step";
    case RejectReason::CallNotServed:
      return "call_not_served";
    case RejectReason::RingBadBlob:
      return "ring_bad_blob";
    case RejectReason::Count_:
      break;
  }
  return "unknown";
}

}  // namespace bdtrace
