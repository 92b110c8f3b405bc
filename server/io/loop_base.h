// What the io_uring and epoll loops share: timers, posted functions and their
// coalesced wake-ups, the batch-end hook, the cached clock, and socket helpers.
// Internal to server/io/.
#ifndef NATSD_SERVER_IO_LOOP_BASE_H_
#define NATSD_SERVER_IO_LOOP_BASE_H_

#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/io/event_loop.h"

namespace natsd::io {

// Implements the backend-independent part of EventLoop. A backend implements
// Run() as:
//
//   RunScope scope(this);
//   while (!stop_requested()) {
//     wait for events, at most WaitTimeout() (nullopt = forever);
//     UpdateNow(); dispatch events; FinishBatch();
//   }
//
// and Wake(), which interrupts that wait from any thread.
//
// Thread-safety: as EventLoop. posted_ is guarded by mu_; the atomics are the
// cross-thread handshake; everything else belongs to the loop thread.
class LoopBase : public EventLoop {
 public:
  LoopBase();
  ~LoopBase() override;

  void Stop() final;
  void Post(absl::AnyInvocable<void() &&> fn) final;
  TimerId AddTimer(absl::Duration after, absl::AnyInvocable<void() &&> fn) final;
  void CancelTimer(TimerId id) final;
  void SetBatchEndHook(absl::AnyInvocable<void()> hook) final;
  absl::Time Now() const final { return now_; }

 protected:
  // Marks this loop as the thread's current loop for the duration of Run().
  class RunScope {
   public:
    explicit RunScope(LoopBase* loop);
    ~RunScope();
    RunScope(const RunScope&) = delete;
    RunScope& operator=(const RunScope&) = delete;
  };

  // Interrupts the loop's wait. Called at most once per burst of posts (and
  // for Stop()), from any thread, possibly before Run() started.
  virtual void Wake() = 0;

  bool stop_requested() const { return stop_.load(std::memory_order_acquire); }
  // How long the next wait may block: zero when posted work is waiting,
  // nullopt when no timer is pending.
  std::optional<absl::Duration> WaitTimeout() const;
  void UpdateNow() { now_ = absl::Now(); }
  // Runs due timers, then posted functions, then the batch-end hook.
  void FinishBatch();

 private:
  using Task = absl::AnyInvocable<void() &&>;

  void RunDueTimers();
  void RunPosted();
  bool on_loop_thread() const;

  absl::Time now_;
  std::atomic<bool> stop_{false};
  // True from the first Post() of a burst until the loop drains the queue:
  // later posts of the burst skip Wake().
  std::atomic<bool> wake_pending_{false};
  absl::Mutex mu_;
  std::vector<Task> posted_ ABSL_GUARDED_BY(mu_);

