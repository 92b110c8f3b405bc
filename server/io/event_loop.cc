// The backend-independent part of the I/O layer: LoopBase, socket helpers,
// the io_uring probe and the loop factory.
#include "server/io/event_loop.h"

#include <arpa/inet.h>
#include <liburing.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/io/epoll_loop.h"
#include "server/io/loop_base.h"
#include "server/io/uring_loop.h"

namespace natsd::io {
namespace {

thread_local LoopBase* current_loop = nullptr;

}  // namespace

std::string_view BackendName(Backend backend) {
  switch (backend) {
    case Backend::kAuto: return "auto";
    case Backend::kUring: return "io_uring";
    case Backend::kEpoll: return "epoll";
  }
  return "unknown";
}

EventLoop* EventLoop::Current() { return current_loop; }

// ---------------------------------------------------------------------------
// LoopBase

LoopBase::LoopBase() : now_(absl::Now()) {}

LoopBase::~LoopBase() = default;

LoopBase::RunScope::RunScope(LoopBase* loop) {
  if (current_loop != nullptr) Die("EventLoop::Run() called on a thread already running a loop");
  current_loop = loop;
}

LoopBase::RunScope::~RunScope() { current_loop = nullptr; }

bool LoopBase::on_loop_thread() const { return current_loop == this; }

void LoopBase::Stop() {
  stop_.store(true, std::memory_order_release);
  // On the loop thread the flag is seen before the next wait.
  if (!on_loop_thread()) Wake();
}

void LoopBase::Post(absl::AnyInvocable<void() &&> fn) {
  {
    absl::MutexLock lock(&mu_);
    posted_.push_back(std::move(fn));
  }
  // Only the first post of a burst pays for a wake-up. A post from the loop
  // thread needs none: the raised flag makes the next wait non-blocking.
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel) && !on_loop_thread()) {
    Wake();
  }
}

TimerId LoopBase::AddTimer(absl::Duration after, absl::AnyInvocable<void() &&> fn) {
  // Before Run() the cached clock may be stale.
  const absl::Time base = on_loop_thread() ? now_ : absl::Now();
  const absl::Time deadline = base + std::max(after, absl::ZeroDuration());
  const TimerId id = next_timer_id_++;
  timers_.emplace(std::make_pair(deadline, id), std::move(fn));
  timer_deadlines_.emplace(id, deadline);
  return id;
}

void LoopBase::CancelTimer(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  timer_deadlines_.erase(it);
}

void LoopBase::SetBatchEndHook(absl::AnyInvocable<void()> hook) {
  batch_end_hook_ = std::move(hook);
}

std::optional<absl::Duration> LoopBase::WaitTimeout() const {
  if (wake_pending_.load(std::memory_order_acquire)) return absl::ZeroDuration();
  if (timers_.empty()) return std::nullopt;
  return std::max(timers_.begin()->first.first - absl::Now(), absl::ZeroDuration());
}

void LoopBase::FinishBatch() {
  RunDueTimers();
  RunPosted();
  if (batch_end_hook_) batch_end_hook_();
}

void LoopBase::RunDueTimers() {
  // Timers added by the callbacks below wait for the next batch, so a timer
  // that re-arms itself with a zero delay cannot starve the loop. Such timers
  // have the largest ids and sort after every older timer that is due.
  const TimerId first_new_id = next_timer_id_;
  while (!timers_.empty()) {
    auto it = timers_.begin();
    if (it->first.first > now_ || it->first.second >= first_new_id) break;
    Task task = std::move(it->second);
    timer_deadlines_.erase(it->first.second);
    timers_.erase(it);
    std::move(task)();
  }
}

void LoopBase::RunPosted() {
  // Cleared before taking the queue: a post that lands after the swap sees
  // the flag down and wakes the loop again, so no post is stranded.
  wake_pending_.store(false, std::memory_order_release);
  std::vector<Task> tasks;
  {
    absl::MutexLock lock(&mu_);
    tasks.swap(posted_);
  }
  for (Task& task : tasks) std::move(task)();
}

// ---------------------------------------------------------------------------
// Helpers

absl::Status ErrnoToStatus(int err, absl::string_view what) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case EPERM:
    case EACCES: return absl::PermissionDeniedError(message);
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case ENOBUFS: return absl::ResourceExhaustedError(message);
    case ENOSYS:
    case EOPNOTSUPP: return absl::UnimplementedError(message);
    case EINVAL: return absl::InvalidArgumentError(message);
    case EADDRINUSE: return absl::AlreadyExistsError(message);
    case ETIMEDOUT: return absl::DeadlineExceededError(message);
    case ECANCELED: return absl::CancelledError(message);
    default: return absl::UnavailableError(message);
  }
}

void Die(const char* msg) {
  std::fprintf(stderr, "natsd: fatal I/O error: %s\n", msg);
  std::abort();
}

