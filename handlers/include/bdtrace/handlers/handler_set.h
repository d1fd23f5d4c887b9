/* SPDX-License-Identifier: MIT */
// The host side of <bd/handler.h>: loading handler shared objects, the
// event ids they registered, and dispatching guest calls to them.
//
// Loading (load) runs on one thread before any call and may allocate, print
// nothing and fail with a message that names the handler and says what to
// do. After the last load the registrations are fixed: call() takes no
// lock and allocates nothing (a binary search over the sorted ranges, then
// the handler's own function), so every vCPU thread may call at once.
// finish() (and the destructor) runs each handler's bd_handler_fini once,
// after the caller has made sure no call() is still running.
#ifndef BDTRACE_HANDLERS_HANDLER_SET_H
#define BDTRACE_HANDLERS_HANDLER_SET_H

#include <bd/handler.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bdtrace/status.h"

namespace bdtrace::handlers {

// What the services of <bd/handler.h> do: the plugin's implementation
// (null members answer -ENOTSUP, or 0 for recording). `ctx` is passed back.
struct HostHooks {
  int (*emit_mark)(void *ctx, const bd_handler_caller &caller, uint32_t event, const uint64_t *args,
                   const char *text) noexcept = nullptr;
  int (*set_code_tracing)(void *ctx, const bd_handler_caller &caller, int on) noexcept = nullptr;
  int (*recording)(void *ctx) noexcept = nullptr;
  void *ctx = nullptr;
};

// "PATH[:ARGS]" split at the first ':' (ARGS "" when there is none).
struct HandlerSpec {
  std::string path;
  std::string args;
};
HandlerSpec parse_handler_spec(const std::string &spec);

class HandlerSet {
 public:
  // One registered range of event ids and the handler that answers it.
  struct Registration {
    uint32_t first = 0, last = 0;
    std::string handler;  // its PATH as given
  };

  explicit HandlerSet(HostHooks hooks = {}) noexcept;
  ~HandlerSet();
  HandlerSet(const HandlerSet &) = delete;
  HandlerSet &operator=(const HandlerSet &) = delete;

  // Loads the handler "PATH[:ARGS]": dlopen, the four symbols, the ABI
  // version, then bd_handler_init with ARGS. An error names the handler
  // and the cause; nothing of it stays loaded then. Before any call().
  Status load(const std::string &spec);

  // What load() checks before bd_handler_init (the file, the four
  // symbols, the ABI version), without initializing or keeping the
  // handler: bd-run refuses a handler with it before the guest starts.
  static Status check(const std::string &spec);

  // Does a handler answer `event`?
  bool handles(uint32_t event) const noexcept { return find(event) >= 0; }

  // Dispatches one guest call. Returns the handler's status (0 or a
  // negative errno value), -ENOSYS when no handler registered the id, or
  // -EOVERFLOW when the handler claimed more output than out_cap (its
  // output is then not used). Every non-zero status is counted.
  int call(const bd_handler_caller &caller, bd_handler_request &call) noexcept;

  // Runs every handler's bd_handler_fini (in load order, once) and
  // unloads them. No call() may run any more.
  void finish() noexcept;

  std::vector<Registration> registrations() const;
  std::size_t size() const noexcept { return loaded_.size(); }
  uint64_t calls() const noexcept { return calls_.load(std::memory_order_relaxed); }
  uint64_t errors() const noexcept { return errors_.load(std::memory_order_relaxed); }

  // The services table handlers get (public for the C trampolines).
  struct Loaded;

 private:
  struct Range {
    uint32_t first, last;
    std::size_t handler;  // index into loaded_
  };

  // Index of the handler of `event` in loaded_, or -1.
  long find(uint32_t event) const noexcept;
  friend int register_events_service(bd_handler_host *, uint32_t, uint32_t);
  friend int emit_mark_service(bd_handler_host *, const bd_handler_caller *, uint32_t, const uint64_t *,
                               const char *);
  friend int set_code_tracing_service(bd_handler_host *, const bd_handler_caller *, int);
  friend int recording_service(bd_handler_host *);

  HostHooks hooks_;
  std::string conflict_;  // the last refused registration, for load()'s message
  std::vector<std::unique_ptr<Loaded>> loaded_;
  std::vector<Range> ranges_;  // sorted by first, disjoint
  std::atomic<uint64_t> calls_{0}, errors_{0};
};

}  // namespace bdtrace::handlers

#endif  // BDTRACE_HANDLERS_HANDLER_SET_H
