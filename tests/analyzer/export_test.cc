// SPDX-License-Identifier: MIT
// Tests of the exporters (bdtrace/analyzer/export.h): Chrome trace JSON and
// the SVG timeline, on the golden traces and on crafted events.
//
// The Chrome JSON is parsed with protobuf's JSON parser and checked the way
// a viewer relies on it: every B has its E on the same track, async b/e
// pair by (cat, id), timestamps never go back on a track, every pid and tid
// is named. The SVG is checked by a small strict XML well-formedness
// checker (below) and by what it draws.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bdtrace/analyzer/export.h"
#include "bdtrace/analyzer/reader.h"

using namespace bdtrace::analyzer;
using bdtrace::Status;
namespace pb = google::protobuf;

namespace {

const std::string kDataDir = BD_TEST_DATA_DIR;
const std::string kSmallTrace = kDataDir + "/small-trace";
const std::string kSystemTrace = kDataDir + "/system-trace";
// Ring-channel events with guest_ts (trace-gen --ring; see ring_test.cc).
const std::string kRingTrace = kDataDir + "/ring-trace";

// Reads the traces under path into visitor.
void Read(const std::string &path, EventVisitor &visitor) {
  auto dirs = FindTraceDirs({path});
  ASSERT_TRUE(dirs.ok()) << dirs.error().ToString();
  Status st = ReadTraces(*dirs, visitor);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
}

// Records the marks a trace holds: (event id) in order, plus the names.
class MarkRecorder final : public EventVisitor {
 public:
  std::vector<uint32_t> marks;
  EventNames names;
  void OnMark(const MarkEvent &e) override { marks.push_back(e.event); }
  void OnEventName(const EventNameEvent &e) override { names[e.event] = std::string(e.name); }
};

// ---- Chrome JSON checks ----------------------------------------------------------------

std::string Str(const pb::Struct &s, const std::string &key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}
double Num(const pb::Struct &s, const std::string &key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? -1 : it->second.number_value();
}
bool Has(const pb::Struct &s, const std::string &key) { return s.fields().count(key) != 0; }

// What a checked Chrome trace holds.
struct ChromeSummary {
  std::map<uint32_t, std::string> process_names;
  std::map<std::pair<uint32_t, uint32_t>, std::string> thread_names;
  std::multiset<std::string> slices;    // B names
  std::multiset<std::string> instants;  // i names
  std::multiset<std::string> regions;   // b names
  std::vector<pb::Struct> instant_events;
  std::vector<pb::Struct> slice_events;
  size_t events = 0;
};

// Parses json and checks the structural rules; failures are reported with
// ADD_FAILURE so that one run shows them all.
ChromeSummary CheckChrome(const std::string &json) {
  ChromeSummary sum;
  pb::Struct root;
  const auto st = pb::util::JsonStringToMessage(json, &root);
  if (!st.ok()) {
    ADD_FAILURE() << "the Chrome JSON does not parse: " << st.ToString() << "\n" << json.substr(0, 2000);
    return sum;
  }
  auto it = root.fields().find("traceEvents");
  if (it == root.fields().end() || !it->second.has_list_value()) {
    ADD_FAILURE() << "no traceEvents array";
    return sum;
  }
  using Track = std::pair<uint32_t, uint32_t>;
  std::map<Track, std::vector<std::string>> open;  // B names per track
  std::map<Track, double> last_ts;
  std::map<std::pair<std::string, double>, std::vector<std::string>> async_open;
  std::set<uint32_t> pids;
  std::set<Track> tracks;
  for (const pb::Value &v : it->second.list_value().values()) {
    ++sum.events;
    if (!v.has_struct_value()) {
      ADD_FAILURE() << "an event is not an object";
      continue;
    }
    const pb::Struct &e = v.struct_value();
    const std::string ph = Str(e, "ph");
    if (!Has(e, "pid") || !Has(e, "tid")) {
      ADD_FAILURE() << "event without pid/tid, ph " << ph;
      continue;
    }
    const auto pid = static_cast<uint32_t>(Num(e, "pid"));
    const auto tid = static_cast<uint32_t>(Num(e, "tid"));
    const Track track{pid, tid};
    if (ph == "M") {
      const std::string what = Str(e, "name");
      const pb::Struct &args = e.fields().at("args").struct_value();
      if (what == "process_name") sum.process_names[pid] = Str(args, "name");
      if (what == "thread_name") sum.thread_names[track] = Str(args, "name");
      continue;
    }
    pids.insert(pid);
    tracks.insert(track);
    if (!Has(e, "ts")) {
      ADD_FAILURE() << "event without ts, ph " << ph;
      continue;
    }
    const double ts = Num(e, "ts");
    EXPECT_GE(ts, 0.0);
    auto last = last_ts.find(track);
    if (last != last_ts.end()) {
      EXPECT_GE(ts, last->second) << "time goes back on track " << pid << "/" << tid;
    }
    last_ts[track] = ts;
    if (ph == "B") {
      open[track].push_back(Str(e, "name"));
      sum.slices.insert(Str(e, "name"));
      sum.slice_events.push_back(e);
    } else if (ph == "E") {
      if (open[track].empty()) {
        ADD_FAILURE() << "E without B on track " << pid << "/" << tid << " at " << ts;
      } else {
        open[track].pop_back();
      }
    } else if (ph == "i") {
      EXPECT_EQ(Str(e, "s"), "t");
      sum.instants.insert(Str(e, "name"));
      sum.instant_events.push_back(e);
    } else if (ph == "b" || ph == "e") {
      const std::pair<std::string, double> key{Str(e, "cat"), Num(e, "id")};
      EXPECT_EQ(key.first, "region");
      if (ph == "b") {
        async_open[key].push_back(Str(e, "name"));
        sum.regions.insert(Str(e, "name"));
      } else if (async_open[key].empty()) {
        ADD_FAILURE() << "e without b, id " << key.second;
      } else {
        EXPECT_EQ(async_open[key].back(), Str(e, "name")) << "b and e must share the name";
        async_open[key].pop_back();
      }
    } else {
      ADD_FAILURE() << "unexpected phase " << ph;
    }
  }
  for (const auto &[track, stack] : open) {
    EXPECT_TRUE(stack.empty()) << stack.size() << " B without E on " << track.first << "/" << track.second;
  }
  for (const auto &[key, stack] : async_open) {
    EXPECT_TRUE(stack.empty()) << "b without e, id " << key.second;
  }
  for (uint32_t pid : pids) {
    EXPECT_FALSE(sum.process_names[pid].empty()) << "pid " << pid << " has no process_name";
  }
  for (const Track &t : tracks) {
    EXPECT_FALSE(sum.thread_names[t].empty())
        << "tid " << t.second << " of pid " << t.first << " has no thread_name";
  }
  return sum;
}

// two_pass: names from a NameCollector pass first (exact names).
std::string ChromeOf(const std::string &path, bool two_pass = true) {
  std::ostringstream out;
  NameCollector names;
  if (two_pass) Read(path, names);
  ChromeExporter chrome = two_pass ? ChromeExporter(out, names.take_names()) : ChromeExporter(out);
  Read(path, chrome);
  Status st = chrome.Finish();
  EXPECT_TRUE(st.ok()) << st.error().ToString();
  return out.str();
}

// ---- a strict little XML well-formedness checker ---------------------------------------

struct XmlSummary {
  bool ok = false;
  std::string error;
  std::map<std::string, int> elements;  // element name -> count
  int lanes = 0;                        // elements with class="lane"
  std::vector<std::string> texts;       // character data, entities decoded
};

bool ValidUtf8AndXmlChars(const std::string &s, std::string &error) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t len;
    if (b < 0x80) {
      cp = b, len = 1;
    } else if ((b & 0xE0) == 0xC0) {
      cp = b & 0x1F, len = 2;
    } else if ((b & 0xF0) == 0xE0) {
      cp = b & 0x0F, len = 3;
    } else if ((b & 0xF8) == 0xF0) {
      cp = b & 0x07, len = 4;
    } else {
      error = "invalid UTF-8 lead byte at " + std::to_string(i);
      return false;
    }
    if (i + len > s.size()) {
      error = "truncated UTF-8 at " + std::to_string(i);
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) {
        error = "invalid UTF-8 continuation at " + std::to_string(i + k);
        return false;
      }
      cp = cp << 6 | (c & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      error = "bad UTF-8 sequence at " + std::to_string(i);
      return false;
    }
    if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE || cp == 0xFFFF) {
      error = "character XML forbids at " + std::to_string(i);
      return false;
    }
    i += len;
  }
  return true;
}

