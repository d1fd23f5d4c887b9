// SPDX-License-Identifier: MIT
#include "system_checks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "vm_console.h"

namespace bdtest {

void expect_switches_match_the_guests_count(const std::vector<TraceEvent> &events,
                                            const std::vector<std::string> &lines, long long min_switches) {
  const long long before = guest_value(lines, "before");
  const long long after = guest_value(lines, "after");
  ASSERT_GT(before, 0);
  ASSERT_GT(after, before);

  std::set<uint64_t> vcpus;
  long long between = 0;
  int state = 0;  // 0: before mark 900, 1: between 900 and 901, 2: after
  for (const auto &ev : events) {
    if (ev.name == "sched_switch") {
      vcpus.insert(ev.u("vcpu"));
      if (state == 1) ++between;
    } else if (ev.name == "mark" && ev.u("event") == 900) {
      state = 1;
    } else if (ev.name == "mark" && ev.u("event") == 901) {
      state = 2;
    }
  }
  ASSERT_EQ(state, 2) << "marks 900/901 missing";
  EXPECT_EQ(vcpus, (std::set<uint64_t>{0, 1}));
  const long long guest = after - before;
  EXPECT_GT(guest, min_switches) << "the ping-pong should switch a lot";
  EXPECT_NEAR(static_cast<double>(between), static_cast<double>(guest), 0.01 * guest)
      << "host recorded " << between << " switches, the guest counted " << guest;
}

namespace {

// The sum of N over every "PROGRAM KEY N" line (e.g. "hostile
// expect_rejected 89", "bar-kernel expect_rejected 64").
long long sum_over_programs(const std::vector<std::string> &lines, const std::string &key) {
  long long sum = 0;
  for (const auto &l : lines) {
    std::istringstream in(l);
    std::string program, k;
    long long n;
    if (in >> program >> k >> n && k == key) sum += n;
  }
  return sum;
}

// bd_sched's unload line counts the replies to its own traps: the ones the
// plugin rejected (REJECTED written, or no reply at all: a trap while a
// hostile handshake had moved the channel) are in the plugin's totals too.
long long kernel_traps_rejected(const std::vector<std::string> &lines) {
  static const std::regex unload(R"(unloaded, marked .* (\d+) rejected, (\d+) unanswered)");
  for (const auto &l : lines) {
    std::smatch m;
    if (std::regex_search(l, m, unload)) return std::stoll(m[1]) + std::stoll(m[2]);
  }
  ADD_FAILURE() << "no bd_sched unload line (\"unloaded, marked ...\") on the console";
  return 0;
}

}  // namespace

void expect_forged_and_hostile_records_rejected(const std::vector<TraceEvent> &events,
                                                const std::vector<std::string> &lines) {
  const long long forged = guest_value(lines, "forge forged");
  const long long hostile = sum_over_programs(lines, "expect_rejected");
  const long long kernel_only = forged + sum_over_programs(lines, "expect_kernel_only");
  const long long lost = std::max(0LL, guest_value(lines, "exhaust lost"));
  ASSERT_GT(forged, 0);
  ASSERT_GT(hostile, 0);
  std::map<std::string, uint64_t> totals;
  uint64_t total = 0;
  for (const auto &ev : events)
    if (ev.name == "rejected_total") {
      totals[ev.fields.at("reason_name")] += ev.u("count");
      total += ev.u("count");
    }
  EXPECT_EQ(totals["kernel_only_kind"], static_cast<uint64_t>(kernel_only));
  EXPECT_EQ(totals["call_bad_page"], static_cast<uint64_t>(sum_over_programs(lines, "expect_call_bad_page")));
  EXPECT_EQ(totals["no_free_slot"], static_cast<uint64_t>(lost));
  // On a mismatch, say which reasons the host counted and what the guest
  // expected (a flake once counted one more than expected: find which).
  std::string why = "host totals by reason:";
  for (const auto &[name, n] : totals) why += " " + name + "=" + std::to_string(n);
  why += "\nguest lines:";
  for (const auto &l : lines)
    if (l.find("expect_") != std::string::npos || l.find("unloaded, marked") != std::string::npos ||
        l.find("forged") != std::string::npos || l.find("lost") != std::string::npos)
      why += "\n  " + l;
  EXPECT_EQ(total, static_cast<uint64_t>(forged + hostile + lost + kernel_traps_rejected(lines))) << why;
  for (const auto &ev : events) {
    if (ev.name == "sched_switch") {
      // guest-forge's records name "bd-forged": none may become an event.
      EXPECT_NE(ev.fields.at("prev_comm"), "bd-forged");
      EXPECT_NE(ev.fields.at("next_comm"), "bd-forged-next");
    }
  }
}

void expect_module_unloaded_cleanly(const std::vector<std::string> &lines) {
  EXPECT_NE(std::find(lines.begin(), lines.end(), "rmmod ok"), lines.end());
  for (const auto &l : lines) {
    EXPECT_EQ(l.find("Oops"), std::string::npos) << l;
    EXPECT_EQ(l.find("BUG:"), std::string::npos) << l;
    EXPECT_EQ(l.find("WARNING:"), std::string::npos) << l;
  }
}

}  // namespace bdtest
