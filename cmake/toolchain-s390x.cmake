# SPDX-License-Identifier: MIT
# s390x guests (64-bit, big-endian): gcc-s390x-linux-gnu, libc6-dev-s390x-cross.
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(BDTRACE_GUEST_TRIPLE s390x-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-linux-gnu.cmake)
