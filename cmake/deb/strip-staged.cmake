# SPDX-License-Identifier: MIT
# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS, cmake/Packaging.cmake):
# strips what CPACK_STRIP_FILES leaves with debug information in the staging
# tree, i.e. the other guest architectures' libbdguest and guest programs,
# which are installed as files, not targets, and which only their own
# binutils read. Each file goes to the first strip in
# CPACK_BDTRACE_STRIP_PROGRAMS (the host's, then each cross toolchain's)
# that recognises it. Archives keep their symbols (--strip-debug).
file(GLOB_RECURSE staged LIST_DIRECTORIES false "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*")
foreach(f IN LISTS staged)
  if(IS_SYMLINK "${f}")
    continue()
  endif()
  file(READ "${f}" magic LIMIT 8 HEX)
  if(magic MATCHES "^7f454c46")  # \177ELF
    set(mode --strip-unneeded)
  elseif(magic STREQUAL "213c617263683e0a")  # !<arch>\n
    set(mode --strip-debug)
  else()
    continue()
  endif()
  execute_process(COMMAND readelf -S --wide "${f}" OUTPUT_VARIABLE sections ERROR_QUIET)
  if(NOT sections MATCHES "\\.debug_")
    continue()
  endif()
  set(stripped FALSE)
  foreach(strip IN LISTS CPACK_BDTRACE_STRIP_PROGRAMS)
    execute_process(COMMAND "${strip}" ${mode} "${f}" RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(rc EQUAL 0)
      set(stripped TRUE)
      break()
    endif()
  endforeach()
  if(NOT stripped)
    message(FATAL_ERROR "no strip of ${CPACK_BDTRACE_STRIP_PROGRAMS} recognises ${f}: "
                        "install the binutils of its architecture (gcc-ARCH-linux-gnu brings them)")
  endif()
endforeach()
