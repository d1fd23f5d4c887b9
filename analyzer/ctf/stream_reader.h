/* SPDX-License-Identifier: MIT */
// The fast reader's packet walker: one CTF stream file, mmap'd, read packet
// by packet and event by event with the layouts of a parsed Metadata.
//
// Every read is checked against the packet's content size, which is
// checked against the file's size: a corrupt or truncated file is an
// Error, never a read outside the mapping.
//
// Timestamps are clock cycles as babeltrace2 reconstructs them: a packet
// sets the stream's clock to its timestamp_begin; an event header's
// timestamp of N < 64 bits replaces the clock's low N bits, adding 2^N when
// that goes backwards (the field wrapped); a 64-bit one replaces it.
#ifndef BDTRACE_ANALYZER_CTF_STREAM_READER_H
#define BDTRACE_ANALYZER_CTF_STREAM_READER_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ctf/mapped_file.h"
#include "ctf/metadata.h"
#include "bdtrace/status.h"

namespace bdtrace::analyzer::ctf {

// A top-level field's value: integers in u (signed ones sign-extended),
// strings in str (pointing into the mapping), arrays and sequences as
// their element count in u (the elements are not kept, except that a
// byte-aligned array of bytes also shows its bytes in str).
struct Value {
  uint64_t u = 0;
  std::string_view str;
  // Arrays and sequences: where the first element starts (bits from
  // packet); the reader checked that all u elements lie in the packet.
  const unsigned char *packet = nullptr;
  uint64_t bit = 0;
};

// Element i < v.u of a packed integer array or sequence field of type
// array (element size a multiple of its alignment, as LTTng writes them).
uint64_t IntegerElement(const Value &v, const Type &array, uint64_t i);

// What StreamReader::Next found.
struct Item {
  enum class Kind { kEvent, kDiscarded, kEnd };
  Kind kind = Kind::kEnd;
  // kEvent: its class and payload (one Value per payload field).
  const EventClass *event = nullptr;
  const std::vector<Value> *payload = nullptr;
  // kEvent: the event's time; kDiscarded: the packet's begin (cycles).
  uint64_t cycles = 0;
  // kDiscarded: events the tracer lost since the previous packet (modulo
  // 2^64, as babeltrace2 counts them: see OpenPacket).
  uint64_t discarded = 0;
};

class StreamReader {
 public:
  // Maps path; the reader keeps a reference to metadata, which must
  // outlive it.
  static Expected<StreamReader> Open(const std::string &path, const Metadata &metadata);
  // Over bytes the caller keeps alive (tests, fuzzing); name is for errors.
  static Expected<StreamReader> OverBytes(const unsigned char *data, size_t size, const Metadata &metadata,
                                          const std::string &name);

  // Reads every packet's header and context (not its events): an Error
  // when one is corrupt, out of time order (a packet that begins before
  // the previous one ends, or ends before it begins) or of another stream
  // instance. Then
  // says stream_class_id() and instance_id(). Call it before Next().
  Status CheckPackets();
  // After CheckPackets(): the stream class of the first packet and the
  // stream_instance_id of the packet header (babeltrace2's stream id).
  uint64_t stream_class_id() const { return stream_class_id_; }
  bool has_instance_id() const { return has_instance_id_; }
  // A file without a single packet (babeltrace2 skips such a file).
  bool empty() const { return file_.size() == 0; }
  uint64_t instance_id() const { return instance_id_; }

  // Release of read bytes (MappedFile::Release) left to the caller: a
  // reader on another thread than the one using its values (prefetch.h)
  // must not drop pages still in use. Then ReleaseBefore(offset) drops the
  // bytes before offset, and position() says how far the reader is.
  void ReleaseManually() { manual_release_ = true; }
  void ReleaseBefore(uint64_t offset) { file_.Release(offset); }
  uint64_t position() const {
    return in_packet_ ? static_cast<uint64_t>(packet_ - file_.data()) + pos_ / 8 : next_packet_;
  }

  // Tests: read every struct with the generic walk, never a Plan (the two
  // must give the same values).
  void UseGenericWalkOnly() { generic_only_ = true; }

