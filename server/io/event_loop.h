// The I/O layer: one event loop per thread, on io_uring when the kernel allows
// it and on epoll otherwise.
//
// A loop owns TCP connections and listening sockets and runs callbacks for
// them on its own thread. Code above this layer (the server's Client) never
// makes socket syscalls itself: it implements ConnectionHandler and calls
// Connection::Write/Close.
//
//   std::string why;
//   auto loop = natsd::io::CreateEventLoop(natsd::io::Backend::kAuto, &why);
//   if (!why.empty()) log("io_uring unavailable, using epoll: " + why);
//   auto port = (*loop)->Listen("127.0.0.1", 0, [&](int fd) {
//     (*loop)->Adopt(fd, new MyHandler);
//   });
//   std::thread t([&] { (*loop)->Run(); });
//   ...
//   (*loop)->Stop();
//   t.join();
//
// Setting the environment variable NATSD_IO_URING_DISABLE=1 makes
// ProbeIoUring() fail, so kAuto selects epoll (for tests and for kernels whose
// io_uring misbehaves).
#ifndef NATSD_SERVER_IO_EVENT_LOOP_H_
#define NATSD_SERVER_IO_EVENT_LOOP_H_

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace natsd::io {

enum class Backend { kAuto, kUring, kEpoll };

// "auto", "io_uring" or "epoll".
std::string_view BackendName(Backend backend);

// Callbacks for one connection; implemented by the server's Client. Always
// invoked on the owning loop's thread, never from inside a Connection method.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // Bytes arrived. `data` is valid only during the call (it points into a
  // per-loop or kernel-provided buffer). Not called after Close(), nor while
  // reading is paused (Connection::PauseReading).
  virtual void OnRead(std::string_view data) = 0;
  // The Write() in flight has completed: all bytes written (status OK), or
  // failed. Not called after Close(): OnClosed then reports that the loop no
  // longer references the written bytes.
  virtual void OnWriteDone(absl::Status status) = 0;
  // The connection is finished (peer closed, error, or Close() called) and
  // all of its kernel operations have completed; the loop will never touch
  // this handler again and the Connection object is gone. Called exactly once
  // per connection, unless the loop itself is destroyed first.
  virtual void OnClosed(absl::Status reason) = 0;
};

// One TCP connection owned by a loop. Methods only on the owning loop's
// thread. The object stays valid until its handler's OnClosed returns.
class Connection {
 public:
  virtual ~Connection() = default;
  // Starts a gather write of `iov` (the array is copied; the bytes must stay
  // valid until OnWriteDone or OnClosed). At most one write in flight: the
  // loop finishes partial writes itself and reports OnWriteDone once. The
  // syscall/SQE is issued at the end of the current event batch, so many
  // writes from one batch cost one submit. Ignored once Close() was called.
  virtual void Write(std::span<const iovec> iov) = 0;
  // True from Write() until its OnWriteDone.
  virtual bool write_in_flight() const = 0;
  // Stops calling OnRead until ResumeReading(), so that what the peer sends
  // backs up in the kernel's socket buffers and, through TCP flow control,
  // in the peer (back-pressure on a fast producer). Writes and Close() work
  // as usual while paused. Bytes the loop had already taken from the kernel
  // when the pause took effect are kept, in order, and delivered after the
  // resume, before anything read later. On epoll, a connection that reports
  // a hang-up or error is still read to its end while paused: the loop
  // cannot wait for its readiness to clear. Ignored once Close() was
  // called; repeated calls are no-ops.
  virtual void PauseReading() = 0;
  // Undoes PauseReading(): held bytes are delivered, in order, in the next
  // batch (never from inside this call), then reading continues.
  virtual void ResumeReading() = 0;
  virtual bool reading_paused() const = 0;
  // Begins closing: stops reading, cancels pending operations and shuts the
  // socket down; OnClosed follows (later, never from inside this call).
  // Later calls are ignored. A handler that must deliver a final message
  // first (e.g. an -ERR) closes once its OnWriteDone says it was written.
  virtual void Close(absl::Status reason) = 0;
  virtual int fd() const = 0;
  virtual const std::string& peer_address() const = 0;  // "ip:port"
  virtual const std::string& peer_ip() const = 0;
  virtual int peer_port() const = 0;
};

