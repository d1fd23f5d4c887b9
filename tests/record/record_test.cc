// SPDX-License-Identifier: MIT
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

bd_record sched_switch(const char *prev, const char *next) {
  bd_record r = valid(BD_KIND_SCHED_SWITCH);
  r.event = 0;
  r.args[0] = 10;  // prev tid
  r.args[1] = 20;  // next tid
  r.args[2] = 1;   // prev state
  r.args[3] = 10 | (uint64_t{20} << 32);
  std::strncpy(r.text, prev, BD_COMM_LEN);
  std::strncpy(r.text + BD_COMM_LEN, next, BD_COMM_LEN);
  return r;
}

TEST(CheckRecord, SchedSwitchComms) {
  // Longest comms (15 bytes + NUL), empty comms, and bytes after the NULs.
  EXPECT_EQ(check_record(sched_switch("123456789012345", "abcdefghijklmno"), true), RejectReason::Ok);
  EXPECT_EQ(check_record(sched_switch("", ""), true), RejectReason::Ok);
  auto tail = sched_switch("a", "b");
  std::memset(tail.text + 2 * BD_COMM_LEN, 'z', sizeof tail.text - 2 * BD_COMM_LEN);
  tail.text[5] = 'q';  // after prev's NUL, inside its 16 bytes
  EXPECT_EQ(check_record(tail, true), RejectReason::Ok);
}

TEST(CheckRecord, SchedSwitchCommsMustBeTerminated) {
  auto prev = sched_switch("init", "sh");
  std::memset(prev.text, 'p', BD_COMM_LEN);  // prev fills its 16 bytes
  EXPECT_EQ(check_record(prev, true), RejectReason::TextNotTerminated);
  auto next = sched_switch("init", "sh");
  std::memset(next.text + BD_COMM_LEN, 'n', BD_COMM_LEN);
  EXPECT_EQ(check_record(next, true), RejectReason::TextNotTerminated);
  // prev's NUL may not be borrowed from next's bytes.
  auto spill = sched_switch("", "x");
  std::memset(spill.text, 'p', BD_COMM_LEN);
  spill.text[BD_COMM_LEN] = '\0';
  EXPECT_EQ(check_record(spill, true), RejectReason::TextNotTerminated);
  // The kernel-only rule comes first for user-mode traps.
  EXPECT_EQ(check_record(prev, false), RejectReason::KernelOnlyKind);
}

TEST(CheckRecord, SchedSwitchTextLenMustBeZero) {
  auto r = sched_switch("a", "b");
  r.text_len = 1;
  EXPECT_EQ(check_record(r, true), RejectReason::TextTooLong);
  r.text_len = BD_TEXT_MAX;
  EXPECT_EQ(check_record(r, true), RejectReason::TextTooLong);
}

TEST(CheckRecord, CommRuleOnlyForSchedSwitch) {
  // Other kinds from the kernel keep their own rules (text ignored).
  auto m = valid(BD_KIND_MARK);
  std::memset(m.text, 'q', sizeof m.text);
  EXPECT_EQ(check_record(m, true), RejectReason::Ok);
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

// Values appear in traces: they never change.
TEST(RejectReasonName, StableValues) {
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::TextEmbeddedNul), 12u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::OutsideChannel), 13u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::NoChannel), 14u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::BadSlot), 15u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::RingBadIndex), 16u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::RingTruncated), 17u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::RingForbiddenKind), 18u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::RingDroppedDecreased), 19u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::NotReadable), 20u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::NoFreeSlot), 21u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::NestedCall), 22u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::CallBadPage), 23u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::CallBadStep), 24u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::CallNotServed), 25u);
  EXPECT_EQ(static_cast<uint32_t>(RejectReason::RingBadBlob), 26u);
  EXPECT_EQ(kRejectReasonCount, 27u);
}

TEST(RejectReasonName, StableAndUnique) {
  EXPECT_STREQ(reject_reason_name(RejectReason::Ok), "ok");
  EXPECT_STREQ(reject_reason_name(RejectReason::BadMagic), "bad_magic");
  EXPECT_STREQ(reject_reason_name(RejectReason::NotWritable), "not_writable");
  EXPECT_STREQ(reject_reason_name(RejectReason::NotReadable), "not_readable");
  EXPECT_STREQ(reject_reason_name(RejectReason::OutsideChannel), "outside_channel");
  EXPECT_STREQ(reject_reason_name(RejectReason::NoChannel), "no_channel");
  EXPECT_STREQ(reject_reason_name(RejectReason::BadSlot), "bad_slot");
  EXPECT_STREQ(reject_reason_name(RejectReason::NoFreeSlot), "no_free_slot");
  EXPECT_STREQ(reject_reason_name(RejectReason::NestedCall), "nested_call");
  EXPECT_STREQ(reject_reason_name(RejectReason::CallBadPage), "call_bad_page");
  EXPECT_STREQ(reject_reason_name(RejectReason::CallBadStep), "call_bad_step");
  EXPECT_STREQ(reject_reason_name(RejectReason::CallNotServed), "call_not_served");
  EXPECT_STREQ(reject_reason_name(RejectReason::RingBadBlob), "ring_bad_blob");
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
