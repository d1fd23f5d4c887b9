// SPDX-License-Identifier: MIT
// Fuzz harness: the fast reader (analyzer/ctf), on a trace it has never
// seen. Input: TSDL metadata text, then optionally a NUL byte and the bytes
// of one stream file. Invariants: parsing and walking never read outside
// the input (ASan) and always end; every event has one value per payload
// field; a discarded-events report counts at least one event; once a
// reading fails it stays failed; the per-class flat reads give what the
// generic walk gives, errors included; the packet check ends.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "ctf/metadata.h"
#include "ctf/stream_reader.h"
#include "fuzz_check.h"

using namespace bdtrace::analyzer::ctf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const void *nul = std::memchr(data, '\0', size);
  const size_t text_size = nul != nullptr ? static_cast<const uint8_t *>(nul) - data : size;
  bdtrace::Expected<Metadata> metadata =
      ParseMetadata(std::string(reinterpret_cast<const char *>(data), text_size));
  if (!metadata || nul == nullptr) return 0;
  const uint8_t *stream = data + text_size + 1;
  const size_t stream_size = size - text_size - 1;
  // Differential: the per-class flat reads (Plan) and the generic walk
  // give the same items and fail at the same place.
  std::string planned, generic;
  for (bool generic_only : {false, true}) {
    bdtrace::Expected<StreamReader> reader = StreamReader::OverBytes(stream, stream_size, *metadata, "fuzz");
    if (!reader) return 0;
    if (generic_only) reader->UseGenericWalkOnly();
    std::string &seen = generic_only ? generic : planned;
    Item item;
    while (true) {
      if (!reader->Next(item)) {
        FUZZ_CHECK(!reader->Next(item));
        seen += "error;";
        break;
      }
      if (item.kind == Item::Kind::kEnd) break;
      seen += std::to_string(item.cycles) + "/" + std::to_string(item.discarded);
      if (item.kind == Item::Kind::kDiscarded) FUZZ_CHECK(item.discarded > 0);
      if (item.kind == Item::Kind::kEvent) {
        const size_t fields = item.event->payload ? item.event->payload->fields.size() : 0;
        FUZZ_CHECK(item.payload->size() == fields);
        seen += item.event->name;
        for (const Value &v : *item.payload) {
          seen += "," + std::to_string(v.u) + ":" + std::string(v.str);
          if (!v.str.empty()) {
            FUZZ_CHECK(reinterpret_cast<const uint8_t *>(v.str.data()) >= stream);
            FUZZ_CHECK(reinterpret_cast<const uint8_t *>(v.str.data()) + v.str.size() <=
                       stream + stream_size);
          }
        }
      }
      seen += ";";
    }
  }
  FUZZ_CHECK(planned == generic);
  // The packet check before a read: ends, and never reads outside.
  bdtrace::Expected<StreamReader> checked = StreamReader::OverBytes(stream, stream_size, *metadata, "fuzz");
  if (checked) (void)checked->CheckPackets();
  return 0;
}
