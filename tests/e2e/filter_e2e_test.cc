// SPDX-License-Identifier: MIT
// End to end for the filter (filter/README.md), user mode, every part real:
// bd-run --filter FILE runs guest programs under qemu-x86_64 with the
// plugin inside an LTTng session; the trace is read back with babeltrace2.
// Each test proves one property: what a filter drops never reaches the
// trace and the guest's call returns 0 for it (and the plugin counts it);
// selection by event range, by vCPU and by process; rate limits; a bad
// config is refused before QEMU starts; and a rewritten file takes effect
// within a second, without restarting QEMU.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "bdtrace/filter/config.h"
#include "report.pb.h"
#include "support.h"

using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;

namespace {

// One bdtrace:* event with its timestamp (ns since the epoch).
struct Event {
  int64_t ns = 0;
  std::string name;
  std::map<std::string, std::string> f;
  uint64_t u(const std::string &k) const {
    auto it = f.find(k);
    if (it == f.end()) {
      ADD_FAILURE() << "no field " << k << " in " << name;
      return 0;
    }
    return std::stoull(it->second, nullptr, 0);
  }
};

// "{ a = 1, b = "x" }, { c = 2 }" -> fields (contexts and payload merged).
std::map<std::string, std::string> parse_fields(const std::string &s, size_t pos) {
  std::map<std::string, std::string> out;
  while ((pos = s.find('{', pos)) != std::string::npos) {
    ++pos;
    while (pos < s.size()) {
      while (pos < s.size() && (s[pos] == ' ' || s[pos] == ',')) ++pos;
      if (pos >= s.size() || s[pos] == '}') {
        ++pos;
        break;
      }
      const size_t eq = s.find(" = ", pos);
      if (eq == std::string::npos) return out;
      const std::string key = s.substr(pos, eq - pos);
      pos = eq + 3;
      std::string value;
      if (pos < s.size() && s[pos] == '"') {
        for (++pos; pos < s.size() && s[pos] != '"'; ++pos) {
          if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
          value += s[pos];
        }
        ++pos;
      } else {
        while (pos < s.size() && s[pos] != ',' && s[pos] != '}') value += s[pos++];
        while (!value.empty() && value.back() == ' ') value.pop_back();
      }
      out[key] = value;
    }
  }
  return out;
}

// Every bdtrace:* event of the trace, in time order, with timestamps.
std::vector<Event> read_events(const std::string &dir) {
  RunResult r = run({"babeltrace2", "--clock-seconds", "--no-delta", dir});
  EXPECT_EQ(r.status, 0) << r.err;
  std::vector<Event> out;
  for (const std::string &line : bdtest::lines(r.out)) {
    const size_t at = line.find(" bdtrace:");
    if (line.empty() || line[0] != '[' || at == std::string::npos) continue;
    const size_t close = line.find(']');
    const size_t dot = line.find('.');
    const size_t colon = line.find(':', at + 9);
    if (close == std::string::npos || dot == std::string::npos || dot > close || colon == std::string::npos)
      continue;
    Event ev;
    std::string frac = line.substr(dot + 1, close - dot - 1);
    frac.resize(9, '0');
    ev.ns = std::stoll(line.substr(1, dot - 1)) * 1000000000 + std::stoll(frac);
    ev.name = line.substr(at + 9, colon - at - 9);
    ev.f = parse_fields(line, colon);
    out.push_back(std::move(ev));
  }
  return out;
}

// The events of the processes in `vpids` (other bdtrace runs on the machine
// may record into our session too).
std::vector<Event> of_vpids(const std::vector<Event> &all, const std::set<uint64_t> &vpids) {
  std::vector<Event> out;
  for (const Event &e : all)
    if (e.f.count("vpid") && vpids.count(std::stoull(e.f.at("vpid")))) out.push_back(e);
  return out;
}

// The vpid of the one QEMU whose bdtrace:session names `program`.
uint64_t session_vpid(const std::vector<Event> &all, const std::string &program) {
  std::set<uint64_t> found;
  for (const Event &e : all)
    if (e.name == "session" && e.f.at("program").find(program) != std::string::npos)
      found.insert(e.u("vpid"));
  EXPECT_EQ(found.size(), 1u) << "sessions of " << program;
  return found.empty() ? 0 : *found.begin();
}

long value_after(const std::string &out, const std::string &key) {
  const std::string v = bdtest::text_after(out, key);
  return v.empty() ? -1 : std::stol(v);
}

void write_file(const std::string &path, const std::string &text) { bdtest::replace_file(path, text); }

std::string digest_of(const std::string &text) {
  const bdtrace::Expected<bdtrace::filter::FilterConfig> c = bdtrace::filter::parse_config(text, "x");
  EXPECT_TRUE(c) << c.error();
  return c ? bdtrace::filter::config_digest(*c) : std::string();
}

int64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// A guest-filter run under bd-run --trace --filter CONFIG.
struct GuestRun {
  RunResult result;
  std::vector<Event> events;  // of the guest's QEMU process only
};

GuestRun run_guest(const TempDir &dir, const std::string &config, const std::vector<std::string> &args) {
  const std::string filter = dir.path() + "/filter.txtpb";
  write_file(filter, config);
  const std::string trace = dir.path() + "/trace";
  std::vector<std::string> argv = {BD_RUN, "--trace", trace, "--filter", filter, "--"};
  argv.insert(argv.end(), args.begin(), args.end());
  GuestRun r;
  r.result = run(argv);
  const auto all = read_events(trace);
  r.events = of_vpids(all, {session_vpid(all, args[0])});
  return r;
}

struct Totals {
  uint64_t recorded = 0, filtered = 0, rate_dropped = 0;
};
Totals filter_stats(const std::vector<Event> &events) {
  Totals t;
  for (const Event &e : events) {
    if (e.name != "filter_stats") continue;
    t.recorded += e.u("recorded");
    t.filtered += e.u("filtered");
    t.rate_dropped += e.u("rate_dropped");
  }
  return t;
}

std::map<uint64_t, int> marks_by_event(const std::vector<Event> &events) {
  std::map<uint64_t, int> n;
  for (const Event &e : events)
    if (e.name == "mark") ++n[e.u("event")];
  return n;
}

constexpr int kMarks = 1000;

TEST(Filter, DroppedRangeNeverReachesTheTraceAndCallsReturnZero) {
  TempDir dir("e2e-filter-drop");
  const std::string config = "rule { name: \"no tock\" events { id: 2 } action: DROP }\n";
  GuestRun r = run_guest(dir, config, {GUEST_FILTER, "marks", std::to_string(kMarks)});
  ASSERT_EQ(r.result.status, 0) << r.result.err;
  EXPECT_EQ(value_after(r.result.out, "names"), 2);
  EXPECT_EQ(value_after(r.result.out, "taken1"), kMarks);
  EXPECT_EQ(value_after(r.result.out, "taken2"), 0);
  EXPECT_EQ(value_after(r.result.out, "zero2"), kMarks);

  const auto marks = marks_by_event(r.events);
  EXPECT_EQ(marks.count(2), 0u) << "a dropped event reached the trace";
  EXPECT_EQ(marks.at(1), kMarks);
  int names = 0, filters = 0;
  for (const Event &e : r.events) {
    if (e.name == "event_name") ++names;
    if (e.name == "filter") {
      ++filters;
      EXPECT_EQ(e.f.at("status"), "ok");
      EXPECT_EQ(e.u("generation"), 1u);
      EXPECT_EQ(e.f.at("digest"), digest_of(config));
      EXPECT_EQ(e.u("rules"), 1u);
      EXPECT_EQ(e.f.at("path"), dir.path() + "/filter.txtpb");
    }
  }
  EXPECT_EQ(names, 2) << "event names are kept";
  EXPECT_EQ(filters, 1);
  // The plugin counted every decision: marks + names + the HELLO? (none here).
  const Totals t = filter_stats(r.events);
  EXPECT_EQ(t.filtered, static_cast<uint64_t>(kMarks));
  EXPECT_EQ(t.recorded, kMarks + 2u);
  EXPECT_EQ(t.rate_dropped, 0u);

  // bd-analyze decodes the same counts from the trace: its JSON report and
  // its summary carry them (no longer "other" events).
  RunResult json = run({BD_ANALYZE, dir.path() + "/trace", "--format", "json"});
  ASSERT_EQ(json.status, 0) << json.err;
  bdtrace::report::Report report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &report).ok()) << json.out.substr(0, 300);
  EXPECT_TRUE(report.filter().has_stats());
  EXPECT_EQ(report.filter().filtered(), t.filtered);
  EXPECT_EQ(report.filter().recorded(), t.recorded);
  ASSERT_GE(report.filter().configs_size(), 1);
  EXPECT_EQ(report.filter().configs(0).status(), "ok");
  EXPECT_EQ(report.filter().configs(0).digest(), digest_of(config));
  RunResult text = run({BD_ANALYZE, dir.path() + "/trace"});
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find(std::to_string(t.recorded) + " records recorded, " + std::to_string(t.filtered) +
                          " filtered"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find(" 0 other"), std::string::npos) << "filter events are not 'other':\n" << text.out;
}

