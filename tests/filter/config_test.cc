// SPDX-License-Identifier: MIT
// Parsing filter configs: exact FILE:LINE:COLUMN errors, semantic
// validation, digests.
#include <gtest/gtest.h>

#include <string>

#include "bdtrace/filter/config.h"

using bdtrace::Expected;
using bdtrace::filter::config_digest;
using bdtrace::filter::FilterConfig;
using bdtrace::filter::load_config_file;
using bdtrace::filter::parse_config;

namespace {

// The error for `text` parsed as "f.txtpb" ("" when it parses).
std::string error_of(const std::string &text) {
  const Expected<FilterConfig> c = parse_config(text, "f.txtpb");
  return c ? "" : c.error().message;
}

TEST(ParseConfig, AcceptsAFullConfig) {
  const Expected<FilterConfig> parsed = parse_config(R"(
# comment
rule {
  name: "a"
  vcpus { id: [0, 2] range { lo: 4 hi: 7 } }
  process { comm: "srv*" pid: 10 tid: [11, 12] }
  events { id: 5 range { lo: 1000 hi: 1999 } range { lo: 3000 } }
  kind: [MARK, TEXT]
  action: RECORD
  rate_limit { events_per_second: 100 burst: 10 }
}
rule { vcpus { all: true } action: DROP }
default_action: DROP
)",
                                                     "f.txtpb");
  ASSERT_TRUE(parsed) << parsed.error();
  const FilterConfig &c = *parsed;
  ASSERT_EQ(c.rule_size(), 2);
  EXPECT_EQ(c.rule(0).vcpus().id_size(), 2);
  EXPECT_EQ(c.rule(0).events().range(1).lo(), 3000u);
  EXPECT_FALSE(c.rule(0).events().range(1).has_hi());
  EXPECT_EQ(c.default_action(), bdtrace::filter::DROP);
}

TEST(ParseConfig, EmptyFileIsValidAndRecordsEverything) {
  const Expected<FilterConfig> c = parse_config("", "f.txtpb");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->rule_size(), 0);
}

TEST(ParseConfig, ExamplesParse) {
  for (const char *name : {"only-marks-vcpu0", "one-process", "rate-limit"}) {
    const Expected<FilterConfig> c =
        load_config_file(std::string(BD_FILTER_EXAMPLES) + "/" + name + ".txtpb");
    EXPECT_TRUE(c) << c.error();
  }
}

TEST(ParseConfig, SyntaxErrorsPointAtTheOffendingToken) {
  // Line and column are 1-based.
  EXPECT_EQ(error_of("rule { action: DRAP }"),
            "f.txtpb:1:16: Unknown enumeration value of \"DRAP\" for field \"action\".");
  EXPECT_EQ(error_of("rule {\n  acton: DROP\n}"),
            "f.txtpb:2:3: Message type \"bdtrace.filter.Rule\" has no field named \"acton\".");
  EXPECT_EQ(error_of("rule { action: DROP action: RECORD }"),
            "f.txtpb:1:21: Non-repeated field \"action\" is specified multiple times.");
  EXPECT_EQ(error_of("rule {\n  events { id: x }\n  action: DROP\n}"),
            "f.txtpb:2:16: Expected integer, got: x");
  EXPECT_EQ(error_of("rule { events { id: -1 } action: DROP }"), "f.txtpb:1:21: Expected integer, got: -");
}

// A file that ends too early: the message says "end of file" where the
// parser would name the token, and which brace is still open.
TEST(ParseConfig, EndOfFileIsNamedWithTheUnclosedBrace) {
  EXPECT_EQ(error_of("rule { action: DROP\n"),
            "f.txtpb:2:1: Expected identifier, got: end of file (the '{' at 1:6 is not closed)");
  EXPECT_EQ(error_of("rule {\n  events { id: 1 }\n  action: DROP\n"),
            "f.txtpb:4:1: Expected identifier, got: end of file (the '{' at 1:6 is not closed)");
  EXPECT_EQ(error_of("rule {\n  events { id: [1, "),
            "f.txtpb:2:20: Expected integer, got: end of file (the '{' at 2:10 is not closed)");
  EXPECT_EQ(error_of("rule <\n  action: DROP\n"),
            "f.txtpb:3:1: Expected identifier, got: end of file (the '<' at 1:6 is not closed)");
  EXPECT_EQ(error_of("rule { name: "),
            "f.txtpb:1:14: Expected string, got: end of file (the '{' at 1:6 is not closed)");
  EXPECT_EQ(error_of("default_action:"), "f.txtpb:1:16: Expected integer or identifier, got: end of file");
  EXPECT_EQ(error_of("rule"), "f.txtpb:1:5: Expected \"{\", found end of file.");
}

