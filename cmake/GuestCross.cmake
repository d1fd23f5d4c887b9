# SPDX-License-Identifier: MIT
# Cross builds of the guest side for guest architectures other than the
# host's: for each ARCH in BDTRACE_GUEST_ARCHES whose cross compiler is
# installed, guest-probes/ (a project of its own, see its CMakeLists.txt) is
# configured with cmake/toolchain-ARCH.cmake into build/ARCH-guest and built
# with the top-level build, into
#   build/lib/ARCH/libbdguest.a, libbdguest.so
#   build/bin/ARCH/bd-mark, bd-demo-workload (static)
# and, with BUILD_TESTING, the guest test and bench programs (static) into
#   build/tests/bin/ARCH/guest-threads, guest-hostile, guest-native-check,
#                        guest-ring-check, guest-sleeps, guest-ctxt,
#                        guest-pingpong, guest-forge, guest-hostile-system,
#                        guest-calls, guest-slot-exhaust,
#                        guest-hostile-ring-system
#   build/bench/bin/ARCH/bench-guest-marks
# The host's own (x86_64) guest side stays in build/lib and build/bin (its
# test programs in build/tests/bin, bench's in build/bench/bin).
# Target bdguest-ARCH; BDGUEST_CROSS_ARCHES lists the architectures built.
# Every top-level build runs the sub-build (BUILD_ALWAYS): make's own
# dependency check decides what is stale, a no-op costs a fraction of a
# second.
include(ExternalProject)

set(BDTRACE_GUEST_ARCHES "aarch64;riscv64;s390x" CACHE STRING
    "Guest architectures whose libbdguest, bd-mark and guest programs are cross-built (aarch64, riscv64, s390x)")
# A build directory configured before s390x joined keeps the old default in
# its cache; move it to the new one (any other list stays as it is).
if(BDTRACE_GUEST_ARCHES STREQUAL "aarch64;riscv64")
  set(BDTRACE_GUEST_ARCHES "aarch64;riscv64;s390x" CACHE STRING
      "Guest architectures whose libbdguest, bd-mark and guest programs are cross-built (aarch64, riscv64, s390x)"
      FORCE)
endif()

# Debian's name for an architecture in its libc6-dev-*-cross packages.
function(bdguest_debian_arch arch out)
  if(arch STREQUAL "aarch64")
    set(${out} arm64 PARENT_SCOPE)
  else()
    set(${out} ${arch} PARENT_SCOPE)
  endif()
endfunction()

set(BDGUEST_CROSS_ARCHES "")
foreach(arch IN LISTS BDTRACE_GUEST_ARCHES)
  set(toolchain ${PROJECT_SOURCE_DIR}/cmake/toolchain-${arch}.cmake)
  if(NOT EXISTS ${toolchain})
    message(WARNING "bdguest: no toolchain file for guest architecture '${arch}' (${toolchain}); not built")
    continue()
  endif()
  find_program(BDGUEST_CC_${arch} ${arch}-linux-gnu-gcc)
  if(NOT BDGUEST_CC_${arch})
    bdguest_debian_arch(${arch} debarch)
    message(STATUS "bdguest: ${arch}-linux-gnu-gcc not found: no ${arch} guest build "
                   "(install gcc-${arch}-linux-gnu libc6-dev-${debarch}-cross; ./bdtrace build does)")
    continue()
  endif()
  set(bin ${CMAKE_BINARY_DIR}/bin/${arch})
  set(lib ${CMAKE_BINARY_DIR}/lib/${arch})
  set(tests_bin ${BDTRACE_TESTS_BIN_DIR}/${arch})
  set(bench_bin ${BDTRACE_BENCH_BIN_DIR}/${arch})
  set(byproducts ${lib}/libbdguest.a ${lib}/libbdguest.so ${bin}/bd-mark ${bin}/bd-demo-workload)
  set(testing_args -DBUILD_TESTING=${BUILD_TESTING})
  if(BUILD_TESTING)
    foreach(prog guest-threads guest-hostile guest-native-check guest-ring-check guest-sleeps
                 guest-ctxt guest-pingpong guest-forge guest-hostile-system guest-calls guest-slot-exhaust
                 guest-hostile-ring-system)
      list(APPEND byproducts ${tests_bin}/${prog})
    endforeach()
    list(APPEND byproducts ${bench_bin}/bench-guest-marks)
    list(APPEND testing_args -DBDTRACE_TESTS_BIN_DIR=${tests_bin} -DBDTRACE_BENCH_BIN_DIR=${bench_bin})
  endif()
  ExternalProject_Add(bdguest-${arch}
    SOURCE_DIR ${PROJECT_SOURCE_DIR}/guest-probes
    BINARY_DIR ${CMAKE_BINARY_DIR}/${arch}-guest
    CMAKE_ARGS
      -DCMAKE_TOOLCHAIN_FILE=${toolchain}
      -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}
      -DBDTRACE_WERROR=${BDTRACE_WERROR}
      -DCMAKE_RUNTIME_OUTPUT_DIRECTORY=${bin}
      -DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${lib}
      -DCMAKE_ARCHIVE_OUTPUT_DIRECTORY=${lib}
      ${testing_args}
    INSTALL_COMMAND ""
    BUILD_ALWAYS ON
    BUILD_BYPRODUCTS ${byproducts})
  list(APPEND BDGUEST_CROSS_ARCHES ${arch})
  message(STATUS "bdguest: cross-building the ${arch} guest side into ${lib} and ${bin}")
endforeach()
