// SPDX-License-Identifier: MIT
// Channel: offset classification, handshakes, slots, hostile guests, bounds.
#include <bdtrace/device/channel.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace bdtrace::device {
namespace {

constexpr uint64_t kBase = 0xfe800000;  // a 1 MiB-aligned BAR address
constexpr std::size_t kGuard = 2 * BD_PAGE_SIZE;
constexpr unsigned char kGuardByte = 0x5a;

// A channel-sized buffer with guard pages on both sides, to prove that
// nothing is read or written outside the mapping.
struct Buffer {
  alignas(BD_PAGE_SIZE) unsigned char bytes[kGuard + BD_CHANNEL_SIZE + kGuard];
  unsigned char *channel() { return bytes + kGuard; }
  bool guards_intact() const {
    for (std::size_t i = 0; i < kGuard; ++i)
      if (bytes[i] != kGuardByte || bytes[kGuard + BD_CHANNEL_SIZE + i] != kGuardByte) return false;
    return true;
  }
};

bd_record valid(uint16_t kind) {
  bd_record r;
  std::memset(&r, 0, sizeof r);
  r.magic = BD_MAGIC;
  r.version = BD_ABI_VERSION;
  r.kind = kind;
  r.event = 7;
  r.args[0] = 11;
  r.pid = 100;
  r.tid = 101;
  r.seq = 1;
  return r;
}

bd_record sched_switch(const char *prev, const char *next) {
  bd_record r = valid(BD_KIND_SCHED_SWITCH);
  r.event = 0;
  r.args[0] = 101;                          // prev tid
  r.args[1] = 202;                          // next tid
  r.args[2] = 1;                            // prev state
  r.args[3] = 100 | (uint64_t{200} << 32);  // tgids
  std::strncpy(r.text, prev, BD_COMM_LEN - 1);
  std::strncpy(r.text + BD_COMM_LEN, next, BD_COMM_LEN - 1);
  return r;
}

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    buf_ = std::make_unique<Buffer>();
    std::memset(buf_->bytes, kGuardByte, sizeof buf_->bytes);
    ch_.attach(buf_->channel());
    ch_.init_header(2);
  }
  void TearDown() override { EXPECT_TRUE(buf_->guards_intact()); }

  bd_channel_header &header() { return *reinterpret_cast<bd_channel_header *>(buf_->channel()); }
  bd_record &slot_at(uint64_t off) { return *reinterpret_cast<bd_record *>(buf_->channel() + off); }
  static uint64_t user_slot(unsigned i) { return BD_CHANNEL_USER_OFFSET + uint64_t{i} * BD_RECORD_SIZE; }
  static uint64_t kernel_slot(unsigned i) { return BD_CHANNEL_KERNEL_OFFSET + uint64_t{i} * BD_RECORD_SIZE; }

  // The guest's side of the handshake: nonce, then a trap at `phys`.
  Verdict handshake(uint64_t phys, uint64_t nonce = 0x1234abcd) {
    header().handshake_nonce = nonce;
    return ch_.on_trap(phys, true, nullptr);
  }
  Verdict put_and_trap(uint64_t off, const bd_record &r, bool kernel, bd_record *copy = nullptr) {
    slot_at(off) = r;
    return ch_.on_trap(kBase + off, kernel, copy);
  }

  std::unique_ptr<Buffer> buf_;
  Channel ch_;
};

// --- classification --------------------------------------------------------

