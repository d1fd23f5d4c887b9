// SPDX-License-Identifier: MIT
// Matching: first rule wins, the default, vCPU lists and ranges, event
// ranges, kinds, process selectors, and the conservative maybe_enabled().
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "bdtrace/filter/compiled.h"

using namespace bdtrace::filter;
using bdtrace::Expected;

namespace {

std::unique_ptr<CompiledFilter> compile(const std::string &text, const std::string &comm = "") {
  const Expected<FilterConfig> c = parse_config(text, "t.txtpb");
  EXPECT_TRUE(c) << c.error();
  return CompiledFilter::compile(c ? *c : FilterConfig(), comm);
}

// A record of `kind`/`event` from vcpu/pid/tid of a process named `comm`.
Decision decide(const CompiledFilter &f, uint32_t vcpu, uint32_t kind, uint32_t event, uint32_t pid = 100,
                uint32_t tid = 100, const char *comm = "app") {
  return f.decide(Subject{vcpu, {pid, tid, f.comm_mask(comm)}}, kind, event);
}

bool records(const CompiledFilter &f, uint32_t vcpu, uint32_t kind, uint32_t event, uint32_t pid = 100,
             uint32_t tid = 100, const char *comm = "app") {
  return decide(f, vcpu, kind, event, pid, tid, comm).verdict == Verdict::Record;
}

TEST(Match, EmptyConfigRecordsEverything) {
  auto f = compile("");
  for (uint32_t kind = BD_KIND_MARK; kind < BD_KIND_MAX_; ++kind) {
    const Decision d = decide(*f, 0, kind, 7);
    EXPECT_EQ(d.verdict, Verdict::Record);
    EXPECT_EQ(d.rule, kDefaultRule);
  }
}

TEST(Match, FirstMatchingRuleWins) {
  auto f = compile(R"(
rule { events { id: 5 } action: RECORD }
rule { events { range { lo: 0 hi: 10 } } action: DROP }
rule { action: RECORD }
default_action: DROP)");
  EXPECT_EQ(decide(*f, 0, BD_KIND_MARK, 5).rule, 0);
  EXPECT_TRUE(records(*f, 0, BD_KIND_MARK, 5));
  EXPECT_EQ(decide(*f, 0, BD_KIND_MARK, 6).rule, 1);
  EXPECT_FALSE(records(*f, 0, BD_KIND_MARK, 6));
  EXPECT_EQ(decide(*f, 0, BD_KIND_MARK, 11).rule, 2);
  EXPECT_TRUE(records(*f, 0, BD_KIND_MARK, 11));
}

TEST(Match, DefaultActionAppliesWhenNothingMatches) {
  auto f = compile("rule { events { id: 1 } action: RECORD }\ndefault_action: DROP");
  const Decision d = decide(*f, 0, BD_KIND_MARK, 2);
  EXPECT_EQ(d.verdict, Verdict::Drop);
  EXPECT_EQ(d.rule, kDefaultRule);
  EXPECT_EQ(f->rule_label(kDefaultRule), "default");
}

TEST(Match, NamesAndHelloAreKeptUnlessARuleListsThem) {
  auto f = compile("rule { action: DROP }\ndefault_action: DROP");
  EXPECT_FALSE(records(*f, 0, BD_KIND_MARK, 1));
  EXPECT_FALSE(records(*f, 0, BD_KIND_REGION_BEGIN, 1));
  EXPECT_TRUE(records(*f, 0, BD_KIND_EVENT_NAME, 1));
  EXPECT_TRUE(records(*f, 0, BD_KIND_HELLO, 0));
  auto g = compile("rule { kind: NAME action: DROP }");
  EXPECT_FALSE(records(*g, 0, BD_KIND_EVENT_NAME, 1));
  EXPECT_TRUE(records(*g, 0, BD_KIND_MARK, 1));
}

TEST(Match, KindsSelect) {
  auto f = compile("rule { kind: [TEXT, REGION] action: DROP }");
  EXPECT_TRUE(records(*f, 0, BD_KIND_MARK, 1));
  EXPECT_FALSE(records(*f, 0, BD_KIND_MARK_TEXT, 1));
  EXPECT_FALSE(records(*f, 0, BD_KIND_REGION_BEGIN, 1));
  EXPECT_FALSE(records(*f, 0, BD_KIND_REGION_END, 1));
  auto g = compile("rule { kind: SCHED_SWITCH action: DROP }");
  EXPECT_FALSE(records(*g, 0, BD_KIND_SCHED_SWITCH, 0));
  EXPECT_TRUE(records(*g, 0, BD_KIND_MARK, 0));
}

TEST(Match, VcpuListsAndRanges) {
  auto f = compile(R"(
rule { vcpus { id: [1, 3] range { lo: 10 hi: 12 } } action: RECORD }
default_action: DROP)");
  for (uint32_t v = 0; v < 70; ++v) {
    const bool in = v == 1 || v == 3 || (v >= 10 && v <= 12);
    EXPECT_EQ(records(*f, v, BD_KIND_MARK, 1), in) << "vcpu " << v;
  }
  // vCPU indexes >= 64 match only rules for every vCPU.
  auto g = compile("rule { vcpus { all: true } action: DROP }");
  EXPECT_FALSE(records(*g, 64, BD_KIND_MARK, 1));
  EXPECT_FALSE(records(*g, 1000, BD_KIND_MARK, 1));
  auto h = compile("rule { vcpus { range { lo: 0 hi: 63 } } action: DROP }");
  EXPECT_FALSE(records(*h, 63, BD_KIND_MARK, 1));
  EXPECT_TRUE(records(*h, 64, BD_KIND_MARK, 1));
}

TEST(Match, EventIdsAndRanges) {
  auto f = compile(R"(
rule { events { id: [7, 4294967295] range { lo: 1000 hi: 1999 } range { lo: 50 } } action: DROP })");
  for (uint32_t e : {7u, 50u, 1000u, 1500u, 1999u, 4294967295u})
    EXPECT_FALSE(records(*f, 0, BD_KIND_MARK, e)) << e;
  for (uint32_t e : {0u, 6u, 8u, 49u, 51u, 999u, 2000u, 4294967294u})
    EXPECT_TRUE(records(*f, 0, BD_KIND_MARK, e)) << e;
}

TEST(Match, ProcessSelectorsPidTidComm) {
  auto f = compile(R"(
rule { process { pid: 10 } action: RECORD }
rule { process { tid: [21, 22] } action: RECORD }
rule { process { comm: "srv-*" pid: 30 } action: RECORD }
rule { process { comm: ["db?", "cache"] } action: RECORD }
default_action: DROP)");
  EXPECT_TRUE(records(*f, 0, BD_KIND_MARK, 1, 10, 11, "x"));
  EXPECT_FALSE(records(*f, 0, BD_KIND_MARK, 1, 11, 10, "x"));
  EXPECT_TRUE(records(*f, 0, BD_KIND_MARK, 1, 20, 22, "x"));
  EXPECT_FALSE(records(*f, 0, BD_KIND_MARK, 1, 20, 23, "x"));
  EXPECT_TRUE(records(*f, 0, BD_KIND_MARK, 1, 30, 31, "srv-a"));  // comm AND pid
  EXPECT_FALSE(records(*f, 0, BD_KIND_MARK, 1, 31, 31, "srv-a"));
  EXPECT_FALSE(records(*f, 0, BD_KIND_MARK, 1, 30, 31, "srv"));
  EXPECT_TRUE(records(*f, 0, BD_KIND_MARK, 1, 40, 40, "db1"));
  EXPECT_TRUE(records(*f, 0, BD_KIND_MARK, 1, 40, 40, "cache"));
  EXPECT_FALSE(records(*f, 0, BD_KIND_MARK, 1, 40, 40, "db12"));
  // Unknown comm (nullptr): rules with a comm selector never match.
  EXPECT_EQ(f->comm_mask(nullptr), 0b0011u);
}

TEST(Match, FixedCommIsPrecomputed) {
  auto f = compile("rule { process { comm: \"guest-*\" } action: DROP }", "guest-threads");
  EXPECT_EQ(f->fixed_comm_mask(), 1u);
  auto g = compile("rule { process { comm: \"guest-*\" } action: DROP }", "other");
  EXPECT_EQ(g->fixed_comm_mask(), 0u);
}

TEST(Match, AlternativeIdentityMatchesToo) {
  // A SCHED_SWITCH record matches a process selector by prev or next.
  auto f = compile("rule { process { pid: 5 } action: RECORD }\ndefault_action: DROP");
  Subject s{0, {1, 1, f->comm_mask("a")}};
  EXPECT_EQ(f->decide(s, BD_KIND_SCHED_SWITCH, 0).verdict, Verdict::Drop);
  s.has_alt = true;
  s.alt = {5, 6, f->comm_mask("b")};
  EXPECT_EQ(f->decide(s, BD_KIND_SCHED_SWITCH, 0).verdict, Verdict::Record);
}

TEST(MaybeEnabled, IsConservativeAboutProcessRules) {
  auto f = compile(R"(
rule { vcpus { id: 0 } events { range { lo: 1000 hi: 1999 } } kind: MARK action: RECORD }
rule { process { comm: "x" } events { id: 5 } action: RECORD }
rule { process { pid: 9 } events { id: 6 } action: DROP }
rule { events { id: 6 } action: RECORD }
default_action: DROP)");
  EXPECT_TRUE(f->maybe_enabled(0, BD_KIND_MARK, 1500));
  EXPECT_FALSE(f->maybe_enabled(1, BD_KIND_MARK, 1500));
  EXPECT_FALSE(f->maybe_enabled(0, BD_KIND_MARK_TEXT, 1500));
  EXPECT_TRUE(f->maybe_enabled(3, BD_KIND_MARK, 5));  // for process "x"
  EXPECT_TRUE(f->maybe_enabled(3, BD_KIND_MARK, 6));  // for pids other than 9
  EXPECT_FALSE(f->maybe_enabled(3, BD_KIND_MARK, 7));
  EXPECT_TRUE(f->maybe_enabled(3, BD_KIND_EVENT_NAME, 7));  // names: never by default
  const std::vector<Span> v0 = f->enabled_events(0, BD_KIND_MARK);
  EXPECT_EQ(v0, (std::vector<Span>{{5, 6}, {1000, 1999}}));
  EXPECT_EQ(f->enabled_events(1, BD_KIND_MARK), (std::vector<Span>{{5, 6}}));
  EXPECT_EQ(f->enabled_events(1, BD_KIND_EVENT_NAME), (std::vector<Span>{{0, UINT32_MAX}}));
  auto all = compile("");
  EXPECT_EQ(all->enabled_events(70, BD_KIND_MARK), (std::vector<Span>{{0, UINT32_MAX}}));
}

TEST(Match, RuleLabels) {
  auto f = compile("rule { name: \"keep\" action: RECORD }\nrule { action: DROP }");
  EXPECT_EQ(f->rule_label(0), "keep");
  EXPECT_EQ(f->rule_label(1), "rule[1]");
  EXPECT_EQ(f->rule_count(), 2u);
}

}  // namespace