class XmlChecker {
 public:
  explicit XmlChecker(const std::string &s) : s_(s) {}

  XmlSummary Run() {
    if (!ValidUtf8AndXmlChars(s_, sum_.error)) return sum_;
    if (s_.compare(0, 5, "<?xml") == 0) {
      const size_t end = s_.find("?>");
      if (end == std::string::npos) return Fail("unterminated XML declaration");
      pos_ = end + 2;
    }
    SkipMisc();
    if (!Element()) return sum_;
    SkipMisc();
    if (pos_ != s_.size()) return Fail("content after the root element");
    sum_.ok = true;
    return sum_;
  }

 private:
  XmlSummary Fail(const std::string &what) {
    sum_.ok = false;
    sum_.error = what + " at byte " + std::to_string(pos_) + ": ..." + s_.substr(pos_, 60);
    return sum_;
  }
  bool Fails(const std::string &what) {
    Fail(what);
    return false;
  }
  void SkipSpace() {
    while (pos_ < s_.size() && std::string(" \t\r\n").find(s_[pos_]) != std::string::npos) ++pos_;
  }
  void SkipMisc() {
    for (;;) {
      SkipSpace();
      if (s_.compare(pos_, 4, "<!--") != 0) return;
      const size_t end = s_.find("-->", pos_ + 4);
      if (end == std::string::npos) return;
      pos_ = end + 3;
    }
  }
  static bool NameStart(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  }
  static bool NameChar(char c) {
    return NameStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  }
  bool Name(std::string &out) {
    if (pos_ >= s_.size() || !NameStart(s_[pos_])) return Fails("expected a name");
    const size_t start = pos_;
    while (pos_ < s_.size() && NameChar(s_[pos_])) ++pos_;
    out = s_.substr(start, pos_ - start);
    return true;
  }
  // At '&': one of the five entities or a character reference.
  bool Entity(std::string &decoded) {
    const size_t end = s_.find(';', pos_);
    if (end == std::string::npos || end - pos_ > 12) return Fails("bad entity");
    const std::string ent = s_.substr(pos_ + 1, end - pos_ - 1);
    static const std::map<std::string, std::string> kNamed = {
        {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}};
    auto it = kNamed.find(ent);
    if (it != kNamed.end()) {
      decoded += it->second;
    } else if (ent.size() > 1 && ent[0] == '#') {
      const bool hex = ent[1] == 'x';
      const std::string digits = ent.substr(hex ? 2 : 1);
      if (digits.empty() ||
          digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") != std::string::npos) {
        return Fails("bad character reference");
      }
      decoded += '?';
    } else {
      return Fails("unknown entity &" + ent + ";");
    }
    pos_ = end + 1;
    return true;
  }
  bool Element() {
    if (pos_ >= s_.size() || s_[pos_] != '<') return Fails("expected an element");
    ++pos_;
    std::string name;
    if (!Name(name)) return false;
    ++sum_.elements[name];
    std::set<std::string> attrs;
    for (;;) {
      const size_t before = pos_;
      SkipSpace();
      if (pos_ >= s_.size()) return Fails("unterminated start tag");
      if (s_.compare(pos_, 2, "/>") == 0) {
        pos_ += 2;
        return true;
      }
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      if (pos_ == before) return Fails("attributes need white space between them");
      std::string attr;
      if (!Name(attr)) return false;
      if (!attrs.insert(attr).second) return Fails("duplicate attribute " + attr);
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '=') return Fails("expected =");
      ++pos_;
      SkipSpace();
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) {
        return Fails("attribute value must be quoted");
      }
      const char quote = s_[pos_++];
      std::string value;
      while (pos_ < s_.size() && s_[pos_] != quote) {
        if (s_[pos_] == '<') return Fails("< in an attribute value");
        if (s_[pos_] == '&') {
          if (!Entity(value)) return false;
        } else {
          value += s_[pos_++];
        }
      }
      if (pos_ >= s_.size()) return Fails("unterminated attribute value");
      ++pos_;
      if (attr == "class" && value == "lane") ++sum_.lanes;
    }
    // Content: text, comments, child elements, then the end tag.
    std::string text;
    for (;;) {
      if (pos_ >= s_.size()) return Fails("unterminated element " + name);
      if (s_.compare(pos_, 4, "<!--") == 0) {
        const size_t end = s_.find("-->", pos_ + 4);
        if (end == std::string::npos) return Fails("unterminated comment");
        pos_ = end + 3;
      } else if (s_.compare(pos_, 2, "</") == 0) {
        pos_ += 2;
        std::string end_name;
        if (!Name(end_name)) return false;
        if (end_name != name) return Fails("</" + end_name + "> closes <" + name + ">");
        SkipSpace();
        if (pos_ >= s_.size() || s_[pos_] != '>') return Fails("bad end tag");
        ++pos_;
        if (!text.empty()) sum_.texts.push_back(text);
        return true;
      } else if (s_[pos_] == '<') {
        if (!Element()) return false;
      } else if (s_[pos_] == '&') {
        if (!Entity(text)) return false;
      } else {
        if (s_.compare(pos_, 3, "]]>") == 0) return Fails("]]> in text");
        text += s_[pos_++];
      }
    }
  }

  const std::string &s_;
  size_t pos_ = 0;
  XmlSummary sum_;
};

