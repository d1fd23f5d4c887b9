/* SPDX-License-Identifier: MIT */
// What a harness asserts about the code under test: an invariant that
// must hold for every input. A violation aborts (libFuzzer and the replay
// test both report it with the input that caused it).
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
