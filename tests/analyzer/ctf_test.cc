// SPDX-License-Identifier: MIT
// The fast reader (analyzer/ctf): its metadata parser and packet walker on
// hand-written inputs, its reading of the captured test traces against
// babeltrace2's (the oracle), and corrupt inputs, which must give an error
// and never a crash, a hang or a read outside the file.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "../lttng/temp_dir.h"
#include "ctf/clock.h"
#include "ctf/metadata.h"
#include "ctf/prefetch.h"
#include "ctf/trace.h"
#include "file_bytes.h"

namespace fs = std::filesystem;
using bdtrace::testing::TempDir;
using namespace bdtrace::analyzer::ctf;

namespace {

const std::string kDataDir = BD_TEST_DATA_DIR;
const std::string kStreamDir = "ust/uid/0/64-bit";

using analyzer_test_files::ReadFile;
using analyzer_test_files::WriteFile;

struct RunResult {
  int exit_code;  // -1: killed by a signal
  std::string out, err;
};

RunResult RunCommand(const std::string &cmd) {
  TempDir tmp;
  const std::string out = tmp / "out", err = tmp / "err";
  const int status = std::system((cmd + " >'" + out + "' 2>'" + err + "'").c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out), ReadFile(err)};
}

std::vector<std::string> Lines(const std::string &text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// babeltrace2's text reading of a trace, as ctf-dump prints it: the
// hostname and the stream's packet context (cpu_id) left out.
std::vector<std::string> BabeltraceLines(const std::string &dir) {
  const RunResult r = RunCommand("babeltrace2 --clock-cycles --no-delta --names=none '" + dir + "'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  static const std::regex kLine(R"(^(\[[0-9]+\]) \S+ (\S+): \{ [^}]* \}, (\{ .* \})$)");
  std::vector<std::string> out;
  for (const std::string &line : Lines(r.out)) {
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, kLine)) << line;
    out.push_back(m[1].str() + " " + m[2].str() + ": " + m[3].str());
  }
  return out;
}

// Everything the fast reader reads from a trace, or its error.
struct Reading {
  bool ok = false;
  std::string error;
  uint64_t events = 0, discarded = 0;
};

Reading ReadAll(const std::string &dir) {
  Reading r;
  bdtrace::Expected<Trace> trace = OpenTrace(dir);
  if (!trace) {
    r.error = trace.error().ToString();
    return r;
  }
  for (StreamReader &stream : trace->streams) {
    Item item;
    do {
      if (bdtrace::Status st = stream.Next(item); !st) {
        r.error = st.error().ToString();
        return r;
      }
      if (item.kind == Item::Kind::kEvent) ++r.events;
      if (item.kind == Item::Kind::kDiscarded) r.discarded += item.discarded;
    } while (item.kind != Item::Kind::kEnd);
  }
  r.ok = true;
  return r;
}

// One line per item a source (a StreamReader or a StreamPrefetcher) gives
// until its end or its error, with every value (integer array elements
// included).
template <class Source>
std::vector<std::string> ItemLines(Source &source) {
  std::vector<std::string> out;
  Item item;
  while (true) {
    bdtrace::Status st = source.Next(item);
    if (!st) {
      out.push_back("error " + st.error().ToString());
      break;
    }
    if (item.kind == Item::Kind::kEnd) break;
    std::string line = std::to_string(item.cycles) + " " + std::to_string(item.discarded);
    if (item.kind == Item::Kind::kEvent) {
      line += " " + item.event->name;
      const std::vector<Field> &fields = item.event->payload->fields;
      for (size_t i = 0; i < item.payload->size(); ++i) {
        const Value &v = (*item.payload)[i];
        line += " " + std::to_string(v.u) + ":" + std::string(v.str);
        const Type &t = *fields[i].type;
        if ((t.kind == Type::Kind::kArray || t.kind == Type::Kind::kSequence) && v.packet != nullptr)
          for (uint64_t e = 0; e < v.u; ++e) line += "," + std::to_string(IntegerElement(v, t, e));
      }
    }
    out.push_back(line);
  }
  return out;
}