// bd_enabled() in user mode: a synchronous query answered from the config
// in force, neither traced nor counted; without guest-side skipping (user
// mode) every dropped mark still traps and is counted as filtered.
TEST(Filter, BdEnabledAnswersFromTheConfigInForce) {
  TempDir dir("e2e-filter-enabled");
  const std::string config =
      "rule { events { id: 2 } action: DROP }\n"
      "rule { events { range { lo: 1000 } } kind: REGION action: RECORD }\n"
      "rule { events { range { lo: 1000 } } action: DROP }\n";
  GuestRun r = run_guest(dir, config, {GUEST_FILTER, "enabled", std::to_string(kMarks)});
  ASSERT_EQ(r.result.status, 0) << r.result.err;
  EXPECT_EQ(value_after(r.result.out, "enabled1"), 1);
  EXPECT_EQ(value_after(r.result.out, "enabled2"), 0);
  EXPECT_EQ(value_after(r.result.out, "enabled1000"), 1) << "regions of 1000 may be recorded";
  EXPECT_EQ(value_after(r.result.out, "taken2"), 0);
  const Totals t = filter_stats(r.events);
  EXPECT_EQ(t.filtered, static_cast<uint64_t>(kMarks)) << "queries are not counted";
  EXPECT_EQ(t.recorded, kMarks + 2u);
  const auto marks = marks_by_event(r.events);
  EXPECT_EQ(marks.count(2), 0u);
  EXPECT_EQ(marks.at(1), kMarks);

  // Natively nobody answers: 0.
  RunResult native = run({GUEST_FILTER, "enabled", "1"});
  ASSERT_EQ(native.status, 0) << native.err;
  EXPECT_EQ(value_after(native.out, "enabled1"), 0);
}