XmlSummary CheckXml(const std::string &s) { return XmlChecker(s).Run(); }

bool HasText(const XmlSummary &x, const std::string &needle) {
  return std::any_of(x.texts.begin(), x.texts.end(),
                     [&](const std::string &t) { return t.find(needle) != std::string::npos; });
}

std::string SvgOf(const std::string &path, SvgOptions options = {}) {
  std::ostringstream out;
  SvgExporter svg(out, std::move(options));
  Read(path, svg);
  Status st = svg.Finish();
  EXPECT_TRUE(st.ok()) << st.error().ToString();
  return out.str();
}

// ---- crafted events ------------------------------------------------------------------

SessionEvent Session(const char *mode, const char *program, std::string_view vm, uint32_t trace) {
  SessionEvent e{};
  e.mode = mode, e.arch = "x86_64", e.program = program, e.vm = vm, e.trace = trace;
  e.abi_version = 1;
  return e;
}

SchedSwitchEvent Switch(int64_t ts, uint32_t vcpu, uint32_t pid, uint32_t tid, std::string_view comm,
                        uint32_t trace = 0) {
  SchedSwitchEvent e{};
  e.ts_ns = ts, e.vcpu = vcpu, e.next_pid = pid, e.next_tid = tid, e.next_comm = comm;
  e.prev_comm = "prev";
  e.trace = trace;
  return e;
}

