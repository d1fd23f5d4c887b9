// SPDX-License-Identifier: MIT
#include "ctf/stream_reader.h"

#include <cstring>

namespace bdtrace::analyzer::ctf {

namespace {

constexpr uint64_t kPacketMagic = 0xC1FC1FC1;
// LTTng's event headers: the id value that says "extended header follows".
constexpr uint64_t kCompactExtended = 31;
constexpr uint64_t kLargeExtended = 65535;
constexpr int kMaxDepth = 16;
// Read bytes are released (MappedFile::Release) in steps of this much, so
// a reader holds at most about this much of each stream in memory,
// whatever the packet (sub-buffer) size: LTTng's can be MiBs per CPU.
constexpr uint64_t kReleaseStep = 256 * 1024;

// The index of the field called name in fields, or -1.
int FindField(const std::vector<Field> &fields, const char *name) {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == name) return static_cast<int>(i);
  return -1;
}

}  // namespace

uint64_t IntegerElement(const Value &v, const Type &array, uint64_t i) {
  const Type &e = *array.element;
  const uint64_t bit = v.bit + i * e.size_bits;
  const unsigned char *p = v.packet + bit / 8;
  const uint32_t shift = bit % 8;
  uint64_t out = 0;
  if (e.big_endian) {
    for (uint32_t b = 0; b < e.size_bits / 8; ++b) out = (out << 8) | p[b];
  } else {
    const uint32_t bytes = (shift + e.size_bits + 7) / 8;
    unsigned __int128 acc = 0;
    for (uint32_t b = 0; b < bytes; ++b) acc |= static_cast<unsigned __int128>(p[b]) << (8 * b);
    out = static_cast<uint64_t>(acc >> shift);
    if (e.size_bits < 64) out &= (uint64_t{1} << e.size_bits) - 1;
  }
  if (e.is_signed && e.size_bits < 64 && (out >> (e.size_bits - 1)) != 0) out |= ~uint64_t{0} << e.size_bits;
  return out;
}

Expected<StreamReader> StreamReader::Open(const std::string &path, const Metadata &metadata) {
  if (metadata.big_endian) return make_error("the fast reader reads little-endian traces only");
  Expected<MappedFile> file = MappedFile::Open(path);
  if (!file) return file.take_error();
  return StreamReader(std::move(*file), metadata, path);
}

Expected<StreamReader> StreamReader::OverBytes(const unsigned char *data, size_t size,
                                               const Metadata &metadata, const std::string &name) {
  if (metadata.big_endian) return make_error("the fast reader reads little-endian traces only");
  return StreamReader(MappedFile::Borrow(data, size), metadata, name);
}

Error StreamReader::Corrupt(const std::string &what) const {
  return make_error("corrupt CTF stream " + path_ + ": " + what + " (packet at byte " +
                    std::to_string(next_packet_) + ")");
}

bool StreamReader::Align(uint32_t bits) {
  const uint64_t aligned = (pos_ + bits - 1) & ~uint64_t{bits - 1};
  if (aligned > content_end_) {
    failure_ = "alignment past the packet's content";
    return false;
  }
  pos_ = aligned;
  return true;
}

bool StreamReader::ReadBits(uint32_t bits, bool is_signed, bool big_endian, uint64_t &out) {
  if (bits > content_end_ - pos_) {
    failure_ = "a field past the packet's content";
    return false;
  }
  const unsigned char *p = packet_ + pos_ / 8;
  const uint32_t shift = pos_ % 8;
  uint64_t v = 0;
  if (shift == 0 && bits == 64 && !big_endian) {
    std::memcpy(&v, p, 8);
  } else if (shift == 0 && bits == 32 && !big_endian) {
    uint32_t v32;
    std::memcpy(&v32, p, 4);
    v = v32;
  } else if (big_endian) {
    // The parser admits only whole, byte-aligned big-endian integers.
    for (uint32_t i = 0; i < bits / 8; ++i) v = (v << 8) | p[i];
  } else {
    // Little-endian bit field: bits from the lowest of p[0] upward.
    const uint32_t bytes = (shift + bits + 7) / 8;  // at most 9
    unsigned __int128 acc = 0;
    for (uint32_t i = 0; i < bytes; ++i) acc |= static_cast<unsigned __int128>(p[i]) << (8 * i);
    v = static_cast<uint64_t>(acc >> shift);
    if (bits < 64) v &= (uint64_t{1} << bits) - 1;
  }
  if (is_signed && bits < 64 && (v >> (bits - 1)) != 0) v |= ~uint64_t{0} << bits;
  pos_ += bits;
  out = v;
  return true;
}

