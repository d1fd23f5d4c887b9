// SPDX-License-Identifier: MIT
// LttngSession: liblttng-ctl calls in the order that is known to work with
// lttng-tools 2.13 (see /work/shared/notes/findings.md, "Controlling
// sessions with liblttng-ctl").
#include "bdtrace/tools/lttng_session.h"

#include <lttng/lttng.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>
#include <vector>

namespace bdtrace::tools {
namespace {

namespace fs = std::filesystem;

// lttng_destruction_handle_wait_for_completion(): how long to wait for the
// daemon to finish writing and tear the session down (~0.5 s is typical).
constexpr int kDestroyTimeoutMs = 60'000;
// The metadata channel's sub-buffers (with a switch timer): a page is
// LTTng's default; bdtrace's metadata is ~30 KiB.
constexpr uint64_t kMetadataSubbufSize = 64 * 1024;

std::string lttng_message(int code) {
  // liblttng-ctl returns negative lttng_error_code values; lttng_strerror()
  // wants the code as returned.
  const char* text = lttng_strerror(code < 0 ? code : -code);
  return text ? text : "unknown LTTng error";
}

Error ctl_error(const std::string& what, const std::string& session, int code) {
  return make_error(what + " for LTTng session '" + session + "' failed: " + lttng_message(code));
}

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Copies a std::string into a fixed-size C name field, always terminated.
template <size_t N>
void copy_name(char (&dst)[N], const std::string& src) {
  std::snprintf(dst, N, "%s", src.c_str());
}

Status validate(const SessionOptions& o, const std::string& name) {
  if (name.empty() || name.size() >= LTTNG_NAME_MAX || name.find('/') != std::string::npos ||
      name[0] == '.') {
    return make_error("invalid LTTng session name '" + name +
                      "': use 1-254 characters without '/' and not starting with '.'");
  }
  if (o.live_url.empty() && o.network_url.empty() && o.output_dir.empty()) {
    return make_error("no output directory given for the trace: pass a directory such as /tmp/trace");
  }
  if (!o.live_url.empty() && o.live_timer_us == 0) {
    return make_error("a live session needs a live timer period above 0 microseconds (e.g. 1000000)");
  }
  if (!is_power_of_two(o.subbuf_size) || o.subbuf_size < 4096) {
    return make_error("sub-buffer size " + std::to_string(o.subbuf_size) +
                      " is invalid: use a power of two of at least 4096 bytes (e.g. 4194304)");
  }
  if (!is_power_of_two(o.subbuf_count) || o.subbuf_count < 2) {
    return make_error("sub-buffer count " + std::to_string(o.subbuf_count) +
                      " is invalid: use a power of two of at least 2 (e.g. 8)");
  }
  if (o.channel_name.empty() || o.channel_name.size() >= LTTNG_SYMBOL_NAME_LEN) {
    return make_error("invalid channel name '" + o.channel_name + "'");
  }
  if (o.event_pattern.empty() || o.event_pattern.size() >= LTTNG_SYMBOL_NAME_LEN) {
    return make_error("invalid event pattern '" + o.event_pattern + "'");
  }
  if (!o.counts_events.empty()) {
    if (o.counts_channel_name.empty() || o.counts_channel_name.size() >= LTTNG_SYMBOL_NAME_LEN ||
        o.counts_channel_name == o.channel_name) {
      return make_error("invalid counts channel name '" + o.counts_channel_name + "'");
    }
    if (!is_power_of_two(o.counts_subbuf_size) || o.counts_subbuf_size < 4096 ||
        !is_power_of_two(o.counts_subbuf_count) || o.counts_subbuf_count < 2) {
      return make_error("invalid counts channel buffers (" + std::to_string(o.counts_subbuf_count) + " x " +
                        std::to_string(o.counts_subbuf_size) + " bytes)");
    }
    for (const std::string& e : o.counts_events)
      if (e.empty() || e.size() >= LTTNG_SYMBOL_NAME_LEN)
        return make_error("invalid counts event '" + e + "'");
  }
  return Status();
}

// The counts events event_pattern enables: LTTng excludes names from a
// prefix wildcard only, and a pattern that does not cover an event does not
// record it anywhere.
std::vector<std::string> counted_events(const SessionOptions& o) {
  std::vector<std::string> counted;
  if (o.event_pattern.back() != '*') return counted;
  const std::string prefix = o.event_pattern.substr(0, o.event_pattern.size() - 1);
  for (const std::string& e : o.counts_events)
    if (e.compare(0, prefix.size(), prefix) == 0) counted.push_back(e);
  return counted;
}

Expected<std::string> prepare_output_dir(const std::string& dir) {
  std::error_code ec;
  // The session daemon resolves paths itself, from its own working
  // directory: hand it an absolute one.
  fs::path abs = fs::absolute(dir, ec);
  if (ec) return make_error("cannot resolve trace directory '" + dir + "': " + ec.message());
  abs = abs.lexically_normal();
  fs::create_directories(abs, ec);
  if (ec) {
    return make_error("cannot create trace directory '" + abs.string() + "': " + ec.message() +
                      ": choose a writable location");
  }
  std::string s = abs.string();
  if (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

lttng_domain ust_domain(BufferOwnership buffers) {
  lttng_domain d;
  std::memset(&d, 0, sizeof d);
  d.type = LTTNG_DOMAIN_UST;
  d.buf_type = buffers == BufferOwnership::kPerUid ? LTTNG_BUFFER_PER_UID : LTTNG_BUFFER_PER_PID;
  return d;
}

struct DescriptorDeleter {
  void operator()(lttng_session_descriptor* d) const noexcept { lttng_session_descriptor_destroy(d); }
};
struct ChannelDeleter {
  void operator()(lttng_channel* c) const noexcept { lttng_channel_destroy(c); }
};
struct EventDeleter {
  void operator()(lttng_event* e) const noexcept { lttng_event_destroy(e); }
};
struct DestructionDeleter {
  void operator()(lttng_destruction_handle* h) const noexcept { lttng_destruction_handle_destroy(h); }
};
struct FreeDeleter {
  void operator()(void* p) const noexcept { std::free(p); }
};

}  // namespace

std::string make_unique_session_name() {
  // pid + clock distinguish processes; the counter distinguishes calls in
  // one process; the random part guards against pid reuse within a tick.
  static std::atomic<unsigned> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  unsigned rnd = 0;
  try {
    std::random_device rd;
    rnd = rd();
  } catch (...) {
    rnd = static_cast<unsigned>(ns);  // no entropy source: the clock still helps
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "bdtrace-%d-%llx-%u-%04x", static_cast<int>(getpid()),
                static_cast<unsigned long long>(ns), counter.fetch_add(1), rnd & 0xffffu);
  return buf;
}

Status check_session_daemon() {
  if (lttng_session_daemon_alive() == 1) return Status();
  return make_error(
      "no lttng-sessiond is running: start one with `lttng-sessiond --daemonize` "
      "or run ./bdtrace, which starts it");
}

Expected<bool> session_exists(const std::string& name) {
  lttng_session* raw = nullptr;
  const int n = lttng_list_sessions(&raw);
  std::unique_ptr<lttng_session, FreeDeleter> sessions(raw);
  if (n < 0) return make_error("listing LTTng sessions failed: " + lttng_message(n));
  for (int i = 0; i < n; ++i) {
    if (name == sessions.get()[i].name) return true;
  }
  return false;
}

void LttngSession::HandleDeleter::operator()(lttng_handle* h) const noexcept { lttng_destroy_handle(h); }

void LttngSession::TrackerDeleter::operator()(lttng_process_attr_tracker_handle* h) const noexcept {
  lttng_process_attr_tracker_handle_destroy(h);
}

LttngSession::LttngSession(std::string name, std::string output_dir, std::vector<std::string> channels)
    : name_(std::move(name)), output_dir_(std::move(output_dir)), channels_(std::move(channels)) {}

LttngSession::LttngSession(LttngSession&& other) noexcept
    : name_(std::move(other.name_)),
      output_dir_(std::move(other.output_dir_)),
      channels_(std::move(other.channels_)),
      handle_(std::move(other.handle_)),
      tracker_(std::move(other.tracker_)),
      started_(other.started_) {
  other.name_.clear();
  other.started_ = false;
}

LttngSession& LttngSession::operator=(LttngSession&& other) noexcept {
  if (this != &other) {
    (void)destroy();
    name_ = std::move(other.name_);
    output_dir_ = std::move(other.output_dir_);
    channels_ = std::move(other.channels_);
    handle_ = std::move(other.handle_);
    tracker_ = std::move(other.tracker_);
    started_ = other.started_;
    other.name_.clear();
    other.started_ = false;
  }
  return *this;
}

LttngSession::~LttngSession() { (void)destroy(); }

Expected<LttngSession> LttngSession::create(const SessionOptions& options) {
  try {
    const std::string name = options.name.empty() ? make_unique_session_name() : options.name;
    if (Status st = validate(options, name); !st) return st.take_error();
    if (Status st = check_session_daemon(); !st) return st.take_error();

    const bool local = options.live_url.empty() && options.network_url.empty();
    Expected<std::string> dir =
        local ? prepare_output_dir(options.output_dir) : Expected<std::string>(std::string());
    if (!dir) return dir.take_error();

    // For network sessions the data URL follows from the control URL
    // (net:// gives both ports).
    lttng_session_descriptor* raw_descriptor = nullptr;
    if (!options.live_url.empty()) {
      raw_descriptor = lttng_session_descriptor_live_network_create(name.c_str(), options.live_url.c_str(),
                                                                    nullptr, options.live_timer_us);
    } else if (!options.network_url.empty()) {
      raw_descriptor =
          lttng_session_descriptor_network_create(name.c_str(), options.network_url.c_str(), nullptr);
    } else {
      raw_descriptor = lttng_session_descriptor_local_create(name.c_str(), dir.value().c_str());
    }
    std::unique_ptr<lttng_session_descriptor, DescriptorDeleter> descriptor(raw_descriptor);
    if (!descriptor) {
      return make_error("cannot describe LTTng session '" + name +
                        "' (an invalid relay daemon URL, or out of memory)");
    }

    const lttng_error_code created = lttng_create_session_ext(descriptor.get());
    if (created == LTTNG_ERR_EXIST_SESS) {
      return make_error("an LTTng session named '" + name +
                        "' already exists: choose another name or destroy it with `lttng destroy " + name +
                        "`");
    }
    if (created != LTTNG_OK) return ctl_error("creating", name, -static_cast<int>(created));

    // From here on the object owns the session: any early return destroys it.
    const std::vector<std::string> counted = counted_events(options);
    std::vector<std::string> channels{options.channel_name};
    if (!counted.empty()) channels.push_back(options.counts_channel_name);
    LttngSession session(name, dir.value(), std::move(channels));

    lttng_domain domain = ust_domain(options.buffers);
    session.handle_.reset(lttng_create_handle(name.c_str(), &domain));
    if (!session.handle_) return make_error("cannot create a UST handle for LTTng session '" + name + "'");

    if (options.switch_timer_us != 0) {
      // The metadata too: without it the event classes could stay in the
      // metadata channel's buffers while the events are on disk.
      std::unique_ptr<lttng_channel, ChannelDeleter> metadata(lttng_channel_create(&domain));
      if (!metadata) return make_error("cannot allocate an LTTng channel (out of memory?)");
      copy_name(metadata->name, "metadata");
      metadata->enabled = 1;
      metadata->attr.overwrite = 0;
      metadata->attr.subbuf_size = kMetadataSubbufSize;
      metadata->attr.num_subbuf = 2;
      metadata->attr.switch_timer_interval = options.switch_timer_us;
      metadata->attr.output = LTTNG_EVENT_MMAP;
      if (int rc = lttng_enable_channel(session.handle_.get(), metadata.get()); rc < 0) {
        return ctl_error("configuring the metadata channel", name, rc);
      }
    }

    auto enable_channel = [&](const std::string& channel_name, uint64_t subbuf_size,
                              uint64_t subbuf_count) -> Status {
      std::unique_ptr<lttng_channel, ChannelDeleter> channel(lttng_channel_create(&domain));
      if (!channel) return make_error("cannot allocate an LTTng channel (out of memory?)");
      copy_name(channel->name, channel_name);
      channel->enabled = 1;
      channel->attr.overwrite = options.overwrite ? 1 : 0;
      channel->attr.subbuf_size = subbuf_size;
      channel->attr.num_subbuf = subbuf_count;
      channel->attr.switch_timer_interval = options.switch_timer_us;
      if (int rc = lttng_enable_channel(session.handle_.get(), channel.get()); rc < 0) {
        return ctl_error("enabling channel '" + channel_name + "' (" + std::to_string(subbuf_count) + " x " +
                             std::to_string(subbuf_size) + " bytes)",
                         name, rc);
      }
      return Status();
    };
    // Events in `channel_name`: one name or pattern, minus `exclusions`.
    auto enable_events = [&](const std::string& channel_name, const std::string& pattern,
                             const std::vector<std::string>& exclusions) -> Status {
      std::unique_ptr<lttng_event, EventDeleter> event(lttng_event_create());
      if (!event) return make_error("cannot allocate an LTTng event rule (out of memory?)");
      event->type = LTTNG_EVENT_TRACEPOINT;
      copy_name(event->name, pattern);
      event->loglevel_type = LTTNG_EVENT_LOGLEVEL_ALL;
      event->loglevel = -1;
      // liblttng-ctl takes the names as char** (and does not write them).
      std::vector<char*> excluded;
      for (const std::string& e : exclusions) excluded.push_back(const_cast<char*>(e.c_str()));
      if (int rc = lttng_enable_event_with_exclusions(
              session.handle_.get(), event.get(), channel_name.c_str(), nullptr,
              static_cast<int>(excluded.size()), excluded.empty() ? nullptr : excluded.data());
          rc < 0) {
        return ctl_error("enabling events '" + pattern + "' in channel '" + channel_name + "'", name, rc);
      }
      if (options.add_pid_tid_context) {
        for (lttng_event_context_type type : {LTTNG_EVENT_CONTEXT_VPID, LTTNG_EVENT_CONTEXT_VTID}) {
          lttng_event_context ctx;
          std::memset(&ctx, 0, sizeof ctx);
          ctx.ctx = type;
          const int rc = lttng_add_context(session.handle_.get(), &ctx, nullptr, channel_name.c_str());
          // Already there: a second event rule in the same channel.
          if (rc < 0 && rc != -LTTNG_ERR_UST_CONTEXT_EXIST) {
            return ctl_error(
                type == LTTNG_EVENT_CONTEXT_VPID ? "adding the vpid context" : "adding the vtid context",
                name, rc);
          }
        }
      }
      return Status();
    };

    if (Status st = enable_channel(options.channel_name, options.subbuf_size, options.subbuf_count); !st)
      return st.take_error();
    if (Status st = enable_events(options.channel_name, options.event_pattern, counted); !st)
      return st.take_error();
    if (!counted.empty()) {
      if (Status st = enable_channel(options.counts_channel_name, options.counts_subbuf_size,
                                     options.counts_subbuf_count);
          !st)
        return st.take_error();
      for (const std::string& event : counted)
        if (Status st = enable_events(options.counts_channel_name, event, {}); !st) return st.take_error();
    }
    if (options.only_included_processes) {
      if (Status st = session.open_tracker(); !st) return st.take_error();
    }
    return Expected<LttngSession>(std::move(session));
  } catch (const std::exception& e) {
    return make_error(std::string("creating an LTTng session failed: ") + e.what());
  }
}

Status LttngSession::open_tracker() {
  lttng_process_attr_tracker_handle* raw = nullptr;
  const lttng_error_code rc = lttng_session_get_tracker_handle(name_.c_str(), LTTNG_DOMAIN_UST,
                                                               LTTNG_PROCESS_ATTR_VIRTUAL_PROCESS_ID, &raw);
  if (rc != LTTNG_OK) return ctl_error("opening the vpid tracker", name_, -static_cast<int>(rc));
  tracker_.reset(raw);
  const auto st = lttng_process_attr_tracker_handle_set_tracking_policy(tracker_.get(),
                                                                        LTTNG_TRACKING_POLICY_INCLUDE_SET);
  if (st != LTTNG_PROCESS_ATTR_TRACKER_HANDLE_STATUS_OK) {
    return make_error("cannot restrict LTTng session '" + name_ +
                      "' to its own processes (vpid tracker status " + std::to_string(static_cast<int>(st)) +
                      "): is lttng-sessiond older than 2.12? `lttng --version` says");
  }
  return Status();
}

Status LttngSession::include_process(pid_t pid) {
  if (!valid()) return make_error("LTTng session was already destroyed");
  if (!tracker_) return make_error("LTTng session '" + name_ + "' records every process (no vpid tracker)");
  const auto st = lttng_process_attr_virtual_process_id_tracker_handle_add_pid(tracker_.get(), pid);
  if (st == LTTNG_PROCESS_ATTR_TRACKER_HANDLE_STATUS_OK ||
      st == LTTNG_PROCESS_ATTR_TRACKER_HANDLE_STATUS_EXISTS) {
    return Status();
  }
  return make_error("cannot add process " + std::to_string(pid) + " to LTTng session '" + name_ +
                    "' (vpid tracker status " + std::to_string(static_cast<int>(st)) + ")");
}

Status LttngSession::start() {
  if (!valid()) return make_error("LTTng session was already destroyed");
  if (started_) return Status();
  if (int rc = lttng_start_tracing(name_.c_str()); rc < 0) return ctl_error("starting tracing", name_, rc);
  started_ = true;
  return Status();
}

Status LttngSession::stop() {
  if (!valid()) return make_error("LTTng session was already destroyed");
  if (!started_) return Status();
  // lttng_stop_tracing() waits until the consumer has flushed the buffers.
  if (int rc = lttng_stop_tracing(name_.c_str()); rc < 0) return ctl_error("stopping tracing", name_, rc);
  started_ = false;
  return Status();
}

Expected<uint64_t> LttngSession::discarded_events() const {
  if (!valid() || !handle_) return make_error("LTTng session was already destroyed");
  lttng_channel* raw = nullptr;
  const int n = lttng_list_channels(handle_.get(), &raw);
  // One allocation holds the array and its extended data: free(), not
  // lttng_channel_destroy().
  std::unique_ptr<lttng_channel, FreeDeleter> channels(raw);
  if (n < 0) return ctl_error("listing channels", name_, n);
  uint64_t total = 0;
  size_t found = 0;
  for (int i = 0; i < n; ++i) {
    lttng_channel* c = &channels.get()[i];
    if (std::find(channels_.begin(), channels_.end(), c->name) == channels_.end()) continue;
    ++found;
    uint64_t count = 0;
    if (int rc = lttng_channel_get_discarded_event_count(c, &count); rc < 0) {
      return ctl_error("reading the discarded-event count", name_, rc);
    }
    // With per-UID buffers the session daemon hands the count back with
    // bit 63 set (measured: a flood that lost 1 981 855 events read as
    // 2^63 + 1 981 855, the loss babeltrace2 and bd-analyze counted); the
    // count itself is the low 63 bits.
    total += count & ~(uint64_t{1} << 63);
  }
  if (found != channels_.size()) {
    return make_error("channel '" + channels_.front() +
                      "' or another of bdtrace's not found in LTTng session '" + name_ + "'");
  }
  return total;
}

Status LttngSession::destroy() {
  if (!valid()) return Status();
  Status result;
  if (started_) result = stop();
  started_ = false;

  lttng_destruction_handle* raw = nullptr;
  const lttng_error_code rc = lttng_destroy_session_ext(name_.c_str(), &raw);
  std::unique_ptr<lttng_destruction_handle, DestructionDeleter> destruction(raw);
  handle_.reset();
  tracker_.reset();
  const std::string name = name_;
  name_.clear();  // never try twice, whatever happens below

  if (rc != LTTNG_OK) {
    return ctl_error("destroying", name, -static_cast<int>(rc));
  }
  if (destruction) {
    const auto wait = lttng_destruction_handle_wait_for_completion(destruction.get(), kDestroyTimeoutMs);
    if (wait != LTTNG_DESTRUCTION_HANDLE_STATUS_COMPLETED) {
      return make_error("LTTng session '" + name + "' did not finish its destruction within " +
                        std::to_string(kDestroyTimeoutMs / 1000) +
                        " s: check `lttng list` and the session daemon's health");
    }
    lttng_error_code outcome = LTTNG_OK;
    if (lttng_destruction_handle_get_result(destruction.get(), &outcome) ==
            LTTNG_DESTRUCTION_HANDLE_STATUS_OK &&
        outcome != LTTNG_OK) {
      return ctl_error("destroying", name, -static_cast<int>(outcome));
    }
  }
  return result;
}

}  // namespace bdtrace::tools
