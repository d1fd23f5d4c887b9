// SPDX-License-Identifier: MIT
// SvgExporter: a timeline picture of vCPUs (or threads) over time. See
// export.h for what it draws.
//
// Time is cut into buckets of B ns (a power of two) from the first lane
// activity (a switch, mark or region: a VM boots for seconds before its
// first switch, which would only waste width);
// each lane keeps, per bucket, only what covered most of it (runs, regions
// per nesting level) and a mark count. When the trace outgrows 2 x plot
// width buckets, B doubles and neighbouring buckets merge, so memory and
// output are bounded by lanes x width, not by the number of events. A
// bucket also keeps the first and last ns its winner covered, so sparse
// traces are drawn with exact edges.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "bdtrace/analyzer/export.h"
#include "export_util.h"

namespace bdtrace::analyzer {

using export_util::AppendXmlText;
using export_util::ShortDuration;

namespace {

constexpr uint32_t kMaxVcpus = 4096;
constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kIdle = kNone - 1;
constexpr int kDepths = 3;  // region nesting levels drawn; deeper ones join the last

// Colours of the busiest processes, in order: distinct at a glance.
constexpr const char *kPalette[] = {"#3b75af", "#ef8636", "#519e3e", "#c53a32", "#8d69b8", "#84584e",
                                    "#d57dbf", "#bcbc45", "#58bbcc", "#f4b400", "#2a9d8f", "#e76f51"};
constexpr size_t kPaletteSize = sizeof kPalette / sizeof kPalette[0];
// Every process beyond the palette: one colour, in the legend.
constexpr const char *kOtherProcesses = "#b8b8b8";
// Regions: dark colours none of the process colours (above) use, the first
// region ids one each, the others share the last.
constexpr const char *kRegionPalette[] = {"#1b4f72", "#7d3c98", "#0b6e4f", "#9a6a00",
                                          "#922b21", "#283747", "#6e2c00", "#4a235a"};
constexpr size_t kRegionPaletteSize = sizeof kRegionPalette / sizeof kRegionPalette[0];
constexpr const char *kOtherRegions = "#5d6d7e";
// The lane backgrounds, the user-mode thread span and the marks.
constexpr const char *kNotObserved = "#f5f5f5";
constexpr const char *kIdleColour = "#e2e2e2";
constexpr const char *kThreadActive = "#dbe4ee";
constexpr const char *kMarkColour = "#222222";
constexpr const char *kTextMarkColour = "#c0392b";

// Runs and regions: the key that covered the most of a bucket.
struct SpanCell {
  uint32_t key = kNone;
  uint64_t ns = 0;
  int64_t first = 0, last = 0;  // ns since the first event

  void Add(uint32_t k, uint64_t n, int64_t f, int64_t l) {
    if (k == key) {
      ns += n;
      first = std::min(first, f);
      last = std::max(last, l);
    } else if (key == kNone || n > ns) {
      key = k, ns = n, first = f, last = l;
    }
  }
  void Merge(const SpanCell &o) {
    if (o.key != kNone) Add(o.key, o.ns, o.first, o.last);
  }
};

struct MarkCell {
  uint32_t count = 0, event = kNone;
  bool mixed = false, text = false;
  int64_t first = 0;

  void Merge(const MarkCell &o) {
    if (o.count == 0) return;
    if (count == 0) {
      *this = o;
      return;
    }
    count += o.count;
    mixed = mixed || o.mixed || o.event != event;
    text = text || o.text;
    first = std::min(first, o.first);
  }
};

// Buckets [base, base + cells.size()) of one lane; grows on demand.
template <typename Cell>
struct Row {
  uint64_t base = 0;
  std::vector<Cell> cells;

  Cell &At(uint64_t i) {
    if (cells.empty()) {
      base = i;
      cells.resize(1);
    } else if (i < base) {
      cells.insert(cells.begin(), base - i, Cell{});
      base = i;
    } else if (i >= base + cells.size()) {
      cells.resize(i - base + 1);
    }
    return cells[i - base];
  }
  // Bucket i becomes i / 2.
  void Halve() {
    if (cells.empty()) return;
    const uint64_t nb = base / 2, last = (base + cells.size() - 1) / 2;
    std::vector<Cell> merged(last - nb + 1);
    for (size_t k = 0; k < cells.size(); ++k) merged[(base + k) / 2 - nb].Merge(cells[k]);
    base = nb;
    cells.swap(merged);
  }
};

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

struct SvgExporter::State {
  struct Lane {
    uint32_t trace = 0, id = 0;  // vCPU (system) or guest tid (user)
    bool system = false;
    Row<SpanCell> runs;
    Row<SpanCell> regions[kDepths];
    Row<MarkCell> marks;
    uint32_t running = kNone;  // thread index, kIdle, or kNone before the first switch
    int64_t since = 0;
    bool observed = false;  // a switch was seen: runs are known from observed_from
    int64_t observed_from = 0;
    int64_t first = std::numeric_limits<int64_t>::max(), last = 0;  // activity (user mode)
    uint32_t pid = 0;
    void Touch(int64_t rel) {
      first = std::min(first, rel);
      last = std::max(last, rel);
    }
  };
  struct Thread {
    uint32_t trace, pid, tid;
    std::string comm;
    uint64_t ns = 0;
  };
  struct OpenRegion {
    uint32_t region, lane, depth;
    int64_t begin;
  };
  struct Trace {
    bool session = false, system_session = false, decided = false, system = false;
    std::string vm, program;
  };