bool StreamReader::ReadString(std::string_view &out) {
  if (!Align(8)) return false;
  const uint64_t start = pos_ / 8, end = content_end_ / 8;
  const void *nul = std::memchr(packet_ + start, '\0', end - start);
  if (nul == nullptr) {
    failure_ = "a string without its end in the packet";
    return false;
  }
  const size_t len = static_cast<const unsigned char *>(nul) - (packet_ + start);
  out = std::string_view(reinterpret_cast<const char *>(packet_ + start), len);
  pos_ += (len + 1) * 8;
  return true;
}

bool StreamReader::ReadInteger(const Type &t, uint64_t &out) {
  return Align(t.align_bits) && ReadBits(t.size_bits, t.is_signed, t.big_endian, out);
}

void StreamReader::UpdateClock(uint32_t bits, uint64_t value) {
  if (bits >= 64) {
    clock_ = value;
    return;
  }
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t next = (clock_ & ~mask) | value;
  if (value < (clock_ & mask)) next += mask + 1;  // the field wrapped
  clock_ = next;
}

bool StreamReader::ReadField(const Type &t, Value *value, const std::vector<Field> &siblings,
                             const std::vector<Value> &sibling_values, int depth) {
  if (depth > kMaxDepth) {
    failure_ = "types nested too deeply";
    return false;
  }
  switch (t.kind) {
    case Type::Kind::kInteger: {
      uint64_t v = 0;
      if (!ReadInteger(t, v)) return false;
      if (value != nullptr) value->u = v;
      return true;
    }
    case Type::Kind::kString: {
      std::string_view str;
      if (!ReadString(str)) return false;
      if (value != nullptr) value->str = str;
      return true;
    }
    case Type::Kind::kStruct:
      return ReadStruct(t, nullptr, depth + 1);
    case Type::Kind::kArray:
    case Type::Kind::kSequence: {
      uint64_t length = t.length;
      if (t.kind == Type::Kind::kSequence) {
        // The parser checked that an earlier sibling has this name; the
        // nearest one before this field is the one meant.
        length = 0;
        bool found = false;
        for (size_t i = 0; i < sibling_values.size() && i < siblings.size(); ++i) {
          if (siblings[i].name == t.length_field) {
            length = sibling_values[i].u;
            found = true;
          }
        }
        if (!found) {
          failure_ = "a sequence whose length was not read";
          return false;
        }
      }
      if (value != nullptr) value->u = length;
      if (length == 0) return true;
      if (!Align(t.align_bits)) return false;
      const Type &e = *t.element;
      if (e.kind == Type::Kind::kInteger && e.size_bits % e.align_bits == 0) {
        // Packed: no padding between elements; one bounds check.
        if (length > (content_end_ - pos_) / e.size_bits) {
          failure_ = "an array past the packet's content";
          return false;
        }
        if (value != nullptr) {
          value->packet = packet_;
          value->bit = pos_;
        }
        if (value != nullptr && e.size_bits == 8 && pos_ % 8 == 0) {
          value->str = std::string_view(reinterpret_cast<const char *>(packet_ + pos_ / 8), length);
        }
        pos_ += length * e.size_bits;
        return true;
      }
      for (uint64_t i = 0; i < length; ++i) {
        const uint64_t before = pos_;
        if (!ReadField(e, nullptr, {}, {}, depth + 1)) return false;
        if (pos_ == before) break;  // empty elements: nothing more to read
      }
      return true;
    }
    case Type::Kind::kVariant:
      break;
  }
  failure_ = "a field type the fast reader does not read";
  return false;
}

bool StreamReader::ReadStruct(const Type &t, std::vector<Value> *values, int depth) {
  if (!Align(t.align_bits)) return false;
  // Sequence lengths refer to earlier members: keep the values even when
  // the caller does not want them.
  std::vector<Value> local;
  std::vector<Value> &out = values != nullptr ? *values : local;
  out.clear();
  out.reserve(t.fields.size());
  for (const Field &f : t.fields) {
    out.emplace_back();
    if (!ReadField(*f.type, &out.back(), t.fields, out, depth)) return false;
  }
  return true;
}

