// SPDX-License-Identifier: MIT
// Loading and calling handlers (see handler_set.h).
#include "bdtrace/handlers/handler_set.h"

#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

// The host a handler's services see: which handler, of which set, and
// whether it is still in bd_handler_init (registration allowed).
struct bd_handler_host {
  bdtrace::handlers::HandlerSet *set;
  std::size_t index;
  bool initializing;
};

namespace bdtrace::handlers {

using AbiFn = uint32_t (*)();
using InitFn = int (*)(bd_handler_host *, const bd_handler_services *, const char *, void **);
using CallFn = int (*)(void *, const bd_handler_caller *, bd_handler_request *);
using FiniFn = void (*)(void *);

struct HandlerSet::Loaded {
  std::string path;
  void *dl = nullptr;
  CallFn call = nullptr;
  FiniFn fini = nullptr;
  void *state = nullptr;
  bool initialized = false;
  bd_handler_host host{};
};

int register_events_service(bd_handler_host *host, uint32_t first, uint32_t last) {
  if (host == nullptr || host->set == nullptr) return -EINVAL;
  if (!host->initializing) return -EPERM;
  if (first > last) return -EINVAL;
  HandlerSet &set = *host->set;
  auto &ranges = set.ranges_;
  for (const auto &r : ranges)
    if (first <= r.last && r.first <= last) {
      const std::string owner =
          r.handler < set.loaded_.size() ? set.loaded_[r.handler]->path : std::string("itself");
      set.conflict_ = "it registered events " + std::to_string(first) + "-" + std::to_string(last) +
                      ", which overlap events " + std::to_string(r.first) + "-" + std::to_string(r.last) +
                      " of " + owner;
      return -EEXIST;
    }
  HandlerSet::Range added{first, last, host->index};
  ranges.insert(std::upper_bound(ranges.begin(), ranges.end(), added,
                                 [](const auto &a, const auto &b) { return a.first < b.first; }),
                added);
  return 0;
}

int emit_mark_service(bd_handler_host *host, const bd_handler_caller *caller, uint32_t event,
                      const uint64_t *args, const char *text) {
  if (host == nullptr || host->set == nullptr || caller == nullptr) return -EINVAL;
  const HostHooks &h = host->set->hooks_;
  if (h.emit_mark == nullptr) return -ENOTSUP;
  return h.emit_mark(h.ctx, *caller, event, args, text);
}

int set_code_tracing_service(bd_handler_host *host, const bd_handler_caller *caller, int on) {
  if (host == nullptr || host->set == nullptr) return -EINVAL;
  const HostHooks &h = host->set->hooks_;
  if (h.set_code_tracing == nullptr) return -ENOTSUP;
  // No caller (e.g. from bd_handler_init): every process, an all-zero
  // caller for the hook.
  static const bd_handler_caller kNobody{};
  return h.set_code_tracing(h.ctx, caller != nullptr ? *caller : kNobody, on);
}

int recording_service(bd_handler_host *host) {
  if (host == nullptr || host->set == nullptr) return 0;
  const HostHooks &h = host->set->hooks_;
  return h.recording != nullptr ? h.recording(h.ctx) : 0;
}

namespace {

extern "C" int c_register_events(bd_handler_host *host, uint32_t first, uint32_t last) {
  return register_events_service(host, first, last);
}
extern "C" int c_emit_mark(bd_handler_host *host, const bd_handler_caller *caller, uint32_t event,
                           const uint64_t *args, const char *text) {
  return emit_mark_service(host, caller, event, args, text);
}
extern "C" int c_set_code_tracing(bd_handler_host *host, const bd_handler_caller *caller, int on) {
  return set_code_tracing_service(host, caller, on);
}
extern "C" int c_recording(bd_handler_host *host) { return recording_service(host); }

const bd_handler_services kServices = {
    sizeof(bd_handler_services), 0, c_register_events, c_emit_mark, c_set_code_tracing, c_recording,
};

std::string dl_message() {
  const char *e = dlerror();
  return e != nullptr ? e : "unknown error";
}

}  // namespace

HandlerSpec parse_handler_spec(const std::string &spec) {
  const std::size_t colon = spec.find(':');
  if (colon == std::string::npos) return {spec, ""};
  return {spec.substr(0, colon), spec.substr(colon + 1)};
}

HandlerSet::HandlerSet(HostHooks hooks) noexcept : hooks_(hooks) {}

HandlerSet::~HandlerSet() { finish(); }

namespace {

// A handler's shared object, opened and checked: the four symbols and the
// ABI version. Closes it on destruction unless released.
struct Opened {
  void *dl = nullptr;
  void *init = nullptr, *call = nullptr, *fini = nullptr;
  ~Opened() {
    if (dl != nullptr) dlclose(dl);
  }
};

Status open_checked(const HandlerSpec &s, const std::string &spec, Opened &o) {
  const std::string who = "handler " + s.path;
  if (s.path.empty()) {
    return make_error("handler '" + spec + "': no path (use PATH[:ARGS], e.g. ./libkv.so:base=7000)");
  }
  // A path without '/' would make dlopen search the library path: say
  // "./" for a file in the current directory.
  const std::string open_path = s.path.find('/') == std::string::npos ? "./" + s.path : s.path;
  o.dl = dlopen(open_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (o.dl == nullptr) {
    return make_error(who + ": cannot load it: " + dl_message());
  }
  struct Symbol {
    const char *name;
    void **slot;
  };
  void *abi = nullptr;
  for (Symbol sym : {Symbol{"bd_handler_abi_version", &abi}, Symbol{"bd_handler_init", &o.init},
                     Symbol{"bd_handler_call", &o.call}, Symbol{"bd_handler_fini", &o.fini}}) {
    dlerror();
    *sym.slot = dlsym(o.dl, sym.name);
    if (*sym.slot == nullptr) {
      return make_error(who + ": it defines no " + sym.name +
                        " (a handler defines bd_handler_abi_version, bd_handler_init, bd_handler_call and "
                        "bd_handler_fini with C linkage and BD_HANDLER_EXPORT, see bd/handler.h)");
    }
  }
  const uint32_t version = reinterpret_cast<AbiFn>(abi)();
  if (version != BD_HANDLER_ABI_VERSION) {
    return make_error(who + ": it speaks handler ABI version " + std::to_string(version) +
                      ", this bdtrace speaks " + std::to_string(BD_HANDLER_ABI_VERSION) +
                      ": rebuild it against this bdtrace's bd/handler.h");
  }
  return Status::Ok();
}

}  // namespace

Status HandlerSet::check(const std::string &spec) {
  Opened o;
  return open_checked(parse_handler_spec(spec), spec, o);
}

Status HandlerSet::load(const std::string &spec) {
  const HandlerSpec s = parse_handler_spec(spec);
  const std::string who = "handler " + s.path;
  Opened o;
  if (Status opened = open_checked(s, spec, o); !opened) return opened;
  auto h = std::make_unique<Loaded>();
  h->path = s.path;
  h->dl = o.dl;
  o.dl = nullptr;  // h owns it now
  auto unload = [&h] {
    dlclose(h->dl);
    h->dl = nullptr;
  };
  void *init = o.init;
  h->call = reinterpret_cast<CallFn>(o.call);
  h->fini = reinterpret_cast<FiniFn>(o.fini);
  const std::size_t index = loaded_.size();
  h->host = bd_handler_host{this, index, true};
  const std::vector<Range> before = ranges_;
  conflict_.clear();
  const int rc = reinterpret_cast<InitFn>(init)(&h->host, &kServices, s.args.c_str(), &h->state);
  h->host.initializing = false;
  if (rc != 0) {
    ranges_ = before;  // what it registered goes with it
    Error error = make_error(who + ": bd_handler_init(\"" + s.args + "\") failed: " +
                             (rc < 0 ? std::string(std::strerror(-rc)) + " (" + std::to_string(rc) + ")"
                                     : "status " + std::to_string(rc)) +
                             (conflict_.empty() ? "" : " (" + conflict_ + ")"));
    unload();
    return {std::move(error)};
  }
  h->initialized = true;
  loaded_.push_back(std::move(h));
  return Status::Ok();
}

long HandlerSet::find(uint32_t event) const noexcept {
  // The last range starting at or before `event`.
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), event,
                             [](uint32_t e, const Range &r) { return e < r.first; });
  if (it == ranges_.begin()) return -1;
  --it;
  return event <= it->last ? static_cast<long>(it->handler) : -1;
}

