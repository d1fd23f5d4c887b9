# SPDX-License-Identifier: MIT
# Shared part of the guest cross toolchains (toolchain-<arch>.cmake): Debian's
# cross compilers gcc-<triple> with their libc in /usr/<triple>
# (libc6-dev-<debian-arch>-cross). The including file sets
# CMAKE_SYSTEM_PROCESSOR and BDTRACE_GUEST_TRIPLE. C only: libbdguest and the
# guest programs need nothing else.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${BDTRACE_GUEST_TRIPLE}-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/${BDTRACE_GUEST_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Programs built here run on the build machine under qemu-user.
find_program(BDTRACE_GUEST_EMULATOR qemu-${CMAKE_SYSTEM_PROCESSOR})
if(BDTRACE_GUEST_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${BDTRACE_GUEST_EMULATOR})
endif()