TEST(Filter, EnablingByEventRangeRecordsOnlyThatRange) {
  TempDir dir("e2e-filter-range");
  GuestRun r = run_guest(dir,
                         "rule { events { range { lo: 2 hi: 9 } } kind: MARK action: RECORD }\n"
                         "default_action: DROP\n",
                         {GUEST_FILTER, "marks", std::to_string(kMarks)});
  ASSERT_EQ(r.result.status, 0) << r.result.err;
  EXPECT_EQ(value_after(r.result.out, "taken1"), 0);
  EXPECT_EQ(value_after(r.result.out, "taken2"), kMarks);
  EXPECT_EQ(value_after(r.result.out, "names"), 2) << "the default never drops names";
  const auto marks = marks_by_event(r.events);
  EXPECT_EQ(marks.count(1), 0u);
  EXPECT_EQ(marks.at(2), kMarks);
  const Totals t = filter_stats(r.events);
  EXPECT_EQ(t.filtered, static_cast<uint64_t>(kMarks));
}

TEST(Filter, EnablingByVcpuRecordsOneThreadsVcpuOnly) {
  // guest-threads: main thread on vCPU 0, workers on vCPUs 1..4 (QEMU gives
  // each live thread its own index). Only vCPU 1 is recorded.
  TempDir dir("e2e-filter-vcpu");
  constexpr int kThreads = 4;
  GuestRun r =
      run_guest(dir, "rule { vcpus { id: 1 } action: RECORD }\ndefault_action: DROP\n",
                {GUEST_THREADS, "--threads", std::to_string(kThreads), "--marks", std::to_string(kMarks)});
  ASSERT_EQ(r.result.status, 0) << r.result.err;
  // Names (3 + N) and one worker's kMarks + 6 records were taken.
  EXPECT_EQ(value_after(r.result.out, "taken"), 3 + kThreads + kMarks + 6) << r.result.out;
  std::set<uint64_t> tids, vcpus;
  int ticks = 0, records = 0;
  for (const Event &e : r.events) {
    if (e.name != "mark" && e.name != "region_begin" && e.name != "region_end") continue;
    ++records;
    tids.insert(e.u("tid"));
    vcpus.insert(e.u("vcpu"));
    if (e.name == "mark" && e.u("event") == 1) ++ticks;
  }
  EXPECT_EQ(vcpus, std::set<uint64_t>{1});
  EXPECT_EQ(tids.size(), 1u);
  EXPECT_EQ(ticks, kMarks);
  EXPECT_EQ(records, kMarks + 6);
  // Per-vCPU counts: vCPU 1 recorded, vCPUs 2-4 filtered all of theirs.
  std::map<uint64_t, Event> stats;
  for (const Event &e : r.events)
    if (e.name == "filter_stats") stats[e.u("vcpu")] = e;
  ASSERT_TRUE(stats.count(1));
  EXPECT_EQ(stats[1].u("filtered"), 0u);
  EXPECT_EQ(stats[1].u("recorded"), kMarks + 6u);
  for (uint64_t v = 2; v <= kThreads; ++v) {
    ASSERT_TRUE(stats.count(v)) << v;
    EXPECT_EQ(stats[v].u("recorded"), 0u);
    EXPECT_EQ(stats[v].u("filtered"), kMarks + 6u);
  }
}