  std::ostream &out;
  SvgOptions opt;
  int plot_w;
  export_util::Clock clock;
  uint64_t bucket_ns = 1;
  bool has_origin = false;
  int64_t origin = 0;  // the first lane activity (ns since the first event): bucket 0
  bool finished = false;
  std::vector<Trace> traces;
  std::vector<std::string> run_vm_names;  // by trace, several runs (opt.runs): set at Finish
  std::vector<Lane> lanes;
  std::map<std::tuple<uint32_t, bool, uint32_t>, uint32_t> lane_index;
  std::set<std::tuple<uint32_t, bool, uint32_t>> dropped_lanes;
  std::vector<Thread> threads;
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, std::vector<uint32_t>> thread_index;
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, std::vector<OpenRegion>> open;
  EventNames names;
  uint64_t switches = 0, marks = 0, regions = 0;

  State(std::ostream &o, SvgOptions options) : out(o), opt(std::move(options)) {
    opt.width = std::max(opt.width, 400);
    opt.lane_height = std::max(opt.lane_height, 20);
    opt.max_lanes = std::max(opt.max_lanes, 1);
    plot_w = opt.width - 260 - kRight;  // at most; Render picks the label width
  }
  static constexpr int kRight = 24, kTop = 66;
  int left = 100;

  Trace &GetTrace(uint32_t t) {
    if (t >= traces.size()) traces.resize(t + 1);
    return traces[t];
  }
  bool System(uint32_t t) {
    Trace &tr = GetTrace(t);
    if (!tr.decided) tr.decided = true, tr.system = tr.system_session;
    return tr.system;
  }

  Lane *GetLane(uint32_t t, bool system, uint32_t id) {
    const auto key = std::make_tuple(t, system, id);
    auto it = lane_index.find(key);
    if (it != lane_index.end()) return &lanes[it->second];
    if (lanes.size() >= static_cast<size_t>(opt.max_lanes)) {
      dropped_lanes.insert(key);
      return nullptr;
    }
    lane_index.emplace(key, static_cast<uint32_t>(lanes.size()));
    Lane &l = lanes.emplace_back();
    l.trace = t, l.system = system, l.id = id;
    return &l;
  }
  // The lane of an event made by guest thread tid on vcpu.
  Lane *LaneOf(uint32_t t, uint32_t vcpu, uint32_t tid) {
    const bool system = System(t);
    if (system && vcpu >= kMaxVcpus) return nullptr;
    return GetLane(t, system, system ? vcpu : tid);
  }
  uint32_t LaneNumber(const Lane *l) const { return static_cast<uint32_t>(l - lanes.data()); }

  uint32_t ThreadIndex(uint32_t t, uint32_t pid, uint32_t tid, std::string_view comm) {
    std::vector<uint32_t> &same = thread_index[std::make_tuple(t, pid, tid)];
    for (uint32_t i : same) {
      if (threads[i].comm == comm) return i;
    }
    threads.push_back(Thread{t, pid, tid, std::string(comm), 0});
    same.push_back(static_cast<uint32_t>(threads.size() - 1));
    return same.back();
  }

  // Starts the bucket grid at the first lane activity, and makes bucket
  // indices up to rel fit in 2 x plot width buckets.
  void Ensure(int64_t rel) {
    if (!has_origin) has_origin = true, origin = rel;
    const uint64_t max_buckets = 2 * static_cast<uint64_t>(plot_w);
    while (static_cast<uint64_t>(rel - origin) / bucket_ns >= max_buckets) Coarsen();
  }
  uint64_t Index(int64_t rel) const { return static_cast<uint64_t>(rel - origin) / bucket_ns; }
  void Coarsen() {
    bucket_ns *= 2;
    for (Lane &l : lanes) {
      l.runs.Halve();
      for (auto &r : l.regions) r.Halve();
      l.marks.Halve();
    }
  }

  void AddSpan(Row<SpanCell> &row, uint32_t key, int64_t a, int64_t b) {
    if (b <= a) return;
    const auto B = static_cast<int64_t>(bucket_ns);
    for (int64_t i = (a - origin) / B; i <= (b - 1 - origin) / B; ++i) {
      const int64_t lo = std::max(a, origin + i * B), hi = std::min(b, origin + (i + 1) * B);
      row.At(static_cast<uint64_t>(i)).Add(key, static_cast<uint64_t>(hi - lo), lo, hi);
    }
  }
  void AddRun(Lane &l, uint32_t key, int64_t a, int64_t b) {
    if (b <= a || key == kNone) return;
    if (key != kIdle) threads[key].ns += static_cast<uint64_t>(b - a);
    AddSpan(l.runs, key, a, b);
  }

