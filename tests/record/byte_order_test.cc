// SPDX-License-Identifier: MIT
// Records in the guest's byte order (<bd/abi.h>, BYTE ORDER): decoding a
// record of the host's order and one of the other order (a big-endian
// s390x guest's, its bytes spelled out by hand), replies in the guest's
// order, and records decoded in the wrong order being rejected rather than
// misread.
#include <bdtrace/record.h>

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <vector>

namespace bdtrace {
namespace {

static_assert(kHostByteOrder == ByteOrder::Little, "these tests run on x86_64 hosts");

// A 128-byte record image, zero-filled, written byte by byte.
struct Image {
  alignas(BD_RECORD_SIZE) unsigned char bytes[BD_RECORD_SIZE] = {};
  void put(std::size_t offset, std::initializer_list<unsigned char> b) {
    std::size_t i = offset;
    for (unsigned char c : b) bytes[i++] = c;
  }
  const bd_record &record() const { return *reinterpret_cast<const bd_record *>(bytes); }
};

// What an s390x guest's libbdguest stores for bd_mark_text(0x102, "hello")
// with args 0x0102030405060708, 2, 3, 4, pid 0x1234, tid 0x56789a, seq 7:
// every field big-endian, at the offsets <bd/abi.h> gives.
Image big_endian_text_mark() {
  Image im;
  im.put(0, {'b', 'd', 't', 'r'});                               // magic 0x62647472
  im.put(4, {0x00, 0x01});                                       // version 1
  im.put(6, {0x00, BD_KIND_MARK_TEXT});                          // kind
  im.put(8, {0x00, 0x00, 0x01, 0x02});                           // event 0x102
  im.put(12, {0x00, 0x05});                                      // text_len 5
  im.put(16, {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});  // args[0]
  im.put(24 + 7, {0x02});                                        // args[1] = 2
  im.put(32 + 7, {0x03});                                        // args[2] = 3
  im.put(40 + 7, {0x04});                                        // args[3] = 4
  im.put(48, {0x00, 0x00, 0x12, 0x34});                          // pid
  im.put(52, {0x00, 0x56, 0x78, 0x9a});                          // tid
  im.put(56 + 7, {0x07});                                        // seq 7
  im.put(72, {'h', 'e', 'l', 'l', 'o', 0});                      // text
  return im;
}

void expect_text_mark_fields(const bd_record &r) {
  EXPECT_EQ(r.magic, BD_MAGIC);
  EXPECT_EQ(r.version, BD_ABI_VERSION);
  EXPECT_EQ(r.kind, BD_KIND_MARK_TEXT);
  EXPECT_EQ(r.event, 0x102u);
  EXPECT_EQ(r.text_len, 5u);
  EXPECT_EQ(r.flags, 0u);
  EXPECT_EQ(r.args[0], 0x0102030405060708u);
  EXPECT_EQ(r.args[1], 2u);
  EXPECT_EQ(r.args[2], 3u);
  EXPECT_EQ(r.args[3], 4u);
  EXPECT_EQ(r.pid, 0x1234u);
  EXPECT_EQ(r.tid, 0x56789au);
  EXPECT_EQ(r.seq, 7u);
  EXPECT_EQ(r.reply, BD_REPLY_NONE);
  EXPECT_EQ(r.reserved, 0u);
  EXPECT_STREQ(r.text, "hello");
}

TEST(RecordByteOrder, HostOrderRecordDecodesAsItIs) {
  bd_record guest;
  std::memset(&guest, 0, sizeof guest);
  guest.magic = BD_MAGIC;
  guest.version = BD_ABI_VERSION;
  guest.kind = BD_KIND_MARK_TEXT;
  guest.event = 0x102;
  guest.text_len = 5;
  guest.args[0] = 0x0102030405060708u;
  guest.args[1] = 2;
  guest.args[2] = 3;
  guest.args[3] = 4;
  guest.pid = 0x1234;
  guest.tid = 0x56789a;
  guest.seq = 7;
  std::memcpy(guest.text, "hello", 6);
  bd_record rec;
  decode_record<false>(guest, rec);
  EXPECT_EQ(std::memcmp(&rec, &guest, sizeof rec), 0) << "no change in the host's order";
  expect_text_mark_fields(rec);
  EXPECT_EQ(check_record(rec, false), RejectReason::Ok);
  // The little-endian image: "rtdb" in memory.
  EXPECT_EQ(std::memcmp(&guest.magic, "rtdb", 4), 0);
}

TEST(RecordByteOrder, BigEndianRecordDecodesWithTheSwap) {
  const Image im = big_endian_text_mark();
  bd_record rec;
  decode_record<true>(im.record(), rec);
  expect_text_mark_fields(rec);
  EXPECT_EQ(check_record(rec, false), RejectReason::Ok);
  // The copy is private: the guest's bytes are untouched.
  EXPECT_EQ(std::memcmp(im.bytes, "bdtr", 4), 0);
}

TEST(RecordByteOrder, SwapIsItsOwnInverseAndLeavesTheText) {
  const Image im = big_endian_text_mark();
  bd_record rec;
  decode_record<true>(im.record(), rec);
  swap_record_fields(rec);
  EXPECT_EQ(std::memcmp(&rec, im.bytes, sizeof rec), 0);
}

TEST(RecordByteOrder, WrongOrderIsRejectedNotMisread) {
  // A big-endian record read as the host's order, and a host-order one
  // read as big-endian: both fail the magic check before anything else.
  const Image im = big_endian_text_mark();
  bd_record rec;
  decode_record<false>(im.record(), rec);
  EXPECT_EQ(check_record(rec, false), RejectReason::BadMagic);
  bd_record host;
  decode_record<true>(im.record(), host);
  decode_record<true>(host, rec);  // host-order bytes taken as big-endian
  EXPECT_EQ(check_record(rec, false), RejectReason::BadMagic);
}

TEST(RecordByteOrder, HostileBigEndianFieldsAreCheckedAsTheGuestMeantThem) {
  // text_len bytes 01 00: 256 to a big-endian guest (too long); read in
  // the host's order it would pass as 1.
  Image im = big_endian_text_mark();
  im.put(12, {0x01, 0x00});
  bd_record rec;
  decode_record<true>(im.record(), rec);
  EXPECT_EQ(rec.text_len, 256u);
  EXPECT_EQ(check_record(rec, false), RejectReason::TextTooLong);
  // kind bytes 01 00 (256): out of range, not MARK.
  im = big_endian_text_mark();
  im.put(6, {BD_KIND_MARK, 0x00});
  decode_record<true>(im.record(), rec);
  EXPECT_EQ(check_record(rec, false), RejectReason::BadKind);
  // flags 00 01 in big-endian is 1, not 256, and still not 0.
  im = big_endian_text_mark();
  im.put(14, {0x00, 0x01});
  decode_record<true>(im.record(), rec);
  EXPECT_EQ(rec.flags, 1u);
  EXPECT_EQ(check_record(rec, false), RejectReason::BadFlags);
  // reserved, version: likewise in the guest's order.
  im = big_endian_text_mark();
  im.put(68, {0x00, 0x00, 0x00, 0x01});
  decode_record<true>(im.record(), rec);
  EXPECT_EQ(check_record(rec, false), RejectReason::BadReserved);
  im = big_endian_text_mark();
  im.put(4, {0x01, 0x00});
  decode_record<true>(im.record(), rec);
  EXPECT_EQ(rec.version, 256u);
  EXPECT_EQ(check_record(rec, false), RejectReason::BadVersion);
}

TEST(RecordByteOrder, ReplyLandsInTheGuestsOrder) {
  // What the guest finds at bd_record.reply after the host's 4-byte store.
  auto stored = [](int32_t v) {
    unsigned char b[4];
    std::memcpy(b, &v, 4);
    return std::vector<unsigned char>(b, b + 4);
  };
  using Bytes = std::vector<unsigned char>;
  EXPECT_EQ(stored(reply_in_guest_order<true>(BD_REPLY_OK)), (Bytes{0, 0, 0, 1}));
  EXPECT_EQ(stored(reply_in_guest_order<true>(BD_REPLY_FILTERED)), (Bytes{0, 0, 0, 2}));
  EXPECT_EQ(stored(reply_in_guest_order<true>(BD_REPLY_REJECTED)), (Bytes{0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(stored(reply_in_guest_order<false>(BD_REPLY_OK)), (Bytes{1, 0, 0, 0}));
  EXPECT_EQ(stored(reply_in_guest_order<false>(BD_REPLY_FILTERED)), (Bytes{2, 0, 0, 0}));
}

TEST(ByteSwap, EveryWidth) {
  EXPECT_EQ(byte_swap(uint8_t{0x12}), 0x12u);
  EXPECT_EQ(byte_swap(uint16_t{0x1234}), 0x3412u);
  EXPECT_EQ(byte_swap(uint32_t{0x12345678}), 0x78563412u);
  EXPECT_EQ(byte_swap(uint64_t{0x0102030405060708}), 0x0807060504030201u);
  EXPECT_EQ(byte_swap(int32_t{-1}), -1);
  EXPECT_EQ(byte_swap(int32_t{1}), 0x01000000);
  EXPECT_EQ(guest_order<false>(uint32_t{0x12345678}), 0x12345678u);
  EXPECT_EQ(guest_order<true>(uint32_t{0x12345678}), 0x78563412u);
  EXPECT_STREQ(byte_order_name(ByteOrder::Big), "big-endian");
  EXPECT_STREQ(byte_order_name(ByteOrder::Little), "little-endian");
}

}  // namespace
}  // namespace bdtrace
