# SPDX-License-Identifier: MIT
# The install rules: `cmake --install build --prefix P` (the layout:
# cmake/InstallLayout.cmake). Two components, which the Debian packages are
# made from:
#   host  what users run: the tools, the plugin builds, the example
#         handlers, the man pages, bd-mark and the demo workload
#   sdk   what guest programs build against: libbdguest (static and shared,
#         every guest architecture built), the <bd/*.h> headers, bdguest.pc
#         and the CMake package bdtrace (bdtrace::bdguest)
# Test programs, benchmarks and the static helper libraries are not
# installed; tests/install checks that.
include(CMakePackageConfigHelpers)

# --- host -----------------------------------------------------------------
install(TARGETS bd-run bd-analyze bd-handler-check bd-mark bd-demo-workload
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT host)
# bd-run starts it; nobody else does.
install(TARGETS bd-ring-consumer
        RUNTIME DESTINATION ${BDTRACE_INSTALL_HELPERDIR} COMPONENT host)

install(TARGETS ${BDTRACE_PLUGIN_TARGETS} LIBRARY DESTINATION ${BDTRACE_INSTALL_PLUGINDIR} COMPONENT host)

install(TARGETS bdhandler-kv bdhandler-facts bdhandler-roi
        LIBRARY DESTINATION ${BDTRACE_INSTALL_HANDLERDIR} COMPONENT host)

# Man pages, made from each tool's --help at build time (cmake/ManPage.cmake).
include(${CMAKE_CURRENT_LIST_DIR}/ManPage.cmake)
bdtrace_man_page(bd-run "run a program or a VM under QEMU with the bdtrace plugin, into an LTTng trace")
bdtrace_man_page(bd-analyze "report on a bdtrace LTTng trace: marks, regions, timelines")
bdtrace_man_page(bd-mark "send one bdtrace mark from a shell script in the guest")

# --- sdk ------------------------------------------------------------------
# The headers: abi.h, channel.h and ring.h are proto's (guest-probes'
# copies are links to them).
install(FILES
          ${PROJECT_SOURCE_DIR}/guest-probes/include/bd/bd.h
          ${PROJECT_SOURCE_DIR}/guest-probes/include/bd/trap.h
          ${PROJECT_SOURCE_DIR}/guest-probes/include/bd/record_fill.h
          ${PROJECT_SOURCE_DIR}/proto/include/bd/abi.h
          ${PROJECT_SOURCE_DIR}/proto/include/bd/channel.h
          ${PROJECT_SOURCE_DIR}/proto/include/bd/ring.h
          ${PROJECT_SOURCE_DIR}/handlers/include/bd/handler.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/bd COMPONENT sdk)

install(TARGETS bdguest_static bdguest_shared
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk)

# bdguest.pc and the CMake package for one guest architecture's library
# directory `libdir` (relative to the prefix).
function(bdtrace_install_guest_metadata arch libdir)
  set(out ${CMAKE_BINARY_DIR}/install/${arch})
  # The pkg-config file names the prefix the install goes to (--prefix; a
  # DESTDIR, as CPack's, is not part of it), so it is written at install
  # time, in a place of that install's own (installs may run side by side).
  set(BDGUEST_LIBDIR ${libdir})
  set(BDGUEST_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
  set(BDGUEST_VERSION ${PROJECT_VERSION})
  set(BDTRACE_GUEST_ARCH ${arch})
  set(prefix "@prefix@")  # kept for the install-time pass
  configure_file(${CMAKE_CURRENT_FUNCTION_LIST_DIR}/bdguest.pc.in ${out}/bdguest.pc.in @ONLY)
  install(CODE "set(prefix \"\${CMAKE_INSTALL_PREFIX}\")
    string(MD5 _bdguest_pc_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}\")
    set(_bdguest_pc_dir \"${out}/pc-\${_bdguest_pc_dir}\")
    configure_file(\"${out}/bdguest.pc.in\" \"\${_bdguest_pc_dir}/bdguest.pc\" @ONLY)
    file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${libdir}/pkgconfig\" TYPE FILE
         FILES \"\${_bdguest_pc_dir}/bdguest.pc\")"
    COMPONENT sdk)

  # The CMake package finds its prefix from where it lies (relocatable),
  # and every architecture's library from there (BDTRACE_GUEST_LIBDIRS).
  configure_package_config_file(${CMAKE_CURRENT_FUNCTION_LIST_DIR}/bdtraceConfig.cmake.in
    ${out}/bdtraceConfig.cmake
    INSTALL_DESTINATION ${libdir}/cmake/bdtrace)
  write_basic_package_version_file(${out}/bdtraceConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
  install(FILES ${out}/bdtraceConfig.cmake ${out}/bdtraceConfigVersion.cmake
          DESTINATION ${libdir}/cmake/bdtrace COMPONENT sdk)
endfunction()

# ARCH=LIBDIR for every guest architecture installed.
set(BDTRACE_GUEST_LIBDIRS "${CMAKE_SYSTEM_PROCESSOR}=${CMAKE_INSTALL_LIBDIR}")
foreach(arch IN LISTS BDGUEST_CROSS_ARCHES)
  bdtrace_install_guest_libdir(${arch} libdir)
  list(APPEND BDTRACE_GUEST_LIBDIRS "${arch}=${libdir}")
endforeach()

bdtrace_install_guest_metadata(${CMAKE_SYSTEM_PROCESSOR} ${CMAKE_INSTALL_LIBDIR})

# The cross-built guest architectures (cmake/GuestCross.cmake): their
# libbdguest, metadata and guest programs.
foreach(arch IN LISTS BDGUEST_CROSS_ARCHES)
  bdtrace_install_guest_libdir(${arch} libdir)
  install(FILES ${CMAKE_BINARY_DIR}/lib/${arch}/libbdguest.a ${CMAKE_BINARY_DIR}/lib/${arch}/libbdguest.so
          DESTINATION ${libdir} COMPONENT sdk)
  bdtrace_install_guest_metadata(${arch} ${libdir})
  install(PROGRAMS ${CMAKE_BINARY_DIR}/bin/${arch}/bd-mark ${CMAKE_BINARY_DIR}/bin/${arch}/bd-demo-workload
          DESTINATION ${BDTRACE_INSTALL_HELPERDIR}/${arch} COMPONENT host)
endforeach()
