#include "server/io/epoll_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/io/loop_base.h"

namespace natsd::io {
namespace {

// One read buffer per loop: a connection's bytes are handed to OnRead and the
// buffer is reused for the next read.
constexpr size_t kReadBufSize = 64 * 1024;
// Reads per readiness event. With level-triggered epoll a connection with more
// data is reported again on the next wait, so one busy peer cannot starve the
// others and no ready list of our own is needed.
constexpr int kMaxReadsPerEvent = 4;
// Accepts per readiness event of a listener, for the same reason.
constexpr int kMaxAcceptsPerEvent = 64;
constexpr int kMaxEvents = 256;

// epoll_event.data.u64 is an object pointer (8-byte aligned) | kind.
enum Kind : uint64_t { kKindConn = 0, kKindListener = 1, kKindEventfd = 2 };
constexpr uint64_t kKindMask = 7;

uint64_t EventData(const void* p, Kind kind) { return reinterpret_cast<uint64_t>(p) | kind; }

class EpollLoop;

// A connection of an EpollLoop. After Close() the loop removes it from epoll
// and, at the end of the batch, closes the fd, deletes it and calls OnClosed.
// Loop thread only.
class EpollConnection final : public ConnectionBase {
 public:
  EpollConnection(EpollLoop* loop, int fd, ConnectionHandler* handler, PeerAddress peer)
      : ConnectionBase(fd, handler, std::move(peer)), loop_(loop) {}

  void Write(std::span<const iovec> iov) override;
  void PauseReading() override;
  void ResumeReading() override;
  void Close(absl::Status reason) override;

 private:
  friend class EpollLoop;

  enum class State : uint8_t {
    kOpen,
    kClosed,  // out of epoll; released at the end of the batch
  };

  void Shutdown();

  EpollLoop* const loop_;
  State state_ = State::kOpen;
  // While paused_, EPOLLIN is out of the interest set, so unread bytes stay
  // in the kernel (nothing is ever read ahead into a buffer of ours).
  bool want_out_ = false;  // the socket buffer was full: EPOLLOUT is in the interest set
};

struct Listener {
  int fd = -1;
  absl::AnyInvocable<void(int)> on_accept;
  bool paused = false;  // backing off after an accept error: out of the interest set
  bool closed = false;  // StopListening(): freed at the end of the batch
  absl::Duration backoff = absl::ZeroDuration();
  TimerId retry_timer = 0;
};

// The epoll EventLoop, level-triggered (see kMaxReadsPerEvent). Thread-safety:
// as EventLoop. Objects named by events of the current epoll_wait() result are
// freed only after the whole result has been dispatched.
class EpollLoop final : public LoopBase {
 public:
  EpollLoop() = default;
  ~EpollLoop() override;
  EpollLoop(const EpollLoop&) = delete;
  EpollLoop& operator=(const EpollLoop&) = delete;

  absl::Status Init();

  Backend backend() const override { return Backend::kEpoll; }
  void Run() override;
  Connection* Adopt(int fd, ConnectionHandler* handler) override;
  absl::StatusOr<int> Listen(const std::string& host, int port,
                             absl::AnyInvocable<void(int fd)> on_accept) override;
  void StopListening() override;

 private:
  friend class EpollConnection;

  void Wake() override;

  void HandleEvent(const epoll_event& ev);
  void ReadSome(EpollConnection* c);
  void TryWrite(EpollConnection* c);
  void CompleteWrite(EpollConnection* c, absl::Status status);
  void UpdateInterest(EpollConnection* c);
  void MarkDirty(EpollConnection* c);
  void HandleAccept(Listener* l);
  void PauseListener(Listener* l);

  // Starts the writes of the batch and releases closed connections and
  // listeners, until neither has work left (handlers called here may create
  // more).
  void FlushAndFinalize();

  int epoll_fd_ = -1;
  int event_fd_ = -1;
  std::unique_ptr<char[]> read_buf_;
  epoll_event events_[kMaxEvents];

  absl::flat_hash_set<EpollConnection*> conns_;
  std::vector<EpollConnection*> dirty_;  // have a write to start
  std::vector<EpollConnection*> dirty_batch_;
  std::vector<EpollConnection*> closed_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<Listener>> stopped_listeners_;
};

// ---------------------------------------------------------------------------
// EpollConnection

void EpollConnection::Write(std::span<const iovec> iov) {
  if (state_ != State::kOpen) return;
  if (writing_) Die("Connection::Write() called while a write is in flight");
  writing_ = true;
  write_.Start(iov);
  loop_->MarkDirty(this);
}

void EpollConnection::PauseReading() {
  if (state_ != State::kOpen || paused_) return;
  paused_ = true;
  loop_->UpdateInterest(this);
}

void EpollConnection::ResumeReading() {
  if (state_ != State::kOpen || !paused_) return;
  paused_ = false;
  // Level-triggered: bytes that arrived meanwhile are reported by the next
  // epoll_wait.
  loop_->UpdateInterest(this);
}

void EpollConnection::Close(absl::Status reason) {
  if (state_ != State::kOpen) return;
  close_reason_ = std::move(reason);
  Shutdown();
}

void EpollConnection::Shutdown() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  epoll_ctl(loop_->epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
  loop_->closed_.push_back(this);
}

// ---------------------------------------------------------------------------
// EpollLoop: setup and teardown

absl::Status EpollLoop::Init() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return ErrnoToStatus(errno, "epoll_create1");
  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) return ErrnoToStatus(errno, "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = EventData(nullptr, kKindEventfd);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) != 0) {
    return ErrnoToStatus(errno, "epoll_ctl(eventfd)");
  }
  read_buf_ = std::make_unique_for_overwrite<char[]>(kReadBufSize);
  return absl::OkStatus();
}

