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
constexpr const char *kPalette[] = {"#3b75af", "#ef8636", "#519e3e", "#c53a32",
                                    "#8d69b8", "#84584e", "#d57dbf", "#bcbc45",
                                    "#58bbcc", "#f4b400", "#2a9d8f", "#e76f51"};
constexpr size_t kPaletteSize = sizeof kPalette / sizeof kPalette[0];

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

struct Rgb {
  int r, g, b;
};

Rgb Hsl(double h, double s, double l) {
  const auto f = [&](double n) {
    const double k = std::fmod(n + h * 12.0, 12.0);
    const double a = s * std::min(l, 1.0 - l);
    const double v = l - a * std::max(-1.0, std::min({k - 3.0, 9.0 - k, 1.0}));
    return static_cast<int>(std::lround(v * 255.0));
  };
  return {f(0), f(8), f(4)};
}

std::string Hex(Rgb c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r & 0xff, c.g & 0xff, c.b & 0xff);
  return buf;
}

double Frac(double x) { return x - std::floor(x); }

// Other processes: a muted colour from the pid (golden-ratio hues keep
// neighbouring pids apart), the same in every picture.
std::string ProcessColour(uint32_t trace, uint32_t pid) {
  return Hex(Hsl(Frac(pid * 0.6180339887 + trace * 0.2718), 0.32, 0.66));
}
std::string ProcessTint(uint32_t trace, uint32_t pid) {
  return Hex(Hsl(Frac(pid * 0.6180339887 + trace * 0.2718), 0.55, 0.82));
}
std::string RegionColour(uint32_t region) {
  return Hex(Hsl(Frac(region * 0.6180339887 + 0.13), 0.75, 0.36));
}

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
  l->running = e.next_tid == 0 ? kIdle
                               : s_->ThreadIndex(e.trace, e.next_pid, e.next_tid, e.next_comm);
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
void SvgExporter::OnDiscardedEvents(uint64_t, bool) {}
void SvgExporter::OnWarning(std::string) {}

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
      s_->AddSpan(s_->lanes[r.lane].regions[std::min<uint32_t>(r.depth, kDepths - 1)], r.region,
                  r.begin, end);
    }
  }
  s_->open.clear();
  const std::string svg = s_->Render();
  s_->out.write(svg.data(), static_cast<std::streamsize>(svg.size()));
  s_->out.flush();
  if (!s_->out) return Error{"writing the SVG timeline failed (disk full? closed pipe?)", {}};
  return Status::Ok();
}

// ---- drawing -------------------------------------------------------------------------

