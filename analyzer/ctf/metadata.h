/* SPDX-License-Identifier: MIT */
// The fast reader's view of a CTF 1.8 trace's metadata (TSDL), as
// LTTng-UST 2.13 writes it: the trace's byte order and packet header, the
// clock, each stream's packet context, event header kind and event
// context, and each event's name and payload layout.
//
// The parser knows a subset of TSDL: integers (size, align, signedness,
// byte order, base, clock mapping), strings, enums (read as their
// integer), structs, static arrays and sequences, type aliases, and the
// two LTTng event headers by name (event_header_compact and
// event_header_large). Anything else (floats, variants outside those
// headers, several clocks, big-endian bit fields, ...) is an error: the
// caller then reads the trace with babeltrace2 instead.
#ifndef BDTRACE_ANALYZER_CTF_METADATA_H
#define BDTRACE_ANALYZER_CTF_METADATA_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bdtrace/status.h"

namespace bdtrace::analyzer::ctf {

struct Type;
using TypePtr = std::shared_ptr<const Type>;

struct Field {
  std::string name;
  TypePtr type;
};

struct Type {
  enum class Kind { kInteger, kString, kStruct, kArray, kSequence, kVariant };
  Kind kind = Kind::kInteger;
  uint32_t align_bits = 8;
  // kInteger (enums too).
  uint32_t size_bits = 0;
  bool is_signed = false;
  bool big_endian = false;
  bool maps_clock = false;  // map = clock.X.value
  uint32_t base = 10;       // how babeltrace2 prints it (2, 8, 10 or 16)
  bool encoded = false;     // encoding = UTF8/ASCII (a text byte)
  // kStruct: the members; kVariant: the options (kept only to be refused).
  std::vector<Field> fields;
  // kArray / kSequence: the element; kArray's length, or kSequence's
  // length field (a member of the same struct, read before it).
  TypePtr element;
  uint64_t length = 0;
  std::string length_field;
  std::string struct_name;  // "struct NAME": how LTTng's event headers are recognised
};

enum class EventHeader { kCompact, kLarge };

struct StreamClass {
  uint64_t id = 0;
  EventHeader header = EventHeader::kLarge;
  TypePtr packet_context;  // a struct
  TypePtr event_context;   // a struct, or null
};

struct EventClass {
  uint64_t id = 0;
  uint64_t stream_id = 0;
  std::string name;
  TypePtr payload;  // a struct, or null (no fields)
};

struct Clock {
  std::string name;
  uint64_t freq = 1000000000;
  int64_t offset_s = 0;
  uint64_t offset = 0;  // cycles
};

struct Metadata {
  bool big_endian = false;
  uint8_t uuid[16] = {};
  bool has_uuid = false;
  TypePtr packet_header;  // a struct
  Clock clock;
  bool has_clock = false;
  std::string hostname;  // env.hostname
  bool has_hostname = false;
  std::map<uint64_t, StreamClass> streams;
  std::map<std::pair<uint64_t, uint64_t>, EventClass> events;  // (stream id, event id)
};

// The TSDL text of a metadata file: the payloads of its packets
// (packetized metadata, as LTTng writes it) or the file itself (plain
// text). Errors on a truncated or corrupt packet.
Expected<std::string> MetadataText(const std::string &trace_dir);
Expected<std::string> MetadataTextFromBytes(const unsigned char *data, size_t size);

// Parses TSDL text. Errors on syntax it does not know (see above).
Expected<Metadata> ParseMetadata(const std::string &tsdl);

}  // namespace bdtrace::analyzer::ctf

#endif  // BDTRACE_ANALYZER_CTF_METADATA_H