  std::string NameOf(uint32_t id, const char *prefix) const {
    auto it = names.find(id);
    return it != names.end() ? it->second : prefix + std::to_string(id);
  }

  // ---- drawing (Render and its parts) ----
  struct Proc {  // one process name: (trace, pid, comm), as the text report
    uint32_t trace = 0, pid = 0;
    std::string comm;
    uint64_t ns = 0;
  };
  // The colours of one picture: a palette colour per busiest process name
  // and per region id, a shared colour for the rest of each.
  struct Colours {
    std::vector<Proc> top;
    size_t other_processes = 0;
    std::map<std::tuple<uint32_t, uint32_t, std::string>, const char *> process;
    std::map<uint32_t, const char *> region;
    size_t other_regions = 0;
    const char *Process(const Thread &t) const {
      auto it = process.find(std::make_tuple(t.trace, t.pid, t.comm));
      return it != process.end() ? it->second : kOtherProcesses;
    }
    const char *Region(uint32_t id) const {
      auto it = region.find(id);
      return it != region.end() ? it->second : kOtherRegions;
    }
  };
  // Where things go: the time scale and the vertical layout.
  struct Frame {
    int64_t from = 0, end = 0, span = 1;
    int W = 0;
    double px_per_ns = 0;
    int band_h = 0, axis_y = 0, legend_y = 0, per_row = 1, height = 0;
    bool user_lanes = false;
    double X(int64_t rel, int left) const { return left + static_cast<double>(rel - from) * px_per_ns; }
  };
  static constexpr int kTick = 6, kRegionH = 4, kColW = 270;

  std::vector<uint32_t> LaneOrder() const;
  bool SeveralTraces() const;
  std::string VmName(uint32_t t) const;
  std::vector<std::string> LaneLabels();
  Colours MakeColours(const std::vector<uint32_t> &order) const;
  Frame MakeFrame(const std::vector<uint32_t> &order, const Colours &c);
  int LegendRows(size_t entries, const Frame &f) const {
    return static_cast<int>((entries + f.per_row - 1) / f.per_row);
  }
  double X(const Frame &f, int64_t rel) const { return f.X(rel, left); }
  void DrawHeader(std::string &s, const Frame &f) const;
  void DrawAxis(std::string &s, const Frame &f) const;
  void DrawLane(std::string &s, const Lane &l, size_t row, const std::string &label, const Frame &f,
                const Colours &c) const;
  void DrawRuns(std::string &s, const Lane &l, const std::string &band, const Frame &f,
                const Colours &c) const;
  void DrawRegions(std::string &s, const Lane &l, int reg_y, const Frame &f, const Colours &c) const;
  void DrawMarks(std::string &s, const Lane &l, int y0, const Frame &f) const;
  void DrawLegend(std::string &s, const Frame &f, const Colours &c) const;
  // Calls flush(key, first, last) for each run of consecutive buckets of
  // one key (gaps under a bucket wide are bridged).
  template <typename Flush>
  void Walk(const Row<SpanCell> &row, Flush &&flush) const {
    uint32_t key = kNone;
    int64_t first = 0, last = 0;
    for (const SpanCell &c : row.cells) {
      if (c.key == key && c.first - last <= static_cast<int64_t>(bucket_ns)) {
        last = std::max(last, c.last);
        continue;
      }
      flush(key, first, last);
      key = c.key, first = c.first, last = c.last;
    }
    flush(key, first, last);
  }

