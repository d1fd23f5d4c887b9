/* SPDX-License-Identifier: MIT */
// Reading a stream ahead on a thread of its own: the fast reader's way of
// using more cores (one StreamPrefetcher per stream file, while the merge
// and the report run on the caller's thread).
//
// The thread calls the StreamReader's Next() and hands its items over in
// batches through a short queue (at most kQueued batches ahead, so memory
// stays bounded whatever the trace size); Next() here gives the same items
// in the same order, and the same error at the same place. The values
// point into the stream's mapping, whose pages the thread releases only up
// to the end of the last batch the caller has finished with.
//
// Thread safety: Next() from one thread (the caller); the StreamReader is
// the worker's alone from Start() until the prefetcher is destroyed.
#ifndef BDTRACE_ANALYZER_CTF_PREFETCH_H
#define BDTRACE_ANALYZER_CTF_PREFETCH_H

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ctf/stream_reader.h"
#include "bdtrace/status.h"

namespace bdtrace::analyzer::ctf {

class StreamPrefetcher {
 public:
  // batch_items: items handed over at a time (tests use a few, to cross
  // many batches on a small stream).
  explicit StreamPrefetcher(StreamReader &reader, size_t batch_items = kBatchItems)
      : reader_(reader), batch_items_(batch_items > 0 ? batch_items : 1) {}
  StreamPrefetcher(const StreamPrefetcher &) = delete;
  StreamPrefetcher &operator=(const StreamPrefetcher &) = delete;
  // Stops the thread (it may be waiting for room in the queue) and joins it.
  ~StreamPrefetcher();

  // Starts the thread; an Error when it cannot be started.
  Status Start();
  // As StreamReader::Next. item.payload stays valid until the next call.
  Status Next(Item &item);

  static constexpr size_t kBatchItems = 1024;

 private:
  static constexpr size_t kQueued = 4;
  struct Batch {
    std::vector<Item> items;
    std::vector<std::vector<Value>> payloads;  // items[i]'s, capacity kept across uses
    size_t count = 0;
    bool last = false;        // the stream ends (or failed) after these items
    Status status;            // why it failed, when last
    uint64_t end_offset = 0;  // the reader's position after the batch
  };

  void Work();
  // Fills b from the reader; false when the stream is done (b->last).
  void Fill(Batch &b);

  StreamReader &reader_;
  const size_t batch_items_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Batch>> full_, empty_;
  bool stopping_ = false;
  uint64_t consumed_ = 0;  // bytes of the stream the caller is done with
  // The caller's side.
  std::unique_ptr<Batch> current_;
  size_t next_ = 0;
};

}  // namespace bdtrace::analyzer::ctf

#endif  // BDTRACE_ANALYZER_CTF_PREFETCH_H