Status StreamReader::OpenPacket(Item &item, bool &reported) {
  reported = false;
  if (!manual_release_) {
    file_.Release(next_packet_);  // the previous packets are read
    released_ = next_packet_;
  }
  const uint64_t size = file_.size();
  packet_ = file_.data() + next_packet_;
  pos_ = 0;
  // Until the packet's sizes are known, the rest of the file bounds reads.
  content_end_ = (size - next_packet_) * 8;

  if (!ReadStruct(*metadata_->packet_header, &scratch_, 0))
    return Corrupt(failure_ + " in the packet header");
  const std::vector<Field> &header = metadata_->packet_header->fields;
  if (int i = FindField(header, "magic"); i >= 0 && scratch_[i].u != kPacketMagic) {
    return Corrupt("bad packet magic number");
  }
  if (int i = FindField(header, "uuid"); i >= 0 && metadata_->has_uuid) {
    // A byte array's value keeps its bytes (see ReadField).
    if (scratch_[i].str.size() != sizeof metadata_->uuid ||
        std::memcmp(scratch_[i].str.data(), metadata_->uuid, sizeof metadata_->uuid) != 0) {
      return Corrupt("a packet of another trace (its uuid is not the metadata's)");
    }
  }
  uint64_t stream_id = 0;
  if (int i = FindField(header, "stream_id"); i >= 0) stream_id = scratch_[i].u;
  if (int i = FindField(header, "stream_instance_id"); i >= 0) {
    if (has_instance_id_ && instance_id_ != scratch_[i].u)
      return Corrupt("packets of two stream instances in one file");
    instance_id_ = scratch_[i].u;
    has_instance_id_ = true;
  }
  auto it = metadata_->streams.find(stream_id);
  if (it == metadata_->streams.end())
    return Corrupt("a packet of undeclared stream " + std::to_string(stream_id));
  stream_ = &it->second;

  if (!ReadStruct(*stream_->packet_context, &scratch_, 0))
    return Corrupt(failure_ + " in the packet context");
  const std::vector<Field> &context = stream_->packet_context->fields;
  const int content_i = FindField(context, "content_size");
  const int packet_i = FindField(context, "packet_size");
  if (content_i < 0 || packet_i < 0) return Corrupt("a packet context without content_size and packet_size");
  const uint64_t content_bits = scratch_[content_i].u, packet_bits = scratch_[packet_i].u;
  if (packet_bits % 8 != 0 || packet_bits == 0 || content_bits > packet_bits || content_bits < pos_ ||
      packet_bits / 8 > size - next_packet_) {
    return Corrupt("impossible packet sizes (content " + std::to_string(content_bits) + " bits, packet " +
                   std::to_string(packet_bits) + " bits, " + std::to_string(size - next_packet_) +
                   " bytes left in the file)");
  }
  content_end_ = content_bits;
  next_packet_ += packet_bits / 8;
  if (int i = FindField(context, "timestamp_begin"); i >= 0) clock_ = scratch_[i].u;
  packet_begin_ = clock_;
  const int end_i = FindField(context, "timestamp_end");
  packet_end_ = end_i >= 0 ? scratch_[end_i].u : packet_begin_;
  in_packet_ = true;

  // The tracer's running count of lost events: report what this packet
  // adds to the previous one's.
  if (int i = FindField(context, "events_discarded"); i >= 0) {
    const uint64_t total = scratch_[i].u;
    const uint64_t before = has_discarded_ ? prev_discarded_ : 0;
    has_discarded_ = true;
    prev_discarded_ = total;
    // LTTng-UST sometimes writes a packet whose count is 0 in the middle
    // of a stream (seen in a flood with per-UID buffers): babeltrace2 then
    // reports the difference modulo 2^64, which the next packet's report
    // undoes in every sum. Do the same.
    if (total != before) {
      item = Item{};
      item.kind = Item::Kind::kDiscarded;
      item.cycles = clock_;
      item.discarded = total - before;
      reported = true;
    }
  }
  return Status::Ok();
}