TEST(ClassifyOffset, Areas) {
  EXPECT_EQ(classify_offset(0), Area::Header);
  EXPECT_EQ(classify_offset(BD_RECORD_SIZE), Area::Header);
  EXPECT_EQ(classify_offset(BD_CHANNEL_KERNEL_OFFSET - 1), Area::Header);
  EXPECT_EQ(classify_offset(BD_CHANNEL_KERNEL_OFFSET), Area::KernelSlot);
  EXPECT_EQ(classify_offset(kKernelSlotsEnd - BD_RECORD_SIZE), Area::KernelSlot);
  EXPECT_EQ(classify_offset(BD_CHANNEL_KERNEL_OFFSET + 8), Area::Misaligned);
  EXPECT_EQ(classify_offset(BD_CHANNEL_KERNEL_OFFSET + 64), Area::Misaligned);
  EXPECT_EQ(classify_offset(BD_CHANNEL_CLAIMS_OFFSET), Area::Claims);
  EXPECT_EQ(classify_offset(BD_CHANNEL_USER_OFFSET - BD_RECORD_SIZE), Area::Claims);
  EXPECT_EQ(classify_offset(BD_CHANNEL_USER_OFFSET), Area::UserSlot);
  EXPECT_EQ(classify_offset(kUserSlotsEnd - BD_RECORD_SIZE), Area::UserSlot);
  EXPECT_EQ(classify_offset(BD_CHANNEL_USER_OFFSET + 1), Area::Misaligned);
  EXPECT_EQ(classify_offset(kUserSlotsEnd), Area::Unused);
  EXPECT_EQ(classify_offset(BD_CHANNEL_DATA_OFFSET - 1), Area::Unused);
  EXPECT_EQ(classify_offset(BD_CHANNEL_DATA_OFFSET), Area::DataPage);
  EXPECT_EQ(classify_offset(BD_CHANNEL_DATA_OFFSET + BD_RECORD_SIZE), Area::Misaligned);
  EXPECT_EQ(classify_offset(kDataPagesEnd - BD_PAGE_SIZE), Area::DataPage);
  EXPECT_EQ(classify_offset(BD_CHANNEL_SIZE - BD_RECORD_SIZE),
            kDataPagesEnd == BD_CHANNEL_SIZE ? Area::Misaligned : Area::Unused);
  EXPECT_EQ(classify_offset(BD_CHANNEL_SIZE), Area::Outside);
  EXPECT_EQ(classify_offset(~uint64_t{0}), Area::Outside);
}

TEST(ClassifyOffset, HotPathAgreesEverywhere) {
  for (uint64_t off = 0; off < BD_CHANNEL_SIZE + 4 * BD_PAGE_SIZE; ++off) {
    const Area a = classify_offset(off);
    const bool slot = a == Area::KernelSlot || a == Area::UserSlot;
    ASSERT_EQ(is_slot_offset(off), slot) << off;
    ASSERT_EQ(is_data_page_offset(off), a == Area::DataPage) << off;
    if (a == Area::DataPage) {
      ASSERT_LE(off + BD_PAGE_SIZE, BD_CHANNEL_SIZE) << off;
    }
    if (slot) {
      ASSERT_LE(off + BD_RECORD_SIZE, BD_CHANNEL_SIZE) << off;
    }
  }
  for (uint64_t off : {~uint64_t{0} - 127, ~uint64_t{0} - BD_CHANNEL_USER_OFFSET + 1, uint64_t{1} << 63})
    EXPECT_FALSE(is_slot_offset(off)) << off;
}

// --- header -----------------------------------------------------------------

TEST_F(ChannelTest, HeaderWritten) {
  const bd_channel_header &h = header();
  EXPECT_EQ(h.magic, BD_CHANNEL_MAGIC);
  EXPECT_EQ(h.version, BD_CHANNEL_VERSION);
  EXPECT_EQ(h.record_size, BD_RECORD_SIZE);
  EXPECT_EQ(h.channel_size, BD_CHANNEL_SIZE);
  EXPECT_EQ(h.nr_vcpus, 2u);
  EXPECT_EQ(h.kernel_offset, BD_CHANNEL_KERNEL_OFFSET);
  EXPECT_EQ(h.kernel_slots, BD_CHANNEL_KERNEL_SLOTS);
  EXPECT_EQ(h.claims_offset, BD_CHANNEL_CLAIMS_OFFSET);
  EXPECT_EQ(h.user_offset, BD_CHANNEL_USER_OFFSET);
  EXPECT_EQ(h.user_slots, BD_CHANNEL_USER_SLOTS);
  EXPECT_EQ(h.generation, 0u);
  EXPECT_EQ(h.handshake_nonce, 0u);
  EXPECT_EQ(h.handshake_ack, 0u);
  for (const auto &vcpu : h.enable)
    for (uint64_t w : vcpu) EXPECT_EQ(w, ~uint64_t{0});
  // Everything after the header is zero (stale claims and records gone).
  const unsigned char *p = buf_->channel();
  for (std::size_t i = sizeof h; i < BD_CHANNEL_SIZE; ++i) ASSERT_EQ(p[i], 0) << i;
  EXPECT_EQ(ch_.base(), Channel::kNoBase);
}