  std::string Render();
};

SvgExporter::SvgExporter(std::ostream &out, SvgOptions options)
    : s_(std::make_unique<State>(out, std::move(options))) {}

SvgExporter::~SvgExporter() = default;

void SvgExporter::OnSession(const SessionEvent &e) {
  if (s_->finished) return;
  s_->clock.Rel(e.ts_ns);
  State::Trace &tr = s_->GetTrace(e.trace);
  tr.session = true;
  if (e.mode == "system") tr.system_session = true;
  if (!e.vm.empty()) tr.vm = std::string(e.vm);
  if (tr.program.empty()) tr.program = std::string(e.program);
}

void SvgExporter::OnSchedSwitch(const SchedSwitchEvent &e) {
  if (s_->finished) return;
  const int64_t rel = s_->clock.Rel(e.ts_ns);
  State::Trace &tr = s_->GetTrace(e.trace);
  if (!tr.decided) tr.decided = true, tr.system = true;
  if (!tr.system || e.vcpu >= kMaxVcpus) return;
  State::Lane *l = s_->GetLane(e.trace, true, e.vcpu);
  if (l == nullptr) return;
  s_->Ensure(rel);
  ++s_->switches;
  if (!l->observed) {
    l->observed = true;
    l->observed_from = rel;
  } else {
    s_->AddRun(*l, l->running, l->since, rel);
  }
  l->running = e.next_tid == 0 ? kIdle : s_->ThreadIndex(e.trace, e.next_pid, e.next_tid, e.next_comm);
  l->since = rel;
}

void SvgExporter::OnMark(const MarkEvent &e) {
  if (s_->finished) return;
  const int64_t rel = s_->clock.Rel(e.ts_ns);
  State::Lane *l = s_->LaneOf(e.trace, e.vcpu, e.tid);
  if (l == nullptr) return;
  s_->Ensure(rel);
  ++s_->marks;
  l->Touch(rel);
  l->pid = e.pid;
  MarkCell one;
  one.count = 1, one.event = e.event, one.text = e.kind == kKindMarkText, one.first = rel;
  l->marks.At(s_->Index(rel)).Merge(one);
}

void SvgExporter::OnRegion(const RegionEvent &e) {
  if (s_->finished) return;
  const int64_t rel = s_->clock.Rel(e.ts_ns);
  const uint32_t t = e.trace;
  const auto key = std::make_tuple(t, e.pid, e.tid);
  if (e.begin) {
    State::Lane *l = s_->LaneOf(t, e.vcpu, e.tid);
    if (l == nullptr) return;
    s_->Ensure(rel);
    l->Touch(rel);
    l->pid = e.pid;
    std::vector<State::OpenRegion> &stack = s_->open[key];
    stack.push_back({e.region, s_->LaneNumber(l), static_cast<uint32_t>(stack.size()), rel});
    return;
  }
  auto it = s_->open.find(key);
  if (it == s_->open.end()) return;  // an end without a begin
  std::vector<State::OpenRegion> &stack = it->second;
  auto r = std::find_if(stack.rbegin(), stack.rend(),
                        [&](const State::OpenRegion &o) { return o.region == e.region; });
  if (r == stack.rend()) return;
  State::Lane &l = s_->lanes[r->lane];
  s_->Ensure(rel);
  l.Touch(rel);
  ++s_->regions;
  s_->AddSpan(l.regions[std::min<uint32_t>(r->depth, kDepths - 1)], r->region, r->begin, rel);
  stack.erase(std::next(r).base());
  if (stack.empty()) s_->open.erase(it);
}

void SvgExporter::OnEventName(const EventNameEvent &e) {
  if (s_->finished) return;
  s_->clock.Rel(e.ts_ns);
  s_->names[e.event] = std::string(e.name);
}

void SvgExporter::OnRejected(const RejectedEvent &e) {
  if (!s_->finished) s_->clock.Rel(e.ts_ns);
}
void SvgExporter::OnRejectedTotal(const RejectedTotalEvent &e) {
  if (!s_->finished) s_->clock.Rel(e.ts_ns);
}
void SvgExporter::OnOtherEvent(int64_t ts_ns, std::string_view) {
  if (!s_->finished) s_->clock.Rel(ts_ns);
}

Status SvgExporter::Finish() {
  if (s_->finished) return Error{"SvgExporter::Finish called twice", {}};
  s_->finished = true;
  const int64_t end = s_->clock.last_rel();
  if (s_->has_origin) s_->Ensure(end);
  for (State::Lane &l : s_->lanes) {
    if (l.observed) s_->AddRun(l, l.running, l.since, end);
    l.running = kNone;
  }
  for (const auto &[key, stack] : s_->open) {
    for (const State::OpenRegion &r : stack) {
      ++s_->regions;
      s_->AddSpan(s_->lanes[r.lane].regions[std::min<uint32_t>(r.depth, kDepths - 1)], r.region, r.begin,
                  end);
    }
  }
  s_->open.clear();
  if (s_->opt.runs.several()) {  // each run is one VM, named once every session is known
    std::vector<std::string> session_names;
    for (const State::Trace &tr : s_->traces) {
      session_names.push_back(!tr.vm.empty() || tr.system_session ? tr.vm : tr.program);
    }
    s_->run_vm_names = ResolveVmNames(s_->opt.runs, session_names);
  }
  const std::string svg = s_->Render();
  s_->out.write(svg.data(), static_cast<std::streamsize>(svg.size()));
  s_->out.flush();
  if (!s_->out) return Error{"writing the SVG timeline failed (disk full? closed pipe?)", {}};
  return Status::Ok();
}

// ---- drawing -------------------------------------------------------------------------

// Lanes in order: by trace, system lanes (vCPUs) before thread lanes, by id.
std::vector<uint32_t> SvgExporter::State::LaneOrder() const {
  std::vector<uint32_t> order(lanes.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const Lane &x = lanes[a], &y = lanes[b];
    return std::make_tuple(x.trace, !x.system, x.id) < std::make_tuple(y.trace, !y.system, y.id);
  });
  return order;
}

bool SvgExporter::State::SeveralTraces() const {
  std::set<uint32_t> traces_with_lanes;
  for (const Lane &l : lanes) traces_with_lanes.insert(l.trace);
  return traces_with_lanes.size() > 1;
}

std::string SvgExporter::State::VmName(uint32_t t) const {
  if (t < run_vm_names.size() && !run_vm_names[t].empty()) return run_vm_names[t];
  if (t >= traces.size()) return "trace " + std::to_string(t);
  const Trace &tr = traces[t];
  const std::string &name = tr.system_session ? tr.vm : tr.program;
  return name.empty() ? "trace " + std::to_string(t) : name;
}

// "vCPU 1" or "tid 42" (with the VM's name when there are several); sets
// the label column's width.
std::vector<std::string> SvgExporter::State::LaneLabels() {
  const bool several = SeveralTraces();
  std::vector<std::string> labels(lanes.size());
  size_t longest = 6;
  for (uint32_t i = 0; i < lanes.size(); ++i) {
    const Lane &l = lanes[i];
    std::string label = l.system ? "vCPU " + std::to_string(l.id) : "tid " + std::to_string(l.id);
    if (several) label = VmName(l.trace) + " " + label;
    if (label.size() > 40) label = label.substr(0, 39) + "\xe2\x80\xa6";
    longest = std::max(longest, label.size());
    labels[i] = std::move(label);
  }
  left = std::clamp(28 + 7 * static_cast<int>(longest), 90, opt.width / 3);
  return labels;
}

// Process names by CPU time: the busiest get the palette, the rest share
// one colour. A process that exec'd is two names (as in the text report).
// Region ids in order get the region palette, the rest share one colour.
SvgExporter::State::Colours SvgExporter::State::MakeColours(const std::vector<uint32_t> &order) const {
  Colours c;
  std::map<std::tuple<uint32_t, uint32_t, std::string>, Proc> procs;
  for (const Thread &t : threads) {
    Proc &p = procs[std::make_tuple(t.trace, t.pid, t.comm)];
    p.trace = t.trace, p.pid = t.pid, p.comm = t.comm;
    p.ns += t.ns;
  }
  for (auto &[key, p] : procs) {
    if (p.ns > 0) c.top.push_back(p);
  }
  std::sort(c.top.begin(), c.top.end(), [](const Proc &a, const Proc &b) {
    return std::tie(b.ns, a.trace, a.pid, a.comm) < std::tie(a.ns, b.trace, b.pid, b.comm);
  });
  if (c.top.size() > kPaletteSize) {
    c.other_processes = c.top.size() - kPaletteSize;
    c.top.resize(kPaletteSize);
  }
  for (size_t i = 0; i < c.top.size(); ++i) {
    c.process[std::make_tuple(c.top[i].trace, c.top[i].pid, c.top[i].comm)] = kPalette[i];
  }
  std::set<uint32_t> region_ids;
  for (uint32_t i : order) {
    for (const auto &row : lanes[i].regions) {
      for (const SpanCell &cell : row.cells) {
        if (cell.key != kNone) region_ids.insert(cell.key);
      }
    }
  }
  for (uint32_t id : region_ids) {
    if (c.region.size() < kRegionPaletteSize) {
      c.region[id] = kRegionPalette[c.region.size()];
    } else {
      ++c.other_regions;
    }
  }
  return c;
}

// The time scale (buckets of at least a pixel) and the vertical layout.
SvgExporter::State::Frame SvgExporter::State::MakeFrame(const std::vector<uint32_t> &order,
                                                        const Colours &c) {
  Frame f;
  f.end = clock.last_rel();
  f.from = has_origin ? origin : 0;
  f.span = std::max<int64_t>(f.end - f.from, 1);
  f.W = opt.width - left - kRight;
  // Buckets of at least one pixel: at most W shapes per lane and row.
  while (static_cast<double>(f.W) * static_cast<double>(bucket_ns) < static_cast<double>(f.span)) {
    Coarsen();
  }
  f.px_per_ns = f.W / static_cast<double>(f.span);
  for (const Lane &l : lanes) f.user_lanes = f.user_lanes || (!l.system && l.first <= l.last);
  const int H = opt.lane_height;
  f.band_h = std::max(6, H - kTick - 1 - kDepths * kRegionH - 1 - 5);
  f.axis_y = kTop + static_cast<int>(order.size()) * H + 2;
  f.legend_y = f.axis_y + 44;
  f.per_row = std::max(1, (opt.width - 40) / kColW);
  f.height = f.legend_y + 10;
  const size_t proc_entries = c.top.size() + (c.other_processes > 0 ? 1 : 0);
  if (proc_entries > 0) f.height += 20 * (1 + LegendRows(proc_entries, f));
  const size_t region_entries = c.region.size() + (c.other_regions > 0 ? 1 : 0);
  if (region_entries > 0) f.height += 20 * (1 + LegendRows(region_entries, f));
  f.height += 20 + (f.user_lanes ? 20 : 0) + (dropped_lanes.empty() ? 0 : 20);
  return f;
}

// Title and a one-line summary.
void SvgExporter::State::DrawHeader(std::string &s, const Frame &f) const {
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(opt.width) + "\" height=\"" +
       std::to_string(f.height) + "\" viewBox=\"0 0 " + std::to_string(opt.width) + " " +
       std::to_string(f.height) +
       "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  s += "<text x=\"20\" y=\"28\" font-size=\"18\" font-weight=\"bold\" fill=\"#222\">";
  AppendXmlText(s, opt.title);
  s += "</text>\n";
  std::string summary;
  for (uint32_t t = 0; t < traces.size(); ++t) {
    const Trace &tr = traces[t];
    if (!tr.session) continue;
    if (!summary.empty()) summary += "; ";
    const std::string run = t < run_vm_names.size() ? run_vm_names[t] + ": " : "";
    summary += tr.system_session ? "VM " + VmName(t) + " (system mode)" : run + tr.program + " (user mode)";
  }
  const std::string dot = "  \xc2\xb7  ";
  size_t system_lanes = 0;
  for (const Lane &l : lanes) system_lanes += l.system ? 1 : 0;
  if (!summary.empty()) summary += dot;
  if (system_lanes > 0) summary += std::to_string(system_lanes) + " vCPUs" + dot;
  if (lanes.size() > system_lanes) {
    summary += std::to_string(lanes.size() - system_lanes) + " threads" + dot;
  }
  summary += std::to_string(switches) + " context switches" + dot + std::to_string(marks) + " marks" + dot +
             std::to_string(regions) + " regions";
  s += "<text x=\"20\" y=\"48\" fill=\"#555\">";
  AppendXmlText(s, summary);
  s += "</text>\n";
}

// Time axis: a round step giving about one label per 110 px; times are
// since the trace's first event, like the text report's.
void SvgExporter::State::DrawAxis(std::string &s, const Frame &f) const {
  const double raw = static_cast<double>(f.span) * 110.0 / f.W;
  double step = std::pow(10.0, std::floor(std::log10(std::max(raw, 1.0))));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (step * m >= raw) {
      step *= m;
      break;
    }
  }
  std::vector<int64_t> ticks;
  for (double t = std::ceil(static_cast<double>(f.from) / step) * step; t <= static_cast<double>(f.end) + 0.5;
       t += step) {
    ticks.push_back(static_cast<int64_t>(t));
  }
  s += "<g class=\"axis\" stroke=\"#c8c8c8\" stroke-width=\"0.7\">\n";
  for (int64_t t : ticks) {
    const std::string x = Fmt(X(f, t));
    s += "<line x1=\"" + x + "\" y1=\"" + std::to_string(kTop - 4) + "\" x2=\"" + x + "\" y2=\"" +
         std::to_string(f.axis_y + 5) + "\"/>\n";
  }
  s += "</g>\n<g class=\"axis-labels\" fill=\"#444\" text-anchor=\"middle\">\n";
  for (int64_t t : ticks) {
    s += "<text x=\"" + Fmt(X(f, t)) + "\" y=\"" + std::to_string(f.axis_y + 18) + "\">" +
         (t == 0 ? std::string("0") : ShortDuration(t)) + "</text>\n";
  }
  std::string axis_note = "time since the first event";
  if (f.from > 0) {
    axis_note += " (drawn from the first activity, at " + ShortDuration(f.from) + ")";
  }
  s += "<text x=\"" + std::to_string(left + f.W) + "\" y=\"" + std::to_string(f.axis_y + 34) +
       "\" text-anchor=\"end\" fill=\"#777\" font-size=\"11\">" + axis_note + "</text>\n</g>\n";
}