// Every item of every stream in dir; generic: the generic walk only.
std::vector<std::string> ItemsOf(const std::string &dir, bool generic) {
  std::vector<std::string> out;
  bdtrace::Expected<Trace> trace = OpenTrace(dir);
  EXPECT_TRUE(trace.ok()) << (trace.ok() ? "" : trace.error().ToString());
  if (!trace.ok()) return out;
  for (StreamReader &stream : trace->streams) {
    if (generic) stream.UseGenericWalkOnly();
    const std::vector<std::string> lines = ItemLines(stream);
    out.insert(out.end(), lines.begin(), lines.end());
  }
  return out;
}

// A copy of a captured trace in a temp dir, to break.
class TraceCopy {
 public:
  explicit TraceCopy(const std::string &name) {
    fs::copy(kDataDir + "/" + name, dir(), fs::copy_options::recursive);
  }
  std::string dir() const { return tmp_ / "trace"; }
  std::string streams() const { return dir() + "/" + kStreamDir; }

 private:
  TempDir tmp_;
};

// A compact-header stream with an event context, an enum, a static array
// and a sequence, as LTTng-UST would write them (abridged).
const char *kSmallTsdl = R"(/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
typealias integer { size = 64; align = 8; signed = false; } := unsigned long;
typealias integer { size = 5; align = 1; signed = false; } := uint5_t;
typealias integer { size = 27; align = 1; signed = false; } := uint27_t;
trace {
	major = 1; minor = 8;
	uuid = "48c829e7-c4e4-4afa-909f-9b9d0a31c7c0";
	byte_order = le;
	packet.header := struct { uint32_t magic; uint8_t uuid[16]; uint32_t stream_id; uint64_t stream_instance_id; };
};
env { domain = "ust"; tracer_major = 2; };
clock { name = "monotonic"; freq = 1000000000; offset = 1795699351336461167; };
typealias integer { size = 27; align = 1; signed = false; map = clock.monotonic.value; } := uint27_clock_monotonic_t;
typealias integer { size = 64; align = 8; signed = false; map = clock.monotonic.value; } := uint64_clock_monotonic_t;
struct packet_context {
	uint64_clock_monotonic_t timestamp_begin;
	uint64_clock_monotonic_t timestamp_end;
	uint64_t content_size;
	uint64_t packet_size;
	unsigned long events_discarded;
	uint32_t cpu_id;
};
struct event_header_compact {
	enum : uint5_t { compact = 0 ... 30, extended = 31 } id;
	variant <id> {
		struct { uint27_clock_monotonic_t timestamp; } compact;
		struct { uint32_t id; uint64_clock_monotonic_t timestamp; } extended;
	} v;
} align(8);
stream { id = 0; event.header := struct event_header_compact; packet.context := struct packet_context;
	event.context := struct { integer { size = 32; align = 8; signed = 1; } _vtid; }; };
event {
	name = "bdtrace:tb_batch"; id = 3; stream_id = 0; loglevel = 13;
	fields := struct {
		enum : integer { size = 8; align = 8; signed = 0; } { A = 0, B = 1 } _kind;
		integer { size = 16; align = 8; signed = 1; encoding = none; base = 16; } _small;
		uint8_t _bytes[4];
		integer { size = 64; align = 8; signed = 0; } __pc_length;
		integer { size = 64; align = 8; signed = 0; base = 16; } _pc[ __pc_length ];
		string _text;
	};
};
)";

}  // namespace

// ---- metadata parser ------------------------------------------------------

