// SPDX-License-Identifier: MIT
#include "fast_reader.h"

#include <sched.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "bdtrace/analyzer/reader.h"
#include "ctf/clock.h"
#include "ctf/prefetch.h"
#include "ctf/trace.h"
#include "event_delivery.h"
#include "event_layouts.h"

namespace bdtrace::analyzer {

namespace {

// One event's payload as event_delivery.h reads it: the walker's values,
// one per top-level payload field, and the fields' types.
class CtfFields {
 public:
  CtfFields(const std::vector<ctf::Value> &values, const std::vector<ctf::Field> &fields)
      : values_(values), fields_(fields) {}

  uint64_t Value(const Slot &s) const {
    return (s.kind == FieldKind::kUnsigned || s.kind == FieldKind::kSigned) ? values_[s.index].u : 0;
  }
  std::string_view Str(const Slot &s) const {
    return s.kind == FieldKind::kString ? values_[s.index].str : "";
  }
  uint64_t Length(const Slot &s) const { return s.kind == FieldKind::kArray ? values_[s.index].u : 0; }
  uint64_t Element(const Slot &s, uint64_t i) const {
    const ctf::Value &v = values_[s.index];
    const ctf::Type &array = *fields_[s.index].type;
    // Packed integer elements only (what LTTng writes); babeltrace2's
    // view of a signed element reads as 0 in the analyzer, so here too.
    if (v.packet == nullptr || i >= v.u || array.element->is_signed) return 0;
    return ctf::IntegerElement(v, array, i);
  }

 private:
  const std::vector<ctf::Value> &values_;
  const std::vector<ctf::Field> &fields_;
};

const std::vector<ctf::Field> kNoFields;

Slot FindField(const ctf::EventClass &cls, const char *name) {
  Slot s;
  if (!cls.payload) return s;
  const std::vector<ctf::Field> &fields = cls.payload->fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    // CTF 1.8 drops one leading underscore of a field name (LTTng writes
    // "_vcpu"); babeltrace2 shows "vcpu".
    std::string_view field = fields[i].name;
    if (!field.empty() && field[0] == '_') field.remove_prefix(1);
    if (field != name) continue;
    const ctf::Type &t = *fields[i].type;
    s.index = i;
    switch (t.kind) {
      case ctf::Type::Kind::kInteger:
        s.kind = t.is_signed ? FieldKind::kSigned : FieldKind::kUnsigned;
        break;
      case ctf::Type::Kind::kString:
        s.kind = FieldKind::kString;
        break;
      case ctf::Type::Kind::kArray:
      case ctf::Type::Kind::kSequence:
        s.kind = FieldKind::kArray;
        break;
      default:
        break;
    }
    break;
  }
  return s;
}

// Do both readers see this payload field alike? An array or sequence of
// encoded (text) bytes is a string to babeltrace2; CtfFields reads the
// elements of packed integer arrays only (ctf::IntegerElement).
bool ReadAlike(const ctf::Type &t) {
  if (t.kind != ctf::Type::Kind::kArray && t.kind != ctf::Type::Kind::kSequence) return true;
  const ctf::Type *e = t.element.get();
  return e != nullptr && e->kind == ctf::Type::Kind::kInteger && !e->encoded && e->align_bits > 0 &&
         e->size_bits % e->align_bits == 0;
}

struct FastClass {
  ClassInfo info;
  const std::vector<ctf::Field> *fields = &kNoFields;
};

struct OpenTrace {
  ctf::Trace trace;
  uint32_t number = 0;  // its index in trace_dirs
  uint32_t rank = 0;    // its place in babeltrace2's order of traces
  std::string name;     // babeltrace2's name of it
  ctf::NsFromOrigin ns{ctf::Clock{}};
  std::unordered_map<const ctf::EventClass *, FastClass> classes;
};

struct Cursor {
  OpenTrace *trace = nullptr;
  ctf::StreamReader *reader = nullptr;
  ctf::StreamPrefetcher *ahead = nullptr;  // reads `reader` on its own thread, when set
  std::string_view file;                   // the stream's file name
  uint64_t stream_class = 0, stream_id = 0;
  ctf::Item item;
  int64_t ns = 0;
  bool bad_time = false;  // item's time overflows: delivered at 0
};

// babeltrace2's order of messages of equal time (its muxer's): by trace
// UUID, trace name, stream class id and stream id.
bool Before(const Cursor &a, const Cursor &b) {
  if (a.ns != b.ns) return a.ns < b.ns;
  if (a.trace->rank != b.trace->rank) return a.trace->rank < b.trace->rank;
  if (a.stream_class != b.stream_class) return a.stream_class < b.stream_class;
  return a.stream_id < b.stream_id;
}

}  // namespace

class FastTraces {
 public:
  std::vector<std::string> dirs;
  std::vector<std::unique_ptr<OpenTrace>> traces;
  std::vector<Cursor> cursors;
};

