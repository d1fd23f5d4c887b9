// The one host-side validator of struct bd_record (see <bd/abi.h>).
//
// Every backend (the linux-user plugin, the full-system plugin) decides
// whether to trust a guest record with these functions and nothing else.
// They never read outside the 128-byte record they are given and never
// allocate, so they are safe on the plugin's hot path.
//
// Rules, checked in this order (the first failure is the reason):
//   address: the record must not cross a 4 KiB page (crosses_page), and must
//            be aligned to BD_RECORD_SIZE (misaligned). Checked BEFORE any
//            byte of the record is read.
//   magic == BD_MAGIC, version == BD_ABI_VERSION,
//   kind in 1..7 (bad_kind); SCHED_SWITCH only from a guest kernel
//            (kernel_only_kind; a user-mode backend always passes
//            from_kernel = false),
//   flags == 0, reserved == 0,
//   text_len <= BD_TEXT_MAX for every kind (text_too_long),
//   text kinds (MARK_TEXT, EVENT_NAME) only: text[text_len] == '\0'
//            (text_not_terminated) and no NUL in text[0, text_len)
//            (text_embedded_nul: the length the guest claims must be the
//            length consumers see). An empty text (text_len == 0) is valid.
//   Other kinds: the text bytes are ignored (never read).
//   reply, pid, tid, seq, event and args are not checked: reply is the
//   host's to write, the rest is payload.
#ifndef BDTRACE_RECORD_H
#define BDTRACE_RECORD_H

#include <bd/abi.h>

#include <cstddef>
#include <cstdint>

namespace bdtrace {

// Values are stable (they appear in traces as bdtrace:rejected.reason);
// append new reasons before Count_, never renumber.
enum class RejectReason : uint32_t {
    Ok = 0,
    Misaligned = 1,
    CrossesPage = 2,
    BadMagic = 3,
    BadVersion = 4,
    BadKind = 5,
    BadFlags = 6,
    BadReserved = 7,
    TextTooLong = 8,
    TextNotTerminated = 9,
    KernelOnlyKind = 10,
    NotWritable = 11,       // the record's page cannot take the reply
    TextEmbeddedNul = 12,
    Count_                  // number of reasons, not a reason
};

inline constexpr std::size_t kRejectReasonCount =
    static_cast<std::size_t>(RejectReason::Count_);

// Stable snake_case name ("ok", "bad_magic", ...); "unknown" out of range.
const char *reject_reason_name(RejectReason reason) noexcept;

// Address rules only: a record at vaddr must be BD_RECORD_SIZE-aligned and
// must not cross a BD_PAGE_SIZE page. Crossing is reported first because it
// is the one that would make the host read an unrelated page.
RejectReason check_record_address(uint64_t vaddr) noexcept;

// Content rules (see the top of this file). `r` must be a private copy of
// the guest's record: validating guest memory in place would let another
// guest thread change it between the check and the use.
RejectReason check_record(const bd_record &r, bool from_kernel) noexcept;

// True for kinds whose text field is meaningful.
constexpr bool kind_has_text(uint32_t kind) noexcept {
    return kind == BD_KIND_MARK_TEXT || kind == BD_KIND_EVENT_NAME;
}

}  // namespace bdtrace

#endif  // BDTRACE_RECORD_H