  // Timers ordered by (deadline, id); ids increase, so equal deadlines run in
  // the order they were added.
  std::map<std::pair<absl::Time, TimerId>, Task> timers_;
  absl::flat_hash_map<TimerId, absl::Time> timer_deadlines_;
  TimerId next_timer_id_ = 1;
  absl::AnyInvocable<void()> batch_end_hook_;
};

// An errno as a Status whose message names the failed operation.
absl::Status ErrnoToStatus(int err, absl::string_view what);

// Aborts with `msg`: a broken invariant or a caller violating the contract.
[[noreturn]] void Die(const char* msg);

struct PeerAddress {
  std::string address;  // "ip:port", "[ip6]:port" for IPv6
  std::string ip;
  int port = 0;
};
PeerAddress GetPeerAddress(int fd);

// A listening TCP socket on host:port (SO_REUSEADDR, close-on-exec), blocking
// unless `nonblocking`. Stores the bound port in `*bound_port`.
absl::StatusOr<int> OpenListenSocket(const std::string& host, int port, bool nonblocking,
                                     int* bound_port);

// Sets the per-socket options every accepted connection gets (TCP_NODELAY).
void ConfigureAcceptedSocket(int fd);

// Runs fn on a short-lived thread and returns its result. io_uring rings are
// set up this way: the kernel links every thread that creates (or submits to)
// a ring to that ring, and when the ring is closed later it unlinks the thread
// with a signal-like task-work notification, which makes whatever blocking
// syscall with a timeout the thread is in (a socket read with SO_RCVTIMEO,
// epoll_wait, sigtimedwait) fail with EINTR. A thread that has exited is no
// longer linked, so the server's main thread is never interrupted.
template <typename Fn>
auto RunOnSetupThread(Fn fn) -> decltype(fn()) {
  std::optional<decltype(fn())> result;
  std::thread([&] { result.emplace(fn()); }).join();
  return *std::move(result);
}

// Accept back-off: starts at kMin, doubles per consecutive failure up to kMax
// (as nats-server's ACCEPT_MIN_SLEEP/ACCEPT_MAX_SLEEP).
inline constexpr absl::Duration kAcceptBackoffMin = absl::Milliseconds(10);
inline constexpr absl::Duration kAcceptBackoffMax = absl::Seconds(1);

// The write in flight on one connection: a copy of the caller's iovec array
// and how much of it has been written. Not thread-safe (loop thread).
class PendingWrite {
 public:
  void Start(std::span<const iovec> iov) {
    iov_.assign(iov.begin(), iov.end());
    next_ = 0;
    SkipEmpty();
  }
  bool done() const { return next_ == iov_.size(); }
  // Points `msg` at the unwritten part (at most IOV_MAX entries per call).
  void Fill(msghdr* msg) {
    *msg = msghdr{};
    msg->msg_iov = iov_.data() + next_;
    msg->msg_iovlen = std::min<size_t>(iov_.size() - next_, IOV_MAX);
  }
  // Records that `n` more bytes were written.
  void Advance(size_t n) {
    while (n > 0 && next_ < iov_.size()) {
      iovec& v = iov_[next_];
      const size_t k = std::min(n, v.iov_len);
      v.iov_base = static_cast<char*>(v.iov_base) + k;
      v.iov_len -= k;
      n -= k;
      if (v.iov_len == 0) ++next_;
    }
    SkipEmpty();
  }
  // Keeps a typical array's capacity so steady writing does not allocate.
  void Clear() {
    if (iov_.capacity() > kKeepCapacity) {
      std::vector<iovec>().swap(iov_);
    } else {
      iov_.clear();
    }
    next_ = 0;
  }

 private:
  static constexpr size_t kKeepCapacity = 64;
  void SkipEmpty() {
    while (next_ < iov_.size() && iov_[next_].iov_len == 0) ++next_;
  }
  std::vector<iovec> iov_;
  size_t next_ = 0;
};

// What a connection of either backend holds: its handler, socket and peer,
// the write in progress, and the state behind the Connection accessors. The
// backends add their kernel bookkeeping. Loop thread only.
class ConnectionBase : public Connection {
 public:
  ConnectionBase(int fd, ConnectionHandler* handler, PeerAddress peer)
      : handler_(handler), fd_(fd), peer_(std::move(peer)) {}

  bool write_in_flight() const final { return writing_; }
  bool reading_paused() const final { return paused_; }
  int fd() const final { return fd_; }
  const std::string& peer_address() const final { return peer_.address; }
  const std::string& peer_ip() const final { return peer_.ip; }
  int peer_port() const final { return peer_.port; }

 protected:
  ConnectionHandler* const handler_;
  const int fd_;
  bool writing_ = false;  // from Write() until OnWriteDone
  bool paused_ = false;   // from PauseReading() until ResumeReading()
  bool dirty_ = false;    // listed in the loop's end-of-batch work list
  PendingWrite write_;
  absl::Status close_reason_;
  PeerAddress peer_;
};

}  // namespace natsd::io

#endif  // NATSD_SERVER_IO_LOOP_BASE_H_
