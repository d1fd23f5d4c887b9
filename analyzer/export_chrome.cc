// SPDX-License-Identifier: MIT
// ChromeExporter: bdtrace events as Chrome trace JSON, written as they
// arrive. See export.h for the mapping.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bdtrace/analyzer/export.h"
#include "export_util.h"

namespace bdtrace::analyzer {

using export_util::AppendJsonString;
using export_util::AppendMicros;

namespace {

// sched_switch names vCPUs by index; more than this is a corrupt event.
constexpr uint32_t kMaxVcpus = 4096;
// Args above this lose precision as JSON numbers (doubles in most readers).
constexpr uint64_t kMaxExactDouble = uint64_t{1} << 53;

uint64_t ThreadKey(uint32_t pid, uint32_t tid) { return uint64_t{pid} << 32 | tid; }

}  // namespace

struct ChromeExporter::State {
  enum class Mode { kUndecided, kUser, kSystem };
  struct Trace {
    Mode mode = Mode::kUndecided;
    bool session = false, system_session = false, named = false;
    std::string vm, programs;
    std::vector<bool> running;            // by vCPU: a B is open there
    std::unordered_set<uint32_t> tracks;  // tids whose thread_name is written
  };
  struct OpenRegion {
    uint32_t region, track;
    uint64_t id;
    std::string name;
  };

  std::ostream &out;
  EventNames names;
  bool names_final;  // given up front: ignore the trace's event_name events
  export_util::Clock clock;
  std::string buf;
  bool first = true, finished = false;
  bool args_first = false;  // the next Key is the first inside "args"
  std::vector<Trace> traces;
  std::vector<std::string> vm_names;  // by trace; empty: one run
  // (trace, pid << 32 | tid) -> open regions, innermost last.
  std::map<std::pair<uint32_t, uint64_t>, std::vector<OpenRegion>> open;
  uint64_t blocks_drawn = 0, blocks_not_drawn = 0;
  // (trace, pid, tid, region, depth) -> async id: one async track each.
  std::map<std::tuple<uint32_t, uint32_t, uint32_t, uint32_t, uint32_t>, uint64_t> async_ids;

  State(std::ostream &o, EventNames n, bool final) : out(o), names(std::move(n)), names_final(final) {
    out << "{\"traceEvents\":[\n";
  }

  Trace &GetTrace(uint32_t t) {
    if (t >= traces.size()) traces.resize(t + 1);
    return traces[t];
  }
  static uint32_t Pid(uint32_t trace) { return trace + 1; }

  // ---- writing one event -------------------------------------------------------
  void Start(char ph, uint32_t pid, uint32_t tid) {
    buf.clear();
    buf += first ? "{\"ph\":\"" : ",\n{\"ph\":\"";
    first = false;
    buf += ph;
    buf += "\",\"pid\":";
    buf += std::to_string(pid);
    buf += ",\"tid\":";
    buf += std::to_string(tid);
  }
  void Ts(int64_t rel_ns) {
    buf += ",\"ts\":";
    AppendMicros(buf, rel_ns);
  }
  void Key(const char *key) {
    buf += args_first ? "\"" : ",\"";
    args_first = false;
    buf += key;
    buf += "\":";
  }
  void Str(const char *key, std::string_view value) {
    Key(key);
    AppendJsonString(buf, value);
  }
  void Num(const char *key, uint64_t value) {
    Key(key);
    if (value <= kMaxExactDouble) {
      buf += std::to_string(value);
    } else {
      char hex[24];
      std::snprintf(hex, sizeof hex, "\"0x%" PRIx64 "\"", value);
      buf += hex;
    }
  }
  // Args: opened with ArgsBegin (the next Str/Num go inside), then ArgsEnd.
  void ArgsBegin() {
    buf += ",\"args\":{";
    args_first = true;
  }
  void ArgsEnd() { buf += '}'; }
  void Flush() {
    buf += '}';
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  }

