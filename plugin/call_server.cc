// SPDX-License-Identifier: GPL-2.0-or-later
// Calls to host handlers, one step per trap (see call_server.h).
#include "bdtrace/plugin/call_server.h"

#include <time.h>

#include <cstring>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <new>

namespace bdtrace::plugin {
namespace {

uint64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t guest_order(uint64_t v, bool swap) noexcept { return swap ? __builtin_bswap64(v) : v; }

// The answer in the record: args[0..2] = result, length, status.
bool answer(CallPage &page, uint64_t a0, uint64_t a1, int64_t status, bool swap) noexcept {
  const uint64_t args[3] = {guest_order(a0, swap), guest_order(a1, swap),
                            guest_order(static_cast<uint64_t>(status), swap)};
  return page.write(offsetof(bd_record, args), args, sizeof args);
}

}  // namespace

bd_record handler_mark_record(const bd_handler_caller &who, uint32_t event, const uint64_t *args,
                              const char *text) noexcept {
  bd_record r{};
  r.magic = BD_MAGIC;
  r.version = BD_ABI_VERSION;
  r.kind = text != nullptr ? BD_KIND_MARK_TEXT : BD_KIND_MARK;
  r.event = event;
  if (args != nullptr) std::memcpy(r.args, args, sizeof r.args);
  if (text != nullptr) {
    const size_t n = strnlen(text, BD_TEXT_MAX);
    std::memcpy(r.text, text, n);
    r.text_len = static_cast<uint16_t>(n);
  }
  r.pid = who.pid;
  r.tid = who.tid;
  return r;
}

RejectReason refuse_call_step(CallPage &page, int status, bool swap) noexcept {
  return answer(page, 0, 0, status, swap) ? RejectReason::CallBadStep : RejectReason::NotWritable;
}

RejectReason serve_call_step(handlers::HandlerSet &handlers, std::unique_ptr<CallBuffers> &buffers,
                             const CallContext &ctx, const bd_record &rec, CallPage &page,
                             bool swap) noexcept {
  constexpr uint32_t payload = BD_RECORD_SIZE;
  if (!buffers) buffers.reset(new (std::nothrow) CallBuffers());
  if (!buffers) return answer(page, 0, 0, -ENOMEM, swap) ? RejectReason::Ok : RejectReason::NotWritable;
  CallBuffers &b = *buffers;
  // A step out of order or too long: the guest learns why, the host counts it.
  auto bad_step = [&](int status) {
    b.in_len = 0;
    return answer(page, 0, 0, status, swap) ? RejectReason::CallBadStep : RejectReason::NotWritable;
  };

  switch (rec.args[0]) {
    case BD_CALL_PUT: {
      const uint64_t offset = rec.args[1], len = rec.args[2];
      if (len > BD_CALL_CHUNK || offset > BD_CALL_IO_MAX || len > BD_CALL_IO_MAX - offset)
        return bad_step(-E2BIG);
      if (offset != 0 && offset != b.in_len) return bad_step(-EINVAL);  // not the next bytes
      if (!page.read(payload, b.in + offset, len)) return RejectReason::NotReadable;
      b.in_len = static_cast<uint32_t>(offset + len);
      return answer(page, 0, b.in_len, 0, swap) ? RejectReason::Ok : RejectReason::NotWritable;
    }
    case BD_CALL_BLOB:
    case BD_CALL_INVOKE: {
      const uint64_t total = rec.args[1], out_cap = rec.args[2], here = rec.args[3];
      if (total > BD_CALL_IO_MAX || out_cap > BD_CALL_IO_MAX || here > BD_CALL_CHUNK || here > total)
        return bad_step(-E2BIG);
      // All of the input in this page, or the rest after the PUT steps.
      if (here != total && b.in_len != total - here) return bad_step(-EINVAL);
      if (!page.read(payload, b.in + (total - here), here)) return RejectReason::NotReadable;
      if (rec.args[0] == BD_CALL_BLOB) {
        b.in_len = 0;
        b.out_len = 0;
        if (ctx.blob != nullptr) ctx.blob(ctx, rec.event, b.in, static_cast<uint32_t>(total));
        return answer(page, 0, 0, ctx.blob != nullptr ? 0 : -ENOTSUP, swap) ? RejectReason::Ok
                                                                            : RejectReason::NotWritable;
      }
      bd_handler_caller who{};
      who.vcpu = ctx.vcpu;
      who.pid = ctx.pid;
      who.tid = ctx.tid;
      who.mode = ctx.mode;
      who.arch = ctx.arch;
      bd_handler_request req{};
      req.event = rec.event;
      req.in_len = static_cast<uint32_t>(total);
      req.in = total != 0 ? b.in : nullptr;
      req.out = b.out;
      req.out_cap = static_cast<uint32_t>(out_cap);
      const uint64_t t0 = monotonic_ns();
      const int status = handlers.call(who, req);
      if (ctx.called != nullptr)
        ctx.called(ctx, rec.event, status, req.in_len, status == 0 ? req.out_len : 0, monotonic_ns() - t0);
      b.in_len = 0;
      b.out_len = status == 0 ? req.out_len : 0;
      if (!page.write(payload, b.out, std::min<uint32_t>(b.out_len, BD_CALL_CHUNK)))
        return RejectReason::NotWritable;
      return answer(page, status == 0 ? req.result : 0, b.out_len, status, swap) ? RejectReason::Ok
                                                                                 : RejectReason::NotWritable;
    }
    case BD_CALL_GET: {
      const uint64_t offset = rec.args[1];
      if (offset > b.out_len) return bad_step(-EINVAL);
      const uint32_t n = std::min<uint32_t>(b.out_len - static_cast<uint32_t>(offset), BD_CALL_CHUNK);
      if (!page.write(payload, b.out + offset, n)) return RejectReason::NotWritable;
      return answer(page, 0, n, 0, swap) ? RejectReason::Ok : RejectReason::NotWritable;
    }
    default:
      return bad_step(-EINVAL);
  }
}

}  // namespace bdtrace::plugin
