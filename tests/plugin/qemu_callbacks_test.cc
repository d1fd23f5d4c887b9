// SPDX-License-Identifier: MIT
// <bdtrace/qemu_plugin_callbacks.h>: each generation's adapter hands the
// generation-neutral callback the arguments QEMU passes, in the right
// places. Built once per plugin API generation (BDTRACE_QEMU_PLUGIN_API, a
// bdtrace_qemu_api_vN target), with this file standing in for QEMU: its
// registration functions keep what they are given, and the test calls the
// kept callbacks the way that generation's QEMU does (generation 7 is how
// Debian's 11.1.3 calls them, read from its binary; the v7 build runs only
// in full-system mode here, so its user-mode syscall adapters are checked
// only by this test).
#include <bdtrace/qemu_plugin_callbacks.h>
#include <gtest/gtest.h>

#include <cstdint>

namespace {

// What the stand-in registration functions were given.
struct Registered {
  qemu_plugin_id_t id = 0;
  void *userdata = reinterpret_cast<void *>(uintptr_t{1});  // 1: never registered
  qemu_plugin_vcpu_tb_trans_cb_t tb_trans = nullptr;
  qemu_plugin_vcpu_syscall_cb_t syscall = nullptr;
  qemu_plugin_vcpu_syscall_ret_cb_t syscall_ret = nullptr;
  qemu_plugin_udata_cb_t atexit = nullptr;
#if BDTRACE_QEMU_PLUGIN_API <= 6
  qemu_plugin_vcpu_simple_cb_t init = nullptr, exit = nullptr;
#else
  qemu_plugin_vcpu_udata_cb_t init = nullptr, exit = nullptr;
#endif
};
Registered g_reg;

// What the generation-neutral callbacks received.
struct Seen {
  int calls = 0;
  unsigned vcpu = 0;
  int64_t num = 0, ret = 0;
  uint64_t a1 = 0, a2 = 0;
  struct qemu_plugin_tb *tb = nullptr;
};
Seen g_seen;

void on_init(unsigned int vcpu) noexcept {
  ++g_seen.calls;
  g_seen.vcpu = vcpu;
}
void on_exit(unsigned int vcpu) noexcept {
  ++g_seen.calls;
  g_seen.vcpu = vcpu + 1000;
}
void on_tb(struct qemu_plugin_tb *tb) noexcept {
  ++g_seen.calls;
  g_seen.tb = tb;
}
void on_syscall(unsigned int vcpu, int64_t num, uint64_t a1, uint64_t a2) noexcept {
  ++g_seen.calls;
  g_seen.vcpu = vcpu;
  g_seen.num = num;
  g_seen.a1 = a1;
  g_seen.a2 = a2;
}
void on_syscall_ret(unsigned int vcpu, int64_t num, int64_t ret) noexcept {
  ++g_seen.calls;
  g_seen.vcpu = vcpu;
  g_seen.num = num;
  g_seen.ret = ret;
}
void on_atexit() noexcept { ++g_seen.calls; }

constexpr qemu_plugin_id_t kId = 0x1d;
auto *const kTb = reinterpret_cast<struct qemu_plugin_tb *>(uintptr_t{0x7b00});

class QemuCallbacks : public ::testing::Test {
 protected:
  void SetUp() override {
    g_reg = Registered{};
    g_seen = Seen{};
  }
};

#if BDTRACE_QEMU_PLUGIN_API <= 6

TEST_F(QemuCallbacks, GenerationsOneToSixPassTheIdFirst) {
  bdtrace::qemu_api::register_vcpu_init<on_init>(kId);
  ASSERT_EQ(g_reg.id, kId);
  g_reg.init(kId, 3);
  EXPECT_EQ(g_seen.vcpu, 3u);
  bdtrace::qemu_api::register_vcpu_exit<on_exit>(kId);
  g_reg.exit(kId, 4);
  EXPECT_EQ(g_seen.vcpu, 1004u);
  bdtrace::qemu_api::register_tb_trans<on_tb>(kId);
  g_reg.tb_trans(kId, kTb);
  EXPECT_EQ(g_seen.tb, kTb);
  bdtrace::qemu_api::register_syscall<on_syscall>(kId);
  g_reg.syscall(kId, 5, 56, 0xa1, 0xa2, 3, 4, 5, 6, 7, 8);
  EXPECT_EQ(g_seen.vcpu, 5u);
  EXPECT_EQ(g_seen.num, 56);
  EXPECT_EQ(g_seen.a1, 0xa1u);
  EXPECT_EQ(g_seen.a2, 0xa2u);
  bdtrace::qemu_api::register_syscall_ret<on_syscall_ret>(kId);
  g_reg.syscall_ret(kId, 6, 57, -22);
  EXPECT_EQ(g_seen.vcpu, 6u);
  EXPECT_EQ(g_seen.num, 57);
  EXPECT_EQ(g_seen.ret, -22);
  bdtrace::qemu_api::register_atexit<on_atexit>(kId);
  EXPECT_EQ(g_reg.userdata, nullptr);
  g_reg.atexit(kId, nullptr);
  EXPECT_EQ(g_seen.calls, 6);
}

#else

TEST_F(QemuCallbacks, GenerationSevenPassesNoIdAndTheUserdataLast) {
  bdtrace::qemu_api::register_vcpu_init<on_init>(kId);
  ASSERT_EQ(g_reg.id, kId);
  EXPECT_EQ(g_reg.userdata, nullptr);
  g_reg.init(3, nullptr);
  EXPECT_EQ(g_seen.vcpu, 3u);
  bdtrace::qemu_api::register_vcpu_exit<on_exit>(kId);
  g_reg.exit(4, nullptr);
  EXPECT_EQ(g_seen.vcpu, 1004u);
  bdtrace::qemu_api::register_tb_trans<on_tb>(kId);
  g_reg.tb_trans(kTb, nullptr);
  EXPECT_EQ(g_seen.tb, kTb);
  bdtrace::qemu_api::register_syscall<on_syscall>(kId);
  g_reg.syscall(5, 56, 0xa1, 0xa2, 3, 4, 5, 6, 7, 8, nullptr);
  EXPECT_EQ(g_seen.vcpu, 5u);
  EXPECT_EQ(g_seen.num, 56);
  EXPECT_EQ(g_seen.a1, 0xa1u);
  EXPECT_EQ(g_seen.a2, 0xa2u);
  bdtrace::qemu_api::register_syscall_ret<on_syscall_ret>(kId);
  g_reg.syscall_ret(6, 57, -22, nullptr);
  EXPECT_EQ(g_seen.vcpu, 6u);
  EXPECT_EQ(g_seen.num, 57);
  EXPECT_EQ(g_seen.ret, -22);
  bdtrace::qemu_api::register_atexit<on_atexit>(kId);
  g_reg.atexit(nullptr);
  EXPECT_EQ(g_seen.calls, 6);
}

#endif

}  // namespace

