// check_record / check_record_address: every accepted kind and every reason.
#include <bdtrace/record.h>

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

namespace bdtrace {
namespace {

bd_record valid(uint16_t kind, const char *text = nullptr) {
    bd_record r;
    std::memset(&r, 0, sizeof r);
    r.magic = BD_MAGIC;
    r.version = BD_ABI_VERSION;
    r.kind = kind;
    r.event = 42;
    r.args[0] = 1;
    r.seq = 1;
    if (text != nullptr) {
        r.text_len = static_cast<uint16_t>(std::strlen(text));
        std::memcpy(r.text, text, r.text_len + 1);
    }
    return r;
}

TEST(CheckRecord, AcceptsEveryUserKind) {
    EXPECT_EQ(check_record(valid(BD_KIND_MARK), false), RejectReason::Ok);
    EXPECT_EQ(check_record(valid(BD_KIND_MARK_TEXT, "hello"), false), RejectReason::Ok);
    EXPECT_EQ(check_record(valid(BD_KIND_REGION_BEGIN), false), RejectReason::Ok);
    EXPECT_EQ(check_record(valid(BD_KIND_REGION_END), false), RejectReason::Ok);
    EXPECT_EQ(check_record(valid(BD_KIND_EVENT_NAME, "parse"), false), RejectReason::Ok);
    EXPECT_EQ(check_record(valid(BD_KIND_HELLO), false), RejectReason::Ok);
}

TEST(CheckRecord, SchedSwitchOnlyFromKernel) {
    EXPECT_EQ(check_record(valid(BD_KIND_SCHED_SWITCH), true), RejectReason::Ok);
    EXPECT_EQ(check_record(valid(BD_KIND_SCHED_SWITCH), false), RejectReason::KernelOnlyKind);
}

TEST(CheckRecord, BadMagic) {
    auto r = valid(BD_KIND_MARK);
    r.magic = 0x72746462u;  // byte-swapped
    EXPECT_EQ(check_record(r, false), RejectReason::BadMagic);
    r.magic = 0;
    EXPECT_EQ(check_record(r, true), RejectReason::BadMagic);
}

TEST(CheckRecord, BadVersion) {
    auto r = valid(BD_KIND_MARK);
    r.version = 0;
    EXPECT_EQ(check_record(r, false), RejectReason::BadVersion);
    r.version = BD_ABI_VERSION + 1;
    EXPECT_EQ(check_record(r, false), RejectReason::BadVersion);
}

TEST(CheckRecord, BadKind) {
    EXPECT_EQ(check_record(valid(BD_KIND_INVALID), false), RejectReason::BadKind);
    EXPECT_EQ(check_record(valid(BD_KIND_MAX_), false), RejectReason::BadKind);
    EXPECT_EQ(check_record(valid(BD_KIND_MAX_), true), RejectReason::BadKind);
    EXPECT_EQ(check_record(valid(0xffff), false), RejectReason::BadKind);
}

TEST(CheckRecord, BadFlags) {
    auto r = valid(BD_KIND_MARK);
    r.flags = 1;
    EXPECT_EQ(check_record(r, false), RejectReason::BadFlags);
}

TEST(CheckRecord, BadReserved) {
    auto r = valid(BD_KIND_REGION_BEGIN);
    r.reserved = 0x80000000u;
    EXPECT_EQ(check_record(r, false), RejectReason::BadReserved);
}

TEST(CheckRecord, TextMaxLengthAccepted) {
    const std::string s(BD_TEXT_MAX, 'x');
    EXPECT_EQ(check_record(valid(BD_KIND_MARK_TEXT, s.c_str()), false), RejectReason::Ok);
    EXPECT_EQ(check_record(valid(BD_KIND_EVENT_NAME, ""), false), RejectReason::Ok);
}

TEST(CheckRecord, TextTooLong) {
    auto r = valid(BD_KIND_MARK_TEXT, "abc");
    r.text_len = BD_TEXT_MAX + 1;
    EXPECT_EQ(check_record(r, false), RejectReason::TextTooLong);
    r.text_len = 0xffff;
    EXPECT_EQ(check_record(r, false), RejectReason::TextTooLong);
    // Also for kinds without text: the length is checked, the bytes are not.
    auto m = valid(BD_KIND_MARK);
    m.text_len = 56;
    EXPECT_EQ(check_record(m, false), RejectReason::TextTooLong);
}

TEST(CheckRecord, TextNotTerminated) {
    auto r = valid(BD_KIND_MARK_TEXT, "abc");
    r.text[3] = 'd';
    EXPECT_EQ(check_record(r, false), RejectReason::TextNotTerminated);
    auto n = valid(BD_KIND_EVENT_NAME);
    std::memset(n.text, 'z', sizeof n.text);
    n.text_len = BD_TEXT_MAX;
    EXPECT_EQ(check_record(n, false), RejectReason::TextNotTerminated);
}

TEST(CheckRecord, TextEmbeddedNul) {
    auto r = valid(BD_KIND_EVENT_NAME, "abcdef");
    r.text[2] = '\0';
    EXPECT_EQ(check_record(r, false), RejectReason::TextEmbeddedNul);
    auto z = valid(BD_KIND_MARK_TEXT);
    z.text_len = 4;  // all-zero text: NUL at 0 and at 4
    EXPECT_EQ(check_record(z, false), RejectReason::TextEmbeddedNul);
}

TEST(CheckRecord, TextIgnoredForKindsWithoutText) {
    auto r = valid(BD_KIND_MARK);
    std::memset(r.text, 'q', sizeof r.text);  // no NUL anywhere
    r.text_len = 3;
    EXPECT_EQ(check_record(r, false), RejectReason::Ok);
    auto b = valid(BD_KIND_REGION_END);
    std::memset(b.text, 0, sizeof b.text);
    b.text_len = 10;
    EXPECT_EQ(check_record(b, false), RejectReason::Ok);
}

TEST(CheckRecord, ReplyAndPayloadNotChecked) {
    auto r = valid(BD_KIND_MARK);
    r.reply = BD_REPLY_REJECTED;
    r.pid = 0xffffffffu;
    r.tid = 0;
    r.seq = 0;
    EXPECT_EQ(check_record(r, false), RejectReason::Ok);
}

TEST(CheckRecord, FirstFailureWins) {
    auto r = valid(BD_KIND_MARK);
    r.magic = 0;
    r.version = 9;
    r.flags = 1;
    EXPECT_EQ(check_record(r, false), RejectReason::BadMagic);
    r.magic = BD_MAGIC;
    EXPECT_EQ(check_record(r, false), RejectReason::BadVersion);
}

TEST(CheckRecordAddress, Aligned) {
    EXPECT_EQ(check_record_address(0), RejectReason::Ok);
    EXPECT_EQ(check_record_address(0x7ffd0000), RejectReason::Ok);
    EXPECT_EQ(check_record_address(0x1080), RejectReason::Ok);
    // The last record slot of a page ends exactly at the page end.
    EXPECT_EQ(check_record_address(0x2000 - BD_RECORD_SIZE), RejectReason::Ok);
}

TEST(CheckRecordAddress, Misaligned) {
    EXPECT_EQ(check_record_address(8), RejectReason::Misaligned);
    EXPECT_EQ(check_record_address(0x1040), RejectReason::Misaligned);
    EXPECT_EQ(check_record_address(0x1001), RejectReason::Misaligned);
}

TEST(CheckRecordAddress, CrossesPage) {
    EXPECT_EQ(check_record_address(0x2000 - 64), RejectReason::CrossesPage);
    EXPECT_EQ(check_record_address(0x2000 - 1), RejectReason::CrossesPage);
    EXPECT_EQ(check_record_address(0x2000 - BD_RECORD_SIZE + 8), RejectReason::CrossesPage);
    EXPECT_EQ(check_record_address(UINT64_MAX - 7), RejectReason::CrossesPage);
}

TEST(RejectReasonName, StableAndUnique) {
    EXPECT_STREQ(reject_reason_name(RejectReason::Ok), "ok");
    EXPECT_STREQ(reject_reason_name(RejectReason::BadMagic), "bad_magic");
    EXPECT_STREQ(reject_reason_name(RejectReason::NotWritable), "not_writable");
    EXPECT_STREQ(reject_reason_name(RejectReason::Count_), "unknown");
    std::set<std::string> names;
    for (std::size_t i = 0; i < kRejectReasonCount; ++i) {
        const std::string n = reject_reason_name(static_cast<RejectReason>(i));
        EXPECT_NE(n, "unknown") << i;
        for (char c : n) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << n;
        names.insert(n);
    }
    EXPECT_EQ(names.size(), kRejectReasonCount);
}

}  // namespace
}  // namespace bdtrace