void FastTracesDeleter::operator()(FastTraces *traces) const { delete traces; }

size_t StreamCount(const FastTraces &traces) { return traces.cursors.size(); }

namespace {

Status CheckTrace(OpenTrace &t) {
  const ctf::Metadata &m = *t.trace.metadata;
  if (!m.has_clock) return make_error("the trace in " + t.trace.dir + " has no clock");
  t.ns = ctf::NsFromOrigin(m.clock);
  if (!t.ns.valid()) return make_error("the clock offset of " + t.trace.dir + " overflows");
  for (const auto &[ids, cls] : m.events) {
    if (!cls.payload || cls.name.rfind("bdtrace:", 0) != 0) continue;
    for (const ctf::Field &f : cls.payload->fields) {
      if (!ReadAlike(*f.type))
        return make_error(cls.name + "'s field " + f.name +
                          " is an array the fast reader does not read alike");
    }
  }
  // source.ctf.fs names the trace "<hostname>/<trace-name>" (reader.cc
  // passes the directory as the trace name).
  t.name = m.has_hostname ? m.hostname + "/" + t.trace.dir : t.trace.dir;
  return Status::Ok();
}

// babeltrace2's comparison of two traces' UUIDs, then names.
bool TraceBefore(const OpenTrace &a, const OpenTrace &b) {
  const ctf::Metadata &ma = *a.trace.metadata, &mb = *b.trace.metadata;
  if (ma.has_uuid != mb.has_uuid) return ma.has_uuid;
  if (ma.has_uuid) {
    if (const int c = std::memcmp(ma.uuid, mb.uuid, sizeof ma.uuid); c != 0) return c < 0;
  }
  return a.name < b.name;
}

}  // namespace

Expected<FastTracesPtr> OpenFastTraces(const std::vector<std::string> &trace_dirs) {
  FastTracesPtr out(new FastTraces);
  out->dirs = trace_dirs;
  for (size_t i = 0; i < trace_dirs.size(); ++i) {
    Expected<ctf::Trace> trace = ctf::OpenTrace(trace_dirs[i]);
    if (!trace) return trace.take_error();
    auto open = std::make_unique<OpenTrace>();
    open->trace = std::move(*trace);
    open->number = static_cast<uint32_t>(i);
    if (Status st = CheckTrace(*open); !st) return st.take_error();
    out->traces.push_back(std::move(open));
  }
  std::vector<OpenTrace *> order;
  for (auto &t : out->traces) order.push_back(t.get());
  std::stable_sort(order.begin(), order.end(),
                   [](const OpenTrace *a, const OpenTrace *b) { return TraceBefore(*a, *b); });
  for (size_t r = 0; r < order.size(); ++r) order[r]->rank = static_cast<uint32_t>(r);

  for (auto &t : out->traces) {
    std::set<std::pair<uint64_t, uint64_t>> ids;
    for (size_t s = 0; s < t->trace.streams.size(); ++s) {
      ctf::StreamReader &reader = t->trace.streams[s];
      if (Status st = reader.CheckPackets(); !st) return st.take_error();
      if (reader.empty()) continue;
      if (!reader.has_instance_id())
        return make_error("a stream of " + t->trace.dir + " has no stream_instance_id");
      // babeltrace2 makes one stream of several files of one instance
      // (a rotated trace): not read here.
      if (!ids.emplace(reader.stream_class_id(), reader.instance_id()).second)
        return make_error("two files of one stream in " + t->trace.dir);
      Cursor c;
      c.trace = t.get();
      c.reader = &reader;
      c.file = t->trace.stream_names[s];
      c.stream_class = reader.stream_class_id();
      c.stream_id = reader.instance_id();
      out->cursors.push_back(c);
    }
  }
  return out;
}

namespace {

class Merger {
 public:
  Merger(FastTraces &traces, EventDelivery &delivery) : traces_(traces), delivery_(delivery) {}

  // Every stream read ahead on a thread of its own (prefetch.h). The
  // threads stop when the Merger goes.
  Status ReadAhead() {
    for (Cursor &c : traces_.cursors) {
      ahead_.push_back(std::make_unique<ctf::StreamPrefetcher>(*c.reader));
      if (Status st = ahead_.back()->Start(); !st) return st;
      c.ahead = ahead_.back().get();
    }
    return Status::Ok();
  }