  void Metadata(const char *what, uint32_t pid, uint32_t tid, std::string_view name) {
    Start('M', pid, tid);
    Str("name", what);
    buf += ",\"args\":{\"name\":";
    AppendJsonString(buf, name);
    buf += '}';
    Flush();
  }
  void SortIndex(const char *what, uint32_t pid, uint32_t tid, uint32_t index) {
    Start('M', pid, tid);
    Str("name", what);
    buf += ",\"args\":{\"sort_index\":" + std::to_string(index) + "}";
    Flush();
  }

  // ---- processes and tracks ----------------------------------------------------
  void NameProcess(uint32_t t) {
    Trace &tr = GetTrace(t);
    std::string name;
    if (!tr.session) {
      name = "trace " + std::to_string(t);
    } else if (tr.system_session) {
      name = tr.vm.empty() ? "VM " + std::to_string(t) : tr.vm;
    } else {
      name = "user: " + tr.programs;
    }
    if (t < vm_names.size() && !vm_names[t].empty() && vm_names[t] != name) {
      name = vm_names[t] + " (" + name + ")";
    }
    if (!tr.named) SortIndex("process_sort_index", Pid(t), Pid(t), t);
    tr.named = true;
    Metadata("process_name", Pid(t), Pid(t), name);
  }

  bool System(uint32_t t) {
    Trace &tr = GetTrace(t);
    if (tr.mode == Mode::kUndecided) tr.mode = tr.system_session ? Mode::kSystem : Mode::kUser;
    return tr.mode == Mode::kSystem;
  }

  // The track (tid) of an event made by guest thread tid on vcpu, named.
  uint32_t Track(uint32_t t, uint32_t vcpu, uint32_t tid) {
    Trace &tr = GetTrace(t);
    if (!tr.named) NameProcess(t);
    const bool system = System(t);
    const uint32_t track = system ? vcpu : tid;
    if (tr.tracks.insert(track).second) {
      Metadata("thread_name", Pid(t), track, (system ? "vCPU " : "tid ") + std::to_string(track));
      SortIndex("thread_sort_index", Pid(t), track, track);
    }
    return track;
  }

  // The track of the calls made on vcpu (system) or by tid (user), named:
  // beside the events' own track, because a call is drawn from its start,
  // before the events emitted while its handler ran; the calls of one
  // vCPU (thread) follow each other, so their track's time never goes
  // back.
  uint32_t CallTrack(uint32_t t, uint32_t vcpu, uint32_t tid) {
    const uint32_t track = Track(t, vcpu, tid);
    const uint32_t calls = kCallTrackBase + track;
    Trace &tr = GetTrace(t);
    if (tr.tracks.insert(calls).second) {
      Metadata("thread_name", Pid(t), calls,
               (System(t) ? "vCPU " : "tid ") + std::to_string(track) + " calls");
      SortIndex("thread_sort_index", Pid(t), calls, track);
    }
    return calls;
  }
  static constexpr uint32_t kCallTrackBase = 1'000'000'000;

  std::string NameOf(uint32_t id, const char *prefix) const {
    auto it = names.find(id);
    return it != names.end() ? it->second : prefix + std::to_string(id);
  }