TEST(CtfMetadata, ParsesLttngLayouts) {
  bdtrace::Expected<Metadata> m = ParseMetadata(kSmallTsdl);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_FALSE(m->big_endian);
  ASSERT_TRUE(m->has_uuid);
  EXPECT_EQ(m->uuid[0], 0x48);
  EXPECT_EQ(m->uuid[15], 0xc0);
  EXPECT_EQ(m->clock.name, "monotonic");
  EXPECT_EQ(m->clock.offset, 1795699351336461167u);
  ASSERT_EQ(m->packet_header->fields.size(), 4u);
  EXPECT_EQ(m->packet_header->fields[1].type->kind, Type::Kind::kArray);
  EXPECT_EQ(m->packet_header->fields[1].type->length, 16u);
  ASSERT_EQ(m->streams.count(0), 1u);
  const StreamClass &s = m->streams.at(0);
  EXPECT_EQ(s.header, EventHeader::kCompact);
  ASSERT_TRUE(s.event_context);
  EXPECT_TRUE(s.event_context->fields[0].type->is_signed);
  EXPECT_TRUE(s.packet_context->fields[0].type->maps_clock);
  ASSERT_EQ(m->events.count({0, 3}), 1u);
  const EventClass &e = m->events.at({0, 3});
  EXPECT_EQ(e.name, "bdtrace:tb_batch");
  const std::vector<Field> &f = e.payload->fields;
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0].type->kind, Type::Kind::kInteger);  // the enum, as its integer
  EXPECT_EQ(f[0].type->size_bits, 8u);
  EXPECT_EQ(f[1].type->base, 16u);
  EXPECT_TRUE(f[1].type->is_signed);
  EXPECT_EQ(f[2].type->kind, Type::Kind::kArray);
  EXPECT_EQ(f[4].type->kind, Type::Kind::kSequence);
  EXPECT_EQ(f[4].type->length_field, "__pc_length");
  EXPECT_EQ(f[4].type->element->size_bits, 64u);
  EXPECT_EQ(f[5].type->kind, Type::Kind::kString);
}

TEST(CtfMetadata, ParsesTheCapturedTraces) {
  for (const char *name : {"small-trace", "ring-trace", "system-trace"}) {
    bdtrace::Expected<std::string> text = MetadataText(kDataDir + "/" + name + "/" + kStreamDir);
    ASSERT_TRUE(text.ok()) << name << ": " << text.error();
    bdtrace::Expected<Metadata> m = ParseMetadata(*text);
    ASSERT_TRUE(m.ok()) << name << ": " << m.error();
    EXPECT_EQ(m->streams.at(0).header, EventHeader::kLarge) << name;
    bool has_mark = false;
    for (const auto &[key, e] : m->events) has_mark |= e.name == "bdtrace:mark";
    EXPECT_TRUE(has_mark) << name;
  }
}

TEST(CtfMetadata, RefusesWhatItDoesNotKnow) {
  const std::string base = kSmallTsdl;
  const auto with_field = [&](const std::string &decl) {
    std::string s = base;
    s.insert(s.find("\t\tstring _text;"), "\t\t" + decl + "\n");
    return s;
  };
  EXPECT_FALSE(
      ParseMetadata(with_field("floating_point { exp_dig = 8; mant_dig = 24; align = 32; } _f;")).ok());
  EXPECT_FALSE(ParseMetadata(with_field("variant <_kind> { uint8_t A; uint32_t B; } _v;")).ok());
  EXPECT_FALSE(ParseMetadata(with_field("uint8_t _seq[_nothing];")).ok());
  EXPECT_FALSE(ParseMetadata(with_field("integer { size = 65; } _wide;")).ok());
  EXPECT_FALSE(ParseMetadata(with_field("integer { size = 12; align = 1; byte_order = be; } _bits;")).ok());
  std::string other_header = base;
  other_header.replace(other_header.find("event.header := struct event_header_compact"),
                       std::string("event.header := struct event_header_compact").size(),
                       "event.header := struct packet_context");
  EXPECT_FALSE(ParseMetadata(other_header).ok());
}

TEST(CtfMetadata, GarbageIsAnErrorNotACrash) {
  std::mt19937 rng(15);
  const std::string base = kSmallTsdl;
  for (int i = 0; i < 2000; ++i) {
    std::string s = base;
    // Cut it short, or flip a few characters.
    if (i % 2 == 0) {
      s.resize(rng() % s.size());
    } else {
      for (int k = 0; k < 3; ++k) s[rng() % s.size()] = static_cast<char>(rng() % 128);
    }
    (void)ParseMetadata(s);  // must return, whatever it says
  }
  EXPECT_FALSE(ParseMetadata("").ok());
  EXPECT_FALSE(ParseMetadata("trace { packet.header := struct {").ok());
  EXPECT_FALSE(ParseMetadata(std::string(5000, '{')).ok());
  EXPECT_FALSE(ParseMetadata("/* unterminated").ok());
}

