/* SPDX-License-Identifier: MIT */
// Polls a file for changes from a thread of its own (no signals: QEMU
// linux-user forwards them to the guest; no inotify: the file may be
// replaced by rename, on any file system).
//
// Every `period` the thread stats the path; when device, inode, size,
// mtime or ctime differ from the last look it calls on_change() (from the
// watcher thread). Removing the file is not a change (the last config
// stays); a file that appears again is.
#ifndef BDTRACE_FILTER_WATCHER_H
#define BDTRACE_FILTER_WATCHER_H

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace bdtrace::filter {

struct FileStamp {
  bool exists = false;
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileStamp &o) const {
    return exists == o.exists && dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns &&
           ctime_ns == o.ctime_ns;
  }
  bool operator!=(const FileStamp &o) const { return !(*this == o); }
  static FileStamp of(const std::string &path) noexcept;
};

class FileWatcher {
 public:
  // Takes the file's current stamp as the baseline (the caller has just
  // loaded it) and starts the thread.
  FileWatcher(std::string path, std::chrono::milliseconds period, std::function<void()> on_change);
  ~FileWatcher();  // stop()
  FileWatcher(const FileWatcher &) = delete;
  FileWatcher &operator=(const FileWatcher &) = delete;

  // Stops and joins the thread; returns within about one stat call.
  void stop() noexcept;

 private:
  void run();

  std::string path_;
  std::chrono::milliseconds period_;
  std::function<void()> on_change_;
  FileStamp last_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace bdtrace::filter

#endif  // BDTRACE_FILTER_WATCHER_H
