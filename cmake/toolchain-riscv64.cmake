# SPDX-License-Identifier: MIT
# riscv64 guests: gcc-riscv64-linux-gnu, libc6-dev-riscv64-cross.
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(BDTRACE_GUEST_TRIPLE riscv64-linux-gnu)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-linux-gnu.cmake)
