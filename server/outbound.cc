#include "server/outbound.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace natsd {

Outbound::AppendResult Outbound::AppendImpl(
    std::initializer_list<std::string_view> pieces, int64_t max_pending,
    uint64_t msgs, uint64_t payload_bytes) {
  size_t total = 0;
  for (std::string_view p : pieces) total += p.size();

  absl::MutexLock lock(&mu_);
  if (closed_) return AppendResult::kClosed;
  if (max_pending > 0 &&
      bytes_.load(std::memory_order_relaxed) + static_cast<int64_t>(total) >
          max_pending) {
    return AppendResult::kOverLimit;
  }
  if (queued_.empty() ||
      queued_.back().capacity - queued_.back().size < total) {
    Block b;
    b.capacity = std::max(total, kBlockSize);
    b.data = std::make_unique_for_overwrite<char[]>(b.capacity);
    queued_.push_back(std::move(b));
  }
  Block& tail = queued_.back();
  for (std::string_view p : pieces) {
    std::memcpy(tail.data.get() + tail.size, p.data(), p.size());
    tail.size += p.size();
  }
  bytes_.fetch_add(static_cast<int64_t>(total), std::memory_order_relaxed);
  queued_counts_.msgs += msgs;
  queued_counts_.payload_bytes += payload_bytes;
  if (flush_requested_) return AppendResult::kQueued;
  flush_requested_ = true;
  return AppendResult::kQueuedNeedsFlush;
}

bool Outbound::TakeForWrite(std::vector<iovec>* iov, Taken* taken) {
  iov->clear();
  {
    absl::MutexLock lock(&mu_);
    flush_requested_ = false;
    if (queued_.empty()) return false;
    in_flight_.swap(queued_);
    *taken = queued_counts_;
    queued_counts_ = Taken{};
  }
  in_flight_bytes_ = 0;
  for (Block& b : in_flight_) {
    iov->push_back(iovec{b.data.get(), b.size});
    in_flight_bytes_ += b.size;
  }
  return true;
}

void Outbound::WriteDone() {
  in_flight_.clear();
  bytes_.fetch_sub(static_cast<int64_t>(in_flight_bytes_),
                   std::memory_order_relaxed);
  in_flight_bytes_ = 0;
}

void Outbound::Close(bool drop_queued) {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  if (!drop_queued) return;
  size_t dropped = 0;
  for (const Block& b : queued_) dropped += b.size;
  queued_.clear();
  queued_counts_ = Taken{};
  bytes_.fetch_sub(static_cast<int64_t>(dropped), std::memory_order_relaxed);
}

}  // namespace natsd
