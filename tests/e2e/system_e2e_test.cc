// SPDX-License-Identifier: MIT
// End to end in system mode, every part real: Debian's kernel boots under
// qemu-system-x86_64 (TCG) with the bdtrace plugin and the ivshmem channel;
// the bd_sched module marks context switches; guest programs mark from user
// space; bd-run records it all in its own LTTng session. One boot serves
// every check below (tests/e2e/vm/system-test.sh runs inside it), a second
// one checks the same programs under plain QEMU.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <bd/channel.h>

#include "report.pb.h"
#include "support.h"
#include "vm_suite.h"
#include "system_checks.h"
#include "vm_console.h"

using bdtest::read_trace_with_babeltrace2;
using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;
using bdtest::TraceEvent;

namespace {

const std::string kVmDir = BD_VM_DIR;
constexpr int kMarks = 1000;

using bdtest::file_exists;
using bdtest::guest_lines;
using bdtest::guest_value;

RunResult boot(const std::string &trace, const std::string &vm, const std::string &script, bool plugin,
               const std::string &filter = "", const std::vector<std::string> &handlers = {}) {
  std::vector<std::string> argv = {"timeout",  "900",
                                   BD_RUN,     "--system",
                                   "--vm",     vm,
                                   "--kernel", kVmDir + "/vmlinuz",
                                   "--initrd", kVmDir + "/initramfs.cpio.gz",
                                   "--append", "bd.kmod=1 bd.run=/etc/bd/" + script};
  for (const std::string &h : handlers) {
    argv.insert(argv.begin() + 4, "--handler");
    argv.insert(argv.begin() + 5, h);
  }
  if (!trace.empty()) {
    argv.insert(argv.begin() + 4, "--trace");
    argv.insert(argv.begin() + 5, trace);
  }
  if (!plugin) argv.insert(argv.begin() + 4, "--no-plugin");
  if (!filter.empty()) {
    argv.insert(argv.begin() + 4, "--filter");
    argv.insert(argv.begin() + 5, filter);
  }
  return run(argv);
}

class SystemVm : public bdtest::VmSuite<SystemVm> {
 public:
  static constexpr const char *kTag = "e2e-system";
  static std::string MissingImage() {
    if (file_exists(kVmDir + "/vmlinuz") && file_exists(kVmDir + "/initramfs.cpio.gz")) return "";
    return "no test VM image in " + kVmDir + ": run ./bdtrace build";
  }
  static RunResult Boot(const std::string &, const std::string &trace, const std::string &vm) {
    // guest-calls (tests/guest/calls.c) calls these two.
    return boot(trace, vm, "system-test.sh", true, "",
                {std::string(HANDLER_KV) + ":base=7000", HANDLER_ECHO, HANDLER_FACTS});
  }
};

// Calls to host handlers and bulk marks from a full-system guest: the
// bytes travel through the thread's data page in the channel (<bd/channel.h>,
// CALLS); the guest sees exact answers, the trace holds the handler's marks
// and the exact blobs, and the hostile steps are rejected (also in the
// exact rejection total, expect_forged_and_hostile_records_rejected, via
// "calls expect_rejected 3").
TEST_F(SystemVm, CallsReachHostHandlersThroughTheDataPages) {
  const std::vector<std::string> &l = *lines_;
  auto line = [&l](const std::string &key) {
    for (const auto &s : l)
      if (s.rfind("calls " + key + " ", 0) == 0) return s.substr(6 + key.size() + 1);
    return std::string("(missing)");
  };
  EXPECT_EQ(line("kv_put"), "0 1");
  EXPECT_EQ(line("kv_get"), "0 blue 4");
  EXPECT_EQ(line("kv_count"), "0 1");
  EXPECT_EQ(line("threads_ok"), "4");  // 4 threads calling the same handler
  EXPECT_EQ(line("facts_time"), "0 1");
  EXPECT_EQ(line("facts_recording"), "0 1");
  EXPECT_EQ(line("facts_who"), "0 " + line("facts_expect"));  // pid/tid as libbdguest says
  for (const char *echo : {"echo 0 0 0 1", "echo 1 0 1 1", "echo 3968 0 3968 1", "echo 3969 0 3969 1",
                           "echo 20000 0 20000 1", "echo 65536 0 65536 1", "echo 10000 0 100 1"})
    EXPECT_NE(std::find(l.begin(), l.end(), std::string("calls ") + echo), l.end()) << echo;
  for (const char *blob : {"blob 0 1", "blob 1 1", "blob 3969 1", "blob 65536 1"})
    EXPECT_NE(std::find(l.begin(), l.end(), std::string("calls ") + blob), l.end()) << blob;
  EXPECT_EQ(line("unknown"), "-38");     // -ENOSYS
  EXPECT_EQ(line("too_long"), "-7");     // -E2BIG, in the guest
  EXPECT_EQ(line("hostile_page"), "0");  // BD_REPLY_NONE: rejected at the trap, the page untouched
  EXPECT_EQ(line("hostile_big"), "-7");
  EXPECT_EQ(line("hostile_order"), "-22");
  EXPECT_EQ(line("expect_rejected"), "3");

  std::vector<size_t> blob_sizes;
  std::vector<std::vector<uint64_t>> echo_marks;
  std::map<std::string, uint64_t> rejected;
  uint64_t calls = 0;
  for (const auto &ev : *events_) {
    if (ev.name == "rejected_total" && ev.fields.at("reason_name").rfind("call_", 0) == 0)
      rejected[ev.fields.at("reason_name")] += ev.u("count");
    if (ev.name == "call") ++calls;
    if (ev.name == "blob" && ev.u("event") == 77) {
      const size_t len = bdtest::expect_calls_blob_bytes(ev);
      blob_sizes.push_back(len);
    }
    if (ev.name == "mark" && ev.u("event") == 9501) echo_marks.push_back({ev.u("a0"), ev.u("a1")});
  }
  EXPECT_EQ(blob_sizes, (std::vector<size_t>{0, 1, 3969, 65536}));
  EXPECT_EQ(echo_marks,
            (std::vector<std::vector<uint64_t>>{
                {0, 0}, {1, 1}, {3968, 3968}, {3969, 3969}, {20000, 20000}, {65536, 65536}, {10000, 100}}));
  // 3 kv calls, 3 facts, the threads' 1600, 7 echoes, the unknown id.
  EXPECT_EQ(calls, 1614u);
  // Only guest-calls makes bad steps; its bad page is in the exact
  // call_bad_page count of expect_forged_and_hostile_records_rejected
  // (guest-hostile-bar's and guest-hostile-system's traps inside data pages
  // are call_bad_page too).
  EXPECT_EQ(rejected["call_bad_step"], 2u);
  EXPECT_EQ(line("expect_call_bad_page"), "1");
  EXPECT_NE(result_->err.find("1614 calls to host handlers, 1 failed"), std::string::npos) << result_->err;
}

TEST_F(SystemVm, GuestRanItsScriptWithTheHostPresent) {
  EXPECT_EQ(lines_->front(), "begin");
  EXPECT_EQ(lines_->back(), "end");
  EXPECT_EQ(guest_value(*lines_, "present"), 1);
  int sessions = 0;
  for (const auto &ev : *events_)
    if (ev.name == "session") {
      ++sessions;
      EXPECT_EQ(ev.fields.at("mode"), "system");
      EXPECT_EQ(ev.fields.at("arch"), "x86_64");
    }
  EXPECT_EQ(sessions, 1);
}

// The console is bd-run's stdout, often the user's terminal: the firmware
// must not reset or clear it (SeaBIOS's serial console did, under
// -nographic), nor print its banners there.
TEST_F(SystemVm, FirmwareSendsNoTerminalEscapesToTheConsole) {
  EXPECT_EQ(bdtest::terminal_escapes_before_init(result_->out), "");
  EXPECT_EQ(result_->out.find("SeaBIOS"), std::string::npos) << result_->out.substr(0, 400);
  EXPECT_EQ(result_->out.find("iPXE"), std::string::npos) << result_->out.substr(0, 400);
}

TEST_F(SystemVm, UserMarksFromTwoProcessesOfTwoThreadsEachAreAttributed) {
  // "p1 pid P", "p1 thread K tid T" -> the marks of (P, T) carry a0 = K.
  std::regex pid_re(R"(^(p[12]) pid (\d+)$)"), tid_re(R"(^(p[12]) thread (\d+) tid (\d+)$)");
  std::map<std::string, uint64_t> pid_of;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> k_of;  // (pid, tid) -> k
  std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> threads;
  for (const auto &l : *lines_) {
    std::smatch m;
    if (std::regex_match(l, m, pid_re)) pid_of[m[1]] = std::stoull(m[2]);
  }
  for (const auto &l : *lines_) {
    std::smatch m;
    if (std::regex_match(l, m, tid_re)) {
      const auto key = std::make_pair(pid_of[m[1]], std::stoull(m[3]));
      k_of[key] = std::stoull(m[2]);
    }
  }
  ASSERT_EQ(pid_of.size(), 2u) << "guest-threads did not print its pid";
  ASSERT_EQ(k_of.size(), 4u);
  EXPECT_NE(pid_of["p1"], pid_of["p2"]);

  std::map<std::pair<uint64_t, uint64_t>, uint64_t> next_i;
  std::set<uint64_t> vcpus;
  for (const auto &ev : *events_) {
    if (ev.name != "mark" || ev.u("kind") != 1 || ev.u("event") != 1) continue;
    // Other guest programs mark event 1 too: only the two guest-threads count.
    if (ev.u("pid") != pid_of["p1"] && ev.u("pid") != pid_of["p2"]) continue;
    const auto key = std::make_pair(ev.u("pid"), ev.u("tid"));
    auto it = k_of.find(key);
    ASSERT_NE(it, k_of.end()) << "mark from unknown tid " << key.second << " of pid " << key.first;
    EXPECT_EQ(ev.u("a0"), it->second);
    ASSERT_EQ(ev.u("a1"), next_i[key]) << "mark lost or reordered";
    ++next_i[key];
    EXPECT_LT(ev.u("vcpu"), 2u);
    vcpus.insert(ev.u("vcpu"));
  }
  for (const auto &[key, k] : k_of) EXPECT_EQ(next_i[key], static_cast<uint64_t>(kMarks)) << k;
}

TEST_F(SystemVm, ContextSwitchesComeFromEveryVcpuAndMatchTheGuestsCount) {
  bdtest::expect_switches_match_the_guests_count(*events_, *lines_, 20000);
}

TEST_F(SystemVm, ForgedKernelEventsAndHostileRecordsAreRejectedAndCounted) {
  bdtest::expect_forged_and_hostile_records_rejected(*events_, *lines_);
}

// guest-hostile-bar (tests/guest/hostile_bar.c): every kernel slot forged
// from user space, BAR2 full of garbage, handshake spam and a handshake
// that moves the channel into guest RAM. Its rejections are part of the
// exact total above; here: what it saw, and that marking recovers.
TEST_F(SystemVm, HostileBar2UseIsRejectedAndMarkingRecovers) {
  EXPECT_EQ(guest_value(*lines_, "bar-kernel kernel-slots"), BD_CHANNEL_KERNEL_SLOTS);
  EXPECT_EQ(guest_value(*lines_, "bar-garbage garbage"),
            BD_CHANNEL_SIZE / BD_RECORD_SIZE - 1 - 2 /* live kernel slots */ - 1 /* lost offset */ + 1000);
  const long long hijacked = guest_value(*lines_, "bar-handshakes hijacked");
  ASSERT_GE(hijacked, 0) << "guest-hostile-bar handshakes did not finish";
  EXPECT_EQ(guest_value(*lines_, "bar-handshakes acked"), 1000 + 1 + hijacked);
  EXPECT_EQ(guest_value(*lines_, "bar-handshakes final_reply"), BD_REPLY_OK);
  if (hijacked == 1) {
    EXPECT_NE(guest_value(*lines_, "bar-handshakes rejected_reply"), BD_REPLY_OK);
  }
  // The recovery mark once (the one trapped while the channel was moved is
  // not an event), and libbdguest's next mark after everything.
  std::map<uint64_t, int> marks;
  for (const auto &ev : *events_)
    if (ev.name == "mark") ++marks[ev.u("event")];
  EXPECT_EQ(marks[4242], 1);
  EXPECT_EQ(marks[4243], 1);
}

// guest-slot-exhaust: 4 processes x 300 threads hold the 1024 user slots
// and mark at once. Every call either became a mark or was counted by the
// host as lost for want of a slot (no_free_slot, in the exact total above).
TEST_F(SystemVm, MoreThreadsThanUserSlotsLoseMarksOnlyCountedExactly) {
  EXPECT_EQ(guest_value(*lines_, "exhaust threads"), 1200);
  const long long calls = guest_value(*lines_, "exhaust calls");
  const long long ok = guest_value(*lines_, "exhaust ok");
  const long long lost = guest_value(*lines_, "exhaust lost");
  EXPECT_EQ(calls, 1200 * 21);
  EXPECT_EQ(guest_value(*lines_, "exhaust other"), 0);
  EXPECT_EQ(ok + lost, calls);
  EXPECT_GE(lost, (1200 - static_cast<long long>(BD_CHANNEL_USER_SLOTS)) * 21)
      << "threads without a slot lose every call";
  long long recorded = 0;
  for (const auto &ev : *events_)
    if (ev.name == "mark" && (ev.u("event") == 700 || ev.u("event") == 701)) ++recorded;
  EXPECT_EQ(recorded, ok);
}

// bd-analyze's CPU time per process against what two pinned compute
// processes measured themselves (CLOCK_PROCESS_CPUTIME_ID in the guest):
// their split must agree. Each process is forked by the script's shell and
// exec'd before it pins itself: its start-up (before `cpu_ns`, within
// `total_ns`) may run on the other vCPU and, when it exec'd within a slice
// that began as "sh", be charged to its new name or to sh. So the total
// lies between the spin and the whole, the spin ran on its vCPU, and the
// split is compared on the pinned time. Absolute times only roughly: the
// guest's clock can lose ticks against the host's when the host is loaded
// (TCG), which shifts both processes alike and leaves the split alone.
TEST_F(SystemVm, CpuTimeSplitOfPinnedProcessesMatchesWhatTheyMeasured) {
  RunResult a = run({BD_ANALYZE, trace_, "--format", "json"});
  ASSERT_EQ(a.status, 0) << a.err;
  bdtrace::report::Report report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(a.out, &report).ok());