MarkEvent Mark(int64_t ts, uint32_t vcpu, uint32_t pid, uint32_t tid, uint32_t event,
               std::string_view text = {}) {
  MarkEvent e{};
  e.ts_ns = ts, e.vcpu = vcpu, e.pid = pid, e.tid = tid, e.event = event, e.text = text;
  e.kind = text.empty() ? kKindMark : kKindMarkText;
  e.args[0] = 7, e.args[3] = ~uint64_t{0};
  return e;
}

RegionEvent Region(int64_t ts, uint32_t vcpu, uint32_t pid, uint32_t tid, uint32_t region, bool begin) {
  RegionEvent e{};
  e.ts_ns = ts, e.vcpu = vcpu, e.pid = pid, e.tid = tid, e.region = region, e.begin = begin;
  return e;
}

EventNameEvent Name(int64_t ts, uint32_t event, std::string_view name) {
  EventNameEvent e{};
  e.ts_ns = ts, e.event = event, e.name = name;
  return e;
}

// Comms and texts that break naive writers: quotes, backslashes, markup,
// control bytes, invalid UTF-8 (a lone continuation byte, an overlong
// slash, a truncated sequence, 0xFF), plus valid non-ASCII.
const std::string kNasty = std::string("a\"b\\c<d>&amp;'e\n\t\x01\x1f\x7f") + "\x80" + "\xc0\xaf" + "\xff" +
                           "\xc3\xa9t\xc3\xa9 \xe2\x82";

// Feeds the same crafted system-mode story to a visitor.
void FeedNasty(EventVisitor &v) {
  v.OnSession(Session("system", "vmlinuz", "vm \"<&>\"", 0));
  v.OnEventName(Name(1000, 5, kNasty));
  v.OnSchedSwitch(Switch(1000, 0, 10, 10, kNasty));
  v.OnSchedSwitch(Switch(1100, 1, 20, 21, "plain"));
  v.OnMark(Mark(1200, 0, 10, 10, 5, kNasty));
  v.OnMark(Mark(1250, 0, 10, 10, 6));  // never named
  v.OnRegion(Region(1300, 0, 10, 10, 5, true));
  v.OnRegion(Region(1310, 0, 10, 10, 5, true));  // nested, same id
  v.OnRegion(Region(1320, 1, 10, 10, 6, true));  // migrated to vCPU 1
  v.OnSchedSwitch(Switch(1400, 0, 0, 0, "swapper/0"));
  v.OnRegion(Region(1500, 1, 10, 10, 5, false));
  v.OnRegion(Region(1600, 1, 10, 10, 9, false));  // stray end
  v.OnSchedSwitch(Switch(1700, 1, 10, 10, kNasty));
  v.OnRegion(Region(1800, 1, 10, 10, 5, false));
  v.OnMark(Mark(2000, 1, 10, 10, 5));
  // Region 6 and both vCPUs' runs are still open at the end.
}

}  // namespace

// ---- Chrome JSON on the golden traces ----------------------------------------------------

TEST(ChromeExport, UserTraceIsWellFormedAndNamed) {
  const std::string json = ChromeOf(kSmallTrace);
  const ChromeSummary sum = CheckChrome(json);
  ASSERT_EQ(sum.process_names.size(), 1u);
  EXPECT_EQ(sum.process_names.begin()->first, 1u) << "pid = trace index + 1";
  EXPECT_EQ(sum.process_names.begin()->second, "user: trace-gen");
  EXPECT_EQ(sum.thread_names.at({1, 4242}), "tid 4242");
  EXPECT_EQ(sum.thread_names.at({1, 4243}), "tid 4243");
  EXPECT_TRUE(sum.slices.empty()) << "user mode has no sched slices";

  // An instant per mark, named as the final names say.
  MarkRecorder rec;
  Read(kSmallTrace, rec);
  std::multiset<std::string> expected;
  for (uint32_t id : rec.marks) {
    expected.insert(rec.names.count(id) ? rec.names[id] : "event " + std::to_string(id));
  }
  std::multiset<std::string> marks;
  for (const std::string &n : sum.instants) {
    if (n.rfind("rejected: ", 0) != 0) marks.insert(n);
  }
  EXPECT_EQ(marks, expected);
  EXPECT_EQ(sum.instants.count("tick"), 9u);
  EXPECT_EQ(sum.instants.count("work"), 3u);
  EXPECT_EQ(sum.instants.count("note"), 1u);
  EXPECT_EQ(sum.instants.size() - marks.size(), 1u) << "the one rejected record";

  // Regions: outer once on 4242 and twice on 4243, inner twice, 13 left
  // open (closed at the end), the stray end of 12 dropped.
  EXPECT_EQ(sum.regions.count("outer"), 3u);
  EXPECT_EQ(sum.regions.count("inner"), 2u);
  EXPECT_EQ(sum.regions.count("region 13"), 1u);
  EXPECT_EQ(sum.regions.size(), 6u);

  // The text mark keeps its text; args carry the ids.
  int texts = 0;
  for (const pb::Struct &e : sum.instant_events) {
    const pb::Struct &args = e.fields().at("args").struct_value();
    if (Str(e, "name") == "note") {
      ++texts;
      EXPECT_TRUE(Has(args, "text"));
      EXPECT_EQ(Num(args, "kind"), kKindMarkText);
    }
  }
  EXPECT_EQ(texts, 1);
}