  void EndRun(uint32_t t, uint32_t vcpu, int64_t rel) {
    Start('E', Pid(t), vcpu);
    Ts(rel);
    Flush();
  }
  void EndRegion(uint32_t t, const OpenRegion &r, uint32_t track, int64_t rel) {
    Start('e', Pid(t), track);
    Ts(rel);
    Str("cat", "region");
    Num("id", r.id);
    Str("name", r.name);
    Flush();
  }
};

ChromeExporter::ChromeExporter(std::ostream &out) : s_(std::make_unique<State>(out, EventNames{}, false)) {}

ChromeExporter::ChromeExporter(std::ostream &out, EventNames final_names)
    : s_(std::make_unique<State>(out, std::move(final_names), true)) {}

ChromeExporter::~ChromeExporter() = default;

void ChromeExporter::SetVmNames(std::vector<std::string> names_by_trace) {
  s_->vm_names = std::move(names_by_trace);
}

void ChromeExporter::OnSession(const SessionEvent &e) {
  if (s_->finished) return;
  s_->clock.Rel(e.ts_ns);
  State::Trace &tr = s_->GetTrace(e.trace);
  const bool system = e.mode == "system";
  if (system) tr.system_session = true;
  tr.session = true;
  if (!e.vm.empty()) tr.vm = std::string(e.vm);
  // Per-user buffers can hold several QEMU runs in one trace.
  const std::string program(e.program);
  if (tr.programs.empty()) {
    tr.programs = program;
  } else if (tr.programs.find(program) == std::string::npos && tr.programs.size() < 200) {
    tr.programs += ", " + program;
  }
  s_->NameProcess(e.trace);
}

void ChromeExporter::OnSchedSwitch(const SchedSwitchEvent &e) {
  if (s_->finished) return;
  const int64_t rel = s_->clock.Rel(e.ts_ns);
  if (e.vcpu >= kMaxVcpus) return;
  State::Trace &tr = s_->GetTrace(e.trace);
  if (tr.mode == State::Mode::kUndecided) tr.mode = State::Mode::kSystem;
  // A trace already drawn per thread keeps its tracks; switches there are
  // not expected (user mode has none).
  if (tr.mode != State::Mode::kSystem) return;
  const uint32_t track = s_->Track(e.trace, e.vcpu, e.next_tid);
  if (tr.running.size() <= e.vcpu) tr.running.resize(e.vcpu + 1);
  if (tr.running[e.vcpu]) s_->EndRun(e.trace, track, rel);
  tr.running[e.vcpu] = e.next_tid != 0;  // the idle task is a gap
  if (e.next_tid == 0) return;
  std::string name(e.next_comm);
  name += '[' + std::to_string(e.next_pid) + '/' + std::to_string(e.next_tid) + ']';
  s_->Start('B', State::Pid(e.trace), track);
  s_->Ts(rel);
  s_->Str("cat", "sched");
  s_->Str("name", name);
  s_->ArgsBegin();
  s_->Num("pid", e.next_pid);
  s_->Num("tid", e.next_tid);
  s_->Str("comm", e.next_comm);
  s_->ArgsEnd();
  s_->Flush();
}

void ChromeExporter::OnTbExec(const TbExecEvent &e) {
  if (s_->finished) return;
  const int64_t rel = s_->clock.Rel(e.ts_ns);
  const uint32_t t = e.trace;
  if (e.lost_before > 0) {
    s_->Start('i', State::Pid(t), s_->Track(t, e.vcpu, e.tid));
    s_->Ts(rel);
    s_->Str("s", "t");
    s_->Str("cat", "block");
    s_->Str("name", "blocks lost");
    s_->ArgsBegin();
    s_->Num("lost", e.lost_before);
    s_->ArgsEnd();
    s_->Flush();
  }
  if (e.lost_only || e.aggregated) return;  // counts have no time to draw at
  if (s_->blocks_drawn == kMaxBlocks) {
    ++s_->blocks_not_drawn;
    return;
  }
  ++s_->blocks_drawn;
  char pc[24];
  std::snprintf(pc, sizeof pc, "0x%" PRIx64, e.pc);
  s_->Start('X', State::Pid(t), s_->Track(t, e.vcpu, e.tid));
  s_->Ts(rel);
  s_->buf += ",\"dur\":";
  AppendMicros(s_->buf, e.dur_ns);
  s_->Str("cat", "block");
  s_->Str("name", pc);
  s_->ArgsBegin();
  s_->Str("pc", pc);
  s_->Num("n_insns", e.n_insns);
  s_->ArgsEnd();
  s_->Flush();
}

void ChromeExporter::OnMark(const MarkEvent &e) {
  if (s_->finished) return;
  const int64_t rel = s_->clock.Rel(e.ts_ns);
  const uint32_t t = e.trace;
  const uint32_t track = s_->Track(t, e.vcpu, e.tid);
  s_->Start('i', State::Pid(t), track);
  s_->Ts(rel);
  s_->Str("s", "t");
  s_->Str("cat", "mark");
  s_->Str("name", s_->NameOf(e.event, "event "));
  s_->ArgsBegin();
  s_->Num("event", e.event);
  s_->Num("a0", e.args[0]);
  s_->Num("a1", e.args[1]);
  s_->Num("a2", e.args[2]);
  s_->Num("a3", e.args[3]);
  if (e.kind == kKindMarkText) s_->Str("text", e.text);
  s_->Num("pid", e.pid);
  s_->Num("tid", e.tid);
  s_->Num("vcpu", e.vcpu);
  s_->Num("kind", e.kind);
  s_->Num("seq", e.seq);
  s_->ArgsEnd();
  s_->Flush();
}

// A guest call: a complete event covering the handler's time, ending when
// the plugin emitted it, on the calls track of its vCPU (thread).
void ChromeExporter::OnCall(const CallEvent &e) {
  if (s_->finished) return;
  const int64_t rel = s_->clock.Rel(e.ts_ns);
  const int64_t dur = std::min<int64_t>(static_cast<int64_t>(e.duration_ns), rel);
  const uint32_t t = e.trace;
  s_->Start('X', State::Pid(t), s_->CallTrack(t, e.vcpu, e.tid));
  s_->Ts(rel - dur);
  s_->buf += ",\"dur\":";
  AppendMicros(s_->buf, dur);
  s_->Str("cat", "call");
  s_->Str("name", "call: " + s_->NameOf(e.event, "event "));
  s_->ArgsBegin();
  s_->Num("event", e.event);
  s_->Num("status", static_cast<uint64_t>(static_cast<int64_t>(e.status)));
  s_->Num("in_len", e.in_len);
  s_->Num("out_len", e.out_len);
  s_->Num("duration_ns", e.duration_ns);
  s_->Num("pid", e.pid);
  s_->Num("tid", e.tid);
  s_->Num("vcpu", e.vcpu);
  s_->ArgsEnd();
  s_->Flush();
}

// A bulk mark: an instant with its size and its first bytes in hex (the
// rest is in the trace: a viewer has no use for 64 KiB of args).
void ChromeExporter::OnBlob(const BlobEvent &e) {
  if (s_->finished) return;
  const int64_t rel = s_->clock.Rel(e.ts_ns);
  const uint32_t t = e.trace;
  s_->Start('i', State::Pid(t), s_->Track(t, e.vcpu, e.tid));
  s_->Ts(rel);
  s_->Str("s", "t");
  s_->Str("cat", "blob");
  s_->Str("name", "blob: " + s_->NameOf(e.event, "event "));
  s_->ArgsBegin();
  s_->Num("event", e.event);
  s_->Num("bytes", e.bytes);
  std::string hex;
  const uint64_t shown = std::min<uint64_t>(e.bytes, BlobEvent::kHead);
  for (uint64_t i = 0; i < shown; ++i) {
    char two[3];
    std::snprintf(two, sizeof two, "%02x", e.head[i]);
    hex += two;
  }
  s_->Str("data", hex);
  if (shown < e.bytes)
    s_->Str("note", "the first " + std::to_string(shown) + " of " + std::to_string(e.bytes) +
                        " bytes (all of them are in the trace's bdtrace:blob event)");
  s_->Num("pid", e.pid);
  s_->Num("tid", e.tid);
  s_->Num("vcpu", e.vcpu);
  s_->ArgsEnd();
  s_->Flush();
}

void ChromeExporter::OnRegion(const RegionEvent &e) {
  if (s_->finished) return;
  const int64_t rel = s_->clock.Rel(e.ts_ns);
  const uint32_t t = e.trace;
  const auto key = std::make_pair(t, ThreadKey(e.pid, e.tid));
  if (!e.begin) {
    auto it = s_->open.find(key);
    if (it == s_->open.end()) return;  // an end without a begin: nothing to draw
    std::vector<State::OpenRegion> &stack = it->second;
    auto r = std::find_if(stack.rbegin(), stack.rend(),
                          [&](const State::OpenRegion &o) { return o.region == e.region; });
    if (r == stack.rend()) return;
    s_->EndRegion(t, *r, r->track, rel);
    stack.erase(std::next(r).base());
    if (stack.empty()) s_->open.erase(it);
    return;
  }
  std::vector<State::OpenRegion> &stack = s_->open[key];
  const auto depth = static_cast<uint32_t>(std::count_if(
      stack.begin(), stack.end(), [&](const State::OpenRegion &o) { return o.region == e.region; }));
  auto [id, added] =
      s_->async_ids.emplace(std::make_tuple(t, e.pid, e.tid, e.region, depth), s_->async_ids.size() + 1);
  (void)added;
  State::OpenRegion r{e.region, s_->Track(t, e.vcpu, e.tid), id->second, s_->NameOf(e.region, "region ")};
  s_->Start('b', State::Pid(t), r.track);
  s_->Ts(rel);
  s_->Str("cat", "region");
  s_->Num("id", r.id);
  s_->Str("name", r.name);
  s_->ArgsBegin();
  s_->Num("region", e.region);
  s_->Num("pid", e.pid);
  s_->Num("tid", e.tid);
  s_->Num("vcpu", e.vcpu);
  s_->ArgsEnd();
  s_->Flush();
  stack.push_back(std::move(r));
}

void ChromeExporter::OnEventName(const EventNameEvent &e) {
  if (s_->finished) return;
  s_->clock.Rel(e.ts_ns);
  if (!s_->names_final) s_->names[e.event] = std::string(e.name);
}

void ChromeExporter::OnRejected(const RejectedEvent &e) {
  if (s_->finished) return;
  const int64_t rel = s_->clock.Rel(e.ts_ns);
  const uint32_t t = e.trace;
  const uint32_t track = s_->Track(t, e.vcpu, e.tid);
  s_->Start('i', State::Pid(t), track);
  s_->Ts(rel);
  s_->Str("s", "t");
  s_->Str("cat", "rejected");
  s_->Str("name", "rejected: " + std::string(e.reason_name));
  s_->ArgsBegin();
  s_->Num("reason", e.reason);
  s_->Num("addr", e.addr);
  s_->Num("tid", e.tid);
  s_->Num("vcpu", e.vcpu);
  s_->ArgsEnd();
  s_->Flush();
}

void ChromeExporter::OnRejectedTotal(const RejectedTotalEvent &e) {
  if (!s_->finished) s_->clock.Rel(e.ts_ns);
}
void ChromeExporter::OnOtherEvent(int64_t ts_ns, std::string_view) {
  if (!s_->finished) s_->clock.Rel(ts_ns);
}

Status ChromeExporter::Finish() {
  if (s_->finished) return Error{"ChromeExporter::Finish called twice", {}};
  const int64_t end = s_->clock.last_rel();
  for (uint32_t t = 0; t < s_->traces.size(); ++t) {
    std::vector<bool> &running = s_->traces[t].running;
    for (uint32_t v = 0; v < running.size(); ++v) {
      if (running[v]) s_->EndRun(t, v, end);
      running[v] = false;
    }
  }
  for (const auto &[key, stack] : s_->open) {
    for (auto r = stack.rbegin(); r != stack.rend(); ++r) s_->EndRegion(key.first, *r, r->track, end);
  }
  s_->open.clear();
  if (s_->blocks_not_drawn > 0 && !s_->traces.empty()) {
    s_->Start('i', State::Pid(0), 0);
    s_->Ts(end);
    s_->Str("s", "g");
    s_->Str("cat", "block");
    s_->Str("name", "blocks not drawn: " + std::to_string(s_->blocks_not_drawn) + " after the first " +
                        std::to_string(kMaxBlocks) + " (narrow with --from/--to)");
    s_->Flush();
  }
  s_->out << "\n]}\n";
  s_->out.flush();
  s_->finished = true;
  if (!s_->out) {
    return Error{"writing the Chrome trace JSON failed (disk full? closed pipe?)", {}};
  }
  return Status::Ok();
}

}  // namespace bdtrace::analyzer
