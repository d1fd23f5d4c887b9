/* SPDX-License-Identifier: MIT */
// Copying out of guest-shared memory.
//
// The guest may write the bytes while the host copies them. Each 8-byte
// word is read exactly once with an atomic (relaxed) load, so the copy is a
// snapshot the compiler can neither re-read nor tear below word size, and
// everything after it works on private memory only.
#ifndef BDTRACE_RING_SHARED_COPY_H
#define BDTRACE_RING_SHARED_COPY_H

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace bdtrace::ring {

// Copies `words` 8-byte words from shared `src` (8-byte aligned) to `dst`.
inline void copy_from_shared(void *dst, const void *src, std::size_t words) noexcept {
  const auto *s = static_cast<const uint64_t *>(src);
  auto *d = static_cast<unsigned char *>(dst);
  for (std::size_t i = 0; i < words; ++i) {
    const uint64_t w = __atomic_load_n(s + i, __ATOMIC_RELAXED);
    std::memcpy(d + i * sizeof w, &w, sizeof w);
  }
}

}  // namespace bdtrace::ring

#endif  // BDTRACE_RING_SHARED_COPY_H
