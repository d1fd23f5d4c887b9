// SPDX-License-Identifier: MIT
// Globs for ProcessSelector.comm.
#include <gtest/gtest.h>

#include "bdtrace/filter/glob.h"

using bdtrace::filter::glob_error;
using bdtrace::filter::glob_match;

TEST(Glob, Matches) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("abc", "abc"));
  EXPECT_FALSE(glob_match("abc", "abcd"));
  EXPECT_TRUE(glob_match("a*c", "abbbc"));
  EXPECT_TRUE(glob_match("a*b*c", "a-b-b-c"));
  EXPECT_FALSE(glob_match("a*b*c", "a-c-b"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("[a-c]x", "bx"));
  EXPECT_FALSE(glob_match("[a-c]x", "dx"));
  EXPECT_TRUE(glob_match("[!a-c]x", "dx"));
  EXPECT_FALSE(glob_match("[^a-c]x", "ax"));
  EXPECT_TRUE(glob_match("[]]", "]"));
  EXPECT_TRUE(glob_match("\\*", "*"));
  EXPECT_FALSE(glob_match("\\*", "a"));
  EXPECT_TRUE(glob_match("guest-*", "guest-threads"));
  EXPECT_TRUE(glob_match("*threads", "guest-threads"));
}

TEST(Glob, Errors) {
  EXPECT_EQ(glob_error("ok*"), "");
  EXPECT_EQ(glob_error("[a-z]"), "");
  EXPECT_NE(glob_error(""), "");
  EXPECT_NE(glob_error("ab\\"), "");
  EXPECT_NE(glob_error("[abc"), "");
  EXPECT_NE(glob_error("[]"), "");
}
