# SPDX-License-Identifier: MIT
# ./bdtrace test --sanitize (-DBDTRACE_SANITIZE=ON, in build-sanitize):
# AddressSanitizer + UndefinedBehaviorSanitizer on everything that runs on
# the host, with three exceptions, each for a reason:
#  - the QEMU plugin and the libraries it links (proto/, tracepoints/,
#    filter/, plugin/, device/, usermode/) get UBSan only: an ASan module
#    needs the ASan runtime loaded first into QEMU, and a runtime preloaded
#    into qemu-x86_64 was OOM-killed at start (measured: ~24 GB resident,
#    QEMU's guest address space reservation), while `-R 4G` leaves no room
#    for the x86_64 vsyscall page;
#  - guest code (libbdguest in guest-probes/, and every program that runs
#    as a guest: guest-*, trap-guest-*, bench-guest-*, bd-mark,
#    bd-demo-workload, and libbdguest's unit tests guest_*, which also run
#    under qemu-x86_64) is not instrumented: it runs under QEMU (where an
#    ASan program makes qemu-user reserve shadow memory: OOM-killed, seen)
#    and mostly links statically;
#  - the cross-built guest trees are separate projects and never see this.
#
# ./bdtrace test --sanitize=thread (-DBDTRACE_SANITIZE=thread, in
# build-tsan): ThreadSanitizer on everything that runs on the host, the
# plugin and the libraries it links included, guest code excepted (as
# above: it runs under QEMU or in VMs, and TSan has nothing to check in
# it from the host). The plugin:
#  - its threads are tested natively first (tests/plugin: the code-tracing
#    drain thread against producer threads with a recording session; the
#    filter's watcher reloading while vCPU threads decide);
#  - inside QEMU, a TSan module needs the TSan runtime loaded with the main
#    program: QEMU's dlopen of the TSan plugin fails ("libtsan.so.2: cannot
#    allocate memory in static TLS block", measured 2026-11-27 on QEMU 7.2).
#    With the runtime preloaded (LD_PRELOAD) into the uninstrumented
#    qemu-x86_64 it loads and runs, and TSan sees QEMU's threads and
#    pthread locks (interceptors) but not QEMU's own memory accesses or
#    atomics: it checks the plugin's code against itself, which is the
#    point (an injected race in the drain thread's publication was caught
#    that way). tests/plugin/qemu_tsan_test.sh does it on every QEMU the
#    tests use (user mode; the VMs of full-system mode are not run so).
#    The ASan runtime preloaded the same way was OOM-killed (above); TSan's
#    was not.
# Which tests run under TSan: the ctest label `tsan` (README, Sanitizers).
set(BDTRACE_SANITIZE OFF CACHE STRING
    "Sanitizers on the host side: OFF, ON (ASan + UBSan, ./bdtrace test --sanitize) or thread (TSan, --sanitize=thread)")
set_property(CACHE BDTRACE_SANITIZE PROPERTY STRINGS OFF ON thread)
# BDTRACE_SANITIZE_MODE: "", "address" (ASan + UBSan) or "thread".
string(TOLOWER "${BDTRACE_SANITIZE}" _bdtrace_sanitize)
if(_bdtrace_sanitize STREQUAL "thread")
  set(BDTRACE_SANITIZE_MODE thread)
elseif(_bdtrace_sanitize STREQUAL "address")
  set(BDTRACE_SANITIZE_MODE address)
elseif(_bdtrace_sanitize MATCHES "^(|off|0|no|false|n)$")
  set(BDTRACE_SANITIZE_MODE "")
elseif(_bdtrace_sanitize MATCHES "^(on|1|yes|true|y)$")
  set(BDTRACE_SANITIZE_MODE address)
else()
  message(FATAL_ERROR "BDTRACE_SANITIZE=${BDTRACE_SANITIZE}: use OFF, ON (ASan + UBSan) or thread (TSan)")
endif()

if(BDTRACE_SANITIZE_MODE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(BDTRACE_SANITIZE_MODE STREQUAL "thread")
  # -Wno-tsan: gcc warns that TSan does not model std::atomic_thread_fence.
  # bdtrace has two: device/channel.cc's (followed by a release store, which
  # TSan does model) and plugin/code_gate.cc's seq_cst pair (a store then a
  # load on each side, which TSan cannot check either way: it stays
  # unchecked, not reported). Without it a CI build (-Werror) would stop.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  add_link_options(-fsanitize=thread)
endif()

# In a directory whose code the plugin links: UBSan only (with TSan: fully
# instrumented, see above).
macro(bdtrace_sanitize_ubsan_only)
  if(BDTRACE_SANITIZE_MODE STREQUAL "address")
    add_compile_options(-fno-sanitize=address)
    add_link_options(-fno-sanitize=address)
  endif()
endmacro()

# A shared object QEMU loads through the plugin (a host handler): UBSan
# only with ASan, as the plugin itself (QEMU runs without the ASan runtime,
# which an ASan module needs loaded first).
function(bdtrace_sanitize_ubsan_only_target target)
  if(BDTRACE_SANITIZE_MODE STREQUAL "address")
    target_compile_options(${target} PRIVATE -fno-sanitize=address)
    target_link_options(${target} PRIVATE -fno-sanitize=address)
  endif()
endfunction()

# In a directory of guest code: no sanitizer.
macro(bdtrace_sanitize_none)
  if(BDTRACE_SANITIZE_MODE)
    add_compile_options(-fno-sanitize=all)
    add_link_options(-fno-sanitize=all)
  endif()
endmacro()

# After every folder is added: the guest programs among the targets of
# `dir` and below lose the sanitizers (their later options win).
function(bdtrace_unsanitize_guest_programs dir)
  if(NOT BDTRACE_SANITIZE_MODE)
    return()
  endif()
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t IN LISTS targets)
    if(t MATCHES "^(guest-|guest_|trap-guest-|bench-guest-|bench-2011|bd-mark$|bd-demo-workload$)")
      get_target_property(type ${t} TYPE)
      if(type STREQUAL "EXECUTABLE")
        target_compile_options(${t} PRIVATE -fno-sanitize=all)
        target_link_options(${t} PRIVATE -fno-sanitize=all)
      endif()
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    bdtrace_unsanitize_guest_programs(${sub})
  endforeach()
endfunction()