TEST(Filter, ProcessSelectionByComm) {
  TempDir dir("e2e-filter-comm");
  GuestRun r = run_guest(dir,
                         "rule { process { comm: \"guest-filt?r\" } events { id: 1 } action: DROP }\n"
                         "rule { process { comm: \"other*\" } events { id: 2 } action: DROP }\n",
                         {GUEST_FILTER, "marks", std::to_string(kMarks)});
  ASSERT_EQ(r.result.status, 0) << r.result.err;
  EXPECT_EQ(value_after(r.result.out, "taken1"), 0);
  EXPECT_EQ(value_after(r.result.out, "taken2"), kMarks);
  const auto marks = marks_by_event(r.events);
  EXPECT_EQ(marks.count(1), 0u);
  EXPECT_EQ(marks.at(2), kMarks);
}

TEST(Filter, ProcessSelectionByPidRecordsOnlyTheForkedChild) {
  // The guest forks; once both pids are known the test selects the child's
  // pid (a reload, which both processes follow), then lets both mark once
  // the new config is in force in each (event 9 enabled for the parent
  // only, event 1 for the child only: guest-filter waits for bd_enabled).
  TempDir dir("e2e-filter-fork");
  const std::string filter = dir.path() + "/filter.txtpb";
  const std::string trace = dir.path() + "/trace";
  write_file(filter, "default_action: DROP\n");
  RunResult result;
  std::thread guest([&] {
    result = run({BD_RUN, "--trace", trace, "--filter", filter, "--", GUEST_FILTER, "fork", dir.path(),
                  std::to_string(kMarks)});
  });
  const auto [parent, child] = bdtest::wait_for_fork_pids(dir.path());
  write_file(filter, "rule { process { pid: " + std::to_string(child) +
                         " } action: RECORD }\nrule { process { pid: " + std::to_string(parent) +
                         " } events { id: 9 } action: RECORD }\ndefault_action: DROP\n");
  write_file(dir.path() + "/go", "wait 9 1\n");
  guest.join();
  ASSERT_GT(parent, 0u);
  ASSERT_GT(child, 0u);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(value_after(result.out, "parent taken1"), 0);
  EXPECT_EQ(value_after(result.out, "parent zero1"), kMarks);
  EXPECT_EQ(value_after(result.out, "child taken1"), kMarks);

  const auto events = of_vpids(read_events(trace), {parent, child});
  std::map<uint64_t, int> marks_of_pid, gen2_of_vpid;
  for (const Event &e : events) {
    if (e.name == "mark" && e.u("event") == 1) ++marks_of_pid[e.u("pid")];
    if (e.name == "filter" && e.u("generation") == 2 && e.f.at("status") == "ok") ++gen2_of_vpid[e.u("vpid")];
  }
  EXPECT_EQ(marks_of_pid[child], kMarks);
  EXPECT_EQ(marks_of_pid.count(parent), 0u);
  // Both processes reloaded (the child runs a watcher of its own).
  EXPECT_EQ(gen2_of_vpid[parent], 1);
  EXPECT_EQ(gen2_of_vpid[child], 1);
  // Each process reports its own counts.
  std::map<uint64_t, Totals> stats;
  for (const Event &e : events)
    if (e.name == "filter_stats") {
      stats[e.u("vpid")].recorded += e.u("recorded");
      stats[e.u("vpid")].filtered += e.u("filtered");
    }
  EXPECT_EQ(stats[parent].filtered, static_cast<uint64_t>(kMarks));
  EXPECT_EQ(stats[child].recorded, static_cast<uint64_t>(kMarks));
  EXPECT_EQ(stats[child].filtered, 0u);
}

