#include "system_checks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

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

void expect_forged_and_hostile_records_rejected(const std::vector<TraceEvent> &events,
                                                const std::vector<std::string> &lines) {
  const long long forged = guest_value(lines, "forge forged");
  const long long hostile = guest_value(lines, "hostile expect_rejected");
  ASSERT_GT(forged, 0);
  ASSERT_GT(hostile, 0);
  std::map<std::string, uint64_t> totals;
  uint64_t total = 0;
  for (const auto &ev : events)
    if (ev.name == "rejected_total") {
      totals[ev.fields.at("reason_name")] += ev.u("count");
      total += ev.u("count");
    }
  EXPECT_EQ(totals["kernel_only_kind"], static_cast<uint64_t>(forged));
  EXPECT_EQ(total, static_cast<uint64_t>(forged + hostile));
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