TEST(CtfMetadata, PacketizedMetadataMustBeWhole) {
  const std::string bytes = ReadFile(kDataDir + "/small-trace/" + kStreamDir + "/metadata");
  const auto *data = reinterpret_cast<const unsigned char *>(bytes.data());
  bdtrace::Expected<std::string> whole = MetadataTextFromBytes(data, bytes.size());
  ASSERT_TRUE(whole.ok()) << whole.error();
  EXPECT_EQ(whole->rfind("/* CTF 1.8 */", 0), 0u);
  EXPECT_FALSE(MetadataTextFromBytes(data, bytes.size() - 1).ok());
  EXPECT_FALSE(MetadataTextFromBytes(data, 40).ok());
  std::string bad = bytes;
  bad[4096] ^= 0x55;  // the second packet's magic
  EXPECT_FALSE(MetadataTextFromBytes(reinterpret_cast<const unsigned char *>(bad.data()), bad.size()).ok());
}

// ---- packet walker on a hand-built stream --------------------------------

// Bytes of one packet of kSmallTsdl's stream, little-endian, built field by
// field.
class PacketBuilder {
 public:
  void U8(uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Raw(&v, 2); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void Str(const std::string &v) { bytes_ += v + '\0'; }
  void Raw(const void *p, size_t n) { bytes_.append(static_cast<const char *>(p), n); }

  // Header and context; content and packet sizes patched by Finish.
  void Begin(uint64_t ts_begin, uint64_t discarded, uint64_t ts_end = 0) {
    U32(0xC1FC1FC1);
    const uint8_t uuid[16] = {0x48, 0xc8, 0x29, 0xe7, 0xc4, 0xe4, 0x4a, 0xfa,
                              0x90, 0x9f, 0x9b, 0x9d, 0x0a, 0x31, 0xc7, 0xc0};
    Raw(uuid, 16);
    U32(0);  // stream_id
    U64(0);  // stream_instance_id
    U64(ts_begin);
    U64(ts_end);
    sizes_at_ = bytes_.size();
    U64(0);
    U64(0);
    U64(discarded);
    U32(0);  // cpu_id
  }
  // A compact header: 5-bit id, 27-bit timestamp.
  void Compact(uint32_t id, uint32_t ts27) { U32(id | (ts27 << 5)); }
  // An extended compact header: id 31, then 32-bit id and 64-bit time.
  void Extended(uint32_t id, uint64_t ts) {
    U8(31);
    U32(id);
    U64(ts);
  }
  // One bdtrace:tb_batch of kSmallTsdl (event context vtid first).
  void Batch(int16_t small, const std::vector<uint64_t> &pcs, const std::string &text) {
    U32(77);  // _vtid
    U8(1);    // _kind
    U16(static_cast<uint16_t>(small));
    for (uint8_t b : {1, 2, 3, 4}) U8(b);
    U64(pcs.size());
    for (uint64_t pc : pcs) U64(pc);
    Str(text);
  }
  std::string Finish(size_t packet_bytes) {
    const uint64_t content = bytes_.size() * 8, packet = packet_bytes * 8;
    std::memcpy(&bytes_[sizes_at_], &content, 8);
    std::memcpy(&bytes_[sizes_at_ + 8], &packet, 8);
    std::string out = bytes_;
    out.resize(packet_bytes, '\0');
    bytes_.clear();
    return out;
  }

 private:
  std::string bytes_;
  size_t sizes_at_ = 0;
};

TEST(CtfStreamReader, TimesFieldsAndDiscardsOfAHandBuiltStream) {
  TempDir tmp;
  const uint64_t wrap = uint64_t{1} << 27;
  PacketBuilder b;
  b.Begin(5 * wrap - 10, 0);
  b.Compact(3, static_cast<uint32_t>(wrap - 5));  // no wrap: 5 * wrap - 5
  b.Batch(-2, {0x1000, 0x2000}, "hi");
  b.Compact(3, 3);  // wrapped: 5 * wrap + 3
  b.Batch(7, {}, "");
  b.Extended(3, uint64_t{5} << 40);
  b.Batch(0, {0x3000}, "x");
  std::string stream = b.Finish(512);
  b.Begin((uint64_t{5} << 40) + 100, 7);  // 7 events lost since
  b.Compact(3, 200);
  b.Batch(1, {0x4000}, "last");
  stream += b.Finish(256);
  WriteFile(tmp / "metadata", kSmallTsdl);
  WriteFile(tmp / "stream_0", stream);

  bdtrace::Expected<Trace> trace = OpenTrace(tmp.path());
  ASSERT_TRUE(trace.ok()) << trace.error();
  ASSERT_EQ(trace->streams.size(), 1u);
  StreamReader &r = trace->streams[0];
  const Type &batch = *trace->metadata->events.at({0, 3}).payload;
  Item item;
  std::vector<uint64_t> times;
  auto next_event = [&]() {
    EXPECT_TRUE(r.Next(item).ok());
    EXPECT_EQ(item.kind, Item::Kind::kEvent);
    times.push_back(item.cycles);
    return item.kind == Item::Kind::kEvent ? *item.payload : std::vector<Value>{};
  };
  std::vector<Value> v = next_event();
  ASSERT_EQ(v.size(), 6u);
  EXPECT_EQ(v[0].u, 1u);
  EXPECT_EQ(static_cast<int64_t>(v[1].u), -2);  // sign-extended
  EXPECT_EQ(v[2].str, std::string("\x01\x02\x03\x04"));
  EXPECT_EQ(v[3].u, 2u);
  ASSERT_EQ(v[4].u, 2u);
  EXPECT_EQ(IntegerElement(v[4], *batch.fields[4].type, 0), 0x1000u);
  EXPECT_EQ(IntegerElement(v[4], *batch.fields[4].type, 1), 0x2000u);
  EXPECT_EQ(v[5].str, "hi");
  v = next_event();
  EXPECT_EQ(v[4].u, 0u);
  EXPECT_EQ(v[5].str, "");
  v = next_event();
  EXPECT_EQ(IntegerElement(v[4], *batch.fields[4].type, 0), 0x3000u);
  ASSERT_TRUE(r.Next(item).ok());
  ASSERT_EQ(item.kind, Item::Kind::kDiscarded);
  EXPECT_EQ(item.discarded, 7u);
  v = next_event();
  EXPECT_EQ(v[5].str, "last");
  ASSERT_TRUE(r.Next(item).ok());
  EXPECT_EQ(item.kind, Item::Kind::kEnd);
  // 27-bit times replace the clock's low bits, plus 2^27 when they went
  // backwards; the second packet starts from its timestamp_begin, whose
  // low bits (100) are below 200: no wrap.
  EXPECT_EQ(times, (std::vector<uint64_t>{5 * wrap - 5, 5 * wrap + 3, uint64_t{5} << 40,
                                          (uint64_t{5} << 40) + 200}));
  // The same values whether read by the per-class plan or the generic walk
  // (this stream has an event context, a signed field, a byte array, a
  // sequence and strings).
  EXPECT_EQ(ItemsOf(tmp.path(), false), ItemsOf(tmp.path(), true));
}

// The packet check the fast reader makes before reading an event
// (fast_reader.h): packets in time order, each ending after it begins.
TEST(CtfStreamReader, CheckPacketsRefusesPacketsOutOfTimeOrder) {
  TempDir tmp;
  WriteFile(tmp / "metadata", kSmallTsdl);
  PacketBuilder b;
  const auto packets = [&](uint64_t b1, uint64_t e1, uint64_t b2, uint64_t e2) {
    b.Begin(b1, 0, e1);
    std::string stream = b.Finish(128);
    b.Begin(b2, 0, e2);
    return stream + b.Finish(128);
  };
  const auto check = [&](const std::string &stream) {
    WriteFile(tmp / "stream_0", stream);
    bdtrace::Expected<Trace> trace = OpenTrace(tmp.path());
    EXPECT_TRUE(trace.ok());
    if (!trace.ok()) return bdtrace::Status(trace.take_error());
    bdtrace::Status st = trace->streams[0].CheckPackets();
    if (st.ok()) {
      EXPECT_TRUE(trace->streams[0].has_instance_id());
      EXPECT_EQ(trace->streams[0].stream_class_id(), 0u);
    }
    return st;
  };
  EXPECT_TRUE(check(packets(100, 200, 200, 300)).ok());
  EXPECT_FALSE(check(packets(100, 200, 150, 300)).ok()) << "the second packet begins before the first ends";
  EXPECT_FALSE(check(packets(100, 50, 200, 300)).ok()) << "the first packet ends before it begins";
}

// babeltrace2 counts discarded events as differences modulo 2^64: a packet
// whose count went back to 0 (LTTng writes such packets) and the next one
// sum to the next one's count.
TEST(CtfStreamReader, DiscardedCountsAreDifferencesModulo2To64) {
  TempDir tmp;
  WriteFile(tmp / "metadata", kSmallTsdl);
  PacketBuilder b;
  std::string stream;
  for (uint64_t discarded : {5, 0, 9}) {
    b.Begin(100, discarded, 100);
    stream += b.Finish(128);
  }
  WriteFile(tmp / "stream_0", stream);
  bdtrace::Expected<Trace> trace = OpenTrace(tmp.path());
  ASSERT_TRUE(trace.ok()) << trace.error();
  std::vector<uint64_t> counts;
  Item item;
  while (trace->streams[0].Next(item).ok() && item.kind != Item::Kind::kEnd) counts.push_back(item.discarded);
  EXPECT_EQ(counts, (std::vector<uint64_t>{5, uint64_t{0} - 5, 9}));
}

TEST(CtfClock, NsFromOriginAsBabeltrace2) {
  Clock c;
  c.offset_s = 10;
  c.offset = 1500000000;  // 1.5 s of cycles at 1 GHz: 1 s moves to the seconds
  NsFromOrigin ns(c);
  int64_t out = 0;
  ASSERT_TRUE(ns.valid());
  EXPECT_EQ(ns.offset_ns(), 11500000000);
  ASSERT_TRUE(ns(7, out));
  EXPECT_EQ(out, 11500000007);
  c.freq = 1000;  // 1 kHz: 1 cycle is 1 ms
  c.offset_s = 0;
  c.offset = 2500;
  NsFromOrigin slow(c);
  ASSERT_TRUE(slow(1001, out));
  EXPECT_EQ(out, 2500000000 + 1001000000);
  c.offset_s = INT64_MAX / 1000000000 + 1;  // the offset alone overflows
  EXPECT_FALSE(NsFromOrigin(c).valid());
  c.freq = 1000000000;
  c.offset_s = 0;
  c.offset = 0;
  EXPECT_FALSE(NsFromOrigin(c)(~uint64_t{0}, out)) << "past INT64_MAX ns";
}

// Read ahead over a stream of many packets and pages (the captured traces
// are a few dozen events): the same items as read directly, whatever the
// batch size, with the pages behind the caller released meanwhile.
TEST(CtfStreamReader, ReadAheadOverManyPacketsGivesTheSameItems) {
  TempDir tmp;
  WriteFile(tmp / "metadata", kSmallTsdl);
  PacketBuilder b;
  std::string stream;
  for (uint64_t p = 0; p < 200; ++p) {
    const uint64_t begin = p * 100000;
    b.Begin(begin, p / 50, begin + 99);  // a few discarded-events reports too
    for (uint32_t e = 0; e < 40; ++e) {
      b.Compact(3, static_cast<uint32_t>(begin + e) & ((1u << 27) - 1));
      b.Batch(static_cast<int16_t>(e) - 20, {p, e}, e % 2 ? "odd" : "");
    }
    stream += b.Finish(4096);
  }
  WriteFile(tmp / "stream_0", stream);
  const std::vector<std::string> direct = ItemsOf(tmp.path(), false);
  ASSERT_EQ(direct.size(), 200u * 40 + 3);
  for (size_t batch : {1, 7, 1024}) {
    bdtrace::Expected<Trace> trace = OpenTrace(tmp.path());
    ASSERT_TRUE(trace.ok());
    StreamPrefetcher prefetch(trace->streams[0], batch);
    ASSERT_TRUE(prefetch.Start().ok());
    EXPECT_EQ(ItemLines(prefetch), direct) << "batches of " << batch;
  }
  // Left early (a visitor threw): the thread stops, nothing hangs.
  bdtrace::Expected<Trace> trace = OpenTrace(tmp.path());
  ASSERT_TRUE(trace.ok());
  StreamPrefetcher prefetch(trace->streams[0], 5);
  ASSERT_TRUE(prefetch.Start().ok());
  Item item;
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(prefetch.Next(item).ok());
}

TEST(CtfStreamReader, AnEventPastItsPacketsContentIsAnError) {
  TempDir tmp;
  PacketBuilder b;
  b.Begin(1000, 0);
  b.Compact(3, 1001);
  b.Batch(0, {1, 2, 3}, "abc");
  std::string stream = b.Finish(256);
  // Claim a sequence longer than the packet: its length field is the
  // 8 bytes after vtid, kind, small and bytes (76 + 4 + 4 + 1 + 2 + 4).
  const uint64_t huge = uint64_t{1} << 60;
  std::memcpy(&stream[91], &huge, 8);
  WriteFile(tmp / "metadata", kSmallTsdl);
  WriteFile(tmp / "stream_0", stream);
  bdtrace::Expected<Trace> trace = OpenTrace(tmp.path());
  ASSERT_TRUE(trace.ok()) << trace.error();
  Item item;
  bdtrace::Status st = trace->streams[0].Next(item);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().ToString().find("an array past the packet's content"), std::string::npos)
      << st.error();
  EXPECT_FALSE(trace->streams[0].Next(item).ok());  // and stays failed
}

