/* SPDX-License-Identifier: MIT */
// Keeps a trace readable when its filesystem fills up.
//
// LTTng's consumer writes whatever fits when the disk is full: a data file
// cut inside a packet, a metadata file cut short or left empty (measured:
// a 1 MiB tmpfs got 1 MiB of data and an empty metadata file), and
// babeltrace2 then reads none of it. So bd-run stops recording while
// everything LTTng may still have to write fits: every sub-buffer of every
// CPU, plus room for the metadata and the indexes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bdtrace/status.h"

namespace bdtrace::bdrun {

// Bytes stopping a session with these buffers may still write.
uint64_t trace_headroom(uint64_t subbuf_size, uint64_t subbuf_count);

// Bytes an unprivileged writer may still use on the filesystem of `dir`.
Expected<uint64_t> free_bytes(const std::string& dir);

// "12.5 MiB".
std::string mib(uint64_t bytes);

}  // namespace bdtrace::bdrun
