// SPDX-License-Identifier: MIT
// Host handlers and bulk marks end to end in user mode (issue #13): bd-run
// --handler loads
// the key-value example and the echo test handler into the plugin of a real
// qemu-x86_64; guest-calls (tests/guest/calls.c) calls them through
// libbdguest's bd_call and with raw hostile records; the trace holds
// exactly the handler's marks and the rejections. Handlers that are wrong
// on purpose are refused before the guest starts.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "support.h"

using bdtest::read_trace_with_babeltrace2;
using bdtest::run;
using bdtest::RunResult;
using bdtest::TempDir;
using bdtest::text_after;

namespace {

RunResult run_calls(const std::string &trace) {
  return run({BD_RUN, "--trace", trace, "--handler", std::string(HANDLER_KV) + ":base=7000", "--handler",
              HANDLER_ECHO, "--handler", HANDLER_FACTS, "--", GUEST_CALLS});
}

TEST(Handlers, GuestCallsGetExactAnswersAndTheTraceHoldsExactlyTheHandlersEvents) {
  TempDir dir("e2e-handlers");
  const std::string trace = dir.path() + "/trace";
  const RunResult r = run_calls(trace);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(text_after(r.out, "kv_put"), "0 1");
  EXPECT_EQ(text_after(r.out, "kv_get"), "0 blue 4");
  EXPECT_EQ(text_after(r.out, "kv_count"), "0 1");
  EXPECT_EQ(text_after(r.out, "threads_ok"), "4") << r.out;
  // The host-facts example: the host's clock (the guest's, in user mode),
  // a session records, and the caller as the host sees it.
  EXPECT_EQ(text_after(r.out, "facts_time"), "0 1");
  EXPECT_EQ(text_after(r.out, "facts_recording"), "0 1");
  EXPECT_EQ(text_after(r.out, "facts_who"), "0 " + text_after(r.out, "facts_expect"));
  // Each: LEN RC OUT_LEN OK, across chunk boundaries up to 64 KiB.
  for (const char *line : {"echo 0 0 0 1", "echo 1 0 1 1", "echo 3968 0 3968 1", "echo 3969 0 3969 1",
                           "echo 20000 0 20000 1", "echo 65536 0 65536 1", "echo 10000 0 100 1"})
    EXPECT_NE(r.out.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << r.out;
  EXPECT_EQ(text_after(r.out, "unknown"), "-38");      // -ENOSYS
  EXPECT_EQ(text_after(r.out, "too_long"), "-7");      // -E2BIG, in the guest
  EXPECT_EQ(text_after(r.out, "hostile_page"), "-1");  // BD_REPLY_REJECTED
  EXPECT_EQ(text_after(r.out, "hostile_big"), "-7");
  EXPECT_EQ(text_after(r.out, "hostile_order"), "-22");
  // 1 + 1 + 1 kv calls, the threads' 1600, 7 echoes, the unknown id.
  // 3 kv calls, 3 facts, the threads' 1600, 7 echoes, the unknown id.
  EXPECT_NE(r.err.find("1614 calls to host handlers, 1 failed"), std::string::npos) << r.err;

  for (const char *line : {"blob 0 1", "blob 1 1", "blob 3969 1", "blob 65536 1"})
    EXPECT_NE(r.out.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << r.out;

  std::map<std::string, uint64_t> rejected;
  std::vector<std::vector<uint64_t>> echo_marks;
  std::vector<size_t> blob_sizes;
  uint64_t other_marks = 0;
  for (const auto &ev : read_trace_with_babeltrace2(trace)) {
    if (ev.name == "rejected_total") rejected[ev.fields.at("reason_name")] += ev.u("count");
    if (ev.name == "blob") {
      // Exactly the bytes the guest sent (calls.c: byte i = (i * 13 + L) % 256).
      EXPECT_EQ(ev.u("event"), 77u);
      const size_t len = bdtest::expect_calls_blob_bytes(ev);
      blob_sizes.push_back(len);
    }
    if (ev.name != "mark") continue;
    if (ev.u("event") != 9501) {
      ++other_marks;
      continue;
    }
    echo_marks.push_back({ev.u("a0"), ev.u("a1")});
  }
  EXPECT_EQ(other_marks, 0u) << "calls are not marks";
  EXPECT_EQ(echo_marks,
            (std::vector<std::vector<uint64_t>>{
                {0, 0}, {1, 1}, {3968, 3968}, {3969, 3969}, {20000, 20000}, {65536, 65536}, {10000, 100}}));
  EXPECT_EQ(rejected, (std::map<std::string, uint64_t>{{"call_bad_page", 1}, {"call_bad_step", 2}}));
  EXPECT_EQ(blob_sizes, (std::vector<size_t>{0, 1, 3969, 65536}));
  // bd-analyze counts them per event id, with their sizes.
  const RunResult report = run({BD_ANALYZE, trace, "-f", "csv"});
  ASSERT_EQ(report.status, 0) << report.err;
  EXPECT_NE(report.out.find("summary,blobs,4,"), std::string::npos) << report.out;
  EXPECT_NE(report.out.find("summary,blob_bytes,69506,"), std::string::npos) << report.out;
  EXPECT_NE(report.out.find("summary,blob_event,77=4x69506,"), std::string::npos) << report.out;
  // Every call answered is a bdtrace:call (the 1614 above), per event id
  // with its failures: the unknown id failed, nothing else did.
  EXPECT_NE(report.out.find("summary,calls,1614,"), std::string::npos) << report.out;
  for (const char *id : {"7000=801 failed 0 ", "7001=801 failed 0 ", "7003=1 failed 0 ", "7012=1 failed 0 ",
                         "9500=7 failed 0 ", "12345=1 failed 1 "})
    EXPECT_NE(report.out.find(std::string("summary,call_event,") + id), std::string::npos) << id << "\n"
                                                                                           << report.out;
  // The Chrome export: each call a complete event, each blob an instant with
  // its first bytes in hex and a note when it was cut.
  const RunResult chrome = run({BD_ANALYZE, trace, "-f", "chrome"});
  ASSERT_EQ(chrome.status, 0) << chrome.err;
  size_t calls = 0;
  for (size_t at = chrome.out.find("\"cat\":\"call\""); at != std::string::npos;
       at = chrome.out.find("\"cat\":\"call\"", at + 1))
    ++calls;
  EXPECT_EQ(calls, 1614u);
  // calls.c: the blob of 3969 bytes starts 0x81 0x8e 0x9b ... ((i * 13 + 3969) % 256).
  EXPECT_NE(chrome.out.find("\"bytes\":3969,\"data\":\"818e9ba8b5c2cfdc"), std::string::npos)
      << chrome.out.substr(0, 2000);
  EXPECT_NE(chrome.out.find("\"note\":\"the first 32 of 65536 bytes"), std::string::npos);
}

TEST(Handlers, WrongHandlersAreRefusedBeforeTheGuestStartsWithTheCause) {
  struct Case {
    std::string spec, message;
  };
  for (const Case &c : {Case{BAD_HANDLER_ABI2, "it speaks handler ABI version 2, this bdtrace speaks 1"},
                        Case{BAD_HANDLER_NO_CALL, "it defines no bd_handler_call"},
                        Case{"/nonexistent/libnothing.so", "cannot load it"}}) {
    const RunResult r = run({BD_RUN, "--handler", c.spec, "--", GUEST_CALLS});
    EXPECT_EQ(r.status, 2) << c.spec << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("kv_put"), std::string::npos) << "the guest ran";
  }
  // Its init runs in the plugin: QEMU stops before the guest runs.
  const RunResult r =
      run({BD_RUN, "--handler", std::string(BAD_HANDLER_INIT_FAILS) + ":x=1", "--", GUEST_CALLS});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("bd_handler_init(\"x=1\") failed: Invalid argument"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("kv_put"), std::string::npos) << "the guest ran";
}

// The roi example opens code tracing only between its two calls
// (set_code_tracing): with a trace_code rule for guest-roi, the blocks of
// inside_roi() (run only inside the region) are recorded, those of
// outside_roi() (run 1000 times before and 1000 after it) never.
TEST(Handlers, RegionOfInterestHandlerOpensCodeTracingBetweenItsCalls) {
  TempDir dir("e2e-roi");
  const std::string trace = dir.path() + "/trace", filter = dir.path() + "/filter.txtpb";
  {
    std::ofstream f(filter);
    f << "rule { process { comm: \"guest-roi\" } action: RECORD trace_code: true }\n";
  }
  const RunResult r =
      run({BD_RUN, "--trace", trace, "--filter", filter, "--handler", HANDLER_ROI, "--", GUEST_ROI});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(text_after(r.out, "begin"), "0 1");  // the first region
  EXPECT_EQ(text_after(r.out, "end"), "0 1");
  const uint64_t inside = std::stoull(text_after(r.out, "inside"), nullptr, 16);
  const uint64_t outside = std::stoull(text_after(r.out, "outside"), nullptr, 16);
  uint64_t inside_blocks = 0, outside_blocks = 0, blocks = 0;
  std::vector<std::string> roi_marks;
  for (const auto &ev : read_trace_with_babeltrace2(trace)) {
    for (uint64_t pc : ev.pcs) {
      ++blocks;
      inside_blocks += pc == inside;
      outside_blocks += pc == outside;
    }
    if (ev.name == "mark" && (ev.u("event") == 7020 || ev.u("event") == 7021))
      roi_marks.push_back(ev.fields.at("text"));
  }
  EXPECT_EQ(inside_blocks, 1000u) << blocks << " blocks recorded";
  EXPECT_EQ(outside_blocks, 0u);
  EXPECT_EQ(roi_marks, (std::vector<std::string>{"roi begin", "roi end"}));
  // Without a trace_code rule there is no gate to open: the guest learns so.
  const RunResult plain = run({BD_RUN, "--handler", HANDLER_ROI, "--", GUEST_ROI});
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(text_after(plain.out, "begin"), "-95 0");  // -ENOTSUP
}

TEST(Handlers, OnlyTheTrapChannelServesCalls) {
  for (const std::vector<std::string> &extra :
       {std::vector<std::string>{"--native", "--"}, std::vector<std::string>{"--channel", "ring", "--"}}) {
    std::vector<std::string> argv = {BD_RUN, "--handler", HANDLER_ECHO};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(GUEST_CALLS);
    const RunResult r = run(argv);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("--handler needs the trap channel"), std::string::npos) << r.err;
  }
}

}  // namespace
