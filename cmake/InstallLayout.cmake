# SPDX-License-Identifier: MIT
# Where `cmake --install build --prefix P` puts things (GNUInstallDirs), in
# one place: the install rules (cmake/Install.cmake) and bd-run's run-time
# lookups (tools/bd-run/install_layout.cc, through the BDTRACE_REL_*
# definitions below) both read it.
#
#   P/bin/                          bd-run, bd-analyze, bd-handler-check,
#                                   bd-mark, bd-demo-workload      (host)
#   P/<libexecdir>/bdtrace/         bd-ring-consumer (bd-run starts it) and
#                                   <arch>/bd-mark, bd-demo-workload for
#                                   the cross-built guest architectures (host)
#   P/<libdir>/bdtrace/             libbdtrace-qemu.so, -vN.so     (host)
#   P/<libdir>/bdtrace/handlers/    libbdhandler-*.so examples     (host)
#   P/<mandir>/man1/                bd-run.1, bd-analyze.1, bd-mark.1 (host)
#   P/<includedir>/bd/              abi.h bd.h channel.h ring.h handler.h (sdk)
#   P/<libdir>/                     libbdguest.a, libbdguest.so, pkgconfig/
#                                   bdguest.pc, cmake/bdtrace/     (sdk)
#   P/lib/<arch>-linux-gnu/         the same for each cross-built guest
#                                   architecture (Debian's multiarch names) (sdk)
#
# <libdir> is GNUInstallDirs' CMAKE_INSTALL_LIBDIR: "lib" for most
# prefixes, "lib/x86_64-linux-gnu" on Debian for the prefix /usr.
include(GNUInstallDirs)

set(BDTRACE_INSTALL_PLUGINDIR ${CMAKE_INSTALL_LIBDIR}/bdtrace)
set(BDTRACE_INSTALL_HANDLERDIR ${CMAKE_INSTALL_LIBDIR}/bdtrace/handlers)
set(BDTRACE_INSTALL_HELPERDIR ${CMAKE_INSTALL_LIBEXECDIR}/bdtrace)
set(BDTRACE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/bdtrace)

# The library directory of a cross-built guest architecture.
function(bdtrace_install_guest_libdir arch out)
  set(${out} lib/${arch}-linux-gnu PARENT_SCOPE)
endfunction()

# Each directory relative to the installed bin/, baked into bd-run: an
# installed bd-run finds its plugin from its own place, whatever the prefix.
function(bdtrace_rel_from_bin dir out)
  file(RELATIVE_PATH rel /prefix/${CMAKE_INSTALL_BINDIR} /prefix/${dir})
  set(${out} ${rel} PARENT_SCOPE)
endfunction()
bdtrace_rel_from_bin(${BDTRACE_INSTALL_PLUGINDIR} BDTRACE_REL_PLUGINDIR)
bdtrace_rel_from_bin(${BDTRACE_INSTALL_HELPERDIR} BDTRACE_REL_HELPERDIR)
bdtrace_rel_from_bin(${CMAKE_INSTALL_LIBDIR} BDTRACE_REL_LIBDIR)
bdtrace_rel_from_bin(lib BDTRACE_REL_LIB)
