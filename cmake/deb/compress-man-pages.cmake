# SPDX-License-Identifier: MIT
# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS, cmake/Packaging.cmake):
# Debian ships man pages gzip-compressed (policy 12.1); -n keeps the
# packages reproducible (no name or time stamp in the .gz).
file(GLOB_RECURSE pages LIST_DIRECTORIES false "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*.[1-9]")
list(FILTER pages INCLUDE REGEX "/share/man/man[1-9]/[^/]+$")
foreach(page IN LISTS pages)
  execute_process(COMMAND gzip -9nf "${page}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip -9nf ${page} failed")
  endif()
endforeach()
