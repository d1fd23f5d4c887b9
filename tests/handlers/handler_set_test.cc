// SPDX-License-Identifier: MIT
// The host handler loader (handlers/handler_set.h) with real shared
// objects: the example handlers (handlers/examples) and handlers that are
// wrong on purpose (bad_handlers.c).
#include <bdtrace/handlers/handler_set.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using bdtrace::Status;
using bdtrace::handlers::HandlerSet;
using bdtrace::handlers::HostHooks;

bd_handler_caller caller(uint32_t tid = 7) {
  bd_handler_caller c{};
  c.vcpu = 1;
  c.pid = 100;
  c.tid = tid;
  c.mode = BD_HANDLER_MODE_USER;
  c.arch = "x86_64";
  return c;
}

// One guest call: input text, an output buffer of `cap` bytes.
struct Call {
  int status = 0;
  uint64_t result = 0;
  std::string out;
};
Call call(HandlerSet &set, uint32_t event, const std::string &in, uint32_t cap = 256,
          const bd_handler_caller &who = caller()) {
  std::vector<char> out(cap);
  bd_handler_request r{};
  r.event = event;
  r.in_len = static_cast<uint32_t>(in.size());
  r.in = in.empty() ? nullptr : in.data();
  r.out = out.data();
  r.out_cap = cap;
  Call c;
  c.status = set.call(who, r);
  c.result = r.result;
  c.out.assign(out.data(), r.out_len);
  return c;
}

std::string load_error(HandlerSet &set, const std::string &spec) {
  const Status loaded = set.load(spec);
  EXPECT_FALSE(loaded) << spec;
  return loaded ? std::string() : loaded.error().message;
}

TEST(HandlerSpec, PathAndArgsSplitAtTheFirstColon) {
  auto s = bdtrace::handlers::parse_handler_spec("./libkv.so:base=7000,slots=4:x");
  EXPECT_EQ(s.path, "./libkv.so");
  EXPECT_EQ(s.args, "base=7000,slots=4:x");
  s = bdtrace::handlers::parse_handler_spec("/a/b.so");
  EXPECT_EQ(s.path, "/a/b.so");
  EXPECT_EQ(s.args, "");
}

TEST(KvStore, PutGetDeleteCountAsTheGuestWouldSeeThem) {
  HandlerSet set;
  const Status loaded = set.load(std::string(HANDLER_KV) + ":base=7000,slots=8");
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_TRUE(set.handles(7000));
  EXPECT_TRUE(set.handles(7003));
  EXPECT_FALSE(set.handles(7004));
  Call c = call(set, 7000, "color=blue");
  EXPECT_EQ(c.status, 0);
  EXPECT_EQ(c.result, 1u);                               // new
  EXPECT_EQ(call(set, 7000, "color=green").result, 0u);  // replaced
  c = call(set, 7001, "color");
  EXPECT_EQ(c.status, 0);
  EXPECT_EQ(c.out, "green");
  EXPECT_EQ(c.result, 5u);
  c = call(set, 7001, "color", 3);  // a short buffer: cut, full length as result
  EXPECT_EQ(c.out, "gre");
  EXPECT_EQ(c.result, 5u);
  EXPECT_EQ(call(set, 7001, "size").status, -ENOENT);
  EXPECT_EQ(call(set, 7003, "").result, 1u);
  EXPECT_EQ(call(set, 7002, "color").result, 1u);
  EXPECT_EQ(call(set, 7003, "").result, 0u);
  EXPECT_EQ(call(set, 7000, "no equals sign").status, -EINVAL);
  EXPECT_EQ(set.calls(), 9u);
  EXPECT_EQ(set.errors(), 2u);  // the missing key and the bad put
}

// Calls arrive on several vCPU threads at once: 4 threads, each its own
// keys, then every key is there with its last value.
TEST(KvStore, FourThreadsCallingAtOnce) {
  HandlerSet set;
  const Status loaded = set.load(std::string(HANDLER_KV) + ":slots=64");
  ASSERT_TRUE(loaded) << loaded.error();
  constexpr int kThreads = 4, kRounds = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&set, t] {
      for (int i = 0; i < kRounds; ++i) {
        const std::string key = "t" + std::to_string(t) + "k" + std::to_string(i % 8);
        ASSERT_EQ(call(set, 7000, key + "=" + std::to_string(i), 16, caller(10 + t)).status, 0);
        ASSERT_EQ(call(set, 7001, key, 16, caller(10 + t)).out, std::to_string(i));
      }
    });
  for (auto &th : threads) th.join();
  EXPECT_EQ(call(set, 7003, "").result, static_cast<uint64_t>(kThreads * 8));
  EXPECT_EQ(set.errors(), 0u);
  EXPECT_EQ(set.calls(), static_cast<uint64_t>(kThreads * kRounds * 2 + 1));
}

TEST(HostFacts, TimeTraceStateAndTheCallerAsTheHostSeesIt) {
  HostHooks hooks;
  hooks.recording = [](void *) noexcept { return 1; };
  HandlerSet set(hooks);
  const Status loaded = set.load(HANDLER_FACTS);
  ASSERT_TRUE(loaded) << loaded.error();
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t before = static_cast<uint64_t>(ts.tv_sec) * 1000000000u + ts.tv_nsec;
  const Call t = call(set, 7010, "");
  EXPECT_GE(t.result, before);
  EXPECT_LT(t.result, before + 1000000000u);
  EXPECT_EQ(call(set, 7011, "").result, 1u);
  const Call who = call(set, 7012, "");
  EXPECT_EQ(who.out, "vcpu=1 pid=100 tid=7 mode=user arch=x86_64");
  EXPECT_EQ(who.result, who.out.size());
}