  std::regex spin_re(R"(^spin pid (\d+) cpu (\d+) cpu_ns (\d+) total_ns (\d+)$)");
  std::vector<double> measured, pinned;
  for (const auto &l : *lines_) {
    std::smatch m;
    if (!std::regex_match(l, m, spin_re)) continue;
    const uint32_t pid = std::stoul(m[1]), cpu = std::stoul(m[2]);
    const double spun = std::stod(m[3]), whole = std::stod(m[4]);
    SCOPED_TRACE(l);
    const bdtrace::report::ProcessCpu *proc = nullptr;
    for (const auto &p : report.processes())
      if (p.pid() == pid && p.comm() == "guest-spin") proc = &p;
    ASSERT_NE(proc, nullptr) << "no CPU time for guest-spin[" << pid << "]";
    const double analyzed = static_cast<double>(proc->total_ns());
    EXPECT_GE(analyzed, 0.8 * spun);
    EXPECT_LE(analyzed, 1.2 * whole);
    uint64_t on_its_vcpu = 0;
    for (const auto &v : proc->per_vcpu())
      if (v.vcpu() == cpu) on_its_vcpu = v.ns();
    EXPECT_GE(static_cast<double>(on_its_vcpu), 0.8 * spun)
        << "a process pinned to CPU " << cpu << " spun elsewhere";
    measured.push_back(spun);
    pinned.push_back(static_cast<double>(on_its_vcpu));
  }
  ASSERT_EQ(measured.size(), 2u);
  const double real_share = measured[0] / (measured[0] + measured[1]);
  const double seen_share = pinned[0] / (pinned[0] + pinned[1]);
  EXPECT_NEAR(seen_share, real_share, 0.02)
      << "the analyzer's split of CPU time differs from the processes' own";
}