using TimerId = uint64_t;

// An event loop running on one thread.
//
// Thread-safety: Post() and Stop() may be called from any thread; everything
// else only on the loop's own thread while Run() is active, or on any single
// thread before Run() starts. Run() must always be called on the same thread.
// Destroying the loop (after Run() returned) closes the sockets it still owns
// without calling their handlers: close connections before stopping to get
// OnClosed.
class EventLoop {
 public:
  virtual ~EventLoop() = default;
  virtual Backend backend() const = 0;
  // Dispatches events until Stop(). Returns at once if Stop() was already
  // called.
  virtual void Run() = 0;
  // Makes Run() return after the current batch. Any thread.
  virtual void Stop() = 0;
  // Runs fn on the loop thread, in posting order, after the current batch's
  // events. Any thread. Wake-ups are coalesced: a burst of posts wakes the
  // loop once. Between io_uring loops the wake-up is an IORING_OP_MSG_RING
  // from the poster's ring, otherwise an eventfd write.
  virtual void Post(absl::AnyInvocable<void() &&> fn) = 0;
  // Takes ownership of a connected, non-blocking socket and starts reading.
  // `handler` must outlive the connection (until its OnClosed).
  virtual Connection* Adopt(int fd, ConnectionHandler* handler) = 0;
  // Listens on host:port (port 0 = ephemeral; SO_REUSEADDR) and calls
  // on_accept on this loop's thread for every accepted socket (non-blocking,
  // TCP_NODELAY set; on_accept owns it). Returns the bound port. Accept
  // errors such as EMFILE pause accepting with an increasing back-off.
  virtual absl::StatusOr<int> Listen(const std::string& host, int port,
                                     absl::AnyInvocable<void(int fd)> on_accept) = 0;
  // Stops every listener of this loop and closes their sockets.
  virtual void StopListening() = 0;
  // One-shot timer; fn runs on the loop thread at or after Now() + after.
  virtual TimerId AddTimer(absl::Duration after, absl::AnyInvocable<void() &&> fn) = 0;
  // Cancels a timer that has not run yet; unknown or fired ids are ignored.
  virtual void CancelTimer(TimerId id) = 0;
  // Called once after each batch of completions/events, timers and posted
  // functions has been dispatched, before the loop submits and waits again.
  // The server flushes per-batch delivery here.
  virtual void SetBatchEndHook(absl::AnyInvocable<void()> hook) = 0;
  // The time the current batch started (cached: no clock read per call).
  virtual absl::Time Now() const = 0;
  // The loop running on this thread, or null.
  static EventLoop* Current();
};

// Probes io_uring support: ring creation, the opcodes and features the
// io_uring loop uses (multishot recv into a provided buffer ring, multishot
// accept, MSG_RING, ...). OK if usable; otherwise a status saying why
// (PermissionDenied for EPERM from seccomp or kernel.io_uring_disabled,
// ResourceExhausted for ENOMEM from RLIMIT_MEMLOCK, Unimplemented for
// ENOSYS/an old kernel/a missing opcode, FailedPrecondition when disabled by
// NATSD_IO_URING_DISABLE=1). Never crashes.
absl::Status ProbeIoUring();

// Creates a loop of the requested backend. kAuto: io_uring if ProbeIoUring()
// is OK and the ring can be set up, else epoll; the reason io_uring was not
// used is stored in `why_not_uring` when non-null (left empty otherwise) for
// the caller to log. kUring fails instead of falling back.
absl::StatusOr<std::unique_ptr<EventLoop>> CreateEventLoop(
    Backend backend, std::string* why_not_uring = nullptr);

}  // namespace natsd::io

#endif  // NATSD_SERVER_IO_EVENT_LOOP_H_