// Borrowed bytes stay the owner's through moves: a reader over them never
// unmaps or releases them (the fuzzer found a moved reader unmapping its
// input). Page-aligned, so that a wrong munmap would succeed and the read
// below would crash.
TEST(CtfStreamReader, BorrowedBytesOutliveAMovedReader) {
  const std::string metadata_text = kSmallTsdl;
  bdtrace::Expected<Metadata> m = ParseMetadata(metadata_text);
  ASSERT_TRUE(m.ok()) << m.error();
  PacketBuilder b;
  b.Begin(1000, 0);
  b.Compact(3, 1001);
  b.Batch(0, {1}, "a");
  const std::string packet = b.Finish(8192);  // two pages: the first can be released
  void *mem = ::mmap(nullptr, packet.size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  std::memcpy(mem, packet.data(), packet.size());
  {
    bdtrace::Expected<StreamReader> r =
        StreamReader::OverBytes(static_cast<const unsigned char *>(mem), packet.size(), *m, "borrowed");
    ASSERT_TRUE(r.ok()) << r.error();
    StreamReader moved = std::move(*r);
    Item item;
    do {
      ASSERT_TRUE(moved.Next(item).ok());
    } while (item.kind != Item::Kind::kEnd);
  }
  EXPECT_EQ(std::memcmp(mem, packet.data(), packet.size()), 0);
  ::munmap(mem, packet.size());
}

// ---- packet walker against babeltrace2 -----------------------------------

class CtfAgainstBabeltrace : public ::testing::TestWithParam<const char *> {};

TEST_P(CtfAgainstBabeltrace, SameEventsTimesAndFields) {
  const std::string dir = kDataDir + "/" + GetParam() + "/" + kStreamDir;
  std::vector<std::string> expected = BabeltraceLines(dir);
  ASSERT_FALSE(expected.empty());
  const RunResult r = RunCommand(std::string("'") + BD_CTF_DUMP_BIN + "' '" + dir + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> got;
  for (const std::string &line : Lines(r.out)) {
    ASSERT_NE(line.rfind("discarded", 0), 0u) << "the captured traces lost no events";
    got.push_back(line);
  }
  // Time order (ties may differ from babeltrace2's muxer: compare sorted).
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end(), [](const std::string &a, const std::string &b) {
    return a.substr(0, 22) < b.substr(0, 22);
  }));
  std::sort(expected.begin(), expected.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, expected);
  EXPECT_EQ(r.err, "events " + std::to_string(expected.size()) + " discarded 0\n");
}