TEST(Filter, RateLimitDropsAndCountsExactly) {
  TempDir dir("e2e-filter-rate");
  GuestRun r = run_guest(dir,
                         "rule { name: \"tick 1k/s\" events { id: 1 }\n"
                         "       rate_limit { events_per_second: 1000 burst: 100 } action: RECORD }\n"
                         "rule { events { id: 2 } action: DROP }\n",
                         {GUEST_FILTER, "stream", "2.5", "0"});
  ASSERT_EQ(r.result.status, 0) << r.result.err;
  const long taken1 = value_after(r.result.out, "taken1");
  const long zero1 = value_after(r.result.out, "zero1");
  const long zero2 = value_after(r.result.out, "zero2");
  const auto marks = marks_by_event(r.events);
  EXPECT_EQ(marks.at(1), taken1);
  EXPECT_EQ(marks.count(2), 0u);
  // ~100 + 1000/s x 2.5 s recorded.
  EXPECT_GT(taken1, 2000);
  EXPECT_LT(taken1, 3000);
  EXPECT_GT(zero1, 10 * taken1) << "the guest did not mark fast enough to hit the limit";

  uint64_t sum = 0, final_total = 0;
  std::vector<int64_t> live;
  for (const Event &e : r.events) {
    if (e.name != "dropped") continue;
    EXPECT_EQ(e.f.at("rule_name"), "tick 1k/s");
    EXPECT_EQ(e.u("rule"), 0u);
    sum += e.u("count");
    if (e.u("final") == 1) {
      final_total += e.u("total");
    } else {
      live.push_back(e.ns);
    }
  }
  EXPECT_EQ(sum, static_cast<uint64_t>(zero1)) << "dropped counts sum to the calls that returned 0";
  EXPECT_EQ(final_total, static_cast<uint64_t>(zero1));
  // While dropping: the first drop, then at most one per second.
  EXPECT_GE(live.size(), 2u);
  EXPECT_LE(live.size(), 4u);
  for (size_t i = 1; i < live.size(); ++i) EXPECT_GE(live[i] - live[i - 1], 999000000);
  const Totals t = filter_stats(r.events);
  EXPECT_EQ(t.rate_dropped, static_cast<uint64_t>(zero1));
  EXPECT_EQ(t.filtered, static_cast<uint64_t>(zero2));
}

