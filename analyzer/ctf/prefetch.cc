// SPDX-License-Identifier: MIT
#include "ctf/prefetch.h"

#include <exception>
#include <system_error>
#include <utility>

namespace bdtrace::analyzer::ctf {

StreamPrefetcher::~StreamPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status StreamPrefetcher::Start() {
  for (size_t i = 0; i < kQueued; ++i) empty_.push_back(std::make_unique<Batch>());
  reader_.ReleaseManually();
  try {
    thread_ = std::thread(&StreamPrefetcher::Work, this);
  } catch (const std::system_error &e) {
    return make_error(std::string("cannot start a thread to read a stream: ") + e.what());
  }
  return Status::Ok();
}

void StreamPrefetcher::Fill(Batch &b) {
  b.count = 0;
  b.last = false;
  b.status = Status::Ok();
  try {
    if (b.items.size() < batch_items_) {
      b.items.resize(batch_items_);
      b.payloads.resize(batch_items_);
    }
    while (b.count < batch_items_) {
      Item item;
      // Straight into the batch: no copy of the values.
      Status st = reader_.Next(item, b.payloads[b.count]);
      if (!st) {
        b.status = std::move(st);
        b.last = true;
        break;
      }
      if (item.kind == Item::Kind::kEnd) {
        b.last = true;
        break;
      }
      b.items[b.count++] = item;
    }
  } catch (const std::exception &e) {  // std::bad_alloc: the stream ends with an error
    b.status = make_error(std::string("reading a stream ahead failed: ") + e.what());
    b.last = true;
  }
  b.end_offset = reader_.position();
}

void StreamPrefetcher::Work() {
  while (true) {
    std::unique_ptr<Batch> b;
    uint64_t consumed = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || !empty_.empty(); });
      if (stopping_) return;
      b = std::move(empty_.front());
      empty_.pop_front();
      consumed = consumed_;
    }
    // The pages before what the caller is done with leave memory (the
    // reader itself releases nothing: ReleaseManually).
    reader_.ReleaseBefore(consumed);
    Fill(*b);
    const bool last = b->last;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      full_.push_back(std::move(b));
    }
    changed_.notify_all();
    if (last) return;
  }
}

Status StreamPrefetcher::Next(Item &item) {
  while (current_ == nullptr || next_ >= current_->count) {
    if (current_ != nullptr) {
      if (current_->last) {
        if (!current_->status) return current_->status;
        item = Item{};
        return Status::Ok();
      }
      std::lock_guard<std::mutex> lock(mutex_);
      consumed_ = current_->end_offset;
      empty_.push_back(std::move(current_));
    }
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.notify_all();
    changed_.wait(lock, [&] { return !full_.empty(); });
    current_ = std::move(full_.front());
    full_.pop_front();
    next_ = 0;
  }
  item = current_->items[next_];
  if (item.kind == Item::Kind::kEvent) item.payload = &current_->payloads[next_];
  ++next_;
  return Status::Ok();
}

}  // namespace bdtrace::analyzer::ctf