// Runs: consecutive buckets of the same thread become one rect.
void SvgExporter::State::DrawRuns(std::string &s, const Lane &l, const std::string &band, const Frame &f,
                                  const Colours &c) const {
  s += "<g class=\"runs\">\n";
  Walk(l.runs, [&](uint32_t key, int64_t first, int64_t last) {
    if (key == kNone || key == kIdle) return;
    const Thread &t = threads[key];
    const double x = X(f, first), w = std::max(X(f, last) - x, 0.8);
    s += "<rect x=\"" + Fmt(x) + "\" width=\"" + Fmt(w) + band + " fill=\"" + c.Process(t) + "\"";
    if (w < 2.0) {  // no tooltip: too small to point at
      s += "/>\n";
      return;
    }
    s += "><title>";
    AppendXmlText(s, t.comm + " [" + std::to_string(t.pid) + "/" + std::to_string(t.tid) + "] on vCPU " +
                         std::to_string(l.id) + "\n" + ShortDuration(first) + " to " + ShortDuration(last) +
                         " (" + ShortDuration(last - first) + ")");
    s += "</title></rect>\n";
  });
  s += "</g>\n";
}

// Regions: one thin row per nesting level.
void SvgExporter::State::DrawRegions(std::string &s, const Lane &l, int reg_y, const Frame &f,
                                     const Colours &c) const {
  s += "<g class=\"regions\">\n";
  for (int d = 0; d < kDepths; ++d) {
    const std::string ry = std::to_string(reg_y + d * kRegionH);
    Walk(l.regions[d], [&](uint32_t key, int64_t first, int64_t last) {
      if (key == kNone) return;
      const double x = X(f, first), w = std::max(X(f, last) - x, 1.0);
      s += "<rect x=\"" + Fmt(x) + "\" y=\"" + ry + "\" width=\"" + Fmt(w) + "\" height=\"" +
           std::to_string(kRegionH - 1) + "\" fill=\"" + c.Region(key) + "\"";
      if (w < 2.0) {
        s += "/>\n";
        return;
      }
      s += "><title>";
      AppendXmlText(s, "region " + NameOf(key, "(unnamed) ") + " (id " + std::to_string(key) + ")\n" +
                           ShortDuration(first) + " to " + ShortDuration(last) + " (" +
                           ShortDuration(last - first) + ")");
      s += "</title></rect>\n";
    });
  }
  s += "</g>\n";
}

