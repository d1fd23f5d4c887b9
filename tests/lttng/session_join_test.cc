// SPDX-License-Identifier: MIT
// bd-run's JoinServer and the emitters' join_session() (issue #12's session
// isolation), against the real lttng-sessiond. The end-to-end proof that
// only joined processes are recorded is tests/e2e/isolation_e2e_test.cc.
#include <gtest/gtest.h>
#include <lttng/lttng.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "bdtrace/session_join.h"
#include "bdtrace/tools/lttng_session.h"
#include "session_join_server.h"
#include "subprocess.h"
#include "temp_dir.h"

namespace bdtrace::bdrun {
namespace {

using tracepoints::JoinResult;

// Sets NAME=VALUE for the test's lifetime (unset: removed).
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::string& entry) {
    const size_t eq = entry.find('=');
    name_ = entry.substr(0, eq);
    ::setenv(name_.c_str(), entry.substr(eq + 1).c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_.c_str()); }

 private:
  std::string name_;
};

// join_session() in a forked child (a process of its own, as the emitters
// are); its result as the exit status.
JoinResult join_in_child() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    char why[256];
    _exit(static_cast<int>(tracepoints::join_session(why, sizeof why, 5000)));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return static_cast<JoinResult>(WEXITSTATUS(status));
}

class SessionJoinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(lttng_session_daemon_alive(), 1) << "no lttng-sessiond is running: run ./bdtrace test";
    tools::SessionOptions o;
    o.output_dir = tmp_ / "trace";
    o.subbuf_size = 64 * 1024;
    o.subbuf_count = 2;
    o.only_included_processes = true;
    auto s = tools::LttngSession::create(o);
    ASSERT_TRUE(s) << s.error();
    session_ = std::make_unique<tools::LttngSession>(std::move(s).value());
  }

  testing::TempDir tmp_;
  std::unique_ptr<tools::LttngSession> session_;
};

TEST_F(SessionJoinTest, WithoutTheVariableNothingIsAsked) {
  ::unsetenv(tracepoints::kSessionJoinEnv);
  EXPECT_EQ(join_in_child(), JoinResult::kNotAsked);
}

TEST_F(SessionJoinTest, EachConnectingProcessIsAddedAndAnswered) {
  auto server = JoinServer::start(*session_);
  ASSERT_TRUE(server) << server.error();
  ScopedEnv env(server.value()->env_entry());
  EXPECT_EQ(join_in_child(), JoinResult::kJoined);
  EXPECT_EQ(join_in_child(), JoinResult::kJoined);
  server.value()->stop();
  EXPECT_EQ(server.value()->joined(), 2u);
  EXPECT_EQ(server.value()->refused(), 0u);
}

TEST_F(SessionJoinTest, AfterStopAJoinFailsAndSaysWhy) {
  auto server = JoinServer::start(*session_);
  ASSERT_TRUE(server) << server.error();
  ScopedEnv env(server.value()->env_entry());
  server.value()->stop();
  char why[256] = "";
  EXPECT_EQ(tracepoints::join_session(why, sizeof why, 1000), JoinResult::kFailed);
  EXPECT_NE(std::string(why).find("cannot connect"), std::string::npos) << why;
}

TEST_F(SessionJoinTest, ARefusalIsCountedWithLttngsReason) {
  // A session that records everyone has no tracker to add to.
  tools::SessionOptions o;
  o.output_dir = tmp_ / "open";
  o.subbuf_size = 64 * 1024;
  o.subbuf_count = 2;
  auto open = tools::LttngSession::create(o);
  ASSERT_TRUE(open) << open.error();
  auto server = JoinServer::start(open.value());
  ASSERT_TRUE(server) << server.error();
  ScopedEnv env(server.value()->env_entry());
  EXPECT_EQ(join_in_child(), JoinResult::kFailed);
  server.value()->stop();
  EXPECT_EQ(server.value()->refused(), 1u);
  EXPECT_NE(server.value()->first_refusal().find("no vpid tracker"), std::string::npos)
      << server.value()->first_refusal();
}

TEST_F(SessionJoinTest, TheSocketGoesWithTheServer) {
  std::string path;
  {
    auto server = JoinServer::start(*session_);
    ASSERT_TRUE(server) << server.error();
    const std::string entry = server.value()->env_entry();
    path = entry.substr(entry.find('=') + 1);
    EXPECT_EQ(::access(path.c_str(), F_OK), 0);
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(WithEnv, ReplacesSameNameEntriesAndAddsTheRest) {
  const std::vector<std::string> out =
      with_env({"A=1", "BD_SESSION_JOIN=/old", "AB=2"}, {"BD_SESSION_JOIN=/new", "C=3"});
  EXPECT_EQ(out, (std::vector<std::string>{"A=1", "AB=2", "BD_SESSION_JOIN=/new", "C=3"}));
}

}  // namespace
}  // namespace bdtrace::bdrun
