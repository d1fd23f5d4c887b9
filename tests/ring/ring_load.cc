// SPDX-License-Identifier: MIT
// ring_load: an honest guest-side load generator for measuring
// bd-ring-consumer by hand (not a test). Writes marks (every 10th a text
// mark) stamped with the TSC into rings of a region, as fast as it can, from
// one thread per ring, once a consumer has mapped the region.
//
//   ring_load FILE [--create RINGS SLOTS] [--threads T] [--seconds S]
//
// --create makes the region first (user mode). It waits until the
// region's consumer_pid is set (bd-ring-consumer writes it once mapped),
// then prints "issued N written W dropped D in S s" per thread and in all.
#include "bdtrace/ring/clock_map.h"
#include "bdtrace/ring/region_file.h"

#include "test_producer.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace br = bdtrace::ring;

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ring_load FILE [--create RINGS SLOTS] [--threads T] [--seconds S]\n");
    return 2;
  }
  const std::string path = argv[1];
  unsigned threads = 1;
  double seconds = 2;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--create" && i + 2 < argc) {
      const auto rings = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 0));
      const auto slots = static_cast<uint32_t>(std::strtoul(argv[i + 2], nullptr, 0));
      if (const bdtrace::Status created = br::create_region_file(path, rings, slots, BD_RING_MODE_USER);
          !created) {
        std::fprintf(stderr, "ring_load: %s\n", created.error().ToString().c_str());
        return 1;
      }
      i += 2;
    } else if (a == "--threads" && i + 1 < argc) {
      threads = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 0));
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::strtod(argv[++i], nullptr);
    } else {
      std::fprintf(stderr, "ring_load: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  bdtrace::Expected<br::MappedRegion> opened = br::MappedRegion::open(path);
  if (!opened) {
    std::fprintf(stderr, "ring_load: %s\n", opened.error().ToString().c_str());
    return 1;
  }
  br::MappedRegion &region = *opened;
  if (threads == 0 || threads > region.layout().ring_count) {
    std::fprintf(stderr, "ring_load: --threads must be 1 to %u\n", region.layout().ring_count);
    return 2;
  }
  // Start together with the consumer.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (__atomic_load_n(&region.header()->consumer_pid, __ATOMIC_RELAXED) == 0) {
    if (std::chrono::steady_clock::now() > give_up) {
      std::fprintf(stderr, "ring_load: no consumer mapped the region within 30 s\n");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::vector<uint64_t> issued(threads), written(threads);
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(seconds));
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      bdtrace::ring::test::TestProducer p(region.base(), region.layout(), t);
      p.claim(static_cast<uint32_t>(getpid()), 1000 + t);
      uint64_t seq = 0, ok = 0;
      while (std::chrono::steady_clock::now() < end) {
        for (int i = 0; i < 1024; ++i) {
          ++seq;
          ok += (seq % 10 == 0 ? p.text(BD_KIND_MARK_TEXT, 2, "load", seq, br::read_tsc(), getpid(), 1000 + t)
                               : p.mark(1, seq, br::read_tsc(), getpid(), 1000 + t))
                    ? 1
                    : 0;
        }
      }
      issued[t] = seq;
      written[t] = ok;
    });
  }
  for (auto &th : pool) th.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t all_issued = 0, all_written = 0;
  for (unsigned t = 0; t < threads; ++t) {
    all_issued += issued[t];
    all_written += written[t];
  }
  std::printf("issued %llu written %llu dropped %llu in %.3f s\n",
              static_cast<unsigned long long>(all_issued), static_cast<unsigned long long>(all_written),
              static_cast<unsigned long long>(all_issued - all_written), secs);
  return 0;
}