// Marks: a tick per bucket holding any.
void SvgExporter::State::DrawMarks(std::string &s, const Lane &l, int y0, const Frame &f) const {
  s += "<g class=\"marks\">\n";
  for (const MarkCell &c : l.marks.cells) {
    if (c.count == 0) continue;
    s += "<rect x=\"" + Fmt(X(f, c.first) - 0.6) + "\" y=\"" + std::to_string(y0) +
         "\" width=\"1.2\" height=\"" + std::to_string(kTick + 1 + f.band_h / 2) + "\" fill=\"" +
         (c.text ? kTextMarkColour : kMarkColour) + "\"><title>";
    std::string what = c.count == 1 ? "mark " : std::to_string(c.count) + " marks: ";
    what += NameOf(c.event, "event ");
    if (c.mixed) what += " and others";
    AppendXmlText(s, what + " at " + ShortDuration(c.first));
    s += "</title></rect>\n";
  }
  s += "</g>\n";
}

// One lane: its label, background (not observed / idle, or a thread's
// active span), runs, regions and marks.
void SvgExporter::State::DrawLane(std::string &s, const Lane &l, size_t row, const std::string &label,
                                  const Frame &f, const Colours &c) const {
  const int y0 = kTop + static_cast<int>(row) * opt.lane_height;
  const int band_y = y0 + kTick + 1;
  s += "<g class=\"lane\">\n<text x=\"" + std::to_string(left - 10) + "\" y=\"" +
       std::to_string(band_y + f.band_h / 2 + 4) + "\" text-anchor=\"end\" fill=\"#222\">";
  AppendXmlText(s, label);
  s += "</text>\n";
  const std::string band =
      "\" y=\"" + std::to_string(band_y) + "\" height=\"" + std::to_string(f.band_h) + "\"";
  s += "<rect x=\"" + std::to_string(left) + "\" width=\"" + std::to_string(f.W) + band + " fill=\"" +
       kNotObserved + "\"/>\n";
  if (l.observed) {  // known time: idle shows as this grey
    s += "<rect x=\"" + Fmt(X(f, l.observed_from)) + "\" width=\"" +
         Fmt(X(f, f.end) - X(f, l.observed_from)) + band + " fill=\"" + kIdleColour + "\"><title>";
    AppendXmlText(s, "vCPU " + std::to_string(l.id) + ": idle where no process is drawn");
    s += "</title></rect>\n";
  } else if (!l.system && l.first <= l.last) {  // user mode: the thread's active span
    s += "<rect x=\"" + Fmt(X(f, l.first)) + "\" width=\"" +
         Fmt(std::max(X(f, l.last) - X(f, l.first), 1.0)) + band + " fill=\"" + kThreadActive + "\"><title>";
    AppendXmlText(s, "tid " + std::to_string(l.id) + " (pid " + std::to_string(l.pid) +
                         "): first to last event " + ShortDuration(l.first) + " to " + ShortDuration(l.last));
    s += "</title></rect>\n";
  }
  DrawRuns(s, l, band, f, c);
  DrawRegions(s, l, band_y + f.band_h + 1, f, c);
  DrawMarks(s, l, y0, f);
  s += "</g>\n";
}

