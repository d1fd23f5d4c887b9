// SPDX-License-Identifier: MIT
// Fuzz harness: the plugin's call server (plugin/include/bdtrace/plugin/
// call_server.h) behind the linux-user page (usermode/call_page.h), which
// serves guest CALL steps (<bd/abi.h>, CALLS) to host handlers, here the
// echo test handler (tests/handlers/echo_handler.c). Input: a program of
// 64-byte steps against one call page between two canary pages:
//   byte 0 even: write bytes 8..63 into the page at offset bytes 1..2
//                (mod the page size; the record too);
//   byte 0 odd:  a CALL step whose record sits at page offset
//                (bytes 1..2 % pages, 128-aligned: mostly 0) with event =
//                bytes 4..7 and args[0..3] = bytes 8..39 (op values folded
//                into 0..4 by byte 3 so every op is reached).
// Invariants: the server never writes outside the call page (canaries,
// checked after each input);
// it answers only from a record at a page start; an answered INVOKE
// reports at most BD_CALL_IO_MAX bytes of output and a status that is 0 or
// a negative errno value; GET never reports more than a chunk.
#include <bd/abi.h>
#include <bdtrace/handlers/handler_set.h>

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "call_page.h"
#include "fuzz_check.h"

namespace {

using bdtrace::RejectReason;
using bdtrace::plugin::CallBuffers;
using bdtrace::plugin::CallContext;
using bdtrace::usermode::serve_user_call_step;

uint64_t u64_at(const uint8_t *p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

struct World {
  bdtrace::handlers::HandlerSet handlers;
  unsigned char *pages = nullptr;  // canary, call page, canary
  World() {
    FUZZ_CHECK(handlers.load(HANDLER_ECHO).ok());
    void *p = mmap(nullptr, 3 * BD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    FUZZ_CHECK(p != MAP_FAILED);
    pages = static_cast<unsigned char *>(p);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static World w;
  unsigned char *page = w.pages + BD_PAGE_SIZE;
  std::memset(w.pages, 0xA5, BD_PAGE_SIZE);
  std::memset(page, 0, BD_PAGE_SIZE);
  std::memset(page + BD_PAGE_SIZE, 0x5A, BD_PAGE_SIZE);
  std::unique_ptr<CallBuffers> buffers;
  const CallContext ctx{0, 100, 101, "x86_64"};
  for (size_t at = 0; at + 64 <= size; at += 64) {
    const uint8_t *s = data + at;
    const unsigned where = (s[1] | (s[2] << 8)) % BD_PAGE_SIZE;
    if ((s[0] & 1) == 0) {
      const size_t n = std::min<size_t>(56, BD_PAGE_SIZE - where);
      std::memcpy(page + where, s + 8, n);
      continue;
    }
    const unsigned off = (where & ~(BD_RECORD_SIZE - 1)) * (s[2] & 1);  // mostly 0
    bd_record rec{};
    rec.kind = BD_KIND_CALL;
    std::memcpy(&rec.event, s + 4, sizeof rec.event);
    for (int i = 0; i < 4; ++i) rec.args[i] = u64_at(s + 8 + 8 * i);
    if (s[3] & 1) rec.args[0] %= 5;
    const uintptr_t host = reinterpret_cast<uintptr_t>(page) + off;
    const uint64_t vaddr = 0x40000000ull + off;
    const RejectReason why =
        serve_user_call_step(w.handlers, buffers, ctx, rec, vaddr, host, (s[3] & 2) != 0);
    FUZZ_CHECK(why == RejectReason::Ok || why == RejectReason::CallBadStep ||
               why == RejectReason::CallBadPage);
    FUZZ_CHECK((why == RejectReason::CallBadPage) == (off != 0));
    if (why == RejectReason::Ok && (s[3] & 2) == 0) {
      const auto *answer = reinterpret_cast<const bd_record *>(page);
      const auto status = static_cast<int64_t>(answer->args[2]);
      FUZZ_CHECK(status <= 0 && status >= -4095);
      if (rec.args[0] == BD_CALL_INVOKE) FUZZ_CHECK(answer->args[1] <= BD_CALL_IO_MAX);
      if (rec.args[0] == BD_CALL_GET) FUZZ_CHECK(answer->args[1] <= BD_CALL_CHUNK);
    }
  }
  // Once per input: a write outside the call page stays there.
  static unsigned char below[BD_PAGE_SIZE], above[BD_PAGE_SIZE];
  if (below[0] == 0) {
    std::memset(below, 0xA5, sizeof below);
    std::memset(above, 0x5A, sizeof above);
  }
  FUZZ_CHECK(std::memcmp(w.pages, below, BD_PAGE_SIZE) == 0);
  FUZZ_CHECK(std::memcmp(page + BD_PAGE_SIZE, above, BD_PAGE_SIZE) == 0);
  return 0;
}
