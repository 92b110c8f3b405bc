#include "server/io/uring_loop.h"

#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/io/loop_base.h"

namespace natsd::io {
namespace {

// Ring sizes. The kernel's ring pages are resident from the start (64 B per
// SQE, 16 B per CQE), so they are kept small for idle RSS: 16 KB + 64 KB.
// A batch that prepares more SQEs than the SQ holds (one per write) submits
// early to make room. Multishot requests post many CQEs per SQE, hence the
// larger CQ; an overflow loses nothing (IORING_FEAT_NODROP) but ends
// multishots, which are re-armed.
constexpr unsigned kSqEntries = 256;
constexpr unsigned kCqEntries = 4096;
// The provided buffer ring shared by every connection of the loop: 2 MB of
// address space, of which only pages the kernel has written become resident.
// A buffer is held from its recv completion until OnRead returns, so the count
// bounds the reads completed in one batch; past it a recv ends with ENOBUFS
// and is re-armed once the batch has returned its buffers.
constexpr unsigned kBufCount = 128;  // a power of two
constexpr unsigned kBufSize = 16 * 1024;
constexpr uint16_t kBufGroup = 0;
// Completions dispatched per batch before timers, posts and writes get a turn.
constexpr unsigned kMaxCqesPerBatch = 4096;

// A CQE's user_data is an object pointer (8-byte aligned) with the operation
// in the low bits. Objects named by user_data stay alive until their last
// completion has been dispatched.
enum Tag : uint64_t {
  kTagIgnore = 0,     // cancels: their results carry nothing we act on
  kTagRecv = 1,       // UringConnection*: its multishot recv
  kTagWrite = 2,      // UringConnection*: its sendmsg
  kTagAccept = 3,     // Listener*: its multishot accept
  kTagEventfd = 4,    // the read of the loop's wake-up eventfd
  kTagMsgWake = 5,    // a wake-up sent into this ring by another loop
  kTagMsgFailed = 6,  // UringLoop*: our MSG_RING to that loop failed
};
constexpr uint64_t kTagMask = 7;

uint64_t UserData(const void* p, Tag tag) { return reinterpret_cast<uint64_t>(p) | tag; }

class UringLoop;

// A connection of a UringLoop. After Close() it lives on until the kernel has
// finished its recv and sendmsg; then the loop closes the fd, deletes it and
// calls OnClosed. Loop thread only.
class UringConnection final : public ConnectionBase {
 public:
  UringConnection(UringLoop* loop, int fd, ConnectionHandler* handler, PeerAddress peer)
      : ConnectionBase(fd, handler, std::move(peer)), loop_(loop) {}

  void Write(std::span<const iovec> iov) override;
  void PauseReading() override;
  void ResumeReading() override;
  void Close(absl::Status reason) override;

 private:
  friend class UringLoop;

  enum class State : uint8_t {
    kOpen,
    kClosing,  // shut down: waiting for the kernel to finish recv and sendmsg
  };

  // Shuts the socket down and cancels what is in the kernel.
  void Shutdown();

  UringLoop* const loop_;
  State state_ = State::kOpen;
  bool recv_armed_ = false;   // a multishot recv is in the kernel
  bool recv_wanted_ = true;   // arm a recv at the end of the batch
  // While paused_, the multishot recv is cancelled and not re-armed. Its
  // completions that were already on their way are copied to held_, as are
  // any that follow while held_ is non-empty, so bytes keep their order.
  bool resume_listed_ = false;  // listed in UringLoop::resumed_
  std::string held_;
  // How the recv ended while paused (EOF or an error), acted on after held_
  // has been delivered.
  std::optional<absl::Status> held_end_;
  bool write_armed_ = false;  // a sendmsg is in the kernel
  bool finalizing_ = false;   // listed in UringLoop::closed_
  msghdr msg_{};  // the kernel reads it when the sendmsg is submitted
};

// A listening socket with its multishot accept.
struct Listener {
  int fd = -1;
  absl::AnyInvocable<void(int)> on_accept;
  bool armed = false;     // a multishot accept is in the kernel
  bool paused = false;    // backing off after an accept error
  bool stopping = false;  // StopListening(): release once the accept is done
  absl::Duration backoff = absl::ZeroDuration();
  TimerId retry_timer = 0;
};

// The io_uring EventLoop. Thread-safety: as EventLoop; the ring is created
// disabled and enabled by Run(), which binds it (SINGLE_ISSUER) to the Run()
// thread, so the loop can be configured on another thread beforehand.
// Everything that needs an SQE before Run() is deferred to SubmitPending().
class UringLoop final : public LoopBase {
 public:
  UringLoop() = default;
  ~UringLoop() override;
  UringLoop(const UringLoop&) = delete;
  UringLoop& operator=(const UringLoop&) = delete;

