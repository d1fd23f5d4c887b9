# SPDX-License-Identifier: MIT
# Debian packages of bdtrace, made by CPack (./bdtrace package runs it; the
# .debs land in build/packages). One package per install component:
#
#   component  package          holds
#   host       bdtrace          the host tools (bd-run, bd-analyze, ...), the
#                               QEMU plugin build(s), their man pages
#   sdk        libbdguest-dev   libbdguest (static and shared), <bd/*.h>,
#                               bdguest.pc, the CMake package bdtrace
#   dkms       bd-sched-dkms    bd_sched's source under /usr/src for DKMS
#                               (guest-probes/kmod/CMakeLists.txt)
#
# Versions come from project(); shared-library dependencies from
# dpkg-shlibdeps; what the tools start at run time (QEMU, the LTTng session
# daemon) is listed by hand below. tests/package checks the packages.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bdtrace)
set(CPACK_PACKAGE_VENDOR bdtrace)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Install into the staging tree through DESTDIR, with the prefix /usr itself:
# bdguest.pc names the install prefix (cmake/Install.cmake), which must be
# /usr, not the staging directory.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX ${CPACK_PACKAGING_INSTALL_PREFIX})
# RelWithDebInfo binaries carry their debug information: ship them stripped.
# CPACK_STRIP_FILES strips the host's targets; the script strips the other
# guest architectures' files with their own binutils.
set(CPACK_STRIP_FILES ON)
set(CPACK_BDTRACE_STRIP_PROGRAMS ${CMAKE_STRIP})
foreach(arch IN LISTS BDGUEST_CROSS_ARCHES)
  find_program(BDTRACE_STRIP_${arch} ${arch}-linux-gnu-strip)
  if(BDTRACE_STRIP_${arch})
    list(APPEND CPACK_BDTRACE_STRIP_PROGRAMS ${BDTRACE_STRIP_${arch}})
  endif()
endforeach()
# (CPACK_PRE_BUILD_SCRIPTS needs CPack 3.19; Debian 12 has 3.25. An older one
# ignores it and tests/package/deb_check.sh reports the unstripped files.)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/deb/strip-staged.cmake
                            ${CMAKE_CURRENT_LIST_DIR}/deb/compress-man-pages.cmake)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL host sdk dkms)
set(CPACK_COMPONENTS_GROUPING IGNORE)

set(BDTRACE_DEB_MAINTAINER "bdtrace maintainers <maintainers@users.noreply.r-seed-0fef5232.example>"
    CACHE STRING "Maintainer field of the Debian packages")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${BDTRACE_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# 0755 for maintainer scripts, 0644 for the other control files (policy).
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# host: bd-run starts qemu-x86_64 (qemu-user) with the plugin and needs an
# lttng-sessiond (lttng-tools); --system starts qemu-system-*.
set(CPACK_DEBIAN_HOST_PACKAGE_NAME bdtrace)
set(CPACK_DEBIAN_HOST_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_HOST_PACKAGE_DEPENDS "qemu-user, lttng-tools")
set(CPACK_DEBIAN_HOST_PACKAGE_RECOMMENDS "qemu-system-x86")
set(CPACK_DEBIAN_HOST_PACKAGE_SUGGESTS "libbdguest-dev, bd-sched-dkms, babeltrace2, qemu-system-arm")
set(CPACK_COMPONENT_HOST_DESCRIPTION
    "tracing toolkit for QEMU guests: host tools and QEMU plugin
A guest program calls bd_mark() (libbdguest, in libbdguest-dev); bd-run
runs it under QEMU with the bdtrace TCG plugin, which turns each mark into
an LTTng-UST event; bd-analyze reads the trace and reports the marks,
regions and timelines of each thread. Full-system guests are traced too
(bd-sched-dkms marks their context switches).")

# sdk: what a guest program builds against (pkg-config bdguest or
# find_package(bdtrace)).
set(CPACK_DEBIAN_SDK_PACKAGE_NAME libbdguest-dev)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
# Not dpkg-shlibdeps: it cannot resolve the other guest architectures'
# libbdguest.so (their libc is not installed as Debian multiarch); building
# against the host's libbdguest needs the C library's headers anyway.
set(CPACK_DEBIAN_SDK_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_SDK_PACKAGE_DEPENDS "libc6-dev")
set(CPACK_DEBIAN_SDK_PACKAGE_RECOMMENDS "pkg-config")
set(CPACK_DEBIAN_SDK_PACKAGE_SUGGESTS "bdtrace, gcc-aarch64-linux-gnu, gcc-riscv64-linux-gnu, gcc-s390x-linux-gnu")
set(CPACK_COMPONENT_SDK_DESCRIPTION
    "bdtrace guest SDK: libbdguest and its headers
libbdguest (static and shared) and <bd/bd.h> let a program running in a
QEMU guest mark points of interest (bd_mark()) for bdtrace's QEMU plugin.
Ships a pkg-config file (bdguest) and a CMake package (bdtrace, target
bdtrace::bdguest).")

# dkms: the guest kernel module's source; maintainer scripts register it
# with DKMS and build it only where the running kernel's headers exist.
set(CPACK_DEBIAN_DKMS_PACKAGE_NAME bd-sched-dkms)
set(CPACK_DEBIAN_DKMS_PACKAGE_SECTION kernel)
set(CPACK_DEBIAN_DKMS_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_DKMS_PACKAGE_DEPENDS "dkms")
set(CPACK_COMPONENT_DKMS_DESCRIPTION
    "bdtrace's bd_sched guest kernel module (DKMS source)
bd_sched marks every context switch of a Linux guest for bdtrace, through
the ivshmem device that bd-run --system gives the VM. Install this package
inside the guest: DKMS builds the module for each kernel whose headers are
installed (linux-headers-<version>).")
foreach(script postinst prerm)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/deb/bd-sched-dkms.${script}.in
                 ${CMAKE_BINARY_DIR}/deb/bd-sched-dkms/${script} @ONLY)
  list(APPEND CPACK_DEBIAN_DKMS_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/deb/bd-sched-dkms/${script})
endforeach()

# /usr/share/doc/<package>/copyright (Debian policy 12.5): the project's
# LICENSE (which part carries which license) and the full text of each
# license the package's files carry (LICENSES/).
function(bdtrace_deb_copyright component package)
  if(NOT EXISTS ${PROJECT_SOURCE_DIR}/LICENSE)
    return()
  endif()
  file(READ ${PROJECT_SOURCE_DIR}/LICENSE text)
  foreach(license IN LISTS ARGN)
    file(READ ${PROJECT_SOURCE_DIR}/LICENSES/${license}.txt license_text)
    string(APPEND text "\n\n${license} (LICENSES/${license}.txt):\n\n${license_text}")
  endforeach()
  file(WRITE ${CMAKE_BINARY_DIR}/deb/${package}/copyright "${text}")
  install(FILES ${CMAKE_BINARY_DIR}/deb/${package}/copyright
          DESTINATION share/doc/${package} COMPONENT ${component})
endfunction()
# The plugin builds are GPL-2.0-or-later, the tools MIT.
bdtrace_deb_copyright(host bdtrace MIT GPL-2.0-or-later)
bdtrace_deb_copyright(sdk libbdguest-dev MIT)
bdtrace_deb_copyright(dkms bd-sched-dkms GPL-2.0-only)

include(CPack)