// The region-of-interest example through the services: the gate starts
// closed, opens and closes for the caller, and a mark is emitted at each
// end.
TEST(Roi, OpensAndClosesTheCallersGateAndMarksBothEnds) {
  struct Seen {
    std::vector<int> gates;
    std::vector<std::pair<uint32_t, std::string>> marks;
  } seen;
  HostHooks hooks;
  hooks.ctx = &seen;
  hooks.set_code_tracing = [](void *ctx, const bd_handler_caller &c, int on) noexcept {
    static_cast<Seen *>(ctx)->gates.push_back(c.tid == 7 ? on : -1);
    return 0;
  };
  hooks.emit_mark = [](void *ctx, const bd_handler_caller &, uint32_t event, const uint64_t *,
                       const char *text) noexcept {
    static_cast<Seen *>(ctx)->marks.emplace_back(event, text != nullptr ? text : "");
    return 0;
  };
  HandlerSet set(hooks);
  const Status loaded = set.load(HANDLER_ROI);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(call(set, 7020, "").result, 1u);
  EXPECT_EQ(call(set, 7021, "").result, 1u);
  EXPECT_EQ(call(set, 7020, "").result, 2u);
  // Closed at init (no caller: tid 0), then the caller's begin, end, begin.
  EXPECT_EQ(seen.gates, (std::vector<int>{-1, 1, 0, 1}));
  ASSERT_EQ(seen.marks.size(), 3u);
  EXPECT_EQ(seen.marks[0], std::make_pair(7020u, std::string("roi begin")));
  EXPECT_EQ(seen.marks[1], std::make_pair(7021u, std::string("roi end")));
}

// Without code tracing the service says so, and the handler passes it on
// to the guest as its status.
TEST(Roi, WithoutCodeTracingTheGuestGetsNotSupported) {
  HandlerSet set;
  const Status loaded = set.load(HANDLER_ROI);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(call(set, 7020, "").status, -ENOTSUP);
  EXPECT_EQ(set.errors(), 1u);
}

TEST(Refused, AnotherAbiVersionIsRefusedWithBothVersions) {
  HandlerSet set;
  const std::string e = load_error(set, BAD_HANDLER_1);
  EXPECT_NE(e.find("it speaks handler ABI version 2, this bdtrace speaks 1: rebuild it against this "
                   "bdtrace's bd/handler.h"),
            std::string::npos)
      << e;
  EXPECT_EQ(set.size(), 0u);
}

TEST(Refused, AMissingSymbolIsNamed) {
  HandlerSet set;
  const std::string e = load_error(set, BAD_HANDLER_2);
  EXPECT_NE(e.find("it defines no bd_handler_call"), std::string::npos) << e;
}

TEST(Refused, AFailingInitIsReportedAndRegistersNothing) {
  HandlerSet set;
  const std::string e = load_error(set, std::string(BAD_HANDLER_3) + ":some args");
  EXPECT_NE(e.find("bd_handler_init(\"some args\") failed: " + std::string(std::strerror(EINVAL))),
            std::string::npos)
      << e;
  EXPECT_TRUE(set.registrations().empty());
}

TEST(Refused, AMissingFileOrAnotherKindOfFile) {
  HandlerSet set;
  std::string e = load_error(set, "/nonexistent/libnothing.so");
  EXPECT_NE(e.find("handler /nonexistent/libnothing.so: cannot load it:"), std::string::npos) << e;
  e = load_error(set, "/etc/hostname");
  EXPECT_NE(e.find("cannot load it"), std::string::npos) << e;
  e = load_error(set, ":args");
  EXPECT_NE(e.find("no path"), std::string::npos) << e;
}

TEST(Refused, OverlappingRegistrationsNameTheOwner) {
  HandlerSet set;
  const Status loaded = set.load(HANDLER_KV);
  ASSERT_TRUE(loaded) << loaded.error();
  const std::string e = load_error(set, std::string(HANDLER_KV) + ":base=7003");
  EXPECT_NE(e.find("events 7003-7006, which overlap events 7000-7003 of " + std::string(HANDLER_KV)),
            std::string::npos)
      << e;
  ASSERT_EQ(set.registrations().size(), 1u);
  EXPECT_EQ(call(set, 7003, "").status, 0);  // the first one still answers
}

TEST(Misbehaving, UnregisteredIdsOverlongOutputPositiveStatusAndLateRegistration) {
  HandlerSet set;
  const Status loaded = set.load(BAD_HANDLER_4);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(call(set, 8999, "").status, -ENOSYS);
  const Call over = call(set, 9000, "", 16);
  EXPECT_EQ(over.status, -EOVERFLOW);
  EXPECT_TRUE(over.out.empty());
  EXPECT_EQ(call(set, 9001, "").status, -EPROTO);
  const Call late = call(set, 9002, "");
  EXPECT_EQ(late.status, 0);
  EXPECT_EQ(static_cast<int64_t>(late.result), -EPERM);
  EXPECT_FALSE(set.handles(9100));
  EXPECT_EQ(set.errors(), 3u);
}

}  // namespace
