# SPDX-License-Identifier: MIT
# aarch64 guests: gcc-aarch64-linux-gnu, libc6-dev-arm64-cross.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(BDTRACE_GUEST_TRIPLE aarch64-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-linux-gnu.cmake)