StreamReader::Plan StreamReader::MakePlan(const Type *t) {
  Plan plan;
  if (t == nullptr || t->kind != Type::Kind::kStruct) return plan;
  const auto whole_le_integer = [](const Type &i) {
    return i.kind == Type::Kind::kInteger && !i.big_endian && i.align_bits % 8 == 0 &&
           (i.size_bits == 8 || i.size_bits == 16 || i.size_bits == 32 || i.size_bits == 64);
  };
  plan.align_bits = t->align_bits;
  for (size_t i = 0; i < t->fields.size(); ++i) {
    const Type &f = *t->fields[i].type;
    Op op;
    if (whole_le_integer(f)) {
      op.kind = Op::Kind::kInt;
      op.is_signed = f.is_signed;
      op.align_bits = f.align_bits;
      op.size_bits = f.size_bits;
    } else if (f.kind == Type::Kind::kString) {
      op.kind = Op::Kind::kString;
    } else if ((f.kind == Type::Kind::kArray || f.kind == Type::Kind::kSequence) && f.element &&
               whole_le_integer(*f.element) && f.element->size_bits % f.element->align_bits == 0) {
      op.align_bits = f.align_bits;
      op.element_bits = f.element->size_bits;
      if (f.kind == Type::Kind::kArray) {
        op.kind = Op::Kind::kArray;
        op.length = f.length;
      } else {
        // The nearest earlier field of that name, as ReadField finds it.
        op.kind = Op::Kind::kSequence;
        bool found = false;
        for (size_t j = 0; j < i; ++j) {
          if (t->fields[j].name == f.length_field) {
            op.length_index = j;
            found = true;
          }
        }
        if (!found) return Plan{};
      }
    } else {
      return Plan{};
    }
    plan.ops.push_back(op);
  }
  plan.fast = true;
  return plan;
}

bool StreamReader::RunPlan(const Plan &plan, std::vector<Value> &out) {
  if (!Align(plan.align_bits)) return false;
  out.resize(plan.ops.size());
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const Op &op = plan.ops[i];
    Value &v = out[i];
    v = Value{};
    switch (op.kind) {
      case Op::Kind::kInt: {
        if (!Align(op.align_bits)) return false;
        if (op.size_bits > content_end_ - pos_) {
          failure_ = "a field past the packet's content";
          return false;
        }
        const unsigned char *p = packet_ + pos_ / 8;
        uint64_t x = 0;
        switch (op.size_bits) {
          case 8:
            x = p[0];
            break;
          case 16: {
            uint16_t y;
            std::memcpy(&y, p, 2);
            x = y;
            break;
          }
          case 32: {
            uint32_t y;
            std::memcpy(&y, p, 4);
            x = y;
            break;
          }
          default:
            std::memcpy(&x, p, 8);
            break;
        }
        if (op.is_signed && op.size_bits < 64 && (x >> (op.size_bits - 1)) != 0)
          x |= ~uint64_t{0} << op.size_bits;
        v.u = x;
        pos_ += op.size_bits;
        break;
      }
      case Op::Kind::kString:
        if (!ReadString(v.str)) return false;
        break;
      case Op::Kind::kSequence:
      case Op::Kind::kArray: {
        const uint64_t length = op.kind == Op::Kind::kArray ? op.length : out[op.length_index].u;
        v.u = length;
        if (length == 0) break;
        if (!Align(op.align_bits)) return false;
        if (length > (content_end_ - pos_) / op.element_bits) {
          failure_ = "an array past the packet's content";
          return false;
        }
        v.packet = packet_;
        v.bit = pos_;
        if (op.element_bits == 8)
          v.str = std::string_view(reinterpret_cast<const char *>(packet_ + pos_ / 8), length);
        pos_ += length * op.element_bits;
        break;
      }
    }
  }
  return true;
}

const StreamReader::ClassEntry &StreamReader::ClassOf(uint64_t id) {
  // LTTng numbers a session's event classes from 0: a small table covers
  // them; a larger id goes to the map each time.
  constexpr uint64_t kCachedIds = 4096;
  if (classes_of_ != stream_) {
    classes_.clear();
    classes_of_ = stream_;
    context_plan_ = MakePlan(stream_->event_context.get());
  }
  const auto look_up = [&](ClassEntry &e) {
    auto it = metadata_->events.find({stream_->id, id});
    e.looked_up = true;
    e.cls = it != metadata_->events.end() ? &it->second : nullptr;
    e.plan = e.cls != nullptr ? MakePlan(e.cls->payload.get()) : Plan{};
  };
  if (id >= kCachedIds) {
    look_up(uncached_);
    return uncached_;
  }
  if (id >= classes_.size()) classes_.resize(id + 1);
  ClassEntry &e = classes_[id];
  if (!e.looked_up) look_up(e);
  return e;
}