EpollLoop::~EpollLoop() {
  for (EpollConnection* c : conns_) {
    ::close(c->fd_);
    delete c;
  }
  for (auto& l : listeners_) ::close(l->fd);
  if (event_fd_ >= 0) ::close(event_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

// ---------------------------------------------------------------------------
// EpollLoop: the loop

void EpollLoop::Run() {
  RunScope scope(this);
  UpdateNow();
  FlushAndFinalize();
  while (!stop_requested()) {
    const std::optional<absl::Duration> timeout = WaitTimeout();
    int timeout_ms = -1;
    if (timeout.has_value()) {
      // Rounded up: waking before the deadline would only spin.
      timeout_ms = static_cast<int>(std::min<int64_t>(
          absl::ToInt64Milliseconds(absl::Ceil(*timeout, absl::Milliseconds(1))), INT_MAX));
    }
    const int n = epoll_wait(epoll_fd_, events_, kMaxEvents, timeout_ms);
    if (n < 0 && errno != EINTR) Die(absl::StrCat("epoll_wait: ", strerror(errno)).c_str());
    UpdateNow();
    for (int i = 0; i < n; ++i) HandleEvent(events_[i]);
    FinishBatch();
    FlushAndFinalize();
  }
}

void EpollLoop::HandleEvent(const epoll_event& ev) {
  void* const p = reinterpret_cast<void*>(ev.data.u64 & ~kKindMask);
  switch (static_cast<Kind>(ev.data.u64 & kKindMask)) {
    case kKindConn: {
      auto* c = static_cast<EpollConnection*>(p);
      // An event of this batch may predate a PauseReading(). Hang-ups and
      // errors are reported whatever the interest set, so a paused
      // connection that has one is read to its end rather than reported
      // again by every wait.
      if (c->state_ == EpollConnection::State::kOpen &&
          ((ev.events & EPOLLIN && !c->paused_) || (ev.events & (EPOLLHUP | EPOLLERR)))) {
        ReadSome(c);
      }
      // An error or hang-up also ends a blocked write (sendmsg reports it).
      if (c->state_ != EpollConnection::State::kClosed && c->want_out_ &&
          (ev.events & (EPOLLOUT | EPOLLHUP | EPOLLERR))) {
        TryWrite(c);
      }
      return;
    }
    case kKindListener: HandleAccept(static_cast<Listener*>(p)); return;
    case kKindEventfd: {
      uint64_t value;
      // Drains the counter; posts run in FinishBatch().
      [[maybe_unused]] ssize_t r = ::read(event_fd_, &value, sizeof(value));
      return;
    }
  }
  Die("epoll event with an unknown kind");
}

void EpollLoop::FlushAndFinalize() {
  do {
    dirty_batch_.swap(dirty_);
    for (EpollConnection* c : dirty_batch_) {
      c->dirty_ = false;
      if (c->state_ != EpollConnection::State::kClosed && c->writing_ && !c->want_out_) {
        TryWrite(c);
      }
    }
    dirty_batch_.clear();

    std::vector<EpollConnection*> ready;
    ready.swap(closed_);
    for (EpollConnection* c : ready) {
      if (c->dirty_) {  // dirtied again above: still listed in dirty_
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
  } while (!dirty_.empty() || !closed_.empty());
  stopped_listeners_.clear();
}

void EpollLoop::MarkDirty(EpollConnection* c) {
  if (c->dirty_) return;
  c->dirty_ = true;
  dirty_.push_back(c);
}

void EpollLoop::UpdateInterest(EpollConnection* c) {
  epoll_event ev{};
  const bool reading = c->state_ == EpollConnection::State::kOpen && !c->paused_;
  ev.events = (reading ? uint32_t{EPOLLIN} : 0u) |
              (c->want_out_ ? uint32_t{EPOLLOUT} : 0u);
  ev.data.u64 = EventData(c, kKindConn);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd_, &ev);
}

// ---------------------------------------------------------------------------
// EpollLoop: connections

Connection* EpollLoop::Adopt(int fd, ConnectionHandler* handler) {
  auto* c = new EpollConnection(this, fd, handler, GetPeerAddress(fd));
  conns_.insert(c);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = EventData(c, kKindConn);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    c->Close(ErrnoToStatus(errno, "epoll_ctl(ADD)"));
  }
  return c;
}

void EpollLoop::ReadSome(EpollConnection* c) {
  for (int i = 0; i < kMaxReadsPerEvent; ++i) {
    const ssize_t n = ::read(c->fd_, read_buf_.get(), kReadBufSize);
    if (n > 0) {
      c->handler_->OnRead(std::string_view(read_buf_.get(), static_cast<size_t>(n)));
      // A short read has drained the socket: skip the EAGAIN round trip.
      if (c->state_ != EpollConnection::State::kOpen || static_cast<size_t>(n) < kReadBufSize) {
        return;
      }
      // Paused by that OnRead: the rest stays in the kernel (unless the
      // peer hung up, see HandleEvent).
      if (c->paused_) return;
    } else if (n == 0) {
      c->Close(absl::OkStatus());  // the peer closed
      return;
    } else if (errno == EAGAIN) {
      return;
    } else if (errno != EINTR) {
      c->Close(ErrnoToStatus(errno, "read"));
      return;
    }
  }
}

void EpollLoop::TryWrite(EpollConnection* c) {
  while (!c->write_.done()) {
    msghdr msg;
    c->write_.Fill(&msg);
    // NOSIGNAL: a peer that went away must not raise SIGPIPE.
    const ssize_t n = ::sendmsg(c->fd_, &msg, MSG_NOSIGNAL);
    if (n > 0) {
      c->write_.Advance(static_cast<size_t>(n));
    } else if (n < 0 && errno == EAGAIN) {
      if (!c->want_out_) {
        c->want_out_ = true;
        UpdateInterest(c);
      }
      return;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      CompleteWrite(c, n < 0 ? ErrnoToStatus(errno, "write")
                             : absl::UnavailableError("write: socket accepted no bytes"));
      return;
    }
  }
  CompleteWrite(c, absl::OkStatus());
}

void EpollLoop::CompleteWrite(EpollConnection* c, absl::Status status) {
  c->writing_ = false;
  c->write_.Clear();
  if (c->want_out_) {
    c->want_out_ = false;
    UpdateInterest(c);
  }
  if (c->state_ == EpollConnection::State::kOpen) c->handler_->OnWriteDone(std::move(status));
}

// ---------------------------------------------------------------------------
// EpollLoop: listeners

absl::StatusOr<int> EpollLoop::Listen(const std::string& host, int port,
                                      absl::AnyInvocable<void(int fd)> on_accept) {
  int bound_port = 0;
  absl::StatusOr<int> fd = OpenListenSocket(host, port, /*nonblocking=*/true, &bound_port);
  if (!fd.ok()) return fd.status();
  auto l = std::make_unique<Listener>();
  l->fd = *fd;
  l->on_accept = std::move(on_accept);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = EventData(l.get(), kKindListener);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, l->fd, &ev) != 0) {
    const int err = errno;
    ::close(l->fd);
    return ErrnoToStatus(err, "epoll_ctl(listener)");
  }
  listeners_.push_back(std::move(l));
  return bound_port;
}

