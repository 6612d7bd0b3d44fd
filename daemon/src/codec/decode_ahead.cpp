#include "esrsync/codec/decode_ahead.hpp"

#include <utility>

namespace esrsync::codec {

DecodeAhead::DecodeAhead(Decoder& decoder, Prepare prepare)
    : decoder_(decoder), prepare_(std::move(prepare)), thread_([this](const std::stop_token& stop) { run(stop); }) {}

DecodeAhead::~DecodeAhead() {
  thread_.request_stop();
  finish();
}

void DecodeAhead::finish() {
  if (thread_.joinable()) thread_.join();
}

void DecodeAhead::run(const std::stop_token& stop) {
  for (;;) {
    Chunk chunk;
    {
      std::unique_lock lock(mutex_);
      // At most kDepth chunks ahead: wait for the caller to take one.
      if (!changed_.wait(lock, stop, [this] { return filled_.size() < kDepth; })) return;
      if (!free_.empty()) {
        chunk = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (chunk.items.size() < kChunk) chunk.items.resize(kChunk);
    chunk.size = 0;
    bool end = false;
    while (chunk.size < kChunk) {
      Decoded& d = chunk.items[chunk.size];
      d.canonical.clear();
      d.hash.clear();
      d.packed.clear();
      d.next = decoder_.next(d.record, d.errors);
      if (d.next == Next::end) {
        end = true;
        break;
      }
      if (d.next == Next::record && prepare_) prepare_(d);
      ++chunk.size;
    }
    {
      std::lock_guard lock(mutex_);
      if (chunk.size > 0) filled_.push_back(std::move(chunk));
      done_ = end;
    }
    changed_.notify_all();
    if (end || stop.stop_requested()) return;
  }
}

Decoded* DecodeAhead::next() {
  if (position_ < current_.size) return &current_.items[position_++];
  {
    std::unique_lock lock(mutex_);
    if (!current_.items.empty()) free_.push_back(std::move(current_));
    current_ = Chunk{};
    changed_.wait(lock, [this] { return !filled_.empty() || done_; });
    if (!filled_.empty()) {
      current_ = std::move(filled_.front());
      filled_.pop_front();
    }
  }
  changed_.notify_all();
  position_ = 0;
  if (current_.size == 0) {
    finish();  // done_: the decoder reached its end
    return nullptr;
  }
  return &current_.items[position_++];
}

}  // namespace esrsync::codec
