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
option(BDTRACE_SANITIZE "ASan + UBSan on the host side (./bdtrace test --sanitize)" OFF)
if(BDTRACE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# In a directory whose code the plugin links: UBSan only.
macro(bdtrace_sanitize_ubsan_only)
  if(BDTRACE_SANITIZE)
    add_compile_options(-fno-sanitize=address)
    add_link_options(-fno-sanitize=address)
  endif()
endmacro()

# In a directory of guest code: no sanitizer.
macro(bdtrace_sanitize_none)
  if(BDTRACE_SANITIZE)
    add_compile_options(-fno-sanitize=all)
    add_link_options(-fno-sanitize=all)
  endif()
endmacro()

# After every folder is added: the guest programs among the targets of
# `dir` and below lose the sanitizers (their later options win).
function(bdtrace_unsanitize_guest_programs dir)
  if(NOT BDTRACE_SANITIZE)
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
