// SPDX-License-Identifier: MIT
// Polling a file for changes (see watcher.h).
#include "bdtrace/filter/watcher.h"

#include <sys/stat.h>

#include <utility>

namespace bdtrace::filter {

FileStamp FileStamp::of(const std::string &path) noexcept {
  FileStamp s;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = static_cast<uint64_t>(st.st_size);
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  return s;
}

FileWatcher::FileWatcher(std::string path, std::chrono::milliseconds period, std::function<void()> on_change)
    : path_(std::move(path)), period_(period), on_change_(std::move(on_change)), last_(FileStamp::of(path_)) {
  thread_ = std::thread([this] { run(); });
}

FileWatcher::~FileWatcher() { stop(); }

void FileWatcher::stop() noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FileWatcher::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, period_, [this] { return stopping_; });
    if (stopping_) break;
    const FileStamp now = FileStamp::of(path_);
    if (!now.exists || now == last_) continue;
    last_ = now;
    lock.unlock();
    try {
      on_change_();
    } catch (...) {
      // The reload path reports its own errors; nothing may kill QEMU.
    }
    lock.lock();
  }
}

}  // namespace bdtrace::filter
