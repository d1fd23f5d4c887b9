// Validation of guest records; the rules are documented in record.h.
#include "bdtrace/record.h"

#include <cstring>

namespace bdtrace {

const char *reject_reason_name(RejectReason reason) noexcept {
    switch (reason) {
    case RejectReason::Ok: return "ok";
    case RejectReason::Misaligned: return "misaligned";
    case RejectReason::CrossesPage: return "crosses_page";
    case RejectReason::BadMagic: return "bad_magic";
    case RejectReason::BadVersion: return "bad_version";
    case RejectReason::BadKind: return "bad_kind";
    case RejectReason::BadFlags: return "bad_flags";
    case RejectReason::BadReserved: return "bad_reserved";
    case RejectReason::TextTooLong: return "text_too_long";
    case RejectReason::TextNotTerminated: return "text_not_terminated";
    case RejectReason::KernelOnlyKind: return "kernel_only_kind";
    case RejectReason::NotWritable: return "not_writable";
    case RejectReason::TextEmbeddedNul: return "text_embedded_nul";
    case RejectReason::Count_: break;
    }
    return "unknown";
}

RejectReason check_record_address(uint64_t vaddr) noexcept {
    const uint64_t in_page = vaddr % BD_PAGE_SIZE;
    if (in_page + BD_RECORD_SIZE > BD_PAGE_SIZE) return RejectReason::CrossesPage;
    if (vaddr % BD_RECORD_SIZE != 0) return RejectReason::Misaligned;
    return RejectReason::Ok;
}

RejectReason check_record(const bd_record &r, bool from_kernel) noexcept {
    if (r.magic != BD_MAGIC) return RejectReason::BadMagic;
    if (r.version != BD_ABI_VERSION) return RejectReason::BadVersion;
    if (r.kind == BD_KIND_INVALID || r.kind >= BD_KIND_MAX_) return RejectReason::BadKind;
    if (r.kind == BD_KIND_SCHED_SWITCH && !from_kernel) return RejectReason::KernelOnlyKind;
    if (r.flags != 0) return RejectReason::BadFlags;
    if (r.reserved != 0) return RejectReason::BadReserved;
    if (r.text_len > BD_TEXT_MAX) return RejectReason::TextTooLong;
    if (kind_has_text(r.kind)) {
        // text_len <= BD_TEXT_MAX (55) < sizeof(text) (56): index is in bounds.
        if (r.text[r.text_len] != '\0') return RejectReason::TextNotTerminated;
        if (std::memchr(r.text, '\0', r.text_len) != nullptr)
            return RejectReason::TextEmbeddedNul;
    }
    return RejectReason::Ok;
}

static_assert(BD_TEXT_MAX < sizeof(bd_record::text), "text[text_len] must be in bounds");
static_assert(BD_PAGE_SIZE % BD_RECORD_SIZE == 0, "aligned records never cross pages");

}  // namespace bdtrace