  absl::Status Init();

  Backend backend() const override { return Backend::kUring; }
  void Run() override;
  Connection* Adopt(int fd, ConnectionHandler* handler) override;
  absl::StatusOr<int> Listen(const std::string& host, int port,
                             absl::AnyInvocable<void(int fd)> on_accept) override;
  void StopListening() override;

 private:
  friend class UringConnection;

  void Wake() override;
  void WakeByEventfd();
  // Queues, on this (the calling loop's) ring, a MSG_RING that wakes `target`.
  void SendMsgWake(UringLoop* target);

  io_uring_sqe* GetSqe();
  void PrepCancel(uint64_t user_data);
  void MarkDirty(UringConnection* c);
  void MarkClosedIfIdle(UringConnection* c);
  void ListResumed(UringConnection* c);
  void UnlistResumed(UringConnection* c);
  // Hands resumed connections their held bytes, then lets them read again.
  void DeliverHeld();

  // Prepares the SQEs the batch asked for and releases finished connections,
  // until neither has work left (handlers called here may create more).
  void SubmitPendingAndFinalize();
  void SubmitPending();
  void Finalize();

  void Dispatch();
  void HandleCqe(const io_uring_cqe& cqe);
  void OnRecv(UringConnection* c, int res, unsigned flags);
  void OnWrite(UringConnection* c, int res);
  void CompleteWrite(UringConnection* c, absl::Status status);
  void OnAccept(Listener* l, int res, unsigned flags);
  void ReleaseListener(Listener* l);
  void RecycleBuffer(uint16_t bid);

  io_uring ring_{};
  bool ring_ready_ = false;
  std::atomic<bool> enabled_{false};  // Run() enabled the ring: MSG_RING may target it
  int event_fd_ = -1;
  bool eventfd_armed_ = false;
  uint64_t eventfd_value_ = 0;  // the kernel writes here when the read completes
  io_uring_buf_ring* buf_ring_ = nullptr;
  size_t buf_ring_bytes_ = 0;
  char* bufs_ = nullptr;