// --- handshake ----------------------------------------------------------------

TEST_F(ChannelTest, NoChannelBeforeHandshake) {
  const Verdict v = ch_.on_trap(kBase + user_slot(0), false, nullptr);
  EXPECT_EQ(v.outcome, Outcome::Rejected);
  EXPECT_EQ(v.reason, RejectReason::NoChannel);
  // An aligned trap without a nonce is no handshake either.
  EXPECT_EQ(ch_.on_trap(kBase, true, nullptr).reason, RejectReason::NoChannel);
  EXPECT_EQ(ch_.base(), Channel::kNoBase);
  EXPECT_EQ(slot_at(user_slot(0)).reply, 0);  // nothing written
}

TEST_F(ChannelTest, HandshakeLearnsBaseAndAcks) {
  const Verdict v = handshake(kBase, 0x55aa);
  EXPECT_EQ(v.outcome, Outcome::Handshake);
  EXPECT_EQ(v.reason, RejectReason::Ok);
  EXPECT_EQ(ch_.base(), kBase);
  EXPECT_EQ(header().handshake_ack, 0x55aau);
  EXPECT_EQ(header().handshake_nonce, 0u);
  EXPECT_EQ(ch_.handshakes(), 1u);
}

TEST_F(ChannelTest, HandshakeNeedsChannelAlignment) {
  for (uint64_t phys : {kBase + BD_PAGE_SIZE, kBase + 8, kBase - BD_PAGE_SIZE, kBase + BD_CHANNEL_SIZE / 2}) {
    const Verdict v = handshake(phys);
    EXPECT_EQ(v.outcome, Outcome::Rejected) << phys;
    EXPECT_EQ(v.reason, RejectReason::NoChannel) << phys;
    EXPECT_EQ(header().handshake_nonce, 0x1234abcdu) << "nonce left for a real handshake";
  }
  EXPECT_EQ(ch_.base(), Channel::kNoBase);
  EXPECT_EQ(header().handshake_ack, 0u);
}

TEST_F(ChannelTest, AddressZeroIsAValidBase) {
  EXPECT_EQ(handshake(0).outcome, Outcome::Handshake);
  EXPECT_EQ(ch_.base(), 0u);
  slot_at(user_slot(3)) = valid(BD_KIND_MARK);
  EXPECT_EQ(ch_.on_trap(user_slot(3), false, nullptr).outcome, Outcome::Accepted);
}

TEST_F(ChannelTest, RehandshakeSameAndMovedBar) {
  ASSERT_EQ(handshake(kBase, 1).outcome, Outcome::Handshake);
  // Same base again (offset 0 inside the known channel): accepted.
  EXPECT_EQ(handshake(kBase, 2).outcome, Outcome::Handshake);
  EXPECT_EQ(header().handshake_ack, 2u);
  // The guest moved the BAR: the next handshake re-learns it.
  const uint64_t moved = kBase + 16 * uint64_t{BD_CHANNEL_SIZE};
  EXPECT_EQ(handshake(moved, 3).outcome, Outcome::Handshake);
  EXPECT_EQ(ch_.base(), moved);
  EXPECT_EQ(ch_.handshakes(), 3u);
  // The old place is now outside the channel.
  slot_at(user_slot(0)) = valid(BD_KIND_MARK);
  EXPECT_EQ(ch_.on_trap(kBase + user_slot(0), false, nullptr).reason, RejectReason::OutsideChannel);
  EXPECT_EQ(ch_.on_trap(moved + user_slot(0), false, nullptr).outcome, Outcome::Accepted);
}

