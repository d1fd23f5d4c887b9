/* SPDX-License-Identifier: MIT */
// Guest byte order on the host side.
//
// Records (<bd/abi.h>) and ring regions (<bd/ring.h>) hold every field in
// the guest's byte order: big-endian for s390x, little-endian for x86_64,
// aarch64 and riscv64 (and the x86_64 host). The host decides once per run
// whether the guest's order is its own and picks a code path for it (a
// template argument kSwap), so a guest of the host's order pays nothing:
// no branch per field, and the same code as before byte order existed.
#ifndef BDTRACE_BYTE_ORDER_H
#define BDTRACE_BYTE_ORDER_H

#include <cstdint>
#include <type_traits>

namespace bdtrace {

enum class ByteOrder : uint8_t { Little, Big };

constexpr ByteOrder kHostByteOrder =
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ByteOrder::Little : ByteOrder::Big;

// "little-endian" / "big-endian", for messages.
constexpr const char *byte_order_name(ByteOrder order) noexcept {
  return order == ByteOrder::Big ? "big-endian" : "little-endian";
}

// The value with its bytes reversed (any integer of 1, 2, 4 or 8 bytes).
template <class T>
constexpr T byte_swap(T v) noexcept {
  static_assert(std::is_integral_v<T>, "integers only");
  using U = std::make_unsigned_t<T>;
  const U u = static_cast<U>(v);
  if constexpr (sizeof(T) == 1)
    return v;
  else if constexpr (sizeof(T) == 2)
    return static_cast<T>(__builtin_bswap16(u));
  else if constexpr (sizeof(T) == 4)
    return static_cast<T>(__builtin_bswap32(u));
  else {
    static_assert(sizeof(T) == 8, "1, 2, 4 or 8 bytes");
    return static_cast<T>(__builtin_bswap64(u));
  }
}

// A value between guest and host order (the conversion is its own
// inverse): unchanged unless kSwap.
template <bool kSwap, class T>
constexpr T guest_order(T v) noexcept {
  if constexpr (kSwap)
    return byte_swap(v);
  else
    return v;
}

}  // namespace bdtrace

#endif  // BDTRACE_BYTE_ORDER_H