TEST(Filter, BadConfigIsRefusedBeforeQemuStarts) {
  TempDir dir("e2e-filter-bad");
  const std::string filter = dir.path() + "/bad.txtpb";
  write_file(filter, "rule {\n  events { range { lo: 10 hi: 5 } }\n  action: DROP\n}\n");
  RunResult r =
      run({BD_RUN, "--trace", dir.path() + "/trace", "--filter", filter, "--", GUEST_FILTER, "marks", "1"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(filter + ":2:27: rule[0].events.range[0]: lo 10 > hi 5"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << "the guest ran";
  struct stat st;
  EXPECT_NE(stat((dir.path() + "/trace").c_str(), &st), 0) << "a session was created";

  write_file(filter, "rule { action: DRAP }\n");
  r = run({BD_RUN, "--filter", filter, "--", GUEST_FILTER, "marks", "1"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(filter + ":1:16: Unknown enumeration value of \"DRAP\""), std::string::npos) << r.err;

  // The plugin refuses it too (QEMU does not start).
  r = run({QEMU_X86_64, "-plugin", std::string(BD_PLUGIN) + ",filter=" + filter, GUEST_FILTER, "marks", "1"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find(filter + ":1:16:"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(Filter, HotReloadTakesEffectWithinASecond) {
  // Record tick (1), drop tock (2); after 1 s a bad file (refused, the old
  // config stays); after 1.5 s the opposite config.
  TempDir dir("e2e-filter-reload");
  const std::string filter = dir.path() + "/filter.txtpb";
  const std::string trace = dir.path() + "/trace";
  const std::string second = "rule { events { id: 1 } action: DROP }\n";
  write_file(filter, "rule { events { id: 2 } action: DROP }\n");
  RunResult result;
  std::thread guest([&] {
    result = run({BD_RUN, "--trace", trace, "--filter", filter, "--", GUEST_FILTER, "stream", "3", "200"});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  write_file(filter, "rule { events { id: 1 } action: DROPP }\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int64_t rewritten = realtime_ns();
  write_file(filter, second);
  guest.join();
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.err.find("filter reload refused, generation 1 stays: " + filter + ":1:33:"),
            std::string::npos)
      << result.err;

  const auto all = read_events(trace);
  const auto events = of_vpids(all, {session_vpid(all, "guest-filter")});
  int64_t switched = 0;
  int errors = 0;
  for (const Event &e : events) {
    if (e.name != "filter") continue;
    if (e.f.at("status") == "error") {
      ++errors;
      EXPECT_EQ(e.u("generation"), 1u);
      EXPECT_NE(e.f.at("message").find(":1:33: Unknown enumeration value"), std::string::npos);
    } else if (e.u("generation") == 2) {
      switched = e.ns;
      EXPECT_EQ(e.f.at("digest"), digest_of(second));
    }
  }
  EXPECT_EQ(errors, 1);
  ASSERT_GT(switched, 0) << "no bdtrace:filter generation 2";
  EXPECT_GE(switched, rewritten - 5000000);
  EXPECT_LT(switched - rewritten, 1000000000) << "the reload took more than a second";

  int64_t first_tock = 0, last_tick = 0;
  int ticks = 0, tocks = 0;
  for (const Event &e : events) {
    if (e.name != "mark") continue;
    if (e.u("event") == 1) {
      ++ticks;
      last_tick = e.ns;
    } else if (e.u("event") == 2) {
      ++tocks;
      if (first_tock == 0) first_tock = e.ns;
    }
  }
  ASSERT_GT(ticks, 100);
  ASSERT_GT(tocks, 100);
  EXPECT_LT(first_tock - rewritten, 1000000000) << "new config not in force within 1 s";
  std::printf("reload: bdtrace:filter %.1f ms after the rewrite, first mark under it %.1f ms after\n",
              (switched - rewritten) / 1e6, (first_tock - rewritten) / 1e6);
  // A vCPU may finish a trap it began under the old config: 10 ms slack.
  EXPECT_GE(first_tock, switched - 10000000);
  EXPECT_LE(last_tick, switched + 10000000);
  EXPECT_EQ(value_after(result.out, "taken1"), ticks);
  EXPECT_EQ(value_after(result.out, "taken2"), tocks);
}

}  // namespace
