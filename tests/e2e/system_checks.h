/* SPDX-License-Identifier: MIT */
// Checks every full-system boot of the suite makes the same way, whatever
// the guest architecture: the guest script's "before"/"after" context-switch
// counts around marks 900/901, the rejections of guest-forge,
// guest-hostile-system and (where the script runs them) guest-hostile-bar
// and guest-slot-exhaust, and bd_sched's clean unload. `events` are the VM's own,
// `lines` the guest's "bd-test:" console lines (vm_console.h).
#pragma once

#include <string>
#include <vector>

#include "support.h"

namespace bdtest {

// As many sched_switch events between marks 900 and 901 as the guest kernel
// counted (within 1%; at least `min_switches` of them), from vCPUs 0 and 1.
void expect_switches_match_the_guests_count(const std::vector<TraceEvent> &events,
                                            const std::vector<std::string> &lines, long long min_switches);

// Forged SCHED_SWITCH records from user space are rejected as
// kernel_only_kind and never become events; the hostile records are all
// counted, and nothing else is rejected. Counts come from the guest's
// lines: "forge forged N", every "PROGRAM expect_rejected N",
// "PROGRAM expect_kernel_only N" and "PROGRAM expect_call_bad_page N" (traps
// inside data pages), "exhaust lost N" (no_free_slot), and
// bd_sched's unload line (its own traps the plugin rejected).
void expect_forged_and_hostile_records_rejected(const std::vector<TraceEvent> &events,
                                                const std::vector<std::string> &lines);

// "rmmod ok" and no Oops, BUG: or WARNING: on the console.
void expect_module_unloaded_cleanly(const std::vector<std::string> &lines);

}  // namespace bdtest