// Every colour a lane uses: the processes, the regions, then marks and the
// lane backgrounds.
void SvgExporter::State::DrawLegend(std::string &s, const Frame &f, const Colours &c) const {
  int y = f.legend_y;
  const auto entry = [&](size_t i, const std::string &fill, const std::string &text) {
    const int x = 20 + static_cast<int>(i % f.per_row) * kColW;
    const int yy = y + 20 * static_cast<int>(i / f.per_row);
    s += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(yy - 10) +
         "\" width=\"13\" height=\"11\" fill=\"" + fill + "\"/><text x=\"" + std::to_string(x + 19) +
         "\" y=\"" + std::to_string(yy) + "\">";
    AppendXmlText(s, text);
    s += "</text>\n";
  };
  const auto heading = [&](const std::string &text) {
    s += "<text x=\"20\" y=\"" + std::to_string(y) + "\" font-weight=\"bold\">" + text + "</text>\n";
    y += 20;
  };
  s += "<g class=\"legend\" fill=\"#222\">\n";
  uint64_t observed_total = 0;
  for (const Lane &l : lanes) {
    if (l.observed) observed_total += static_cast<uint64_t>(f.end - l.observed_from);
  }
  const bool several = SeveralTraces();
  if (!c.top.empty()) {
    heading("busiest processes: CPU time, share of the observed vCPU time");
    for (size_t i = 0; i < c.top.size(); ++i) {
      const Proc &p = c.top[i];
      char share[32];
      std::snprintf(share, sizeof share, "%.1f%%",
                    observed_total ? 100.0 * static_cast<double>(p.ns) / observed_total : 0.0);
      std::string text = p.comm + " [" + std::to_string(p.pid) + "]  " +
                         ShortDuration(static_cast<int64_t>(p.ns)) + "  " + share;
      if (several) text += "  (" + VmName(p.trace) + ")";
      entry(i, kPalette[i], text);
    }
    if (c.other_processes > 0) {
      entry(c.top.size(), kOtherProcesses, std::to_string(c.other_processes) + " other processes");
    }
    y += 20 * LegendRows(c.top.size() + (c.other_processes > 0 ? 1 : 0), f);
  }
  if (!c.region.empty()) {
    heading("regions: bars under the lane where they began, a row per nesting level");
    size_t i = 0;
    for (const auto &[id, fill] : c.region) {
      entry(i++, fill, NameOf(id, "region ") + " (id " + std::to_string(id) + ")");
    }
    if (c.other_regions > 0) {
      entry(i++, kOtherRegions, std::to_string(c.other_regions) + " other regions");
    }
    y += 20 * LegendRows(i, f);
  }
  const std::string yl = std::to_string(y - 11), yt = std::to_string(y);
  s += "<rect x=\"20\" y=\"" + yl + "\" width=\"1.5\" height=\"12\" fill=\"" + kMarkColour +
       "\"/><text x=\"28\" y=\"" + yt + "\">mark</text>";
  s += "<rect x=\"80\" y=\"" + yl + "\" width=\"1.5\" height=\"12\" fill=\"" + kTextMarkColour +
       "\"/><text x=\"88\" y=\"" + yt + "\">text mark</text>";
  s += "<rect x=\"170\" y=\"" + yl + "\" width=\"13\" height=\"11\" fill=\"" + kIdleColour +
       "\"/><text x=\"189\" y=\"" + yt + "\">idle (vCPU observed, nothing running)</text>";
  s += "<rect x=\"460\" y=\"" + yl + "\" width=\"13\" height=\"11\" fill=\"" + kNotObserved +
       "\"/><text x=\"479\" y=\"" + yt + "\">not observed yet</text>\n";
  if (f.user_lanes) {
    y += 20;
    s += "<rect x=\"20\" y=\"" + std::to_string(y - 11) + "\" width=\"13\" height=\"11\" fill=\"" +
         kThreadActive + "\"/><text x=\"39\" y=\"" + std::to_string(y) +
         "\">thread active (its first to last mark or region)</text>\n";
  }
  if (!dropped_lanes.empty()) {
    y += 20;
    s += "<text x=\"20\" y=\"" + std::to_string(y) + "\" fill=\"#a00\">" +
         std::to_string(dropped_lanes.size()) + " more lanes not drawn (max_lanes " +
         std::to_string(opt.max_lanes) + ")</text>\n";
  }
  s += "</g>\n";
}

std::string SvgExporter::State::Render() {
  const std::vector<uint32_t> order = LaneOrder();
  const std::vector<std::string> labels = LaneLabels();
  const Colours colours = MakeColours(order);
  const Frame frame = MakeFrame(order, colours);
  std::string s;
  s.reserve(64 * 1024);
  DrawHeader(s, frame);
  DrawAxis(s, frame);
  for (size_t row = 0; row < order.size(); ++row) {
    DrawLane(s, lanes[order[row]], row, labels[order[row]], frame, colours);
  }
  if (order.empty()) {
    s += "<text x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(kTop + 14) +
         "\" fill=\"#777\">no vCPU or thread activity in this trace</text>\n";
  }
  DrawLegend(s, frame, colours);
  s += "</svg>\n";
  return s;
}

}  // namespace bdtrace::analyzer