  Status Run() {
    for (Cursor &c : traces_.cursors) {
      if (Status st = Advance(c); !st) return st;
      if (c.item.kind != ctf::Item::Kind::kEnd) heap_.push_back(&c);
    }
    const auto after = [](const Cursor *a, const Cursor *b) { return Before(*b, *a); };
    std::make_heap(heap_.begin(), heap_.end(), after);
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), after);
      Cursor *c = heap_.back();
      heap_.pop_back();
      // Deliver from this stream while it stays first: no heap work for
      // runs of events of one stream.
      do {
        Deliver(*c);
        if (Status st = Advance(*c); !st) return st;
      } while (c->item.kind != ctf::Item::Kind::kEnd && (heap_.empty() || Before(*c, *heap_.front())));
      if (c->item.kind != ctf::Item::Kind::kEnd) {
        heap_.push_back(c);
        std::push_heap(heap_.begin(), heap_.end(), after);
      }
    }
    return Status::Ok();
  }

 private:
  Status Advance(Cursor &c) {
    if (Status st = c.ahead != nullptr ? c.ahead->Next(c.item) : c.reader->Next(c.item); !st) return st;
    if (c.item.kind == ctf::Item::Kind::kEnd) return Status::Ok();
    c.bad_time = !c.trace->ns(c.item.cycles, c.ns);
    if (c.bad_time) c.ns = 0;
    return Status::Ok();
  }

  void Deliver(const Cursor &c) {
    if (c.item.kind == ctf::Item::Kind::kDiscarded) {
      DiscardedEventsMessage d;
      d.count = c.item.discarded;
      d.trace = c.trace->number;
      d.stream = c.file;
      delivery_.Discarded(d);
      return;
    }
    const FastClass &cls = Lookup(*c.trace, *c.item.event);
    if (c.bad_time) delivery_.WarnBadClock();
    delivery_.Event(CtfFields(*c.item.payload, *cls.fields), cls.info, c.ns);
  }

  const FastClass &Lookup(OpenTrace &t, const ctf::EventClass &cls) {
    if (&cls == last_event_class_) return *last_class_;
    auto it = t.classes.find(&cls);
    if (it == t.classes.end()) it = t.classes.emplace(&cls, Describe(t, cls)).first;
    last_event_class_ = &cls;
    last_class_ = &it->second;  // stable: unordered_map never moves its values
    return *last_class_;
  }

  FastClass Describe(const OpenTrace &t, const ctf::EventClass &cls) {
    FastClass out;
    ClassInfo &info = out.info;
    info.name = cls.name;
    info.has_clock = true;
    info.trace = t.number;
    if (cls.payload) out.fields = &cls.payload->fields;
    DescribeFields(
        info, [&](const char *field) { return FindField(cls, field); },
        [&](std::string warning) { delivery_.visitor().OnWarning(std::move(warning)); });
    if (info.type != EventType::kOther) {
      // As EventDecoder::DescribeGuestTime: guest_ts + the clock's offset.
      const Slot guest_ts = FindField(cls, "guest_ts");
      if (guest_ts.kind == FieldKind::kUnsigned) {
        info.guest_ts = guest_ts;
        info.guest_offset_ns = t.ns.offset_ns();
        delivery_.CheckGuestClock(info.name, t.trace.metadata->clock.name.c_str());
      }
    }
    return out;
  }

  FastTraces &traces_;
  EventDelivery &delivery_;
  std::vector<std::unique_ptr<ctf::StreamPrefetcher>> ahead_;
  std::vector<Cursor *> heap_;
  const ctf::EventClass *last_event_class_ = nullptr;
  const FastClass *last_class_ = nullptr;
};

}  // namespace

bool ReadAheadPays(size_t streams) {
  // The CPUs this process may run on (taskset, cgroups' cpusets), not the
  // machine's.
  cpu_set_t set;
  const unsigned cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? static_cast<unsigned>(CPU_COUNT(&set))
                                                                    : std::thread::hardware_concurrency();
  return cpus >= kMinCpusReadAhead && streams >= 2 && streams <= kMaxStreamsReadAhead;
}

Status ReadFastTraces(FastTraces &traces, EventVisitor &visitor, const ReorderOptions &reorder,
                      ReorderStats *order, bool read_ahead) {
  EventDelivery delivery(visitor, reorder);
  Merger merger(traces, delivery);
  if (read_ahead) {
    if (Status st = merger.ReadAhead(); !st) return st;
  }
  // The visitors may throw (events.h): the same error as babeltrace2's
  // path gives (decoder_sink.cc), never an exception out of the reader.
  try {
    if (Status st = merger.Run(); !st) {
      return st.take_error().Wrap("cannot read the trace in " + JoinTraceDirs(traces.dirs) +
                                  " (truncated or corrupt?)");
    }
    delivery.Finish();
  } catch (const std::exception &e) {
    return Error{std::string("analyzing an event failed: ") + (e.what()[0] != '\0' ? e.what() : "exception"),
                 {}};
  } catch (...) {
    return Error{"analyzing an event failed: unknown exception", {}};
  }
  if (order != nullptr) *order = delivery.order_stats();
  return Status::Ok();
}

}  // namespace bdtrace::analyzer
