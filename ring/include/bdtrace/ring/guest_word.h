/* SPDX-License-Identifier: MIT */
// Loads and stores of single fields of a ring region in the guest's byte
// order (<bd/ring.h>, BYTE ORDER).
//
// Every field of the region is in the guest's order. The consumer reads and
// writes shared fields with these, each one atomic access as before, with
// the swap applied to the value in a register. kSwap (the guest's order is
// not the host's) is a template argument on the draining path, chosen once
// per pass; the plain functions taking a ByteOrder are for the paths that
// run once per run or per filter change.
#ifndef BDTRACE_RING_GUEST_WORD_H
#define BDTRACE_RING_GUEST_WORD_H

#include <bd/ring.h>

#include "bdtrace/byte_order.h"

namespace bdtrace::ring {

template <bool kSwap, class T>
inline T load_guest(const T *field, int memorder) noexcept {
  return guest_order<kSwap>(__atomic_load_n(field, memorder));
}

template <bool kSwap, class T>
inline void store_guest(T *field, T value, int memorder) noexcept {
  __atomic_store_n(field, guest_order<kSwap>(value), memorder);
}

template <class T>
inline T load_guest(ByteOrder order, const T *field, int memorder) noexcept {
  return order == kHostByteOrder ? load_guest<false>(field, memorder) : load_guest<true>(field, memorder);
}

template <class T>
inline void store_guest(ByteOrder order, T *field, T value, int memorder) noexcept {
  if (order == kHostByteOrder)
    store_guest<false>(field, value, memorder);
  else
    store_guest<true>(field, value, memorder);
}

// Reverses the byte order of every integer field of a slot (a private
// copy): a record of the other byte order to host values, and back.
inline void swap_ring_record_fields(bd_ring_record &r) noexcept {
  r.ts = byte_swap(r.ts);
  r.kind = byte_swap(r.kind);
  r.text_len = byte_swap(r.text_len);
  r.event = byte_swap(r.event);
  for (auto &a : r.args) a = byte_swap(a);
  r.pid = byte_swap(r.pid);
  r.tid = byte_swap(r.tid);
  r.seq = byte_swap(r.seq);
}

}  // namespace bdtrace::ring

#endif  // BDTRACE_RING_GUEST_WORD_H