// The viewer exports of the real trace: Chrome JSON that parses, with every
// B closed by an E on its track, non-decreasing timestamps per track and
// every track named; an SVG document.
TEST_F(SystemVm, ChromeAndSvgExportsOfTheRealTraceAreWellFormed) {
  RunResult c = run({BD_ANALYZE, trace_, "--format", "chrome"});
  ASSERT_EQ(c.status, 0) << c.err;
  google::protobuf::Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(c.out, &doc).ok()) << c.out.substr(0, 300);
  const auto &events = doc.fields().at("traceEvents").list_value().values();
  std::map<std::pair<double, double>, int> open;     // (pid, tid) -> open B
  std::map<std::pair<double, double>, double> last;  // (pid, tid) -> last ts
  std::set<std::pair<double, double>> named, used;
  size_t slices = 0;
  for (const auto &v : events) {
    const auto &f = v.struct_value().fields();
    const std::string ph = f.at("ph").string_value();
    const auto track =
        std::make_pair(f.at("pid").number_value(), f.count("tid") ? f.at("tid").number_value() : 0.0);
    if (ph == "M") {
      if (f.at("name").string_value() == "thread_name") named.insert(track);
      continue;
    }
    used.insert(track);
    const double ts = f.at("ts").number_value();
    if (last.count(track)) {
      EXPECT_GE(ts, last[track]) << "time goes back on a track";
    }
    last[track] = ts;
    if (ph == "B") ++open[track], ++slices;
    if (ph == "E") {
      EXPECT_GT(open[track], 0) << "E without B";
      --open[track];
    }
  }
  EXPECT_GT(slices, 1000u) << "the running threads should be slices";
  for (const auto &[track, n] : open) EXPECT_EQ(n, 0) << "B without E";
  for (const auto &track : used) EXPECT_TRUE(named.count(track)) << "unnamed track";

  RunResult s = run({BD_ANALYZE, trace_, "--format", "svg"});
  ASSERT_EQ(s.status, 0) << s.err;
  EXPECT_NE(s.out.find("<svg"), std::string::npos);
  EXPECT_NE(s.out.find("</svg>"), std::string::npos);
  EXPECT_NE(s.out.find("vCPU 1"), std::string::npos);
}