TEST_F(ChannelTest, OneNonceIsTakenOnce) {
  ASSERT_EQ(handshake(kBase, 9).outcome, Outcome::Handshake);
  // A second trap at offset 0 without a fresh nonce is a header access.
  const Verdict v = ch_.on_trap(kBase, true, nullptr);
  EXPECT_EQ(v.outcome, Outcome::Rejected);
  EXPECT_EQ(v.reason, RejectReason::BadSlot);
  EXPECT_EQ(ch_.handshakes(), 1u);
}

// --- slots ----------------------------------------------------------------------

TEST_F(ChannelTest, AcceptsUserAndKernelSlots) {
  ASSERT_EQ(handshake(kBase).outcome, Outcome::Handshake);
  for (uint64_t off : {user_slot(0), user_slot(1), user_slot(BD_CHANNEL_USER_SLOTS - 1), kernel_slot(0),
                       kernel_slot(BD_CHANNEL_KERNEL_SLOTS - 1)}) {
    bd_record copy;
    std::memset(&copy, 0xee, sizeof copy);
    const Verdict v = put_and_trap(off, valid(BD_KIND_MARK), off < BD_CHANNEL_CLAIMS_OFFSET, &copy);
    EXPECT_EQ(v.outcome, Outcome::Accepted) << off;
    EXPECT_EQ(v.tid, 101u);
    EXPECT_EQ(slot_at(off).reply, BD_REPLY_OK) << off;
    EXPECT_EQ(copy.magic, BD_MAGIC);
    EXPECT_EQ(copy.pid, 100u);
    EXPECT_EQ(copy.args[0], 11u);
  }
}

TEST_F(ChannelTest, ValidatesInPlaceWhenNotCopying) {
  ASSERT_EQ(handshake(kBase).outcome, Outcome::Handshake);
  EXPECT_EQ(put_and_trap(user_slot(5), valid(BD_KIND_HELLO), false).outcome, Outcome::Accepted);
  EXPECT_EQ(slot_at(user_slot(5)).reply, BD_REPLY_OK);
  bd_record bad = valid(BD_KIND_MARK);
  bad.flags = 4;
  const Verdict v = put_and_trap(user_slot(5), bad, false);
  EXPECT_EQ(v.reason, RejectReason::BadFlags);
  EXPECT_EQ(v.tid, 101u);
  EXPECT_EQ(slot_at(user_slot(5)).reply, BD_REPLY_REJECTED);
}

TEST_F(ChannelTest, HeaderClaimsMisalignedAndUnusedAreBadSlots) {
  ASSERT_EQ(handshake(kBase).outcome, Outcome::Handshake);
  // Make every offset look like a valid record, so only the place matters.
  const uint64_t offs[] = {8,
                           BD_RECORD_SIZE,
                           offsetof(bd_channel_header, handshake_nonce),
                           BD_CHANNEL_KERNEL_OFFSET - BD_RECORD_SIZE,
                           BD_CHANNEL_KERNEL_OFFSET + 8,
                           kernel_slot(1) + 64,
                           BD_CHANNEL_CLAIMS_OFFSET,
                           BD_CHANNEL_CLAIMS_OFFSET + 8 * BD_RECORD_SIZE,
                           BD_CHANNEL_USER_OFFSET - BD_RECORD_SIZE,
                           user_slot(2) + 4,
                           kUserSlotsEnd,
                           BD_CHANNEL_DATA_OFFSET - BD_RECORD_SIZE};
  for (uint64_t off : offs) {
    if (off >= BD_CHANNEL_KERNEL_OFFSET) {
      const uint64_t at = off & ~uint64_t{BD_RECORD_SIZE - 1};
      if (at + BD_RECORD_SIZE <= BD_CHANNEL_SIZE) slot_at(at) = valid(BD_KIND_MARK);
    }
    const Verdict v = ch_.on_trap(kBase + off, false, nullptr);
    EXPECT_EQ(v.outcome, Outcome::Rejected) << off;
    EXPECT_EQ(v.reason, RejectReason::BadSlot) << off;
  }
  EXPECT_EQ(header().magic, BD_CHANNEL_MAGIC);
}

