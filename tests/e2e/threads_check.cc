// SPDX-License-Identifier: MIT
#include "threads_check.h"

#include <gtest/gtest.h>

#include <regex>

namespace bdtest {

long value_after(const std::string &out, const std::string &key) {
  for (const auto &l : lines(out))
    if (l.rfind(key + " ", 0) == 0) return std::stol(l.substr(key.size() + 1));
  return -1;
}

std::map<int, uint64_t> thread_tids(const std::string &out) {
  std::map<int, uint64_t> tids;
  std::regex re(R"(^thread (\d+) tid (\d+)$)");
  for (const auto &l : lines(out)) {
    std::smatch m;
    if (std::regex_match(l, m, re)) tids[std::stoi(m[1])] = std::stoull(m[2]);
  }
  return tids;
}

void expect_guest_threads_events(const std::vector<TraceEvent> &events, const std::string &out, int threads,
                                 int marks, bool ring_times) {
  const auto tids = thread_tids(out);
  ASSERT_EQ(tids.size(), static_cast<size_t>(threads)) << out;
  std::map<uint64_t, int> k_of_tid;
  for (auto [k, tid] : tids) k_of_tid[tid] = k;
  std::map<uint64_t, uint64_t> next_i, last_ts, last_seq;
  std::map<uint64_t, int> text_marks, event3, begins, ends;
  std::map<uint64_t, std::string> names;
  for (const auto &ev : events) {
    if (ev.name == "event_name") {
      names[ev.u("event")] = ev.fields.at("name");
      if (ring_times) {
        EXPECT_NE(ev.u("guest_ts"), 0u);
      }
    }
    if (ev.name != "mark" && ev.name != "region_begin" && ev.name != "region_end") continue;
    const uint64_t tid = ev.u("tid");
    ASSERT_TRUE(k_of_tid.count(tid)) << "event from unknown tid " << tid;
    const uint64_t k = k_of_tid[tid];
    const uint64_t seq = ev.u("seq");
    ASSERT_GT(seq, last_seq[tid]) << "sequence went backwards (or repeated) on tid " << tid;
    last_seq[tid] = seq;
    if (ring_times) {
      const uint64_t ts = ev.u("guest_ts");
      ASSERT_NE(ts, 0u) << "a ring event without its guest time";
      ASSERT_GE(ts, last_ts[tid]) << "guest time went backwards on tid " << tid;
      last_ts[tid] = ts;
    }
    if (ev.name == "region_begin") {
      EXPECT_EQ(ev.u("region"), 100 + k);
      EXPECT_EQ(next_i[tid], 0u) << "region begins before the marks";
      ++begins[tid];
    } else if (ev.name == "region_end") {
      EXPECT_EQ(ev.u("region"), 100 + k);
      EXPECT_EQ(next_i[tid], static_cast<uint64_t>(marks)) << "region ends before the marks";
      ++ends[tid];
    } else if (ev.u("kind") == 1 && ev.u("event") == 1) {
      ASSERT_EQ(ev.u("a0"), k);
      ASSERT_EQ(ev.u("a1"), next_i[tid]) << "mark lost or reordered on tid " << tid;
      ASSERT_EQ(ev.u("a2"), k * 1000000 + next_i[tid]);
      ASSERT_EQ(ev.u("a3"), 0xfeedu);
      ++next_i[tid];
    } else if (ev.u("kind") == 2) {
      EXPECT_EQ(ev.u("event"), 2u);
      EXPECT_EQ(ev.fields.at("text"),
                "hello from thread " + std::to_string(k) + " #" + std::to_string(text_marks[tid]));
      ++text_marks[tid];
    } else if (ev.u("event") == 3) {
      ++event3[tid];
    } else {
      ADD_FAILURE() << "unexpected mark kind " << ev.u("kind") << " event " << ev.u("event");
    }
  }
  for (auto [k, tid] : tids) {
    SCOPED_TRACE("thread " + std::to_string(k));
    EXPECT_EQ(next_i[tid], static_cast<uint64_t>(marks));
    EXPECT_EQ(text_marks[tid], 3);
    EXPECT_EQ(event3[tid], 1);
    EXPECT_EQ(begins[tid], 1);
    EXPECT_EQ(ends[tid], 1);
    EXPECT_EQ(names[100 + k], "phase" + std::to_string(k));
  }
  EXPECT_EQ(names[1], "tick");
}

}  // namespace bdtest
