/* SPDX-License-Identifier: MIT */
// RAII owners for babeltrace2 references: the destructor puts the reference.
#ifndef BDTRACE_ANALYZER_BT_REF_H
#define BDTRACE_ANALYZER_BT_REF_H

#include <babeltrace2/babeltrace.h>

#include <utility>

namespace bdtrace::analyzer {

// Owns one reference to a babeltrace2 object of type T; Put releases it.
template <typename T, void (*Put)(const T *)>
class BtRef {
 public:
  BtRef() = default;
  // Takes over a reference the caller owns (a *_create or *_get_ref result).
  explicit BtRef(T *ptr) : ptr_(ptr) {}
  ~BtRef() { reset(); }

  BtRef(const BtRef &) = delete;
  BtRef &operator=(const BtRef &) = delete;
  BtRef(BtRef &&other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  BtRef &operator=(BtRef &&other) noexcept {
    if (this != &other) {
      reset();
      ptr_ = std::exchange(other.ptr_, nullptr);
    }
    return *this;
  }

  T *get() const { return ptr_; }
  explicit operator bool() const { return ptr_ != nullptr; }
  // For out-parameters of babeltrace2 functions: drops the current reference.
  T **out() {
    reset();
    return &ptr_;
  }
  T *release() { return std::exchange(ptr_, nullptr); }
  void reset(T *ptr = nullptr) {
    if (ptr_ != nullptr) Put(ptr_);
    ptr_ = ptr;
  }

 private:
  T *ptr_ = nullptr;
};

using GraphRef = BtRef<bt_graph, bt_graph_put_ref>;
using ValueRef = BtRef<bt_value, bt_value_put_ref>;
using PluginRef = BtRef<const bt_plugin, bt_plugin_put_ref>;
using SourceClassRef = BtRef<const bt_component_class_source, bt_component_class_source_put_ref>;
using FilterClassRef = BtRef<const bt_component_class_filter, bt_component_class_filter_put_ref>;
using MessageRef = BtRef<const bt_message, bt_message_put_ref>;
using ErrorRef = BtRef<const bt_error, bt_error_release>;

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_BT_REF_H
