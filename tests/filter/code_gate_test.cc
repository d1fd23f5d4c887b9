// SPDX-License-Identifier: MIT
// Process-gated code tracing (Rule.trace_code): validation and the gate
// decision trace_code_gate() / trace_code_possible().
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

std::string refusal(const std::string &text) {
  const Expected<FilterConfig> c = parse_config(text, "t.txtpb");
  EXPECT_FALSE(c);
  return c ? std::string() : c.error().message;
}

bool gate(const CompiledFilter &f, uint32_t vcpu, uint32_t pid, uint32_t tid, const char *comm) {
  return f.trace_code_gate(vcpu, Identity{pid, tid, f.comm_mask(comm)});
}

TEST(CodeGate, NeedsARecordRuleWithAProcessSelector) {
  EXPECT_EQ(refusal("rule {\n  action: RECORD trace_code: true }"),
            "t.txtpb:2:18: rule[0].trace_code: needs a process selector (process { comm, pid "
            "or tid }): which process's code to trace");
  EXPECT_EQ(refusal("rule { process { pid: 1 } action: DROP trace_code: true }"),
            "t.txtpb:1:40: rule[0].trace_code: only a RECORD rule can trace code");
}

TEST(CodeGate, BatchesUnlessARuleAsksForEachBlock) {
  EXPECT_FALSE(compile("rule { process { pid: 5 } action: RECORD trace_code: true }")->each_block_events());
  EXPECT_TRUE(compile("rule { process { pid: 5 } action: RECORD trace_code: true }\n"
                      "rule { process { pid: 6 } action: RECORD trace_code: true "
                      "code_events: EACH_BLOCK }")
                  ->each_block_events());
  auto counts = compile(
      "rule { process { pid: 5 } action: RECORD trace_code: true "
      "code_events: BLOCK_COUNTS }");
  EXPECT_TRUE(counts->block_counts());
  EXPECT_FALSE(counts->each_block_events());
  // EACH_BLOCK wins over BLOCK_COUNTS.
  EXPECT_FALSE(compile("rule { process { pid: 5 } action: RECORD trace_code: true "
                       "code_events: BLOCK_COUNTS }\n"
                       "rule { process { pid: 6 } action: RECORD trace_code: true "
                       "code_events: EACH_BLOCK }")
                   ->block_counts());
  EXPECT_EQ(refusal("rule { process { pid: 5 } action: RECORD code_events: EACH_BLOCK }"),
            "t.txtpb:1:42: rule[0].code_events: only applies with trace_code: true");
}

TEST(CodeGate, OffWithoutTraceCodeRules) {
  auto f = compile("rule { process { pid: 5 } action: RECORD }");
  EXPECT_FALSE(f->any_trace_code());
  EXPECT_FALSE(gate(*f, 0, 5, 5, "app"));
  EXPECT_FALSE(f->trace_code_possible(f->comm_mask("app")));
}

TEST(CodeGate, OpenOnlyForTheSelectedProcessOnItsVcpus) {
  auto f = compile(
      "rule { process { comm: \"serv*\" pid: 42 } vcpus { id: [0, 1] } action: RECORD "
      "trace_code: true }");
  EXPECT_TRUE(f->any_trace_code());
  EXPECT_TRUE(gate(*f, 0, 42, 43, "server"));
  EXPECT_TRUE(gate(*f, 1, 42, 42, "serv"));
  EXPECT_FALSE(gate(*f, 2, 42, 42, "server"));   // vCPU not selected
  EXPECT_FALSE(gate(*f, 0, 41, 41, "server"));   // another pid
  EXPECT_FALSE(gate(*f, 0, 42, 42, "client"));   // another comm
  EXPECT_FALSE(gate(*f, 0, 42, 42, nullptr));    // comm unknown
  EXPECT_FALSE(gate(*f, 64, 42, 42, "server"));  // beyond the selectable vCPUs
  EXPECT_TRUE(f->trace_code_possible(f->comm_mask("server")));
  EXPECT_FALSE(f->trace_code_possible(f->comm_mask("client")));
}

TEST(CodeGate, AnyTraceCodeRuleOpensItWhateverTheRuleOrder) {
  // A DROP rule before it decides records, not the gate.
  auto f = compile(
      "rule { process { pid: 7 } action: DROP }\n"
      "rule { process { tid: 8 } action: RECORD trace_code: true }\n"
      "rule { process { pid: 7 } action: RECORD }\n"
      "rule { process { comm: \"b\" } action: RECORD trace_code: true }\n");
  EXPECT_TRUE(gate(*f, 3, 7, 8, "a"));
  EXPECT_TRUE(gate(*f, 3, 1, 1, "b"));
  EXPECT_FALSE(gate(*f, 3, 7, 7, "a"));  // rule[2] matches but does not trace code
  // Records are still decided by the first matching rule.
  EXPECT_EQ(f->decide(Subject{3, {7, 8, f->comm_mask("a")}}, BD_KIND_MARK, 1).verdict, Verdict::Drop);
}

}  // namespace