TEST_F(SystemVm, KernelModuleUnloadsCleanly) { bdtest::expect_module_unloaded_cleanly(*lines_); }

// Guest-side skipping (<bd/channel.h> ENABLE BITMAPS): under a filter that
// drops event 2 and every context switch, libbdguest and bd_sched skip
// those records without trapping, so the plugin counts no filtered record
// at all (in user mode the same marks each trap and count as filtered:
// filter_e2e_test.cc, BdEnabledAnswersFromTheConfigInForce), and
// bd_enabled() answers from the bitmaps.
TEST(SystemVmFilter, DisabledEventsCostNoTrap) {
  if (!file_exists(kVmDir + "/vmlinuz")) FAIL() << "no test VM image in " << kVmDir;
  if (!file_exists(kVmDir + "/initramfs-root/bin/guest-filter") ||
      !file_exists(kVmDir + "/initramfs-root/etc/bd/skip-test.sh"))
    FAIL() << "the VM image lacks guest-filter or skip-test.sh: run ./bdtrace build";
  TempDir dir("e2e-system-skip");
  const std::string filter = dir.path() + "/filter.txtpb";
  {
    std::ofstream f(filter);
    f << "rule { events { id: 2 } action: DROP }\n"
         "rule { kind: [SCHED_SWITCH] action: DROP }\n";
  }
  const std::string trace = dir.path() + "/trace";
  const std::string vm = "skip-" + std::to_string(getpid());
  RunResult r = boot(trace, vm, "skip-test.sh", true, filter);
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  const auto lines = guest_lines(r.out);
  EXPECT_EQ(guest_value(lines, "present"), 1) << r.out;
  EXPECT_EQ(guest_value(lines, "enabled1"), 1) << r.out;
  EXPECT_EQ(guest_value(lines, "enabled2"), 0) << r.out;
  EXPECT_EQ(guest_value(lines, "taken1"), kMarks) << r.out;
  EXPECT_EQ(guest_value(lines, "taken2"), 0) << r.out;
  EXPECT_EQ(guest_value(lines, "zero2"), kMarks) << r.out;
  // bd_sched: every switch seen was skipped, none marked.
  bool kmod = false;
  for (const auto &l : lines) {
    std::smatch m;
    if (std::regex_search(l, m, std::regex(R"(marked (\d+) switches \((\d+) seen.* (\d+) skipped)"))) {
      kmod = true;
      EXPECT_EQ(m[1], "0") << l;
      EXPECT_GT(std::stoll(m[2]), 0) << l;
      EXPECT_EQ(m[3], m[2]) << l;
    }
  }
  EXPECT_TRUE(kmod) << r.out;

  const auto events = bdtest::events_of_vm(read_trace_with_babeltrace2(trace), vm);
  uint64_t recorded = 0, filtered = 0, marks1 = 0, marks2 = 0, switches = 0;
  for (const auto &e : events) {
    if (e.name == "filter_stats") {
      recorded += e.u("recorded");
      filtered += e.u("filtered");
    }
    if (e.name == "mark") (e.u("event") == 1 ? marks1 : marks2)++;
    if (e.name == "sched_switch") ++switches;
  }
  EXPECT_EQ(filtered, 0u) << "a disabled record trapped";
  EXPECT_GE(recorded, static_cast<uint64_t>(kMarks));
  EXPECT_EQ(marks1, static_cast<uint64_t>(kMarks));
  EXPECT_EQ(marks2, 0u);
  EXPECT_EQ(switches, 0u);
}

// The same programs on the same kernel under plain QEMU: no plugin, no effect.
TEST(SystemVmPlain, ProgramsRunWithoutTheHostAndEveryCallReturnsZero) {
  if (!file_exists(kVmDir + "/vmlinuz")) FAIL() << "no test VM image in " << kVmDir;
  RunResult r = boot("", "plain", "plain-test.sh", false);
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  const auto lines = guest_lines(r.out);
  EXPECT_EQ(guest_value(lines, "p1 present"), 0) << r.out;
  EXPECT_EQ(guest_value(lines, "p1 taken"), 0) << r.out;
  EXPECT_NE(std::find(lines.begin(), lines.end(), "pingpong ok"), lines.end()) << r.out;
  EXPECT_EQ(lines.back(), "end");
  // Without the plugin too, nothing from the firmware reaches the terminal.
  EXPECT_EQ(bdtest::terminal_escapes_before_init(r.out), "");
  EXPECT_EQ(r.out.find("SeaBIOS"), std::string::npos) << r.out.substr(0, 400);
}

}  // namespace