TEST(ChromeExport, SystemTraceHasVcpuTracksWithRunningThreads) {
  const std::string json = ChromeOf(kSystemTrace);
  const ChromeSummary sum = CheckChrome(json);
  ASSERT_EQ(sum.process_names.size(), 1u);
  EXPECT_EQ(sum.process_names.at(1), "golden-vm");
  EXPECT_EQ(sum.thread_names.at({1, 0}), "vCPU 0");
  EXPECT_EQ(sum.thread_names.at({1, 1}), "vCPU 1");
  EXPECT_EQ(sum.thread_names.size(), 2u) << "marks go on the vCPU tracks";
  EXPECT_GE(sum.slices.count("guest-pingpong[100/100]"), 1u);
  EXPECT_EQ(sum.slices.count("bd-demo-workload[200/200]"), 1u);
  EXPECT_EQ(sum.slices.count("bd-mark[300/300]"), 1u);
  for (const std::string &s : sum.slices) {
    EXPECT_EQ(s.find("swapper"), std::string::npos) << "idle is not drawn: " << s;
  }
  for (const pb::Struct &e : sum.slice_events) {
    const pb::Struct &args = e.fields().at("args").struct_value();
    EXPECT_FALSE(Str(args, "comm").empty());
    EXPECT_GT(Num(args, "tid"), 0);
  }
  // The system golden names no ids.
  EXPECT_EQ(sum.instants, (std::multiset<std::string>{"event 1", "event 1", "event 2", "event 3"}));
}

TEST(ChromeExport, OnePassNamesOnlyWhatIsKnown) {
  // The golden names its ids after using them: one pass cannot know.
  const ChromeSummary sum = CheckChrome(ChromeOf(kSmallTrace, /*two_pass=*/false));
  EXPECT_EQ(sum.instants.count("event 1"), 9u);
  EXPECT_EQ(sum.instants.count("tick"), 0u);
  EXPECT_EQ(sum.regions.count("region 10"), 3u);
}

TEST(ChromeExport, NamesGivenUpFrontNameEarlierMarks) {
  // Marks before their name: `event <id>` in one pass, the name with a
  // NameCollector pass first.
  std::ostringstream one_pass, two_pass;
  {
    ChromeExporter chrome(one_pass);
    chrome.OnMark(Mark(10, 0, 1, 1, 42));
    chrome.OnEventName(Name(20, 42, "late"));
    chrome.OnMark(Mark(30, 0, 1, 1, 42));
    ASSERT_TRUE(chrome.Finish().ok());
  }
  EXPECT_EQ(CheckChrome(one_pass.str()).instants, (std::multiset<std::string>{"event 42", "late"}));
  NameCollector names;
  names.OnEventName(Name(20, 42, "early"));
  names.OnEventName(Name(25, 42, "late"));  // the last name wins
  {
    ChromeExporter chrome(two_pass, names.take_names());
    chrome.OnMark(Mark(10, 0, 1, 1, 42));
    chrome.OnEventName(Name(20, 42, "early"));  // final names given: ignored
    chrome.OnMark(Mark(30, 0, 1, 1, 42));
    ASSERT_TRUE(chrome.Finish().ok());
  }
  EXPECT_EQ(CheckChrome(two_pass.str()).instants, (std::multiset<std::string>{"late", "late"}));
}

TEST(ChromeExport, NastyStringsAreEscapedAndTracksStayBalanced) {
  std::ostringstream out;
  ChromeExporter chrome(out);
  FeedNasty(chrome);
  ASSERT_TRUE(chrome.Finish().ok());
  const std::string json = out.str();
  for (unsigned char c : json) {
    EXPECT_TRUE(c >= 0x20 || c == '\n') << "raw control byte " << int(c) << " in the JSON";
  }
  const ChromeSummary sum = CheckChrome(json);
  EXPECT_EQ(sum.process_names.at(1), "vm \"<&>\"");
  // Valid characters survive; invalid bytes become U+FFFD each.
  const std::string fffd = "\xef\xbf\xbd";
  const std::string expected = std::string("a\"b\\c<d>&amp;'e\n\t\x01\x1f\x7f") + fffd + fffd + fffd + fffd +
                               "\xc3\xa9t\xc3\xa9 " + fffd + fffd;
  bool found = false;
  for (const pb::Struct &e : sum.slice_events) {
    const pb::Struct &args = e.fields().at("args").struct_value();
    if (Num(args, "tid") == 10) {
      EXPECT_EQ(Str(args, "comm"), expected);
      EXPECT_EQ(Str(e, "name"), expected + "[10/10]");
      found = true;
    }
  }
  EXPECT_TRUE(found);
  ASSERT_EQ(sum.instants.count(expected), 2u) << "marks named by the nasty name";
  EXPECT_EQ(sum.instants.count("event 6"), 1u);
  for (const pb::Struct &e : sum.instant_events) {
    const pb::Struct &args = e.fields().at("args").struct_value();
    EXPECT_EQ(Num(args, "a0"), 7);
    EXPECT_EQ(Str(args, "a3"), "0xffffffffffffffff") << "too big for a double: hex string";
    if (Has(args, "text")) {
      EXPECT_EQ(Str(args, "text"), expected);
    }
  }
  EXPECT_EQ(sum.regions.count(expected), 2u);
  EXPECT_EQ(sum.regions.count("region 6"), 1u);
  EXPECT_EQ(sum.regions.size(), 3u);
}