INSTANTIATE_TEST_SUITE_P(CapturedTraces, CtfAgainstBabeltrace,
                         ::testing::Values("small-trace", "ring-trace", "system-trace"));

// A stream read ahead on its own thread (ctf/prefetch.h) gives the same
// items as read directly, across many small batches, pages released behind.
TEST_P(CtfAgainstBabeltrace, ReadAheadGivesTheSameItems) {
  const std::string dir = kDataDir + "/" + GetParam() + "/" + kStreamDir;
  const std::vector<std::string> direct = ItemsOf(dir, false);
  for (size_t batch : {1, 3, 1024}) {
    bdtrace::Expected<Trace> trace = OpenTrace(dir);
    ASSERT_TRUE(trace.ok());
    std::vector<std::string> ahead;
    for (StreamReader &stream : trace->streams) {
      StreamPrefetcher prefetch(stream, batch);
      ASSERT_TRUE(prefetch.Start().ok());
      const std::vector<std::string> items = ItemLines(prefetch);
      ahead.insert(ahead.end(), items.begin(), items.end());
    }
    EXPECT_EQ(ahead, direct) << "batches of " << batch;
  }
}

// The flat per-class reads (StreamReader's Plan) give exactly what the
// generic walk gives, on the captured traces.
TEST_P(CtfAgainstBabeltrace, PlannedReadsEqualTheGenericWalk) {
  const std::string dir = kDataDir + "/" + GetParam() + "/" + kStreamDir;
  const std::vector<std::string> planned = ItemsOf(dir, false);
  ASSERT_GT(planned.size(), 10u);
  EXPECT_EQ(planned, ItemsOf(dir, true));
}