// LOST RECORDS: a guest that could not send a record says so with a trap
// at a fixed offset; nothing there is read or written, and only those two
// exact offsets count as lost (their neighbours are bad slots).
TEST_F(ChannelTest, LostRecordTrapsAreCountedByReasonAndTouchNothing) {
  ASSERT_EQ(handshake(kBase).outcome, Outcome::Handshake);
  const std::vector<unsigned char> before(buf_->channel(), buf_->channel() + BD_CHANNEL_SIZE);
  for (bool kernel : {false, true}) {
    bd_record copy;
    Verdict v = ch_.on_trap(kBase + BD_CHANNEL_LOST_NO_SLOT_OFFSET, kernel, &copy);
    EXPECT_EQ(v.outcome, Outcome::Rejected);
    EXPECT_EQ(v.reason, RejectReason::NoFreeSlot);
    v = ch_.on_trap(kBase + BD_CHANNEL_LOST_NESTED_OFFSET, kernel, nullptr);
    EXPECT_EQ(v.outcome, Outcome::Rejected);
    EXPECT_EQ(v.reason, RejectReason::NestedCall);
  }
  for (uint64_t off : {BD_CHANNEL_LOST_NO_SLOT_OFFSET - 8, BD_CHANNEL_LOST_NO_SLOT_OFFSET + 8,
                       BD_CHANNEL_LOST_NESTED_OFFSET - 8, BD_CHANNEL_LOST_NESTED_OFFSET + 1})
    EXPECT_EQ(ch_.on_trap(kBase + off, false, nullptr).reason, RejectReason::BadSlot) << off;
  EXPECT_TRUE(std::equal(before.begin(), before.end(), buf_->channel()));
}

TEST_F(ChannelTest, BeyondAndBelowTheChannel) {
  ASSERT_EQ(handshake(kBase).outcome, Outcome::Handshake);
  for (uint64_t phys :
       {kBase + BD_CHANNEL_SIZE, kBase + BD_CHANNEL_SIZE + BD_CHANNEL_USER_OFFSET, kBase - BD_RECORD_SIZE,
        kBase - BD_CHANNEL_SIZE + BD_CHANNEL_USER_OFFSET, uint64_t{0}, ~uint64_t{0}, ~uint64_t{0} - 127}) {
    const Verdict v = ch_.on_trap(phys, false, nullptr);
    EXPECT_EQ(v.outcome, Outcome::Rejected) << phys;
    EXPECT_EQ(v.reason, RejectReason::OutsideChannel) << phys;
  }
}

TEST_F(ChannelTest, ForgedSchedSwitchFromUserRejected) {
  ASSERT_EQ(handshake(kBase).outcome, Outcome::Handshake);
  bd_record copy;
  const Verdict v = put_and_trap(user_slot(0), sched_switch("bash", "sleep"), false, &copy);
  EXPECT_EQ(v.outcome, Outcome::Rejected);
  EXPECT_EQ(v.reason, RejectReason::KernelOnlyKind);
  EXPECT_EQ(slot_at(user_slot(0)).reply, BD_REPLY_REJECTED);
  // Also in a kernel slot: what counts is where the instruction runs.
  EXPECT_EQ(put_and_trap(kernel_slot(0), sched_switch("bash", "sleep"), false).reason,
            RejectReason::KernelOnlyKind);
}

// Calls travel through data pages: a CALL record in a slot is rejected and
// counted, with or without a copy.
TEST_F(ChannelTest, CallsAreNotServedFromSlots) {
  ASSERT_EQ(handshake(kBase).outcome, Outcome::Handshake);
  bd_record copy;
  EXPECT_EQ(put_and_trap(user_slot(1), valid(BD_KIND_CALL), false, &copy).reason,
            RejectReason::CallNotServed);
  EXPECT_EQ(put_and_trap(user_slot(1), valid(BD_KIND_CALL), false).reason, RejectReason::CallNotServed);
  EXPECT_EQ(slot_at(user_slot(1)).reply, BD_REPLY_REJECTED);
}