TEST(ParseConfig, SemanticErrorsNameTheFieldAndItsPlace) {
  EXPECT_EQ(error_of("rule {\n  events { range { lo: 10 hi: 5 } }\n  action: DROP\n}"),
            "f.txtpb:2:27: rule[0].events.range[0]: lo 10 > hi 5");
  EXPECT_EQ(error_of("rule { action: DROP }\nrule {\n  vcpus { id: 3 id: 64 }\n  action: DROP\n}"),
            "f.txtpb:3:17: rule[1].vcpus.id[1]: 64 is out of range (at most 63)");
  // A list records one location, at its start.
  EXPECT_EQ(error_of("rule { vcpus { id: [1, 64] } action: DROP }"),
            "f.txtpb:1:16: rule[0].vcpus.id[1]: 64 is out of range (at most 63)");
  EXPECT_EQ(error_of("rule { vcpus { range { lo: 60 hi: 70 } } action: DROP }"),
            "f.txtpb:1:31: rule[0].vcpus.range[0]: 70 is out of range (at most 63)");
  EXPECT_EQ(error_of("rule {\n  events { }\n  action: DROP\n}"),
            "f.txtpb:2:3: rule[0].events: empty set; give all: true, id or range (or leave "
            "rule[0].events out for every value)");
  EXPECT_EQ(error_of("rule { vcpus { all: true id: 1 } action: DROP }"),
            "f.txtpb:1:16: rule[0].vcpus: 'all: true' cannot be combined with id or range");
  EXPECT_EQ(error_of("\n  rule { kind: MARK }"),
            "f.txtpb:2:3: rule[0]: missing action (action: RECORD or action: DROP)");
  EXPECT_EQ(error_of("rule { kind: [MARK, KIND_UNSPECIFIED] action: DROP }"),
            "f.txtpb:1:8: rule[0].kind[1]: KIND_UNSPECIFIED is not a kind (MARK, TEXT, REGION, "
            "NAME, SCHED_SWITCH, HELLO)");
  EXPECT_EQ(error_of("default_action: 7"),
            "f.txtpb:1:1: default_action: 7 is not an action (RECORD or DROP)");
  EXPECT_EQ(error_of("rule { process { } action: DROP }"),
            "f.txtpb:1:8: rule[0].process: empty selector; give comm, pid or tid (or leave "
            "rule[0].process out for every process)");
  EXPECT_EQ(error_of("rule { process { pid: 1 comm: \"ab[c\" } action: DROP }"),
            "f.txtpb:1:25: rule[0].process.comm[0]: unterminated '[' at offset 2 in glob "
            "\"ab[c\" (write \\[ for a literal bracket)");
  EXPECT_EQ(error_of("rule { process { comm: \"\" } action: DROP }"),
            "f.txtpb:1:18: rule[0].process.comm[0]: empty glob (use \"*\" for any name)");
  EXPECT_EQ(error_of("rule {\n action: RECORD\n rate_limit {\n  burst: 5\n }\n}"),
            "f.txtpb:3:2: rule[0].rate_limit.events_per_second: must be from 1 to 1000000000 "
            "(got 0)");
  EXPECT_EQ(error_of("rule { action: RECORD rate_limit { events_per_second: 2000000000 } }"),
            "f.txtpb:1:36: rule[0].rate_limit.events_per_second: must be from 1 to 1000000000 "
            "(got 2000000000)");
  EXPECT_EQ(error_of("rule { action: DROP rate_limit { events_per_second: 5 } }"),
            "f.txtpb:1:21: rule[0].rate_limit: only a RECORD rule can have a rate limit");
}

TEST(ParseConfig, TooManyRules) {
  std::string text;
  for (int i = 0; i < 65; ++i) text += "rule { action: DROP }\n";
  EXPECT_EQ(error_of(text), "f.txtpb:65:1: rule[64]: too many rules (at most 64)");
}

TEST(LoadConfigFile, MissingFileSaysSo) {
  const Expected<FilterConfig> c = load_config_file("/nonexistent/filter.txtpb");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            "cannot read filter config '/nonexistent/filter.txtpb': No such file or directory");
}

TEST(Digest, IgnoresLayoutAndCommentsButNotContent) {
  const Expected<FilterConfig> first = parse_config("rule { events { id: 1 } action: DROP }", "a");
  const Expected<FilterConfig> same =
      parse_config("# same\nrule {\n  action: DROP\n  events {\n    id: 1\n  }\n}\n", "b");
  const Expected<FilterConfig> other = parse_config("rule { events { id: 2 } action: DROP }", "c");
  ASSERT_TRUE(first && same && other);
  const FilterConfig &a = *first, &b = *same, &c = *other;
  EXPECT_EQ(config_digest(a), config_digest(b));
  EXPECT_NE(config_digest(a), config_digest(c));
  EXPECT_EQ(config_digest(a).size(), 16u);
  // Stable across runs and builds: FNV-1a 64 of the canonical bytes.
  EXPECT_EQ(config_digest(FilterConfig()), "cbf29ce484222325");
  EXPECT_EQ(config_digest(a), config_digest(a));
}

}  // namespace