// ---- corrupt inputs -------------------------------------------------------

// Packet header (32 bytes) then context: timestamp_begin, timestamp_end,
// content_size (bits) at byte 48, packet_size at 56.
constexpr size_t kContentSizeAt = 48;

TEST(CtfCorrupt, TruncatedStreamFile) {
  for (size_t keep : {size_t{0}, size_t{3}, size_t{40}, size_t{100}, size_t{1000}}) {
    TraceCopy t("small-trace");
    const std::string path = t.streams() + "/ch_0";
    WriteFile(path, ReadFile(path).substr(0, keep));
    const Reading r = ReadAll(t.dir() + "/" + kStreamDir);
    if (keep == 0) {
      EXPECT_TRUE(r.ok) << r.error;  // an empty stream file is an empty stream
    } else {
      EXPECT_FALSE(r.ok) << keep;
      EXPECT_NE(r.error.find("ch_0"), std::string::npos) << r.error;
    }
  }
}

TEST(CtfCorrupt, BadMagic) {
  TraceCopy t("small-trace");
  const std::string path = t.streams() + "/ch_1";
  std::string bytes = ReadFile(path);
  bytes[0] ^= 0x01;
  WriteFile(path, bytes);
  const Reading r = ReadAll(t.dir() + "/" + kStreamDir);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("magic"), std::string::npos) << r.error;
}

