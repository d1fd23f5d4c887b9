// SPDX-License-Identifier: MIT
// LttngSession against the real, machine-wide lttng-sessiond (./bdtrace test
// starts one). Every session here is uniquely named and destroyed.
#include "bdtrace/tools/lttng_session.h"

#include <gtest/gtest.h>
#include <lttng/lttng.h>

#include <filesystem>
#include <set>
#include <string>

#include "temp_dir.h"

namespace bdtrace::tools {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

class LttngSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Not a skip: CI must notice when tracing cannot be tested at all.
    ASSERT_EQ(lttng_session_daemon_alive(), 1)
        << "no lttng-sessiond is running: start one with `lttng-sessiond --daemonize` "
           "or run the tests through ./bdtrace test, which starts it";
    ASSERT_FALSE(tmp_.path().empty()) << "cannot create a temporary directory";
  }

  SessionOptions options(const std::string& sub = "trace") const {
    SessionOptions o;
    o.output_dir = tmp_ / sub;
    // Small buffers: the tests emit nothing and should not pin memory.
    o.subbuf_size = 64 * 1024;
    o.subbuf_count = 2;
    return o;
  }

  static bool exists(const std::string& name) {
    Expected<bool> e = session_exists(name);
    EXPECT_TRUE(e.ok()) << e.error();
    return e.ok() && e.value();
  }

  TempDir tmp_;
};

TEST_F(LttngSessionTest, CreateStartStopDestroy) {
  Expected<LttngSession> s = LttngSession::create(options());
  ASSERT_TRUE(s.ok()) << s.error();
  const std::string name = s->name();
  EXPECT_EQ(name.rfind("bdtrace-", 0), 0u) << name;
  EXPECT_TRUE(exists(name));
  EXPECT_TRUE(fs::is_directory(tmp_ / "trace")) << "output directory should be created";
  EXPECT_TRUE(fs::path(s->output_dir()).is_absolute());

  Status st = s->start();
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(s->started());
  st = s->stop();
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_FALSE(s->started());

  Expected<uint64_t> lost = s->discarded_events();
  ASSERT_TRUE(lost.ok()) << lost.error();
  EXPECT_EQ(lost.value(), 0u);

  st = s->destroy();
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_FALSE(s->valid());
  EXPECT_FALSE(exists(name)) << "session " << name << " still listed after destroy()";
  EXPECT_TRUE(s->destroy().ok()) << "destroy() must be idempotent";
}

TEST_F(LttngSessionTest, DestructorDestroysStartedSession) {
  std::string name;
  {
    Expected<LttngSession> s = LttngSession::create(options());
    ASSERT_TRUE(s.ok()) << s.error();
    name = s->name();
    Status st = s->start();
    ASSERT_TRUE(st.ok()) << st.error();
  }
  EXPECT_FALSE(exists(name)) << "session " << name << " outlived its LttngSession";
}

TEST_F(LttngSessionTest, MoveTransfersOwnership) {
  Expected<LttngSession> s = LttngSession::create(options());
  ASSERT_TRUE(s.ok()) << s.error();
  const std::string name = s->name();
  {
    LttngSession moved = std::move(s).value();
    EXPECT_EQ(moved.name(), name);
    EXPECT_TRUE(exists(name)) << "moving must not destroy the session";
  }
  EXPECT_FALSE(exists(name));
}

TEST_F(LttngSessionTest, TwoSessionsGetDistinctNames) {
  Expected<LttngSession> a = LttngSession::create(options("a"));
  Expected<LttngSession> b = LttngSession::create(options("b"));
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_NE(a->name(), b->name());
  EXPECT_TRUE(exists(a->name()));
  EXPECT_TRUE(exists(b->name()));
}

TEST_F(LttngSessionTest, UniqueNamesDoNotRepeat) {
  std::set<std::string> names;
  for (int i = 0; i < 1000; ++i) names.insert(make_unique_session_name());
  EXPECT_EQ(names.size(), 1000u);
}

TEST_F(LttngSessionTest, ExplicitNameAndDuplicateIsRejected) {
  SessionOptions o = options();
  o.name = make_unique_session_name() + "-explicit";
  Expected<LttngSession> first = LttngSession::create(o);
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ(first->name(), o.name);

  o.output_dir = tmp_ / "other";
  Expected<LttngSession> second = LttngSession::create(o);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("already exists"), std::string::npos) << second.error();
  EXPECT_TRUE(exists(o.name)) << "a failed duplicate must not destroy the first session";
}

TEST_F(LttngSessionTest, PerPidBuffers) {
  SessionOptions o = options();
  o.buffers = BufferOwnership::kPerPid;
  Expected<LttngSession> s = LttngSession::create(o);
  ASSERT_TRUE(s.ok()) << s.error();
  Status st = s->start();
  ASSERT_TRUE(st.ok()) << st.error();
  st = s->stop();
  ASSERT_TRUE(st.ok()) << st.error();
}

TEST_F(LttngSessionTest, InvalidOptionsFailWithAdvice) {
  SessionOptions o = options();
  o.subbuf_size = 1000;
  Expected<LttngSession> s = LttngSession::create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("power of two"), std::string::npos) << s.error();

  o = options();
  o.subbuf_count = 3;
  s = LttngSession::create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("power of two"), std::string::npos) << s.error();

  o = options();
  o.name = "bad/name";
  s = LttngSession::create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("invalid LTTng session name"), std::string::npos) << s.error();

  o = options();
  o.output_dir.clear();
  s = LttngSession::create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("output directory"), std::string::npos) << s.error();
}

TEST_F(LttngSessionTest, UncreatableOutputDirIsReported) {
  SessionOptions o = options();
  o.output_dir = "/proc/bdtrace-cannot-create-this";
  Expected<LttngSession> s = LttngSession::create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("cannot create trace directory"), std::string::npos) << s.error();
}

}  // namespace
}  // namespace bdtrace::tools
