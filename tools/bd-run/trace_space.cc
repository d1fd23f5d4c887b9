// SPDX-License-Identifier: MIT
#include "trace_space.h"

#include "bdtrace/tools/lttng_session.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace bdtrace::bdrun {
namespace {

// Metadata (~30 KiB for bdtrace), the index files and what the filesystem
// rounds up to blocks.
constexpr uint64_t kMetadataAndIndexes = 1u << 20;

}  // namespace

uint64_t trace_headroom(uint64_t subbuf_size, uint64_t subbuf_count) {
  // Per-UID buffers are per possible CPU.
  const long cpus = ::sysconf(_SC_NPROCESSORS_CONF);
  const tools::SessionOptions defaults;  // the counts channel's buffers
  const uint64_t per_cpu =
      subbuf_size * subbuf_count + defaults.counts_subbuf_size * defaults.counts_subbuf_count;
  return per_cpu * static_cast<uint64_t>(cpus > 0 ? cpus : 1) + kMetadataAndIndexes;
}

Expected<uint64_t> free_bytes(const std::string& dir) {
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) {
    return make_error("cannot read the free space of " + dir + ": " + std::strerror(errno));
  }
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
}

std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1u << 20));
  return buf;
}

}  // namespace bdtrace::bdrun
