// SPDX-License-Identifier: MIT
// The reorder buffer (see reorder.h for why and how).
#include "bdtrace/analyzer/reorder.h"

#include <algorithm>
#include <limits>

namespace bdtrace::analyzer {

namespace {

// Reserves room for every view first, so appending never moves the
// buffer and the views set earlier stay valid.
template <typename... Views>
void Rebase(std::string &store, Views &...views) {
  store.clear();
  store.reserve((views.size() + ...));
  const auto append = [&store](std::string_view &v) {
    const size_t at = store.size();
    store.append(v);
    v = std::string_view(store.data() + at, v.size());
  };
  (append(views), ...);
}

int64_t MinusSaturated(int64_t a, int64_t b) {
  int64_t d = 0;
  if (!__builtin_sub_overflow(a, b, &d)) return d;
  return b > 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
}

}  // namespace

void Reorderer::Own(MarkEvent &e, std::string &store) { Rebase(store, e.text); }
void Reorderer::Own(EventNameEvent &e, std::string &store) { Rebase(store, e.name); }
void Reorderer::Own(SessionEvent &e, std::string &store) {
  Rebase(store, e.mode, e.arch, e.program, e.vm, e.channel);
}
void Reorderer::Own(RejectedEvent &e, std::string &store) { Rebase(store, e.reason_name); }
void Reorderer::Own(RejectedTotalEvent &e, std::string &store) { Rebase(store, e.reason_name); }
void Reorderer::Own(SchedSwitchEvent &e, std::string &store) { Rebase(store, e.prev_comm, e.next_comm); }
void Reorderer::Own(FilterEvent &e, std::string &store) {
  Rebase(store, e.status, e.digest, e.path, e.message);
}
void Reorderer::Own(FilterDroppedEvent &e, std::string &store) { Rebase(store, e.rule_name); }
void Reorderer::Own(OtherEvent &e, std::string &store) { Rebase(store, e.class_name); }

uint32_t Reorderer::Acquire() {
  if (!free_.empty()) {
    const uint32_t slot = free_.back();
    free_.pop_back();
    return slot;
  }
  held_.emplace_back();
  return static_cast<uint32_t>(held_.size() - 1);
}

void Reorderer::Push(uint32_t slot, int64_t &ts_ns, int64_t emitted_ns, bool guest) {
  if (guest) {
    ++stats_.guest_events;
    if (ts_ns > emitted_ns) {
      ++stats_.after_emission;
      stats_.max_after_emission_ns =
          std::max(stats_.max_after_emission_ns, static_cast<uint64_t>(ts_ns - emitted_ns));
      ts_ns = emitted_ns;
    } else {
      stats_.max_lag_ns = std::max(stats_.max_lag_ns, static_cast<uint64_t>(emitted_ns - ts_ns));
    }
  }
  if (ts_ns < released_ns_) {
    // Too late to be put in its place: pass it on now and say so.
    ++stats_.late_events;
    stats_.max_late_ns = std::max(stats_.max_late_ns, static_cast<uint64_t>(released_ns_ - ts_ns));
    DeliverSlot(slot);
  } else {
    Insert(Key{ts_ns, arrivals_++, slot});
  }
  const int64_t safe = MinusSaturated(emitted_ns, options_.window_ns);
  while (held_count_ > 0) {
    const bool due = EarliestRun().front().ts_ns <= safe;
    if (!due && held_count_ <= options_.max_held) break;
    if (!due) ++stats_.early_releases;
    ReleaseOldest();
  }
}

void Reorderer::Insert(const Key &key) {
  // Append to the run whose last key is the latest not after this one:
  // every run stays sorted, and runs stay as few as the interleaved rings.
  Run *best = nullptr, *empty = nullptr, *closest = nullptr;
  for (Run &run : runs_) {
    if (run.empty()) {
      if (empty == nullptr) empty = &run;
      continue;
    }
    const int64_t last = run.back().ts_ns;
    if (last <= key.ts_ns && (best == nullptr || last > best->back().ts_ns)) best = &run;
    if (closest == nullptr || last > closest->back().ts_ns) closest = &run;
  }
  ++held_count_;
  if (best != nullptr) {
    best->push_back(key);
  } else if (empty != nullptr) {
    empty->push_back(key);
  } else if (runs_.size() < kMaxRuns) {
    runs_.emplace_back().push_back(key);
  } else {
    closest->insert(std::upper_bound(closest->begin(), closest->end(), key, Earlier), key);
  }
}

Reorderer::Run &Reorderer::EarliestRun() {
  Run *earliest = nullptr;
  for (Run &run : runs_) {
    if (!run.empty() && (earliest == nullptr || Earlier(run.front(), earliest->front()))) {
      earliest = &run;
    }
  }
  return *earliest;
}

void Reorderer::ReleaseOldest() {
  Run &run = EarliestRun();
  const Key k = run.front();
  run.pop_front();
  --held_count_;
  // The next event out is most likely this run's next one, written a whole
  // window ago: start loading it now, it is needed one event from now.
  if (!run.empty()) {
    const char *next = reinterpret_cast<const char *>(&held_[run.front().slot]);
    for (size_t line = 0; line < sizeof(Held); line += 64) __builtin_prefetch(next + line);
  }
  released_ns_ = std::max(released_ns_, k.ts_ns);
  DeliverSlot(k.slot);
}

void Reorderer::DeliverSlot(uint32_t slot) {
  // Recycled first: a visitor that throws must not leak the slot.
  free_.push_back(slot);
  std::visit([this](const auto &e) { Deliver(e); }, held_[slot].event);
}

void Reorderer::Flush() {
  while (held_count_ > 0) ReleaseOldest();
}

}  // namespace bdtrace::analyzer