TEST(CtfCorrupt, ContentSizeBeyondThePacket) {
  TraceCopy t("small-trace");
  const std::string path = t.streams() + "/ch_0";
  std::string bytes = ReadFile(path);
  const uint64_t huge = uint64_t{1} << 40;
  std::memcpy(&bytes[kContentSizeAt], &huge, sizeof huge);
  WriteFile(path, bytes);
  const Reading r = ReadAll(t.dir() + "/" + kStreamDir);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("impossible packet sizes"), std::string::npos) << r.error;
}

TEST(CtfCorrupt, GarbageMetadata) {
  TraceCopy t("small-trace");
  std::mt19937 rng(7);
  std::string junk(3000, '\0');
  for (char &c : junk) c = static_cast<char>(rng());
  WriteFile(t.streams() + "/metadata", junk);
  const Reading r = ReadAll(t.dir() + "/" + kStreamDir);
  EXPECT_FALSE(r.ok);
}

// Random byte flips anywhere in a stream file: every reading ends (with
// events or an error) and never reads outside the file (run under ASan to
// see that too).
TEST(CtfCorrupt, RandomFlipsNeverCrash) {
  TraceCopy t("ring-trace");
  const std::string path = t.streams() + "/ch_0";
  const std::string original = ReadFile(path);
  const Reading clean = ReadAll(t.dir() + "/" + kStreamDir);
  ASSERT_TRUE(clean.ok) << clean.error;
  std::mt19937 rng(1515);
  int errors = 0;
  for (int i = 0; i < 300; ++i) {
    std::string bytes = original;
    for (int k = 0; k < 4; ++k) bytes[rng() % 512] = static_cast<char>(rng());
    WriteFile(path, bytes);
    const Reading r = ReadAll(t.dir() + "/" + kStreamDir);
    if (!r.ok) ++errors;
  }
  // Flips in the headers of the first 512 bytes break most readings.
  EXPECT_GT(errors, 0);
}