  // The next event or discarded-events report of the stream, or kEnd.
  // An Error on anything corrupt or not understood; the reader is then
  // done.
  Status Next(Item &item) { return Next(item, payload_); }
  // The same, an event's values into payload (item.payload then points to
  // it): a caller that keeps several events' values at once (prefetch.h).
  Status Next(Item &item, std::vector<Value> &payload);

 private:
  StreamReader(MappedFile file, const Metadata &metadata, std::string path)
      : file_(std::move(file)), metadata_(&metadata), path_(std::move(path)) {}

  Status OpenPacket(Item &item, bool &reported);
  Status ReadEvent(Item &item, std::vector<Value> &payload);
  Error Corrupt(const std::string &what) const;

  // The current packet's bytes and read position (bits from its start).
  bool ReadBits(uint32_t bits, bool is_signed, bool big_endian, uint64_t &out);
  bool Align(uint32_t bits);
  bool ReadInteger(const Type &t, uint64_t &out);
  // A NUL-terminated string, byte-aligned; out points into the packet.
  bool ReadString(std::string_view &out);
  // Reads (or skips, when values is null) a struct's members.
  bool ReadStruct(const Type &t, std::vector<Value> *values, int depth);
  bool ReadField(const Type &t, Value *value, const std::vector<Field> &siblings,
                 const std::vector<Value> &sibling_values, int depth);
  void UpdateClock(uint32_t bits, uint64_t value);

  // A struct (an event's payload or the stream's event context) whose
  // top-level fields are all little-endian integers of 8, 16, 32 or 64
  // bits at byte alignment, strings, or packed arrays/sequences of such
  // integers (whose length is an earlier top-level field): what LTTng-UST
  // writes. Read with one flat loop (RunPlan) instead of the generic walk;
  // the values are the same (ctf_test checks both ways).
  struct Op {
    enum class Kind : uint8_t { kInt, kString, kSequence, kArray };
    Kind kind = Kind::kInt;
    bool is_signed = false;
    uint32_t align_bits = 8, size_bits = 0;  // kInt; arrays: the array's alignment
    uint32_t element_bits = 0;               // arrays: each element's size
    uint64_t length = 0;                     // kArray
    size_t length_index = 0;                 // kSequence: the field holding its length
  };
  struct Plan {
    bool fast = false;  // false: read with ReadStruct
    uint32_t align_bits = 8;
    std::vector<Op> ops;
  };
  static Plan MakePlan(const Type *t);
  bool RunPlan(const Plan &plan, std::vector<Value> &out);
  // The event class of id in the current stream class, and its payload's
  // plan (cached per id); null when undeclared.
  struct ClassEntry {
    bool looked_up = false;
    const EventClass *cls = nullptr;
    Plan plan;
  };
  const ClassEntry &ClassOf(uint64_t id);
  Status ReadEventHeader(uint64_t &id, uint64_t &ts, uint32_t &ts_bits);

  MappedFile file_;
  const Metadata *metadata_;
  std::string path_;
  uint64_t next_packet_ = 0;  // byte offset of the next packet
  uint64_t released_ = 0;     // bytes released so far (see kReleaseStep)
  const unsigned char *packet_ = nullptr;
  uint64_t pos_ = 0, content_end_ = 0;  // bits
  const StreamClass *stream_ = nullptr;
  uint64_t clock_ = 0;
  uint64_t packet_begin_ = 0, packet_end_ = 0;  // the current packet's (cycles)
  uint64_t stream_class_id_ = 0, instance_id_ = 0;
  bool has_instance_id_ = false;
  bool has_discarded_ = false;
  uint64_t prev_discarded_ = 0;
  bool in_packet_ = false;
  bool failed_ = false;
  bool generic_only_ = false;
  bool manual_release_ = false;
  std::string failure_;  // why the last Read* returned false
  std::vector<Value> payload_, scratch_;
  // ClassOf's cache: by event id below kCachedIds, for classes_of_.
  std::vector<ClassEntry> classes_;
  ClassEntry uncached_;
  const StreamClass *classes_of_ = nullptr;
  Plan context_plan_;
};

}  // namespace bdtrace::analyzer::ctf

#endif  // BDTRACE_ANALYZER_CTF_STREAM_READER_H
