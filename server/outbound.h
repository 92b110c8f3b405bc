// Outbound: the bytes queued for one connection, waiting to be written.
//
// Publishers on any I/O thread append MSG/HMSG frames for a subscriber; the
// subscriber's own I/O thread takes everything queued so far and writes it
// with one gather write. Appends made while a write is in flight accumulate
// for the next write, so a busy consumer gets few large writes instead of
// many small ones.
//
//   Outbound out;
//   auto r = out.Append({"MSG foo 1 5\r\n", "hello", "\r\n"}, max_pending);
//   if (r == Outbound::AppendResult::kQueuedNeedsFlush) { /* wake owner */ }
//   ...owner thread:
//   std::vector<iovec> iov;
//   Outbound::Taken taken;
//   if (out.TakeForWrite(&iov, &taken)) conn->Write(iov);
//   ...on write completion: out.WriteDone();
//
// Thread-safety: Append(), Close() and pending_bytes() may be called from any
// thread. TakeForWrite() and WriteDone() only from the owner's loop thread,
// alternately (one write in flight at a time).
#ifndef NATSD_SERVER_OUTBOUND_H_
#define NATSD_SERVER_OUTBOUND_H_

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace natsd {

class Outbound {
 public:
  enum class AppendResult {
    kQueued,            // queued; the owner has already been asked to flush
    kQueuedNeedsFlush,  // queued; the caller must make sure the owner flushes
    kOverLimit,         // not queued: it would exceed max_pending
    kClosed,            // not queued: the connection is closing
  };

  Outbound() = default;
  Outbound(const Outbound&) = delete;
  Outbound& operator=(const Outbound&) = delete;

  // Queues the concatenation of `pieces` as one unit (all or nothing).
  // max_pending <= 0 means no limit.
  AppendResult Append(std::initializer_list<std::string_view> pieces,
                      int64_t max_pending) {
    return AppendImpl(pieces, max_pending, 0, 0);
  }
  // As Append, for one MSG/HMSG frame carrying `payload_bytes` of payload:
  // also counted in the Taken totals of the TakeForWrite that takes it.
  AppendResult AppendMessage(std::initializer_list<std::string_view> pieces,
                             size_t payload_bytes, int64_t max_pending) {
    return AppendImpl(pieces, max_pending, 1, payload_bytes);
  }

  // The messages (AppendMessage calls) and their payload bytes in one take.
  struct Taken {
    uint64_t msgs = 0;
    uint64_t payload_bytes = 0;
  };

  // Owner only: moves everything queued into the in-flight set and describes
  // it in `iov`. Returns false (and clears the flush request) when nothing is
  // queued. The in-flight bytes stay valid until WriteDone().
  // `taken` receives the messages in it, so statistics are updated once per
  // write by the owner instead of per delivery by every publisher.
  bool TakeForWrite(std::vector<iovec>* iov, Taken* taken);
  // Owner only: the in-flight bytes were written; releases them.
  void WriteDone();

  // Refuses further appends (the connection is closing). With drop_queued,
  // also discards what was queued but not yet in flight; without, the owner
  // may still take and write it (a final -ERR before closing).
  void Close(bool drop_queued);

  // Bytes queued plus bytes in flight.
  int64_t pending_bytes() const {
    return bytes_.load(std::memory_order_relaxed);
  }

 private:
  // A contiguous chunk of queued bytes. Small frames share a block; a frame
  // larger than kBlockSize gets a block of its own size.
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size = 0;
    size_t capacity = 0;
  };
  static constexpr size_t kBlockSize = 16 * 1024;

  AppendResult AppendImpl(std::initializer_list<std::string_view> pieces,
                          int64_t max_pending, uint64_t msgs,
                          uint64_t payload_bytes);

  absl::Mutex mu_;
  std::vector<Block> queued_ ABSL_GUARDED_BY(mu_);
  // True from the first append after a TakeForWrite until the next
  // TakeForWrite: producers signal the owner only on the false->true edge.
  bool flush_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  Taken queued_counts_ ABSL_GUARDED_BY(mu_);
  // Owned by the loop thread between TakeForWrite and WriteDone.
  std::vector<Block> in_flight_;
  size_t in_flight_bytes_ = 0;
  std::atomic<int64_t> bytes_{0};
};

}  // namespace natsd

#endif  // NATSD_SERVER_OUTBOUND_H_