TEST(ChromeExport, EmptyTraceAndSeveralVms) {
  std::ostringstream empty;
  {
    ChromeExporter chrome(empty);
    ASSERT_TRUE(chrome.Finish().ok());
    EXPECT_FALSE(chrome.Finish().ok()) << "twice is an error";
  }
  EXPECT_EQ(CheckChrome(empty.str()).events, 0u);

  std::ostringstream out;
  ChromeExporter chrome(out);
  chrome.OnSession(Session("system", "vmlinuz", "alpha", 0));
  chrome.OnSession(Session("system", "vmlinuz", "beta", 1));
  chrome.OnSchedSwitch(Switch(100, 0, 5, 5, "a", 0));
  chrome.OnSchedSwitch(Switch(150, 0, 6, 6, "b", 1));
  chrome.OnSchedSwitch(Switch(200, 0, 7, 7, "c", 0));
  MarkEvent m = Mark(250, 0, 6, 6, 1);
  m.trace = 1;
  chrome.OnMark(m);
  ASSERT_TRUE(chrome.Finish().ok());
  const ChromeSummary sum = CheckChrome(out.str());
  EXPECT_EQ(sum.process_names.at(1), "alpha");
  EXPECT_EQ(sum.process_names.at(2), "beta");
  EXPECT_EQ(sum.slices, (std::multiset<std::string>{"a[5/5]", "b[6/6]", "c[7/7]"}));
  ASSERT_EQ(sum.instant_events.size(), 1u);
  EXPECT_EQ(Num(sum.instant_events[0], "pid"), 2) << "the mark of VM beta";
}

TEST(ChromeExport, RingTraceDrawsRunsAndMarksAtTheirGuestTimes) {
  // trace-gen --ring: on vCPU 0, 501 runs from 1 ms, 502 from 6 ms; tick
  // marks at 3, 7, 60 and 115 ms (guest times; emitted at 12 to 120 ms, in
  // another order). CheckChrome also checks no track goes back in time.
  const ChromeSummary sum = CheckChrome(ChromeOf(kRingTrace));
  EXPECT_EQ(sum.process_names.at(1), "ring-vm");
  std::map<std::string, double> run_start;
  for (const pb::Struct &e : sum.slice_events) run_start[Str(e, "name")] = Num(e, "ts");
  ASSERT_EQ(run_start.size(), 2u);
  EXPECT_DOUBLE_EQ(run_start.at("ring-app[500/502]") - run_start.at("ring-app[500/501]"), 5000.0);
  std::vector<double> ticks;
  for (const pb::Struct &e : sum.instant_events) {
    if (Str(e, "name") == "tick") ticks.push_back(Num(e, "ts"));
  }
  std::sort(ticks.begin(), ticks.end());
  ASSERT_EQ(ticks.size(), 4u);
  EXPECT_DOUBLE_EQ(ticks[1] - ticks[0], 4000.0);
  EXPECT_DOUBLE_EQ(ticks[2] - ticks[0], 57000.0);
  EXPECT_DOUBLE_EQ(ticks[3] - ticks[0], 112000.0);
  EXPECT_DOUBLE_EQ(ticks[0] - run_start.at("ring-app[500/501]"), 2000.0);
}

// ---- SVG ---------------------------------------------------------------------------------

TEST(SvgExport, RingTraceRunsLastWhatTheirGuestTimesSay) {
  const XmlSummary x = CheckXml(SvgOf(kRingTrace));
  ASSERT_TRUE(x.ok) << x.error;
  // Exact where the picture keeps exact times (run tooltips are bucketed).
  EXPECT_TRUE(HasText(x, "ring-app [500]  9.00 ms")) << "the legend: 5 + 4 ms exactly";
  EXPECT_TRUE(HasText(x, "ring-app [500/501] on vCPU 0"));
  EXPECT_TRUE(HasText(x, "(3.00 ms)")) << "501's region";
  EXPECT_TRUE(HasText(x, "(2.50 ms)")) << "502's region";
  // Emitted at 61 and 120 ms: drawn where they were made.
  EXPECT_TRUE(HasText(x, "mark tick at 60.0 ms"));
  EXPECT_TRUE(HasText(x, "mark tick at 115 ms"));
}

TEST(SvgExport, SystemTraceHasOneLanePerVcpu) {
  const std::string svg = SvgOf(kSystemTrace);
  const XmlSummary x = CheckXml(svg);
  ASSERT_TRUE(x.ok) << x.error;
  EXPECT_EQ(x.elements.at("svg"), 1);
  EXPECT_EQ(x.lanes, 2);
  EXPECT_TRUE(HasText(x, "vCPU 0"));
  EXPECT_TRUE(HasText(x, "vCPU 1"));
  EXPECT_TRUE(HasText(x, "guest-pingpong [100]")) << "in the legend";
  EXPECT_TRUE(HasText(x, "bd-demo-workload [200/200] on vCPU 1")) << "a run's tooltip";
  EXPECT_TRUE(HasText(x, "golden-vm"));
  EXPECT_GE(x.elements.at("title"), 10);
}