// A data page's first byte from user space is a call step, left to the
// backend: take_call copies and validates its record. Anything else in the
// data pages is rejected without reading.
TEST_F(ChannelTest, DataPagesCarryCallSteps) {
  ASSERT_EQ(handshake(kBase).outcome, Outcome::Handshake);
  const uint64_t page3 = BD_CHANNEL_DATA_OFFSET + 3 * uint64_t{BD_PAGE_SIZE};
  const Verdict v = put_and_trap(page3, valid(BD_KIND_CALL), false);
  ASSERT_EQ(v.outcome, Outcome::CallStep);
  EXPECT_EQ(v.offset, page3);
  bd_record copy;
  EXPECT_EQ(ch_.take_call(v.offset, copy), RejectReason::Ok);
  EXPECT_EQ(copy.kind, BD_KIND_CALL);
  EXPECT_EQ(ch_.data_page(v.offset), buf_->channel() + page3);
  ch_.set_reply(v.offset, BD_REPLY_OK);
  EXPECT_EQ(slot_at(page3).reply, BD_REPLY_OK);
  // Not a CALL, or not a valid record: rejected, the reply says so.
  EXPECT_EQ(put_and_trap(page3, valid(BD_KIND_MARK), false).outcome, Outcome::CallStep);
  EXPECT_EQ(ch_.take_call(v.offset, copy), RejectReason::BadSlot);
  EXPECT_EQ(slot_at(page3).reply, BD_REPLY_REJECTED);
  bd_record bad = valid(BD_KIND_CALL);
  bad.magic = 0;
  EXPECT_EQ(put_and_trap(page3, bad, false).outcome, Outcome::CallStep);
  EXPECT_NE(ch_.take_call(v.offset, copy), RejectReason::Ok);
  // Inside a page, or from the guest kernel: rejected at the trap.
  EXPECT_EQ(put_and_trap(page3 + BD_RECORD_SIZE, valid(BD_KIND_CALL), false).reason,
            RejectReason::CallBadPage);
  EXPECT_EQ(put_and_trap(page3, valid(BD_KIND_CALL), true).reason, RejectReason::CallNotServed);
  EXPECT_EQ(ch_.on_trap(kBase + BD_CHANNEL_SIZE - 1, false, nullptr).reason, RejectReason::CallBadPage);
  // take_call and data_page refuse what is not a data page.
  EXPECT_EQ(ch_.take_call(static_cast<uint32_t>(user_slot(0)), copy), RejectReason::CallBadPage);
  EXPECT_EQ(ch_.data_page(static_cast<uint32_t>(page3 + 8)), nullptr);
  EXPECT_EQ(header().data_offset, BD_CHANNEL_DATA_OFFSET);
}

TEST_F(ChannelTest, SchedSwitchFromKernel) {
  ASSERT_EQ(handshake(kBase).outcome, Outcome::Handshake);
  bd_record copy;
  const Verdict v = put_and_trap(kernel_slot(1), sched_switch("swapper/1", "kworker/1:0"), true, &copy);
  EXPECT_EQ(v.outcome, Outcome::Accepted);
  EXPECT_STREQ(copy.text, "swapper/1");
  EXPECT_STREQ(copy.text + BD_COMM_LEN, "kworker/1:0");

  bd_record unterminated = sched_switch("a", "b");
  std::memset(unterminated.text + BD_COMM_LEN, 'x', BD_COMM_LEN);
  EXPECT_EQ(put_and_trap(kernel_slot(1), unterminated, true).reason, RejectReason::TextNotTerminated);
  EXPECT_EQ(slot_at(kernel_slot(1)).reply, BD_REPLY_REJECTED);
}

