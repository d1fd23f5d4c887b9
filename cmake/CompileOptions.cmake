# SPDX-License-Identifier: MIT
# The C settings and warnings every bdtrace build shares: the top-level
# project and guest-probes configured alone for another architecture
# (cmake/GuestCross.cmake).
set(CMAKE_C_STANDARD 11)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE RelWithDebInfo)
endif()

option(BDTRACE_WERROR "Treat warnings as errors (CI builds)" OFF)
add_compile_options(-Wall -Wextra)
if(BDTRACE_WERROR)
  add_compile_options(-Werror)
endif()