void EpollLoop::StopListening() {
  for (auto& l : listeners_) {
    l->closed = true;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l->fd, nullptr);
    ::close(l->fd);
    if (l->retry_timer != 0) CancelTimer(l->retry_timer);
    // Events for it may still be in this batch: freed in FlushAndFinalize().
    stopped_listeners_.push_back(std::move(l));
  }
  listeners_.clear();
}

void EpollLoop::HandleAccept(Listener* l) {
  for (int i = 0; i < kMaxAcceptsPerEvent && !l->closed && !l->paused; ++i) {
    const int fd = accept4(l->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      ConfigureAcceptedSocket(fd);
      l->backoff = absl::ZeroDuration();
      l->on_accept(fd);
    } else if (errno == EAGAIN) {
      return;
    } else if (errno != EINTR && errno != ECONNABORTED) {
      // EMFILE, ENFILE, ENOMEM...: the connection stays queued and the
      // level-triggered listener would report it again at once. Pause, with a
      // growing back-off, like nats-server.
      PauseListener(l);
      return;
    }
  }
}

void EpollLoop::PauseListener(Listener* l) {
  l->paused = true;
  l->backoff = std::clamp(l->backoff * 2, kAcceptBackoffMin, kAcceptBackoffMax);
  epoll_event ev{};
  ev.events = 0;
  ev.data.u64 = EventData(l, kKindListener);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, l->fd, &ev);
  l->retry_timer = AddTimer(l->backoff, [this, l] {
    l->retry_timer = 0;
    l->paused = false;
    epoll_event resume{};
    resume.events = EPOLLIN;
    resume.data.u64 = EventData(l, kKindListener);
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, l->fd, &resume);
  });
}

// ---------------------------------------------------------------------------
// EpollLoop: wake-ups

void EpollLoop::Wake() {
  const uint64_t one = 1;
  // Fails only if the counter would overflow, i.e. a wake-up is pending anyway.
  [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof(one));
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> CreateEpollLoop() {
  auto loop = std::make_unique<EpollLoop>();
  if (absl::Status s = loop->Init(); !s.ok()) return s;
  return loop;
}

}  // namespace natsd::io