Status StreamReader::ReadEventHeader(uint64_t &id, uint64_t &ts, uint32_t &ts_bits) {
  if (!Align(8)) return Corrupt(failure_);
  // The common case in one load: a compact header (5-bit id, 27-bit
  // time) or a large one (16-bit id, 32-bit time) that is not extended.
  const unsigned char *p = packet_ + pos_ / 8;
  if (stream_->header == EventHeader::kCompact && content_end_ - pos_ >= 32) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    if ((v & 31) != kCompactExtended) {
      id = v & 31;
      ts = v >> 5;
      ts_bits = 27;
      pos_ += 32;
      return Status::Ok();
    }
  } else if (stream_->header == EventHeader::kLarge && content_end_ - pos_ >= 48) {
    uint16_t i16;
    std::memcpy(&i16, p, 2);
    if (i16 != kLargeExtended) {
      uint32_t t32;
      std::memcpy(&t32, p + 2, 4);
      id = i16;
      ts = t32;
      ts_bits = 32;
      pos_ += 48;
      return Status::Ok();
    }
  }
  bool ok = true;
  if (stream_->header == EventHeader::kCompact) {
    ok = ReadBits(5, false, false, id);
    if (ok && id != kCompactExtended) {
      ts_bits = 27;
      ok = ReadBits(27, false, false, ts);
    } else if (ok) {
      ts_bits = 64;
      ok = Align(8) && ReadBits(32, false, false, id) && ReadBits(64, false, false, ts);
    }
  } else {
    ok = ReadBits(16, false, false, id);
    if (ok && id != kLargeExtended) {
      ts_bits = 32;
      ok = ReadBits(32, false, false, ts);
    } else if (ok) {
      ts_bits = 64;
      ok = ReadBits(32, false, false, id) && ReadBits(64, false, false, ts);
    }
  }
  if (!ok) return Corrupt(failure_ + " in an event header");
  return Status::Ok();
}

Status StreamReader::ReadEvent(Item &item, std::vector<Value> &payload) {
  uint64_t id = 0, ts = 0;
  uint32_t ts_bits = 0;
  if (Status st = ReadEventHeader(id, ts, ts_bits); !st) return st;
  UpdateClock(ts_bits, ts);
  const ClassEntry &entry = ClassOf(id);
  if (stream_->event_context) {
    const bool read = context_plan_.fast && !generic_only_ ? RunPlan(context_plan_, scratch_)
                                                           : ReadStruct(*stream_->event_context, nullptr, 0);
    if (!read) return Corrupt(failure_ + " in an event context");
  }
  if (entry.cls == nullptr) return Corrupt("an event of undeclared id " + std::to_string(id));
  const EventClass &cls = *entry.cls;
  if (cls.payload) {
    const bool read = entry.plan.fast && !generic_only_ ? RunPlan(entry.plan, payload)
                                                        : ReadStruct(*cls.payload, &payload, 0);
    if (!read) return Corrupt(failure_ + " in a " + cls.name + " event");
  } else {
    payload.clear();
  }
  item = Item{};
  item.kind = Item::Kind::kEvent;
  item.event = &cls;
  item.payload = &payload;
  item.cycles = clock_;
  return Status::Ok();
}

Status StreamReader::CheckPackets() {
  StreamReader probe(MappedFile::Borrow(file_.data(), file_.size()), *metadata_, path_);
  uint64_t prev_end = 0;
  bool first = true;
  while (probe.next_packet_ < probe.file_.size()) {
    Item ignored;
    bool reported = false;
    if (Status st = probe.OpenPacket(ignored, reported); !st) return st;
    if (probe.packet_end_ < probe.packet_begin_) return probe.Corrupt("a packet that ends before it begins");
    if (!first && probe.packet_begin_ < prev_end)
      return probe.Corrupt("a packet that begins before the previous one ends");
    first = false;
    prev_end = probe.packet_end_;
    file_.Release(probe.next_packet_);  // the probe reads through our mapping
  }
  if (probe.stream_ != nullptr) stream_class_id_ = probe.stream_->id;
  has_instance_id_ = probe.has_instance_id_;
  instance_id_ = probe.instance_id_;
  file_.Rewind();
  return Status::Ok();
}

Status StreamReader::Next(Item &item, std::vector<Value> &payload) {
  if (failed_) return make_error("reading " + path_ + " failed before");
  if (in_packet_ && !manual_release_) {
    const uint64_t at = static_cast<uint64_t>(packet_ - file_.data()) + pos_ / 8;
    if (at - released_ >= kReleaseStep) {
      file_.Release(at);
      released_ = at;
    }
  }
  while (true) {
    if (in_packet_ && pos_ < content_end_) {
      // Padding shorter than an event header ends the content too.
      Status st = ReadEvent(item, payload);
      if (!st) failed_ = true;
      return st;
    }
    in_packet_ = false;
    if (next_packet_ >= file_.size()) {
      item = Item{};
      return Status::Ok();
    }
    bool reported = false;
    if (Status st = OpenPacket(item, reported); !st) {
      failed_ = true;
      return st;
    }
    if (reported) return Status::Ok();
  }
}

}  // namespace bdtrace::analyzer::ctf
