/* SPDX-License-Identifier: MIT */
// A fixture whose tests share one boot of a test VM (a tests/e2e/vm/*.sh
// script runs inside it and prints "bd-test:" lines). The derived fixture
// (CRTP) says what to boot:
//   static constexpr const char *kTag;     its TempDir tag; the VM is named
//                                          kTag-<pid>
//   static std::string MissingImage();     "" when its image is there, else
//                                          what is missing and how to make it
//   static RunResult Boot(const std::string &dir, const std::string &trace,
//                         const std::string &vm);
//                                          the bd-run --system command,
//                                          recording into `trace` as `vm`
//                                          (`dir`: the suite's own TempDir)
// The tests read result_, events_ (the VM's own, babeltrace2) and lines_
// (the guest's "bd-test:" lines); every test fails at once when the boot
// failed, with bd-run's stderr and the console.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support.h"
#include "vm_console.h"

namespace bdtest {

template <class Derived>
class VmSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir(Derived::kTag);
    trace_ = dir_->path() + "/trace";
    vm_ = std::string(Derived::kTag) + "-" + std::to_string(getpid());
    result_ = new RunResult();
    events_ = new std::vector<TraceEvent>();
    lines_ = new std::vector<std::string>();
    const std::string missing = Derived::MissingImage();
    if (!missing.empty()) {
      result_->err = missing;
      return;
    }
    *result_ = Derived::Boot(dir_->path(), trace_, vm_);
    *events_ = events_of_vm(read_trace_with_babeltrace2(trace_), vm_);
    *lines_ = guest_lines(result_->out);
  }
  static void TearDownTestSuite() {
    delete lines_;
    delete events_;
    delete result_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_EQ(result_->status, 0) << "the VM run (" << Derived::kTag << ") failed:\n"
                                  << result_->err << "\n--- console:\n"
                                  << result_->out;
  }

  static TempDir *dir_;
  static std::string trace_, vm_;
  static RunResult *result_;
  static std::vector<TraceEvent> *events_;
  static std::vector<std::string> *lines_;
};

template <class D>
TempDir *VmSuite<D>::dir_ = nullptr;
template <class D>
std::string VmSuite<D>::trace_;
template <class D>
std::string VmSuite<D>::vm_;
template <class D>
RunResult *VmSuite<D>::result_ = nullptr;
template <class D>
std::vector<TraceEvent> *VmSuite<D>::events_ = nullptr;
template <class D>
std::vector<std::string> *VmSuite<D>::lines_ = nullptr;

}  // namespace bdtest
