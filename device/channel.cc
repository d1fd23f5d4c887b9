// SPDX-License-Identifier: GPL-2.0-or-later
// Channel header initialisation (the hot path is inline in channel.h).
#include "bdtrace/device/channel.h"

#include <atomic>
#include <cstring>

namespace bdtrace::device {

void Channel::init_header(uint32_t nr_vcpus) noexcept {
  bd_channel_header *h = header();
  // A guest (or a reader like bd-run) must never see the magic on a
  // half-written header: retract it first, publish it last.
  __atomic_store_n(&h->magic, 0u, __ATOMIC_RELEASE);
  std::memset(mem_ + sizeof h->magic, 0, BD_CHANNEL_SIZE - sizeof h->magic);
  h->version = BD_CHANNEL_VERSION;
  h->record_size = BD_RECORD_SIZE;
  h->channel_size = BD_CHANNEL_SIZE;
  h->nr_vcpus = nr_vcpus;
  h->kernel_offset = BD_CHANNEL_KERNEL_OFFSET;
  h->kernel_slots = BD_CHANNEL_KERNEL_SLOTS;
  h->claims_offset = BD_CHANNEL_CLAIMS_OFFSET;
  h->user_offset = BD_CHANNEL_USER_OFFSET;
  h->user_slots = BD_CHANNEL_USER_SLOTS;
  h->data_offset = BD_CHANNEL_DATA_OFFSET;  // calls and bulk marks served
  h->generation = 0;
  // No filter yet: everything enabled on every vCPU (a filter's maps are
  // published with its generation).
  for (auto &vcpu : h->enable)
    for (auto &word : vcpu) word = ~uint64_t{0};
  for (auto &word : h->unions) word = ~uint64_t{0};
  std::atomic_thread_fence(std::memory_order_release);
  __atomic_store_n(&h->magic, BD_CHANNEL_MAGIC, __ATOMIC_RELEASE);
  base_.store(kNoBase, std::memory_order_relaxed);
}

}  // namespace bdtrace::device
