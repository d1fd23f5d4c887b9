# SPDX-License-Identifier: MIT
# Sourced by the bench scripts after they set BUILD (the build directory):
# where that build put the programs they run. The top-level CMakeLists.txt
# decides and records the places in BUILD/CMakeCache.txt:
#   BENCH_BIN  the bench programs (bench-*; other architectures' in ARCH/)
#   BENCH_LIB  the bench's handler (libbench-noop-handler.so)
#   TESTS_BIN  the test programs (trace-gen)
# What users run stays in BUILD/bin and BUILD/lib (bd-run, the plugin).
bench_cache_value() {
  sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt" 2>/dev/null
}
BENCH_BIN=$(bench_cache_value BDTRACE_BENCH_BIN_DIR)
BENCH_LIB=$(bench_cache_value BDTRACE_BENCH_LIB_DIR)
TESTS_BIN=$(bench_cache_value BDTRACE_TESTS_BIN_DIR)
if [ -z "$BENCH_BIN" ] || [ -z "$TESTS_BIN" ]; then
  echo "bench: $BUILD/CMakeCache.txt does not say where the bench and test programs are:" \
       "build them first (./bdtrace build; not with -DBUILD_TESTING=OFF)" >&2
  exit 2
fi
