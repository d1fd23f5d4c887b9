// SPDX-License-Identifier: MIT
// The error vocabulary every host library shares (common/include/bdtrace/status.h).
#include "bdtrace/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <utility>

namespace bdtrace {
namespace {

TEST(Error, WithoutCausesItIsItsMessage) {
  EXPECT_EQ(make_error("cannot open x: do y").ToString(), "cannot open x: do y");
}

TEST(Error, CausesFollowTheMessageOnePerLine) {
  const Error e{"reading the trace failed", {"src.ctf.fs: no metadata", "muxer: ended"}};
  EXPECT_EQ(e.ToString(),
            "reading the trace failed\n"
            "  caused by: src.ctf.fs: no metadata\n"
            "  caused by: muxer: ended");
  std::ostringstream printed;
  printed << e;
  EXPECT_EQ(printed.str(), e.ToString());
}

// Each layer an error passes says what it was doing; the layer below
// becomes the newest cause (root cause first).
TEST(Error, WrapKeepsTheLowerLayersAsCauses) {
  const Error e = make_error("No such file or directory")
                      .Wrap("cannot map the region")
                      .Wrap("bd-ring-consumer cannot start");
  EXPECT_EQ(e.message, "bd-ring-consumer cannot start");
  ASSERT_EQ(e.causes.size(), 2u);
  EXPECT_EQ(e.causes[0], "No such file or directory");
  EXPECT_EQ(e.causes[1], "cannot map the region");
}

Expected<std::unique_ptr<int>> make(bool ok) {
  if (!ok) return make_error("no int today");
  return std::make_unique<int>(7);
}

TEST(Expected, HoldsAMoveOnlyValueOrAnError) {
  Expected<std::unique_ptr<int>> good = make(true);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(static_cast<bool>(good));
  EXPECT_EQ(**good, 7);
  std::unique_ptr<int> taken = std::move(good).value();
  EXPECT_EQ(*taken, 7);

  Expected<std::unique_ptr<int>> bad = make(false);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "no int today");
  // Passed up unchanged as another Expected or a Status.
  const Expected<std::string> up = bad.take_error();
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().message, "no int today");
}

TEST(Status, DefaultIsSuccessAnErrorIsNot) {
  EXPECT_TRUE(Status().ok());
  EXPECT_TRUE(Status::Ok());
  Status failed = make_error("it broke");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().ToString(), "it broke");
  const Error taken = failed.take_error();
  EXPECT_EQ(taken.message, "it broke");
}

}  // namespace
}  // namespace bdtrace