TEST(SvgExport, UserTraceHasOneLanePerThreadWithRegions) {
  SvgOptions options;
  options.title = "small <trace> & \"friends\"";
  const std::string svg = SvgOf(kSmallTrace, options);
  const XmlSummary x = CheckXml(svg);
  ASSERT_TRUE(x.ok) << x.error;
  EXPECT_EQ(x.lanes, 2);
  EXPECT_TRUE(HasText(x, "tid 4242"));
  EXPECT_TRUE(HasText(x, "tid 4243"));
  EXPECT_TRUE(HasText(x, "small <trace> & \"friends\""));
  EXPECT_TRUE(HasText(x, "outer (id 10)")) << "region legend";
  EXPECT_TRUE(HasText(x, "inner (id 11)"));
  EXPECT_TRUE(HasText(x, "mark tick at")) << "a mark's tooltip";
}

TEST(SvgExport, NastyStringsMakeValidXml) {
  std::ostringstream out;
  SvgExporter svg(out);
  FeedNasty(svg);
  ASSERT_TRUE(svg.Finish().ok());
  const XmlSummary x = CheckXml(out.str());
  ASSERT_TRUE(x.ok) << x.error;
  EXPECT_EQ(x.lanes, 2);
  EXPECT_TRUE(HasText(x, "a\"b\\c<d>&amp;'e")) << "escaped, and decodes back";
}

TEST(SvgExport, MillionsOfSwitchesGiveABoundedPicture) {
  // 2 M switches over 4 vCPUs and 40 s among 60 processes, with marks and
  // regions: the picture stays small.
  std::ostringstream out;
  SvgOptions options;
  options.width = 1200;
  SvgExporter svg(out, options);
  svg.OnSession(Session("system", "vmlinuz", "big", 0));
  const std::string comms[] = {"alpha", "beta", "gamma", "delta", "eps"};
  uint64_t x = 12345;
  int64_t ts = 1000;
  for (int i = 0; i < 2000000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    ts += 1 + static_cast<int64_t>((x >> 33) % 40000);
    const auto vcpu = static_cast<uint32_t>(i % 4);
    const auto pid = static_cast<uint32_t>((x >> 20) % 60);
    svg.OnSchedSwitch(Switch(ts, vcpu, pid, pid == 0 ? 0 : pid + 1000 * ((x >> 50) % 3), comms[pid % 5]));
    if (i % 7 == 0) svg.OnMark(Mark(ts, vcpu, pid, pid, static_cast<uint32_t>(i % 3)));
    if (i % 11 == 0) svg.OnRegion(Region(ts, vcpu, pid, pid, 1, (i / 11) % 2 == 0));
  }
  ASSERT_TRUE(svg.Finish().ok());
  const std::string s = out.str();
  EXPECT_LT(s.size(), 5u * 1024 * 1024) << "bytes";
  const XmlSummary xml = CheckXml(s);
  ASSERT_TRUE(xml.ok) << xml.error;
  EXPECT_EQ(xml.lanes, 4);
  // At most about one run rect per pixel column per lane.
  EXPECT_LT(xml.elements.at("rect"), 4 * (1200 * 3 + 100));
}

// ---- SVG colours and names (issue #9) -----------------------------------------------------

namespace {

// The fills of the <rect> elements inside every <g class="CLASS"> element
// of svg (lanes nest runs, regions and marks groups).
std::multiset<std::string> FillsIn(const std::string &svg, const std::string &cls) {
  std::multiset<std::string> fills;
  const std::string open = "<g class=\"" + cls + "\"";
  for (size_t at = svg.find(open); at != std::string::npos; at = svg.find(open, at + 1)) {
    // The group ends at the </g> that balances it.
    int depth = 0;
    size_t end = at;
    for (size_t i = at; i < svg.size(); ++i) {
      if (svg.compare(i, 3, "<g ") == 0) ++depth;
      if (svg.compare(i, 4, "</g>") == 0 && --depth == 0) {
        end = i;
        break;
      }
    }
    const std::string body = svg.substr(at, end - at);
    for (size_t r = body.find("<rect "); r != std::string::npos; r = body.find("<rect ", r + 1)) {
      const size_t f = body.find("fill=\"", r);
      const size_t q = body.find('"', f + 6);
      if (f < body.find('>', r)) fills.insert(body.substr(f + 6, q - f - 6));
    }
  }
  return fills;
}

std::set<std::string> Distinct(const std::multiset<std::string> &m) {
  return std::set<std::string>(m.begin(), m.end());
}

// A system VM with 20 processes (more than the palette) on 2 vCPUs,
// 11 region ids (more than the region palette), marks, and a user-mode
// trace with two threads: every kind of lane colour there is.
std::string BusySvg() {
  std::ostringstream out;
  SvgExporter svg(out);
  svg.OnSession(Session("system", "vmlinuz", "busy", 0));
  svg.OnSession(Session("user", "app", "", 1));
  const std::string comms[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
                               "k", "l", "m", "n", "o", "p", "q", "r", "s", "t"};
  int64_t ts = 1000;
  for (uint32_t round = 0; round < 3; ++round) {
    for (uint32_t p = 0; p < 20; ++p) {
      ts += 100000 + 5000 * p;
      svg.OnSchedSwitch(Switch(ts, p % 2, 100 + p, 100 + p, comms[p]));
      if (p % 5 == 0) svg.OnSchedSwitch(Switch(ts + 50000, p % 2, 0, 0, "swapper"));
    }
  }
  // Events come in time order: the rest after the switches.
  for (uint32_t r = 1; r <= 11; ++r) {
    svg.OnRegion(Region(ts + r * 300000, 0, 100, 100, r, true));
    svg.OnRegion(Region(ts + r * 300000 + 200000, 0, 100, 100, r, false));
  }
  ts += 4000000;
  svg.OnMark(Mark(ts, 0, 100, 100, 1));
  svg.OnMark(Mark(ts + 1000, 1, 101, 101, 2, "text"));
  for (uint32_t tid : {700u, 701u}) {
    RegionEvent b = Region(ts + 10000, 0, 700, tid, 3, true);
    RegionEvent e = Region(ts + 30000, 0, 700, tid, 3, false);
    b.trace = e.trace = 1;
    MarkEvent m = Mark(ts + 20000, 0, 700, tid, 1);
    m.trace = 1;
    svg.OnRegion(b);
    svg.OnMark(m);
    svg.OnRegion(e);
    ts += 40000;
  }
  EXPECT_TRUE(svg.Finish().ok());
  return out.str();
}

}  // namespace

