#include "bdtrace/ring/realtime_counter_clock.h"

#include <time.h>

#include <cmath>

#include "bdtrace/ring/shared_copy.h"

namespace bdtrace::ring {
namespace {

uint64_t clock_ns(clockid_t id) noexcept {
    struct timespec ts;
    ::clock_gettime(id, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Counter frequencies in use: QEMU's 62.5 MHz (before 9.0) and 1 GHz, and
// common hardware ones (19.2, 24, 25, 50, 100 MHz).
constexpr double kFrequencies[] = {1e9, 62.5e6, 19.2e6, 24e6, 25e6, 50e6, 100e6};
constexpr double kToleranceNs = 60e9;

}  // namespace

std::optional<double> realtime_counter_period(uint64_t count, uint64_t realtime_ns) noexcept {
    for (double hz : kFrequencies) {
        const double period = 1e9 / hz;
        const double ns = static_cast<double>(count) * period;
        if (std::fabs(ns - static_cast<double>(realtime_ns)) < kToleranceNs) return period;
    }
    return std::nullopt;
}

void RealtimeCounterClock::find_period(uint64_t realtime_ns) noexcept {
    const RegionLayout &l = region_.layout();
    for (uint32_t r = l.kernel_rings; r < l.ring_count && !known_; ++r) {
        const uint64_t head = __atomic_load_n(&region_.ctl(r)->head, __ATOMIC_ACQUIRE);
        const uint64_t tail = __atomic_load_n(&region_.ctl(r)->tail, __ATOMIC_RELAXED);
        if (head == tail) continue;
        // The first word of a record slot is its ts (<bd/ring.h>).
        uint64_t ts = 0;
        copy_from_shared(&ts, region_.slot(r, tail), 1);
        if (std::optional<double> p = realtime_counter_period(ts, realtime_ns)) {
            period_ = *p;
            known_ = true;
        }
    }
}

void RealtimeCounterClock::refresh() noexcept {
    const uint64_t real = clock_ns(CLOCK_REALTIME);
    const uint64_t mono = clock_ns(CLOCK_MONOTONIC);
    if (!known_) find_period(real);
    // guest_ref ticks are `real` ns; the remainder of the division moves the
    // host reference so the map stays exact.
    const auto ref = static_cast<uint64_t>(static_cast<double>(real) / period_);
    const auto ref_ns = static_cast<uint64_t>(static_cast<double>(ref) * period_);
    map_ = LinearMap{ref, mono - (real - ref_ns), period_};
}

}  // namespace bdtrace::ring