TEST_F(ChannelTest, GarbageRecordRejectedAndOnlyReplyWritten) {
  ASSERT_EQ(handshake(kBase).outcome, Outcome::Handshake);
  std::mt19937_64 rng(42);
  unsigned char garbage[BD_RECORD_SIZE];
  for (auto &b : garbage) b = static_cast<unsigned char>(rng());
  std::memcpy(&slot_at(user_slot(7)), garbage, sizeof garbage);
  const Verdict v = ch_.on_trap(kBase + user_slot(7), false, nullptr);
  EXPECT_EQ(v.outcome, Outcome::Rejected);
  EXPECT_EQ(v.reason, RejectReason::BadMagic);
  unsigned char after[BD_RECORD_SIZE];
  std::memcpy(after, &slot_at(user_slot(7)), sizeof after);
  const std::size_t reply = offsetof(bd_record, reply);
  EXPECT_EQ(std::memcmp(after, garbage, reply), 0);
  EXPECT_EQ(std::memcmp(after + reply + 4, garbage + reply + 4, sizeof after - reply - 4), 0);
  EXPECT_EQ(slot_at(user_slot(7)).reply, BD_REPLY_REJECTED);
}

TEST_F(ChannelTest, ScribbledHeaderChangesNothing) {
  ASSERT_EQ(handshake(kBase).outcome, Outcome::Handshake);
  // The guest rewrites the layout fields to point "slots" at the header.
  bd_channel_header &h = header();
  h.magic = 0;
  h.version = 99;
  h.record_size = 8;
  h.channel_size = 0xffffffffu;
  h.kernel_offset = 0;
  h.kernel_slots = 0xffffffffu;
  h.user_offset = 0;
  h.user_slots = 0xffffffffu;
  EXPECT_EQ(ch_.on_trap(kBase + 0x10, false, nullptr).reason, RejectReason::BadSlot);
  EXPECT_EQ(put_and_trap(user_slot(0), valid(BD_KIND_MARK), false).outcome, Outcome::Accepted);
  EXPECT_EQ(ch_.on_trap(kBase + BD_CHANNEL_SIZE, false, nullptr).reason, RejectReason::OutsideChannel);
}

// Every address around the channel, with garbage everywhere: nothing outside
// the mapping changes (the guard pages are checked in TearDown) and only
// slot replies inside it do.
TEST_F(ChannelTest, SweepStaysInBounds) {
  std::mt19937_64 rng(7);
  unsigned char *p = buf_->channel();
  for (std::size_t i = sizeof(bd_channel_header); i < BD_CHANNEL_SIZE; ++i)
    p[i] = static_cast<unsigned char>(rng());
  ASSERT_EQ(handshake(kBase).outcome, Outcome::Handshake);
  const uint64_t end = kBase + BD_CHANNEL_SIZE + 2 * BD_PAGE_SIZE;
  for (uint64_t phys = kBase - 2 * BD_PAGE_SIZE; phys < end; phys += 4) {
    const bool kernel = (phys / 4) % 2 == 0;
    bd_record copy;
    const Verdict v = ch_.on_trap(phys, kernel, (phys / 8) % 2 ? &copy : nullptr);
    const uint64_t off = phys - kBase;
    if (v.outcome != Outcome::Rejected) {
      ASSERT_TRUE(off == 0 || is_slot_offset(off) || (is_data_page_offset(off) && !kernel)) << phys;
    } else if (phys < kBase || off >= BD_CHANNEL_SIZE) {
      ASSERT_EQ(v.reason, RejectReason::OutsideChannel) << phys;
    } else if (off == BD_CHANNEL_LOST_NO_SLOT_OFFSET) {
      ASSERT_EQ(v.reason, RejectReason::NoFreeSlot) << phys;
    } else if (off == BD_CHANNEL_LOST_NESTED_OFFSET) {
      ASSERT_EQ(v.reason, RejectReason::NestedCall) << phys;
    } else if (in_data_pages(off)) {
      ASSERT_EQ(v.reason, kernel ? RejectReason::CallNotServed : RejectReason::CallBadPage) << phys;
    } else if (!is_slot_offset(off)) {
      ASSERT_EQ(v.reason, RejectReason::BadSlot) << phys;
    }
  }
  EXPECT_EQ(ch_.base(), kBase);
}

}  // namespace
}  // namespace bdtrace::device