TEST(SvgExport, ExecdProcessIsLabelledByEachOfItsNames) {
  // trace-gen --system: pid 300 runs as sh (1 ms), then execs bd-mark (3 ms).
  const std::string svg = SvgOf(kSystemTrace);
  const XmlSummary x = CheckXml(svg);
  ASSERT_TRUE(x.ok) << x.error;
  int sh = 0, bdmark = 0;
  for (const std::string &t : x.texts) {
    if (t.rfind("sh [300]  ", 0) == 0) ++sh;
    if (t.rfind("bd-mark [300]  ", 0) == 0) ++bdmark;
  }
  EXPECT_EQ(sh, 1) << "a legend entry for the name before the exec";
  EXPECT_EQ(bdmark, 1) << "and one for the name after it";
  EXPECT_TRUE(HasText(x, "sh [300/300] on vCPU 0"));
  EXPECT_TRUE(HasText(x, "bd-mark [300/300] on vCPU 0"));
  // The two names have their own colours in the lane.
  const auto fill_before = [&](const std::string &tooltip) {
    const size_t at = svg.find(tooltip);
    const size_t rect = svg.rfind("<rect", at);
    const size_t f = svg.find("fill=\"", rect);
    return svg.substr(f + 6, 7);
  };
  EXPECT_NE(fill_before("sh [300/300] on vCPU 0"), fill_before("bd-mark [300/300] on vCPU 0"));
}

TEST(SvgExport, EveryLaneColourIsInTheLegend) {
  for (const std::string &svg : {BusySvg(), SvgOf(kSystemTrace), SvgOf(kSmallTrace)}) {
    const XmlSummary x = CheckXml(svg);
    ASSERT_TRUE(x.ok) << x.error;
    const std::set<std::string> legend = Distinct(FillsIn(svg, "legend"));
    const std::set<std::string> lanes = Distinct(FillsIn(svg, "lane"));
    ASSERT_FALSE(lanes.empty());
    for (const std::string &fill : lanes) {
      EXPECT_EQ(legend.count(fill), 1u) << "lane colour " << fill << " is not in the legend";
    }
  }
  // The busy picture uses them all: 12 palette colours plus the shared
  // one for the 8 other processes, 8 region colours plus the shared one.
  const std::string svg = BusySvg();
  EXPECT_EQ(Distinct(FillsIn(svg, "runs")).size(), 13u);
  EXPECT_EQ(Distinct(FillsIn(svg, "regions")).size(), 9u);
  EXPECT_NE(svg.find(">8 other processes<"), std::string::npos);
  EXPECT_NE(svg.find(">3 other regions<"), std::string::npos);
  EXPECT_NE(svg.find("thread active"), std::string::npos) << "the user-mode lanes' span";
}

TEST(SvgExport, RegionColoursNeverEqualAProcessColour) {
  const std::string svg = BusySvg();
  const std::set<std::string> runs = Distinct(FillsIn(svg, "runs"));
  const std::set<std::string> regions = Distinct(FillsIn(svg, "regions"));
  ASSERT_FALSE(runs.empty());
  ASSERT_FALSE(regions.empty());
  for (const std::string &r : regions) {
    EXPECT_EQ(runs.count(r), 0u) << r << " is a region and a process colour";
  }
  // Nor the marks' or the backgrounds'.
  for (const char *other : {"#222222", "#c0392b", "#e2e2e2", "#f5f5f5", "#dbe4ee"}) {
    EXPECT_EQ(regions.count(other), 0u) << other;
    EXPECT_EQ(runs.count(other), 0u) << other;
  }
}