std::string SvgExporter::State::Render() {
  const int64_t end = clock.last_rel();
  const int64_t from = has_origin ? origin : 0;
  const int64_t span = std::max<int64_t>(end - from, 1);

  // Lanes in order: by trace, system lanes (vCPUs) before thread lanes, by id.
  std::vector<uint32_t> order(lanes.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const Lane &x = lanes[a], &y = lanes[b];
    return std::make_tuple(x.trace, !x.system, x.id) < std::make_tuple(y.trace, !y.system, y.id);
  });
  std::set<uint32_t> traces_with_lanes;
  for (const Lane &l : lanes) traces_with_lanes.insert(l.trace);
  const bool several = traces_with_lanes.size() > 1;
  const auto vm_name = [&](uint32_t t) {
    if (t >= traces.size()) return "trace " + std::to_string(t);
    const Trace &tr = traces[t];
    const std::string &name = tr.system_session ? tr.vm : tr.program;
    return name.empty() ? "trace " + std::to_string(t) : name;
  };
  std::vector<std::string> labels(lanes.size());
  size_t longest = 6;
  for (uint32_t i = 0; i < lanes.size(); ++i) {
    const Lane &l = lanes[i];
    std::string label = l.system ? "vCPU " + std::to_string(l.id) : "tid " + std::to_string(l.id);
    if (several) label = vm_name(l.trace) + " " + label;
    if (label.size() > 40) label = label.substr(0, 39) + "\xe2\x80\xa6";
    longest = std::max(longest, label.size());
    labels[i] = std::move(label);
  }
  left = std::clamp(28 + 7 * static_cast<int>(longest), 90, opt.width / 3);
  const int W = opt.width - left - kRight;
  // Buckets of at least one pixel: at most W shapes per lane and row.
  while (static_cast<double>(W) * static_cast<double>(bucket_ns) < static_cast<double>(span)) {
    Coarsen();
  }
  const double px_per_ns = W / static_cast<double>(span);
  const auto X = [&](int64_t rel) { return left + static_cast<double>(rel - from) * px_per_ns; };

  // Process totals: (trace, pid) -> ns, named by its busiest comm. The
  // busiest get the palette, the others a muted colour of their own.
  struct Proc {
    uint32_t trace = 0, pid = 0;
    uint64_t ns = 0, best = 0;
    std::string comm;
  };
  std::map<std::pair<uint32_t, uint32_t>, Proc> procs;
  for (const Thread &t : threads) {
    Proc &p = procs[{t.trace, t.pid}];
    p.trace = t.trace, p.pid = t.pid;
    p.ns += t.ns;
    if (t.ns >= p.best) p.best = t.ns, p.comm = t.comm;
  }
  uint64_t observed_total = 0;
  for (const Lane &l : lanes) {
    if (l.observed) observed_total += static_cast<uint64_t>(end - l.observed_from);
  }
  std::vector<Proc> top;
  for (auto &[k, p] : procs) {
    if (p.ns > 0) top.push_back(p);
  }
  std::sort(top.begin(), top.end(), [](const Proc &a, const Proc &b) {
    return std::tie(b.ns, a.trace, a.pid) < std::tie(a.ns, b.trace, b.pid);
  });
  const size_t others = top.size() > kPaletteSize ? top.size() - kPaletteSize : 0;
  if (others > 0) top.resize(kPaletteSize);
  std::map<std::pair<uint32_t, uint32_t>, std::string> palette;
  for (size_t i = 0; i < top.size(); ++i) palette[{top[i].trace, top[i].pid}] = kPalette[i];
  const auto colour = [&](uint32_t trace, uint32_t pid) {
    auto it = palette.find({trace, pid});
    return it != palette.end() ? it->second : ProcessColour(trace, pid);
  };

  // Regions seen, for their legend.
  std::set<uint32_t> region_ids;
  for (const Lane &l : lanes) {
    for (const auto &row : l.regions) {
      for (const SpanCell &c : row.cells) {
        if (c.key != kNone && region_ids.size() < 12) region_ids.insert(c.key);
      }
    }
  }

  // Geometry: per lane a tick zone (marks), the band (runs), region rows.
  const int H = opt.lane_height;
  const int kTick = 6, kRegionH = 4;
  const int band_h = std::max(6, H - kTick - 1 - kDepths * kRegionH - 1 - 5);
  const int lanes_bottom = kTop + static_cast<int>(order.size()) * H;
  const int axis_y = lanes_bottom + 2;
  const int legend_y = axis_y + 44;
  const int col_w = 270;
  const int per_row = std::max(1, (opt.width - 40) / col_w);
  const auto rows_for = [&](size_t n) { return static_cast<int>((n + per_row - 1) / per_row); };
  int height = legend_y + 10;
  if (!top.empty()) height += 20 * (1 + rows_for(top.size() + (others > 0 ? 1 : 0)));
  if (!region_ids.empty()) height += 20 * (1 + rows_for(region_ids.size()));
  height += 20 + (dropped_lanes.empty() ? 0 : 20);

  std::string s;
  s.reserve(64 * 1024);
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(opt.width) +
       "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(opt.width) +
       " " + std::to_string(height) +
       "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";

  // Title and a one-line summary.
  s += "<text x=\"20\" y=\"28\" font-size=\"18\" font-weight=\"bold\" fill=\"#222\">";
  AppendXmlText(s, opt.title);
  s += "</text>\n";
  std::string summary;
  for (uint32_t t = 0; t < traces.size(); ++t) {
    const Trace &tr = traces[t];
    if (!tr.session) continue;
    if (!summary.empty()) summary += "; ";
    summary += tr.system_session ? "VM " + vm_name(t) + " (system mode)"
                                 : tr.program + " (user mode)";
  }
  const std::string dot = "  \xc2\xb7  ";
  size_t system_lanes = 0;
  for (const Lane &l : lanes) system_lanes += l.system ? 1 : 0;
  if (!summary.empty()) summary += dot;
  if (system_lanes > 0) summary += std::to_string(system_lanes) + " vCPUs" + dot;
  if (lanes.size() > system_lanes) {
    summary += std::to_string(lanes.size() - system_lanes) + " threads" + dot;
  }
  summary += std::to_string(switches) + " context switches" + dot + std::to_string(marks) +
             " marks" + dot + std::to_string(regions) + " regions";
  s += "<text x=\"20\" y=\"48\" fill=\"#555\">";
  AppendXmlText(s, summary);
  s += "</text>\n";

  // Time axis: a round step giving about one label per 110 px; times are
  // since the trace's first event, like the text report's.
  const double raw = static_cast<double>(span) * 110.0 / W;
  double step = std::pow(10.0, std::floor(std::log10(std::max(raw, 1.0))));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (step * m >= raw) {
      step *= m;
      break;
    }
  }
  std::vector<int64_t> ticks;
  for (double t = std::ceil(static_cast<double>(from) / step) * step;
       t <= static_cast<double>(end) + 0.5; t += step) {
    ticks.push_back(static_cast<int64_t>(t));
  }
  s += "<g class=\"axis\" stroke=\"#c8c8c8\" stroke-width=\"0.7\">\n";
  for (int64_t t : ticks) {
    const std::string x = Fmt(X(t));
    s += "<line x1=\"" + x + "\" y1=\"" + std::to_string(kTop - 4) + "\" x2=\"" + x +
         "\" y2=\"" + std::to_string(axis_y + 5) + "\"/>\n";
  }
  s += "</g>\n<g class=\"axis-labels\" fill=\"#444\" text-anchor=\"middle\">\n";
  for (int64_t t : ticks) {
    s += "<text x=\"" + Fmt(X(t)) + "\" y=\"" + std::to_string(axis_y + 18) + "\">" +
         (t == 0 ? std::string("0") : ShortDuration(t)) + "</text>\n";
  }
  std::string axis_note = "time since the first event";
  if (from > 0) axis_note += " (drawn from the first activity, at " + ShortDuration(from) + ")";
  s += "<text x=\"" + std::to_string(left + W) + "\" y=\"" + std::to_string(axis_y + 34) +
       "\" text-anchor=\"end\" fill=\"#777\" font-size=\"11\">" + axis_note + "</text>\n</g>\n";

  for (size_t row = 0; row < order.size(); ++row) {
    const Lane &l = lanes[order[row]];
    const int y0 = kTop + static_cast<int>(row) * H;
    const int band_y = y0 + kTick + 1;
    const int reg_y = band_y + band_h + 1;
    s += "<g class=\"lane\">\n<text x=\"" + std::to_string(left - 10) + "\" y=\"" +
         std::to_string(band_y + band_h / 2 + 4) + "\" text-anchor=\"end\" fill=\"#222\">";
    AppendXmlText(s, labels[order[row]]);
    s += "</text>\n";
    const std::string band = "\" y=\"" + std::to_string(band_y) + "\" height=\"" +
                             std::to_string(band_h) + "\"";
    s += "<rect x=\"" + std::to_string(left) + "\" width=\"" + std::to_string(W) + band +
         " fill=\"#f5f5f5\"/>\n";
    if (l.observed) {  // known time: idle shows as this grey
      s += "<rect x=\"" + Fmt(X(l.observed_from)) + "\" width=\"" +
           Fmt(X(end) - X(l.observed_from)) + band + " fill=\"#e2e2e2\"><title>";
      AppendXmlText(s, "vCPU " + std::to_string(l.id) + ": idle where no process is drawn");
      s += "</title></rect>\n";
    } else if (!l.system && l.first <= l.last) {  // user mode: the thread's active span
      s += "<rect x=\"" + Fmt(X(l.first)) + "\" width=\"" +
           Fmt(std::max(X(l.last) - X(l.first), 1.0)) + band + " fill=\"" +
           ProcessTint(l.trace, l.pid) + "\"><title>";
      AppendXmlText(s, "tid " + std::to_string(l.id) + " (pid " + std::to_string(l.pid) +
                           "): first to last event " + ShortDuration(l.first) + " to " +
                           ShortDuration(l.last));
      s += "</title></rect>\n";
    }

    // Runs: consecutive buckets of the same thread become one rect.
    const auto flush_run = [&](uint32_t key, int64_t first, int64_t last) {
      if (key == kNone || key == kIdle) return;
      const Thread &t = threads[key];
      const double x = X(first), w = std::max(X(last) - x, 0.8);
      s += "<rect x=\"" + Fmt(x) + "\" width=\"" + Fmt(w) + band + " fill=\"" +
           colour(t.trace, t.pid) + "\"";
      if (w < 2.0) {  // no tooltip: too small to point at
        s += "/>\n";
        return;
      }
      s += "><title>";
      AppendXmlText(s, t.comm + " [" + std::to_string(t.pid) + "/" + std::to_string(t.tid) +
                           "] on vCPU " + std::to_string(l.id) + "\n" + ShortDuration(first) +
                           " to " + ShortDuration(last) + " (" + ShortDuration(last - first) +
                           ")");
      s += "</title></rect>\n";
    };
    const auto walk = [&](const Row<SpanCell> &cells, auto &&flush) {
      uint32_t key = kNone;
      int64_t first = 0, last = 0;
      for (const SpanCell &c : cells.cells) {
        if (c.key == key && c.first - last <= static_cast<int64_t>(bucket_ns)) {
          last = std::max(last, c.last);
          continue;
        }
        flush(key, first, last);
        key = c.key, first = c.first, last = c.last;
      }
      flush(key, first, last);
    };
    walk(l.runs, flush_run);

    // Regions: one thin row per nesting level.
    for (int d = 0; d < kDepths; ++d) {
      const std::string ry = std::to_string(reg_y + d * kRegionH);
      walk(l.regions[d], [&](uint32_t key, int64_t first, int64_t last) {
        if (key == kNone) return;
        const double x = X(first), w = std::max(X(last) - x, 1.0);
        s += "<rect x=\"" + Fmt(x) + "\" y=\"" + ry + "\" width=\"" + Fmt(w) + "\" height=\"" +
             std::to_string(kRegionH - 1) + "\" fill=\"" + RegionColour(key) + "\"";
        if (w < 2.0) {
          s += "/>\n";
          return;
        }
        s += "><title>";
        AppendXmlText(s, "region " + NameOf(key, "(unnamed) ") + " (id " + std::to_string(key) +
                             ")\n" + ShortDuration(first) + " to " + ShortDuration(last) + " (" +
                             ShortDuration(last - first) + ")");
        s += "</title></rect>\n";
      });
    }

    // Marks: a tick per bucket holding any.
    for (const MarkCell &c : l.marks.cells) {
      if (c.count == 0) continue;
      s += "<rect x=\"" + Fmt(X(c.first) - 0.6) + "\" y=\"" + std::to_string(y0) +
           "\" width=\"1.2\" height=\"" + std::to_string(kTick + 1 + band_h / 2) + "\" fill=\"" +
           (c.text ? "#c0392b" : "#222222") + "\"><title>";
      std::string what = c.count == 1 ? "mark " : std::to_string(c.count) + " marks: ";
      what += NameOf(c.event, "event ");
      if (c.mixed) what += " and others";
      AppendXmlText(s, what + " at " + ShortDuration(c.first));
      s += "</title></rect>\n";
    }
    s += "</g>\n";
  }
  if (order.empty()) {
    s += "<text x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(kTop + 14) +
         "\" fill=\"#777\">no vCPU or thread activity in this trace</text>\n";
  }

  // Legend.
  int y = legend_y;
  const auto entry = [&](size_t i, const std::string &fill, const std::string &text) {
    const int x = 20 + static_cast<int>(i % per_row) * col_w;
    const int yy = y + 20 * static_cast<int>(i / per_row);
    s += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(yy - 10) +
         "\" width=\"13\" height=\"11\" fill=\"" + fill + "\"/><text x=\"" +
         std::to_string(x + 19) + "\" y=\"" + std::to_string(yy) + "\">";
    AppendXmlText(s, text);
    s += "</text>\n";
  };
  s += "<g class=\"legend\" fill=\"#222\">\n";
  if (!top.empty()) {
    s += "<text x=\"20\" y=\"" + std::to_string(y) +
         "\" font-weight=\"bold\">busiest processes: CPU time, share of the observed vCPU "
         "time</text>\n";
    y += 20;
    for (size_t i = 0; i < top.size(); ++i) {
      const Proc &p = top[i];
      char share[32];
      std::snprintf(share, sizeof share, "%.1f%%",
                    observed_total ? 100.0 * static_cast<double>(p.ns) / observed_total : 0.0);
      std::string text = p.comm + " [" + std::to_string(p.pid) + "]  " +
                         ShortDuration(static_cast<int64_t>(p.ns)) + "  " + share;
      if (several) text += "  (" + vm_name(p.trace) + ")";
      entry(i, colour(p.trace, p.pid), text);
    }
    if (others > 0) {
      entry(top.size(), "#b8b8b8", std::to_string(others) + " other processes (muted colours)");
    }
    y += 20 * rows_for(top.size() + (others > 0 ? 1 : 0));
  }
  if (!region_ids.empty()) {
    s += "<text x=\"20\" y=\"" + std::to_string(y) +
         "\" font-weight=\"bold\">regions: bars under the lane where they began, a row per "
         "nesting level</text>\n";
    y += 20;
    size_t i = 0;
    for (uint32_t id : region_ids) {
      entry(i++, RegionColour(id), NameOf(id, "region ") + " (id " + std::to_string(id) + ")");
    }
    y += 20 * rows_for(region_ids.size());
  }
  const std::string yl = std::to_string(y - 11), yt = std::to_string(y);
  s += "<rect x=\"20\" y=\"" + yl + "\" width=\"1.5\" height=\"12\" fill=\"#222222\"/>";
  s += "<text x=\"28\" y=\"" + yt + "\">mark</text>";
  s += "<rect x=\"80\" y=\"" + yl + "\" width=\"1.5\" height=\"12\" fill=\"#c0392b\"/>";
  s += "<text x=\"88\" y=\"" + yt + "\">text mark</text>";
  s += "<rect x=\"170\" y=\"" + yl + "\" width=\"13\" height=\"11\" fill=\"#e2e2e2\"/>";
  s += "<text x=\"189\" y=\"" + yt + "\">idle (vCPU observed, nothing running)</text>";
  s += "<rect x=\"460\" y=\"" + yl + "\" width=\"13\" height=\"11\" fill=\"#f5f5f5\"/>";
  s += "<text x=\"479\" y=\"" + yt + "\">not observed yet</text>\n";
  if (!dropped_lanes.empty()) {
    y += 20;
    s += "<text x=\"20\" y=\"" + std::to_string(y) + "\" fill=\"#a00\">" +
         std::to_string(dropped_lanes.size()) + " more lanes not drawn (max_lanes " +
         std::to_string(opt.max_lanes) + ")</text>\n";
  }
  s += "</g>\n</svg>\n";
  return s;
}

}  // namespace bdtrace::analyzer