PeerAddress GetPeerAddress(int fd) {
  PeerAddress peer;
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return peer;
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    peer.ip = buf;
    peer.port = ntohs(sin->sin_port);
    peer.address = absl::StrCat(peer.ip, ":", peer.port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
    peer.ip = buf;
    peer.port = ntohs(sin6->sin6_port);
    peer.address = absl::StrCat("[", peer.ip, "]:", peer.port);
  }
  return peer;
}

absl::StatusOr<int> OpenListenSocket(const std::string& host, int port, bool nonblocking,
                                     int* bound_port) {
  const std::string where = absl::StrCat(host, ":", port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
      rc != 0) {
    return absl::InvalidArgumentError(absl::StrCat("resolve ", where, ": ", gai_strerror(rc)));
  }
  absl::Cleanup free_res = [res] { freeaddrinfo(res); };

  const int fd = socket(res->ai_family,
                        SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return ErrnoToStatus(errno, "socket");
  absl::Cleanup close_fd = [fd] { close(fd); };
  const int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return ErrnoToStatus(errno, "setsockopt(SO_REUSEADDR)");
  }
  if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
    // In Go's words, as nats-server reports it ("listen tcp 127.0.0.1:4222:
    // bind: address already in use"): scripts and supervisors match on it.
    const int err = errno;
    std::string reason = std::strerror(err);
    if (!reason.empty()) reason[0] = absl::ascii_tolower(reason[0]);
    return absl::Status(ErrnoToStatus(err, "").code(),
                        absl::StrCat("listen tcp ", where, ": bind: ", reason));
  }
  // The kernel caps the backlog at net.core.somaxconn.
  if (listen(fd, 4096) != 0) return ErrnoToStatus(errno, absl::StrCat("listen ", where));
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return ErrnoToStatus(errno, "getsockname");
  }
  *bound_port = ss.ss_family == AF_INET6
                    ? ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port)
                    : ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  std::move(close_fd).Cancel();
  return fd;
}