int HandlerSet::call(const bd_handler_caller &caller, bd_handler_request &c) noexcept {
  calls_.fetch_add(1, std::memory_order_relaxed);
  const long i = find(c.event);
  int rc = -ENOSYS;
  if (i >= 0) {
    Loaded &h = *loaded_[static_cast<std::size_t>(i)];
    c.out_len = 0;
    c.result = 0;
    rc = h.call(h.state, &caller, &c);
    if (rc == 0 && c.out_len > c.out_cap) rc = -EOVERFLOW;
    if (rc > 0) rc = -EPROTO;  // not a status of the ABI
  }
  if (rc != 0) {
    c.out_len = 0;
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
  return rc;
}

void HandlerSet::finish() noexcept {
  for (auto &h : loaded_) {
    if (h->initialized && h->fini != nullptr) h->fini(h->state);
    h->initialized = false;
    if (h->dl != nullptr) dlclose(h->dl);
    h->dl = nullptr;
  }
  loaded_.clear();
  ranges_.clear();
}

std::vector<HandlerSet::Registration> HandlerSet::registrations() const {
  std::vector<Registration> out;
  for (const Range &r : ranges_) out.push_back({r.first, r.last, loaded_[r.handler]->path});
  return out;
}

}  // namespace bdtrace::handlers