  absl::flat_hash_set<UringConnection*> conns_;
  std::vector<UringConnection*> dirty_;  // need SQEs at the end of the batch
  std::vector<UringConnection*> dirty_batch_;
  std::vector<UringConnection*> closed_;  // kClosing with nothing in the kernel
  // Resumed with held bytes or a held EOF/error: DeliverHeld() at the start
  // of the next batch, which therefore must not wait.
  std::vector<UringConnection*> resumed_;
  std::vector<std::unique_ptr<Listener>> listeners_;
};

// ---------------------------------------------------------------------------
// UringConnection

void UringConnection::Write(std::span<const iovec> iov) {
  if (state_ != State::kOpen) return;
  if (writing_) Die("Connection::Write() called while a write is in flight");
  writing_ = true;
  write_.Start(iov);
  loop_->MarkDirty(this);
}

void UringConnection::PauseReading() {
  if (state_ != State::kOpen || paused_) return;
  paused_ = true;
  recv_wanted_ = false;
  if (recv_armed_) loop_->PrepCancel(UserData(this, kTagRecv));
}

void UringConnection::ResumeReading() {
  if (state_ != State::kOpen || !paused_) return;
  paused_ = false;
  if (!held_.empty() || held_end_.has_value()) {
    // Delivered at the start of the next batch (handlers are never called
    // from inside a Connection method); the recv is re-armed after that.
    loop_->ListResumed(this);
  } else if (!recv_armed_) {
    // Otherwise the cancelled recv's last completion re-arms it.
    recv_wanted_ = true;
    loop_->MarkDirty(this);
  }
}

void UringConnection::Close(absl::Status reason) {
  if (state_ != State::kOpen) return;
  close_reason_ = std::move(reason);
  Shutdown();
}

void UringConnection::Shutdown() {
  if (state_ == State::kClosing) return;
  state_ = State::kClosing;
  held_.clear();
  held_end_.reset();
  loop_->UnlistResumed(this);
  // shutdown() ends a recv or sendmsg that is waiting on the socket; the
  // cancels cover requests the kernel has not started yet.
  ::shutdown(fd_, SHUT_RDWR);
  if (recv_armed_) loop_->PrepCancel(UserData(this, kTagRecv));
  if (write_armed_) loop_->PrepCancel(UserData(this, kTagWrite));
  loop_->MarkClosedIfIdle(this);
}

// ---------------------------------------------------------------------------
// UringLoop: setup and teardown

absl::Status UringLoop::Init() {
  // Best first; EINVAL means the kernel lacks one of the flags.
  // SINGLE_ISSUER|DEFER_TASKRUN: completions are produced only when the loop
  // thread waits, in batches, with no task-work interrupts of the thread.
  // COOP_TASKRUN: task work at least waits for the next kernel entry.
  constexpr unsigned kFlagSets[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
      IORING_SETUP_COOP_TASKRUN,
      0,
  };
  int rc = -EINVAL;
  for (unsigned flags : kFlagSets) {
    io_uring_params params{};
    // R_DISABLED: SINGLE_ISSUER binds the ring to the thread that enables it
    // (in Run()), not to the thread creating the loop. SUBMIT_ALL: one bad SQE
    // does not hold back the rest of the batch.
    params.flags =
        flags | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_R_DISABLED;
    params.cq_entries = kCqEntries;
    rc = io_uring_queue_init_params(kSqEntries, &ring_, &params);
    if (rc != -EINVAL) break;
  }
  if (rc < 0) return ErrnoToStatus(-rc, "io_uring_queue_init");
  ring_ready_ = true;

  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  buf_ring_bytes_ = (kBufCount * sizeof(io_uring_buf) + page - 1) / page * page;
  void* ring_mem = mmap(nullptr, buf_ring_bytes_, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ring_mem == MAP_FAILED) return ErrnoToStatus(errno, "mmap(buffer ring)");
  buf_ring_ = static_cast<io_uring_buf_ring*>(ring_mem);
  void* data = mmap(nullptr, size_t{kBufCount} * kBufSize, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (data == MAP_FAILED) return ErrnoToStatus(errno, "mmap(read buffers)");
  bufs_ = static_cast<char*>(data);

  io_uring_buf_ring_init(buf_ring_);
  const int mask = io_uring_buf_ring_mask(kBufCount);
  for (unsigned i = 0; i < kBufCount; ++i) {
    io_uring_buf_ring_add(buf_ring_, bufs_ + size_t{i} * kBufSize, kBufSize,
                          static_cast<uint16_t>(i), mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(buf_ring_, kBufCount);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(buf_ring_);
  reg.ring_entries = kBufCount;
  reg.bgid = kBufGroup;
  if (rc = io_uring_register_buf_ring(&ring_, &reg, 0); rc < 0) {
    return ErrnoToStatus(-rc, "io_uring_register_buf_ring");
  }

  // Blocking: io_uring waits on it with an internal poll, whereas reads of a
  // non-blocking file may complete with EAGAIN.
  event_fd_ = eventfd(0, EFD_CLOEXEC);
  if (event_fd_ < 0) return ErrnoToStatus(errno, "eventfd");
  return absl::OkStatus();
}

UringLoop::~UringLoop() {
  // Closing the ring cancels what is still in the kernel before the memory
  // those requests point at goes away.
  if (ring_ready_) io_uring_queue_exit(&ring_);
  for (UringConnection* c : conns_) {
    ::close(c->fd_);
    delete c;
  }
  for (auto& l : listeners_) ::close(l->fd);
  if (bufs_ != nullptr) munmap(bufs_, size_t{kBufCount} * kBufSize);
  if (buf_ring_ != nullptr) munmap(buf_ring_, buf_ring_bytes_);
  if (event_fd_ >= 0) ::close(event_fd_);
}

// ---------------------------------------------------------------------------
// UringLoop: the loop

void UringLoop::Run() {
  RunScope scope(this);
  if (!enabled_.load(std::memory_order_relaxed)) {
    // liburing 2.3 declares io_uring_enable_rings() but does not export it.
    if (syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) !=
        0) {
      Die(absl::StrCat("enabling the io_uring ring: ", strerror(errno)).c_str());
    }
    enabled_.store(true, std::memory_order_release);
  }
  UpdateNow();
  SubmitPendingAndFinalize();
  while (!stop_requested()) {
    const std::optional<absl::Duration> timeout = WaitTimeout();
    __kernel_timespec ts{};
    const bool poll_only = !resumed_.empty();
    if (timeout.has_value() && !poll_only) {
      const int64_t ns = absl::ToInt64Nanoseconds(*timeout);
      ts.tv_sec = ns / 1'000'000'000;
      ts.tv_nsec = ns % 1'000'000'000;
    }
    io_uring_cqe* cqe = nullptr;
    const int rc = io_uring_submit_and_wait_timeout(
        &ring_, &cqe, 1, timeout.has_value() || poll_only ? &ts : nullptr, nullptr);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      Die(absl::StrCat("io_uring_submit_and_wait_timeout: ", strerror(-rc)).c_str());
    }
    UpdateNow();
    DeliverHeld();
    Dispatch();
    FinishBatch();
    SubmitPendingAndFinalize();
  }
  // Hands the kernel what the last batch queued, notably MSG_RING wake-ups of
  // other loops (e.g. their Stop()).
  io_uring_submit(&ring_);
}

void UringLoop::Dispatch() {
  io_uring_cqe* cqes[256];
  unsigned handled = 0;
  while (handled < kMaxCqesPerBatch) {
    const unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, 256);
    if (n == 0) break;
    // A CQE slot is not reused until io_uring_cq_advance().
    for (unsigned i = 0; i < n; ++i) HandleCqe(*cqes[i]);
    io_uring_cq_advance(&ring_, n);
    handled += n;
  }
}

void UringLoop::HandleCqe(const io_uring_cqe& cqe) {
  void* const p = reinterpret_cast<void*>(cqe.user_data & ~kTagMask);
  switch (static_cast<Tag>(cqe.user_data & kTagMask)) {
    case kTagIgnore: return;
    case kTagRecv: OnRecv(static_cast<UringConnection*>(p), cqe.res, cqe.flags); return;
    case kTagWrite: OnWrite(static_cast<UringConnection*>(p), cqe.res); return;
    case kTagAccept: OnAccept(static_cast<Listener*>(p), cqe.res, cqe.flags); return;
    case kTagEventfd: eventfd_armed_ = false; return;  // posts run in FinishBatch()
    case kTagMsgWake: return;                           // likewise
    case kTagMsgFailed: static_cast<UringLoop*>(p)->WakeByEventfd(); return;
  }
  Die("io_uring completion with an unknown tag");
}

void UringLoop::SubmitPendingAndFinalize() {
  do {
    SubmitPending();
    Finalize();
  } while (!dirty_.empty() || !closed_.empty());
}

void UringLoop::SubmitPending() {
  dirty_batch_.swap(dirty_);
  for (UringConnection* c : dirty_batch_) {
    c->dirty_ = false;
    if (c->state_ == UringConnection::State::kOpen && c->recv_wanted_ && !c->paused_ &&
        !c->recv_armed_) {
      io_uring_sqe* sqe = GetSqe();
      io_uring_prep_recv_multishot(sqe, c->fd_, nullptr, 0, 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = kBufGroup;
      io_uring_sqe_set_data64(sqe, UserData(c, kTagRecv));
      c->recv_armed_ = true;
      c->recv_wanted_ = false;
    }
    if (c->state_ != UringConnection::State::kClosing && c->writing_ && !c->write_armed_) {
      if (c->write_.done()) {  // nothing but empty buffers
        CompleteWrite(c, absl::OkStatus());
        continue;
      }
      c->write_.Fill(&c->msg_);
      io_uring_sqe* sqe = GetSqe();
      // NOSIGNAL: a peer that went away must not raise SIGPIPE. WAITALL: the
      // kernel itself retries short sends of a stream socket.
      io_uring_prep_sendmsg(sqe, c->fd_, &c->msg_, MSG_NOSIGNAL | MSG_WAITALL);
      io_uring_sqe_set_data64(sqe, UserData(c, kTagWrite));
      c->write_armed_ = true;
    }
  }
  dirty_batch_.clear();

  for (auto& l : listeners_) {
    if (l->armed || l->paused || l->stopping) continue;
    io_uring_sqe* sqe = GetSqe();
    io_uring_prep_multishot_accept(sqe, l->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, UserData(l.get(), kTagAccept));
    l->armed = true;
  }
  if (!eventfd_armed_) {
    io_uring_sqe* sqe = GetSqe();
    io_uring_prep_read(sqe, event_fd_, &eventfd_value_, sizeof(eventfd_value_), 0);
    io_uring_sqe_set_data64(sqe, UserData(nullptr, kTagEventfd));
    eventfd_armed_ = true;
  }
}

void UringLoop::Finalize() {
  std::vector<UringConnection*> ready;
  ready.swap(closed_);
  for (UringConnection* c : ready) {
    if (c->dirty_) {  // dirtied after SubmitPending: still listed in dirty_
      closed_.push_back(c);
      continue;
    }
    ::close(c->fd_);
    conns_.erase(c);
    ConnectionHandler* handler = c->handler_;
    absl::Status reason = std::move(c->close_reason_);
    delete c;
    handler->OnClosed(std::move(reason));
  }
}

io_uring_sqe* UringLoop::GetSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    // The SQ is full: submit what is queued to make room.
    const int rc = io_uring_submit(&ring_);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      Die(absl::StrCat("io_uring submission queue full and io_uring_submit failed (",
                       strerror(-rc), "); more than ", kSqEntries,
                       " operations queued before Run()?")
              .c_str());
    }
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void UringLoop::PrepCancel(uint64_t user_data) {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_cancel64(sqe, user_data, 0);
  io_uring_sqe_set_data64(sqe, UserData(nullptr, kTagIgnore));
}

void UringLoop::MarkDirty(UringConnection* c) {
  if (c->dirty_) return;
  c->dirty_ = true;
  dirty_.push_back(c);
}

void UringLoop::ListResumed(UringConnection* c) {
  if (c->resume_listed_) return;
  c->resume_listed_ = true;
  resumed_.push_back(c);
}

void UringLoop::UnlistResumed(UringConnection* c) {
  if (!c->resume_listed_) return;
  c->resume_listed_ = false;
  std::erase(resumed_, c);
}

void UringLoop::DeliverHeld() {
  std::vector<UringConnection*> ready;
  ready.swap(resumed_);
  for (UringConnection* c : ready) {
    c->resume_listed_ = false;
    // Skips connections closed by an earlier handler of this loop (Shutdown
    // unlists them, but `ready` was taken before) and those paused again
    // since their resume, which keep their bytes for the next resume.
    if (c->state_ != UringConnection::State::kOpen || c->paused_) continue;
    if (!c->held_.empty()) {
      const std::string held = std::move(c->held_);
      c->held_.clear();
      c->handler_->OnRead(held);
      // OnRead may have closed the connection (clearing held_end_) or
      // paused it again; bytes that arrive meanwhile are behind these.
      if (c->state_ != UringConnection::State::kOpen || c->paused_) continue;
    }
    if (c->held_end_.has_value()) {
      absl::Status end = *std::move(c->held_end_);
      c->held_end_.reset();
      c->Close(std::move(end));
    } else if (!c->recv_armed_) {
      c->recv_wanted_ = true;
      MarkDirty(c);
    }
  }
}

void UringLoop::MarkClosedIfIdle(UringConnection* c) {
  if (c->state_ != UringConnection::State::kClosing || c->recv_armed_ || c->write_armed_ ||
      c->finalizing_) {
    return;
  }
  c->finalizing_ = true;
  closed_.push_back(c);
}

// ---------------------------------------------------------------------------
// UringLoop: connections

Connection* UringLoop::Adopt(int fd, ConnectionHandler* handler) {
  auto* c = new UringConnection(this, fd, handler, GetPeerAddress(fd));
  conns_.insert(c);
  MarkDirty(c);  // arms the recv
  return c;
}

void UringLoop::OnRecv(UringConnection* c, int res, unsigned flags) {
  if (flags & IORING_CQE_F_BUFFER) {
    const auto bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    if (res > 0 && c->state_ == UringConnection::State::kOpen) {
      const std::string_view data(bufs_ + size_t{bid} * kBufSize, static_cast<size_t>(res));
      if (c->paused_ || !c->held_.empty()) {
        c->held_.append(data);  // the recv had these before the cancel took effect
      } else {
        c->handler_->OnRead(data);
      }
    }
    RecycleBuffer(bid);
  }
  if (flags & IORING_CQE_F_MORE) return;
  c->recv_armed_ = false;
  if (c->state_ != UringConnection::State::kOpen) {
    MarkClosedIfIdle(c);
  } else if (c->paused_ || !c->held_.empty()) {
    // Paused (or resumed with held bytes not yet delivered): the recv is
    // re-armed by DeliverHeld(). An EOF or error waits behind held_.
    if (res == 0) {
      c->held_end_ = absl::OkStatus();
    } else if (res < 0 && res != -ECANCELED && res != -ENOBUFS) {
      c->held_end_ = ErrnoToStatus(-res, "read");
    }
    if (!c->paused_) ListResumed(c);
  } else if (res == -ECANCELED) {
    // A PauseReading() cancel that completed after ResumeReading().
    c->recv_wanted_ = true;
    MarkDirty(c);
  } else if (res > 0 || res == -ENOBUFS) {
    // The multishot ended without a socket error (a CQ overflow) or found all
    // buffers held by this batch; they are back by the time it is re-armed.
    c->recv_wanted_ = true;
    MarkDirty(c);
  } else if (res == 0) {
    c->Close(absl::OkStatus());  // the peer closed
  } else {
    c->Close(ErrnoToStatus(-res, "read"));
  }
}

void UringLoop::RecycleBuffer(uint16_t bid) {
  io_uring_buf_ring_add(buf_ring_, bufs_ + size_t{bid} * kBufSize, kBufSize, bid,
                        io_uring_buf_ring_mask(kBufCount), 0);
  io_uring_buf_ring_advance(buf_ring_, 1);
}

void UringLoop::OnWrite(UringConnection* c, int res) {
  c->write_armed_ = false;
  if (c->state_ == UringConnection::State::kClosing) {
    c->writing_ = false;
    c->write_.Clear();
    MarkClosedIfIdle(c);
    return;
  }
  if (res < 0) {
    CompleteWrite(c, ErrnoToStatus(-res, "write"));
    return;
  }
  if (res == 0) {  // cannot happen for a non-empty stream write; do not spin on it
    CompleteWrite(c, absl::UnavailableError("write: socket accepted no bytes"));
    return;
  }
  c->write_.Advance(static_cast<size_t>(res));
  if (c->write_.done()) {
    CompleteWrite(c, absl::OkStatus());
  } else {
    MarkDirty(c);  // a short write: continue at the end of the batch
  }
}

void UringLoop::CompleteWrite(UringConnection* c, absl::Status status) {
  c->writing_ = false;
  c->write_.Clear();
  if (c->state_ == UringConnection::State::kOpen) c->handler_->OnWriteDone(std::move(status));
}

// ---------------------------------------------------------------------------
// UringLoop: listeners

absl::StatusOr<int> UringLoop::Listen(const std::string& host, int port,
                                      absl::AnyInvocable<void(int fd)> on_accept) {
  int bound_port = 0;
  // Blocking, so the kernel waits for connections with an internal poll.
  absl::StatusOr<int> fd = OpenListenSocket(host, port, /*nonblocking=*/false, &bound_port);
  if (!fd.ok()) return fd.status();
  auto l = std::make_unique<Listener>();
  l->fd = *fd;
  l->on_accept = std::move(on_accept);
  listeners_.push_back(std::move(l));  // the accept is armed by SubmitPending()
  return bound_port;
}

void UringLoop::StopListening() {
  for (auto& l : listeners_) {
    if (l->stopping) continue;
    l->stopping = true;
    // Takes the socket out of the listening state at once (new connections
    // are refused) and ends the pending accept.
    ::shutdown(l->fd, SHUT_RDWR);
    if (l->retry_timer != 0) {
      CancelTimer(l->retry_timer);
      l->retry_timer = 0;
    }
    if (l->armed) PrepCancel(UserData(l.get(), kTagAccept));
  }
  std::erase_if(listeners_, [](const std::unique_ptr<Listener>& l) {
    if (l->armed) return false;  // released by OnAccept()
    ::close(l->fd);
    return true;
  });
}

void UringLoop::OnAccept(Listener* l, int res, unsigned flags) {
  if (res >= 0) {
    if (l->stopping) {
      ::close(res);
    } else {
      ConfigureAcceptedSocket(res);
      l->backoff = absl::ZeroDuration();
      // l->armed is still set, so a StopListening() inside on_accept leaves
      // the listener for this function to release.
      l->on_accept(res);
    }
  } else if (res != -ECANCELED && !l->stopping && !l->paused) {
    // EMFILE, ENFILE, ENOMEM...: retrying at once would spin on the same
    // error. Pause, with a growing back-off, like nats-server.
    l->paused = true;
    l->backoff = std::clamp(l->backoff * 2, kAcceptBackoffMin, kAcceptBackoffMax);
    if (flags & IORING_CQE_F_MORE) PrepCancel(UserData(l, kTagAccept));
    l->retry_timer = AddTimer(l->backoff, [l] {
      l->retry_timer = 0;
      l->paused = false;  // SubmitPending() re-arms it
    });
  }
  if (flags & IORING_CQE_F_MORE) return;
  l->armed = false;
  if (l->stopping) ReleaseListener(l);
}

void UringLoop::ReleaseListener(Listener* l) {
  ::close(l->fd);
  std::erase_if(listeners_, [l](const std::unique_ptr<Listener>& p) { return p.get() == l; });
}

// ---------------------------------------------------------------------------
// UringLoop: wake-ups

void UringLoop::Wake() {
  EventLoop* current = EventLoop::Current();
  if (current != nullptr && current != this && current->backend() == Backend::kUring &&
      enabled_.load(std::memory_order_acquire)) {
    static_cast<UringLoop*>(current)->SendMsgWake(this);
  } else {
    WakeByEventfd();
  }
}

void UringLoop::WakeByEventfd() {
  const uint64_t one = 1;
  // Fails only if the counter would overflow, i.e. a wake-up is pending anyway.
  [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof(one));
}

void UringLoop::SendMsgWake(UringLoop* target) {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_msg_ring(sqe, target->ring_.ring_fd, 0, UserData(nullptr, kTagMsgWake), 0);
  // No completion here on success; a failure (e.g. the target's CQ being
  // full) names the target, which is then woken through its eventfd.
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  io_uring_sqe_set_data64(sqe, UserData(target, kTagMsgFailed));
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> CreateUringLoop() {
  auto loop = std::make_unique<UringLoop>();
  if (absl::Status s = RunOnSetupThread([&] { return loop->Init(); }); !s.ok()) return s;
  return loop;
}

}  // namespace natsd::io