void ConfigureAcceptedSocket(int fd) {
  // The protocol is request/response with small control lines: Nagle would
  // add latency to every PONG and +OK.
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// ---------------------------------------------------------------------------
// Probe and factory

namespace {

absl::Status SetupError(int err) {
  switch (err) {
    case EPERM:
      return absl::PermissionDeniedError(
          "io_uring_setup: EPERM (blocked by a seccomp profile, e.g. Docker's default, or by "
          "sysctl kernel.io_uring_disabled)");
    case ENOSYS:
      return absl::UnimplementedError("io_uring_setup: ENOSYS (kernel without io_uring)");
    case ENOMEM:
      return absl::ResourceExhaustedError(
          "io_uring_setup: ENOMEM (RLIMIT_MEMLOCK too low for the ring)");
    default: return ErrnoToStatus(err, "io_uring_setup");
  }
}

struct RequiredOp {
  int op;
  const char* name;
};

// Every opcode the io_uring loop submits.
constexpr RequiredOp kRequiredOps[] = {
    {IORING_OP_RECV, "RECV"},          {IORING_OP_SENDMSG, "SENDMSG"},
    {IORING_OP_ACCEPT, "ACCEPT"},      {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"},
    {IORING_OP_MSG_RING, "MSG_RING"},  {IORING_OP_READ, "READ"},
};

// Multishot recv (Linux 6.0) is not visible in the opcode probe: post one byte
// into a socketpair and check that a multishot recv takes it from a
// registered buffer ring and stays armed.
absl::Status ProbeMultishotRecv(io_uring* ring) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* mem = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return ErrnoToStatus(errno, "mmap");
  absl::Cleanup unmap = [mem, page] { munmap(mem, page); };
  auto* br = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(br);
  reg.ring_entries = 1;
  reg.bgid = 0;
  if (int rc = io_uring_register_buf_ring(ring, &reg, 0); rc < 0) {
    return rc == -EINVAL ? absl::UnimplementedError(
                               "provided buffer rings unsupported (need Linux 5.19)")
                         : ErrnoToStatus(-rc, "io_uring_register_buf_ring");
  }
  char buf[64];
  io_uring_buf_ring_init(br);
  io_uring_buf_ring_add(br, buf, sizeof(buf), 0, io_uring_buf_ring_mask(1), 0);
  io_uring_buf_ring_advance(br, 1);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return ErrnoToStatus(errno, "socketpair");
  }
  absl::Cleanup close_pair = [sv] {
    close(sv[0]);
    close(sv[1]);
  };
  if (write(sv[1], "x", 1) != 1) return ErrnoToStatus(errno, "write");
  constexpr uint64_t kRecvData = 1;
  io_uring_sqe* sqe = io_uring_get_sqe(ring);
  io_uring_prep_recv_multishot(sqe, sv[0], nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = 0;
  io_uring_sqe_set_data64(sqe, kRecvData);
  if (int rc = io_uring_submit(ring); rc != 1) {
    return ErrnoToStatus(rc < 0 ? -rc : EIO, "io_uring_submit");
  }
  __kernel_timespec ts{.tv_sec = 1, .tv_nsec = 0};
  io_uring_cqe* cqe = nullptr;
  if (int rc = io_uring_wait_cqe_timeout(ring, &cqe, &ts); rc < 0) {
    return ErrnoToStatus(-rc, "waiting for the multishot recv probe");
  }
  const int res = cqe->res;
  const unsigned flags = cqe->flags;
  io_uring_cqe_seen(ring, cqe);

  // Ends the multishot and waits for its last completion, so that nothing is
  // left in flight when the socket and the ring are closed.
  if (flags & IORING_CQE_F_MORE) {
    sqe = io_uring_get_sqe(ring);
    io_uring_prep_cancel64(sqe, kRecvData, 0);
    io_uring_sqe_set_data64(sqe, 0);
    io_uring_submit(ring);
    for (bool recv_done = false; !recv_done;) {
      if (int rc = io_uring_wait_cqe_timeout(ring, &cqe, &ts); rc < 0) {
        return ErrnoToStatus(-rc, "cancelling the multishot recv probe");
      }
      recv_done = cqe->user_data == kRecvData && !(cqe->flags & IORING_CQE_F_MORE);
      io_uring_cqe_seen(ring, cqe);
    }
  }
  if (res == -EINVAL) return absl::UnimplementedError("multishot recv unsupported (need Linux 6.0)");
  if (res < 0) return ErrnoToStatus(-res, "multishot recv probe");
  if (res != 1 || !(flags & IORING_CQE_F_BUFFER) || !(flags & IORING_CQE_F_MORE)) {
    return absl::UnimplementedError("multishot recv with provided buffers did not behave as expected");
  }
  return absl::OkStatus();
}

absl::Status ProbeIoUringOnThisThread() {
  if (const char* env = std::getenv("NATSD_IO_URING_DISABLE");
      env != nullptr && std::string_view(env) != "" && std::string_view(env) != "0") {
    return absl::FailedPreconditionError("disabled by NATSD_IO_URING_DISABLE");
  }
  io_uring ring;
  if (int rc = io_uring_queue_init(4, &ring, 0); rc < 0) return SetupError(-rc);
  absl::Cleanup exit_ring = [&ring] { io_uring_queue_exit(&ring); };

  struct RequiredFeature {
    unsigned bit;
    const char* name;
  };
  // NODROP: a full CQ must not lose completions (connections would hang).
  // EXT_ARG: waiting with a timeout without a timeout SQE. FAST_POLL: sockets
  // are polled internally instead of blocking io-wq workers. CQE_SKIP: MSG_RING
  // wake-ups post no completion on the sender.
  constexpr RequiredFeature kFeatures[] = {
      {IORING_FEAT_NODROP, "NODROP"},
      {IORING_FEAT_EXT_ARG, "EXT_ARG"},
      {IORING_FEAT_FAST_POLL, "FAST_POLL"},
      {IORING_FEAT_CQE_SKIP, "CQE_SKIP"},
  };
  for (const RequiredFeature& f : kFeatures) {
    if (!(ring.features & f.bit)) {
      return absl::UnimplementedError(absl::StrCat("io_uring feature ", f.name, " missing"));
    }
  }

  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (probe == nullptr) return absl::UnimplementedError("io_uring opcode probe failed");
  absl::Cleanup free_probe = [probe] { io_uring_free_probe(probe); };
  for (const RequiredOp& op : kRequiredOps) {
    if (!io_uring_opcode_supported(probe, op.op)) {
      return absl::UnimplementedError(absl::StrCat("io_uring opcode ", op.name, " unsupported"));
    }
  }
  return ProbeMultishotRecv(&ring);
}

}  // namespace

absl::Status ProbeIoUring() { return RunOnSetupThread(ProbeIoUringOnThisThread); }

absl::StatusOr<std::unique_ptr<EventLoop>> CreateEventLoop(Backend backend,
                                                          std::string* why_not_uring) {
  if (why_not_uring != nullptr) why_not_uring->clear();
  if (backend == Backend::kEpoll) return CreateEpollLoop();
  absl::Status probe = ProbeIoUring();
  if (probe.ok()) {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = CreateUringLoop();
    if (loop.ok() || backend == Backend::kUring) return loop;
    probe = loop.status();
  } else if (backend == Backend::kUring) {
    return probe;
  }
  if (why_not_uring != nullptr) *why_not_uring = probe.ToString();
  return CreateEpollLoop();
}

}  // namespace natsd::io