// The stand-in for QEMU's registration functions (the plugin resolves them
// against the QEMU executable; here the test defines them): each keeps the
// id, the callback and (generation 7) the userdata.
namespace {
template <typename Cb>
void keep(qemu_plugin_id_t id, Cb &slot, Cb cb, void *userdata = nullptr) {
  g_reg.id = id;
  slot = cb;
  g_reg.userdata = userdata;
}
}  // namespace

extern "C" {
#if BDTRACE_QEMU_PLUGIN_API <= 6
void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb) {
  keep(id, g_reg.init, cb);
}
void qemu_plugin_register_vcpu_exit_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb) {
  keep(id, g_reg.exit, cb);
}
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb) {
  keep(id, g_reg.tb_trans, cb);
}
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_cb_t cb) {
  keep(id, g_reg.syscall, cb);
}
void qemu_plugin_register_vcpu_syscall_ret_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_ret_cb_t cb) {
  keep(id, g_reg.syscall_ret, cb);
}
#else
void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_udata_cb_t cb, void *userdata) {
  keep(id, g_reg.init, cb, userdata);
}
void qemu_plugin_register_vcpu_exit_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_udata_cb_t cb, void *userdata) {
  keep(id, g_reg.exit, cb, userdata);
}
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb,
                                           void *userdata) {
  keep(id, g_reg.tb_trans, cb, userdata);
}
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_cb_t cb,
                                          void *userdata) {
  keep(id, g_reg.syscall, cb, userdata);
}
void qemu_plugin_register_vcpu_syscall_ret_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_ret_cb_t cb,
                                              void *userdata) {
  keep(id, g_reg.syscall_ret, cb, userdata);
}
#endif
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata) {
  keep(id, g_reg.atexit, cb, userdata);
}
}
