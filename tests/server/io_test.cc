// Tests of the I/O layer, run against both backends (io_uring is skipped when
// ProbeIoUring() fails), over 127.0.0.1 with blocking test clients that time
// out instead of hanging.
#include "server/io/event_loop.h"

#include <arpa/inet.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace natsd::io {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

bool WaitUntil(const std::function<bool()>& pred, absl::Duration timeout = kWait) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// ---------------------------------------------------------------------------
// Test clients: blocking sockets whose reads and writes time out.

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int LocalPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until `n` bytes, EOF, an error or the socket timeout.
std::string RecvUpTo(int fd, size_t n) {
  std::string out;
  char buf[65536];
  while (out.size() < n) {
    const ssize_t r = recv(fd, buf, std::min(sizeof(buf), n - out.size()), 0);
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

// True if the peer closed (EOF or reset) before the socket timeout.
bool WaitForClose(int fd) {
  char buf[4096];
  for (;;) {
    const ssize_t r = recv(fd, buf, sizeof(buf), 0);
    if (r == 0) return true;
    if (r < 0) return errno == ECONNRESET || errno == EPIPE;
  }
}

// 16 MB of a position-dependent pattern, for checking large writes.
const std::string& BigPayload() {
  static const std::string* payload = [] {
    auto* s = new std::string(16 << 20, '\0');
    for (size_t i = 0; i < s->size(); ++i) (*s)[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    return s;
  }();
  return *payload;
}

// ---------------------------------------------------------------------------
// Server side

// Echoes what it reads; the loop thread owns it, the test reads the atomics.
class EchoHandler : public ConnectionHandler {
 public:
  void OnRead(std::string_view data) override {
    pending_.append(data);
    MaybeWrite();
  }
  void OnWriteDone(absl::Status status) override {
    ++writes_done;
    sending_.clear();
    if (status.ok()) MaybeWrite();
  }
  void OnClosed(absl::Status reason) override {
    close_reason = reason;
    conn = nullptr;
    closed.fetch_add(1);
  }

  Connection* conn = nullptr;
  std::atomic<int> closed{0};
  std::atomic<int> writes_done{0};
  absl::Status close_reason;  // read after `closed`

 private:
  void MaybeWrite() {
    if (conn == nullptr || conn->write_in_flight() || pending_.empty()) return;
    sending_.swap(pending_);
    const iovec v{sending_.data(), sending_.size()};
    conn->Write(std::span<const iovec>(&v, 1));
  }
  std::string pending_;
  std::string sending_;
};

// Accepts connections and gives each a handler made by `factory`. Handlers
// outlive the loop (declare the server before the LoopThread).
template <typename Handler>
class TestServer {
 public:
  absl::AnyInvocable<void(int)> Acceptor(EventLoop* loop) {
    return [this, loop](int fd) {
      auto h = std::make_unique<Handler>();
      h->conn = loop->Adopt(fd, h.get());
      Handler* raw = h.get();
      {
        std::lock_guard<std::mutex> lock(mu_);
        handlers_.push_back(std::move(h));
      }
      if (on_adopt) on_adopt(raw);
      accepted.fetch_add(1);
    };
  }
  Handler* handler(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return i < handlers_.size() ? handlers_[i].get() : nullptr;
  }
  std::function<void(Handler*)> on_adopt;  // on the loop thread
  std::atomic<int> accepted{0};

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<Handler>> handlers_;
};

// Runs a loop on its own thread; stops and joins it on destruction, so a
// failing assertion never leaves the thread running.
class LoopThread {
 public:
  explicit LoopThread(std::unique_ptr<EventLoop> loop) : loop_(std::move(loop)) {}
  ~LoopThread() { Stop(); }
  void Start() {
    thread_ = std::thread([this] { loop_->Run(); });
  }
  void Stop() {
    if (!thread_.joinable()) return;
    loop_->Stop();
    thread_.join();
  }
  EventLoop* loop() const { return loop_.get(); }
  // Runs fn on the loop thread and waits for it.
  bool RunSync(absl::AnyInvocable<void() &&> fn) {
    auto done = std::make_shared<absl::Notification>();
    loop_->Post([fn = std::move(fn), done]() mutable {
      std::move(fn)();
      done->Notify();
    });
    return done->WaitForNotificationWithTimeout(kWait);
  }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

class IoTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kUring) {
      if (absl::Status s = ProbeIoUring(); !s.ok()) GTEST_SKIP() << "io_uring unusable: " << s;
    }
  }
  std::unique_ptr<EventLoop> MakeLoop() {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = CreateEventLoop(GetParam());
    EXPECT_TRUE(loop.ok()) << loop.status();
    if (!loop.ok()) return nullptr;
    EXPECT_EQ((*loop)->backend(), GetParam());
    return *std::move(loop);
  }
};

#define ASSERT_LISTEN(port_var, loop, server)                                        \
  absl::StatusOr<int> port_var##_or = (loop)->Listen("127.0.0.1", 0, (server).Acceptor(loop)); \
  ASSERT_TRUE(port_var##_or.ok()) << port_var##_or.status();                        \
  const int port_var = *port_var##_or;                                               \
  ASSERT_GT(port_var, 0)

TEST_P(IoTest, EchoOverLoopbackWithListenOnPortZero) {
  TestServer<EchoHandler> server;
  LoopThread lt(MakeLoop());
  ASSERT_NE(lt.loop(), nullptr);
  ASSERT_LISTEN(port, lt.loop(), server);  // before Run(), as the server does
  lt.Start();

  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "PING\r\n"));
  EXPECT_EQ(RecvUpTo(fd, 6), "PING\r\n");
  ASSERT_TRUE(SendAll(fd, "SUB foo 1\r\n"));
  EXPECT_EQ(RecvUpTo(fd, 11), "SUB foo 1\r\n");

  std::string ip, address;
  int peer_port = 0;
  ASSERT_TRUE(lt.RunSync([&] {
    Connection* c = server.handler(0)->conn;
    ip = c->peer_ip();
    address = c->peer_address();
    peer_port = c->peer_port();
  }));
  EXPECT_EQ(ip, "127.0.0.1");
  EXPECT_EQ(peer_port, LocalPort(fd));
  EXPECT_EQ(address, absl::StrCat("127.0.0.1:", LocalPort(fd)));
  close(fd);
  EXPECT_TRUE(WaitUntil([&] { return server.handler(0)->closed.load() == 1; }));
  EXPECT_TRUE(server.handler(0)->close_reason.ok()) << server.handler(0)->close_reason;
}

TEST_P(IoTest, ManyConnectionsEchoConcurrently) {
  constexpr int kConns = 200;
  TestServer<EchoHandler> server;
  LoopThread lt(MakeLoop());
  ASSERT_LISTEN(port, lt.loop(), server);
  lt.Start();

  std::vector<int> fds;
  for (int i = 0; i < kConns; ++i) {
    fds.push_back(Connect(port));
    ASSERT_GE(fds.back(), 0) << i << ": " << strerror(errno);
  }
  auto message = [](int i) { return absl::StrCat("PUB conn.", i, " 5\r\n", std::string(500 + i, 'x'), "\r\n"); };
  for (int i = 0; i < kConns; ++i) {
    const std::string m = message(i);
    ASSERT_TRUE(SendAll(fds[i], m.substr(0, 10)));
    ASSERT_TRUE(SendAll(fds[i], m.substr(10)));
  }
  for (int i = 0; i < kConns; ++i) {
    const std::string m = message(i);
    errno = 0;
    EXPECT_EQ(RecvUpTo(fds[i], m.size()), m) << i << ": " << strerror(errno) << " accepted " << server.accepted.load();
  }
  for (int fd : fds) close(fd);
  EXPECT_TRUE(WaitUntil([&] {
    for (int i = 0; i < kConns; ++i) {
      if (server.handler(i)->closed.load() != 1) return false;
    }
    return true;
  }));
}

// On its first read, writes BigPayload() as 4 KB iovecs (more than IOV_MAX of
// them) to a client that is not reading yet: the loop must continue the
// partial writes itself and report completion once.
class BigWriter : public ConnectionHandler {
 public:
  void OnRead(std::string_view) override {
    if (started_) return;
    started_ = true;
    const std::string& p = BigPayload();
    for (size_t off = 0; off < p.size(); off += 4096) {
      iov_.push_back(iovec{const_cast<char*>(p.data()) + off, std::min<size_t>(4096, p.size() - off)});
    }
    conn->Write(iov_);
    in_flight_seen = conn->write_in_flight();
  }
  void OnWriteDone(absl::Status status) override {
    write_status = status;
    writes_done.fetch_add(1);
  }
  void OnClosed(absl::Status) override { closed.fetch_add(1); }

  Connection* conn = nullptr;
  std::atomic<int> writes_done{0};
  std::atomic<int> closed{0};
  absl::Status write_status;
  bool in_flight_seen = false;

 private:
  bool started_ = false;
  std::vector<iovec> iov_;
};

TEST_P(IoTest, LargeGatherWriteCompletesOnceAfterPartialWrites) {
  TestServer<BigWriter> server;
  LoopThread lt(MakeLoop());
  ASSERT_LISTEN(port, lt.loop(), server);
  lt.Start();
  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "go"));
  absl::SleepFor(absl::Milliseconds(200));  // let the socket buffers fill up
  EXPECT_EQ(server.handler(0)->writes_done.load(), 0);
  const std::string got = RecvUpTo(fd, BigPayload().size());
  ASSERT_EQ(got.size(), BigPayload().size());
  EXPECT_TRUE(got == BigPayload());
  EXPECT_TRUE(WaitUntil([&] { return server.handler(0)->writes_done.load() == 1; }));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(server.handler(0)->writes_done.load(), 1);
  EXPECT_TRUE(server.handler(0)->write_status.ok()) << server.handler(0)->write_status;
  EXPECT_TRUE(server.handler(0)->in_flight_seen);
  close(fd);
  EXPECT_TRUE(WaitUntil([&] { return server.handler(0)->closed.load() == 1; }));
}

TEST_P(IoTest, PeerCloseAndResetReportOnClosedOnce) {
  TestServer<EchoHandler> server;
  LoopThread lt(MakeLoop());
  ASSERT_LISTEN(port, lt.loop(), server);
  lt.Start();

  const int a = Connect(port);
  ASSERT_GE(a, 0);
  ASSERT_TRUE(SendAll(a, "x"));
  ASSERT_EQ(RecvUpTo(a, 1), "x");
  close(a);  // FIN
  ASSERT_TRUE(WaitUntil([&] { return server.handler(0) && server.handler(0)->closed.load() == 1; }));
  EXPECT_TRUE(server.handler(0)->close_reason.ok()) << server.handler(0)->close_reason;

  const int b = Connect(port);
  ASSERT_GE(b, 0);
  ASSERT_TRUE(SendAll(b, "y"));
  ASSERT_EQ(RecvUpTo(b, 1), "y");
  const linger lg{.l_onoff = 1, .l_linger = 0};
  setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(b);  // RST
  ASSERT_TRUE(WaitUntil([&] { return server.handler(1) && server.handler(1)->closed.load() == 1; }));
  EXPECT_FALSE(server.handler(1)->close_reason.ok());
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(server.handler(0)->closed.load(), 1);
  EXPECT_EQ(server.handler(1)->closed.load(), 1);
}

// Writes 64 MB to a client that never reads, so the write stays in flight.
class StuckWriter : public ConnectionHandler {
 public:
  void OnRead(std::string_view) override {
    if (started_) return;
    started_ = true;
    big_.assign(64 << 20, 'z');
    const iovec v{big_.data(), big_.size()};
    conn->Write(std::span<const iovec>(&v, 1));
  }
  void OnWriteDone(absl::Status) override { writes_done.fetch_add(1); }
  void OnClosed(absl::Status reason) override {
    close_reason = reason;
    closed.fetch_add(1);
  }

  Connection* conn = nullptr;
  std::atomic<int> writes_done{0};
  std::atomic<int> closed{0};
  absl::Status close_reason;

 private:
  bool started_ = false;
  std::string big_;
};

TEST_P(IoTest, CloseWhileWriteInFlight) {
  TestServer<StuckWriter> server;
  LoopThread lt(MakeLoop());
  ASSERT_LISTEN(port, lt.loop(), server);
  lt.Start();
  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "go"));
  ASSERT_TRUE(WaitUntil([&] { return server.handler(0) != nullptr; }));
  absl::SleepFor(absl::Milliseconds(100));
  StuckWriter* h = server.handler(0);
  bool in_flight = false;
  ASSERT_TRUE(lt.RunSync([&] {
    in_flight = h->conn->write_in_flight();
    h->conn->Close(absl::CancelledError("server shutdown"));
    h->conn->Close(absl::InternalError("second close is ignored"));
  }));
  EXPECT_TRUE(in_flight);
  ASSERT_TRUE(WaitUntil([&] { return h->closed.load() == 1; }));
  EXPECT_EQ(h->close_reason, absl::CancelledError("server shutdown"));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(h->closed.load(), 1);
  EXPECT_EQ(h->writes_done.load(), 0);  // Close() supersedes OnWriteDone
  EXPECT_TRUE(WaitForClose(fd));
  close(fd);
}

TEST_P(IoTest, PostFromManyThreadsRunsEverythingInOrderOnTheLoop) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  LoopThread lt(MakeLoop());
  lt.Start();
  EventLoop* loop = lt.loop();
  // Loop-thread state.
  int total = 0;
  int out_of_order = 0;
  int wrong_thread = 0;
  std::vector<int> last(kThreads, -1);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          loop->Post([&, t, i] {
            if (EventLoop::Current() != loop) ++wrong_thread;
            if (last[t] != i - 1) ++out_of_order;
            last[t] = i;
            ++total;
          });
        }
      });
    }
  }
  EXPECT_EQ(EventLoop::Current(), nullptr);
  ASSERT_TRUE(WaitUntil([&] {
    int seen = 0;
    lt.RunSync([&] { seen = total; });
    return seen == kThreads * kPerThread;
  }));
  ASSERT_TRUE(lt.RunSync([&] {
    EXPECT_EQ(out_of_order, 0);
    EXPECT_EQ(wrong_thread, 0);
  }));
}

TEST_P(IoTest, PostBurstIsCoalescedIntoFewBatches) {
  LoopThread lt(MakeLoop());
  std::atomic<int> batches{0};
  lt.loop()->SetBatchEndHook([&] { batches.fetch_add(1); });
  lt.Start();
  auto release = std::make_shared<absl::Notification>();
  auto blocked = std::make_shared<absl::Notification>();
  lt.loop()->Post([release, blocked] {
    blocked->Notify();
    release->WaitForNotificationWithTimeout(kWait);
  });
  ASSERT_TRUE(blocked->WaitForNotificationWithTimeout(kWait));
  const int before = batches.load();
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i) lt.loop()->Post([&] { ran.fetch_add(1); });
  release->Notify();
  ASSERT_TRUE(WaitUntil([&] { return ran.load() == 1000; }));
  // The blocked batch, the one running the burst, and at most a spurious wake-up.
  EXPECT_LE(batches.load() - before, 4);
}

TEST_P(IoTest, PostBetweenLoops) {
  LoopThread a(MakeLoop());
  LoopThread b(MakeLoop());
  a.Start();
  b.Start();
  constexpr int kPosts = 20000;
  std::atomic<int> received{0};
  absl::Notification echoed;
  EventLoop* la = a.loop();
  EventLoop* lb = b.loop();
  // From a's loop thread to b (MSG_RING between io_uring loops), and back.
  la->Post([&] {
    for (int i = 0; i < kPosts; ++i) {
      lb->Post([&] {
        if (received.fetch_add(1) + 1 == kPosts) la->Post([&] { echoed.Notify(); });
      });
    }
  });
  EXPECT_TRUE(echoed.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(received.load(), kPosts);
}

TEST_P(IoTest, StopFromAnotherLoopThread) {
  LoopThread a(MakeLoop());
  LoopThread b(MakeLoop());
  a.Start();
  b.Start();
  EventLoop* lb = b.loop();
  // a stops b and then itself within one batch: b's wake-up must still leave.
  a.loop()->Post([&, la = a.loop()] {
    lb->Stop();
    la->Stop();
  });
  std::atomic<bool> joined{false};
  std::thread joiner([&] {
    b.Stop();
    a.Stop();
    joined = true;
  });
  const bool ok = WaitUntil([&] { return joined.load(); });
  if (!ok) {  // unblock the joiner before failing
    b.loop()->Stop();
    a.loop()->Stop();
  }
  joiner.join();
  EXPECT_TRUE(ok);
}

TEST_P(IoTest, TimersRunInDeadlineOrderAndCancelWorks) {
  LoopThread lt(MakeLoop());
  lt.Start();
  std::string order;  // loop thread only
  absl::Notification done;
  TimerId cancelled = 0;
  ASSERT_TRUE(lt.RunSync([&] {
    EventLoop* loop = EventLoop::Current();
    loop->AddTimer(absl::Milliseconds(60), [&] {
      order += 'c';
      done.Notify();
    });
    loop->AddTimer(absl::Milliseconds(20), [&] { order += 'a'; });
    cancelled = loop->AddTimer(absl::Milliseconds(30), [&] { order += 'X'; });
    loop->AddTimer(absl::Milliseconds(40), [&] { order += 'b'; });
    loop->AddTimer(absl::ZeroDuration(), [&, loop] {
      order += '0';
      // Added by a timer: runs in a later batch, still before 'a'.
      loop->AddTimer(absl::ZeroDuration(), [&] { order += '1'; });
    });
    loop->CancelTimer(cancelled);
    loop->CancelTimer(987654);  // unknown: ignored
  }));
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  absl::SleepFor(absl::Milliseconds(50));
  ASSERT_TRUE(lt.RunSync([&] { EXPECT_EQ(order, "01abc"); }));
}

TEST_P(IoTest, TimerAddedBeforeRunFires) {
  LoopThread lt(MakeLoop());
  absl::Notification fired;
  const absl::Time start = absl::Now();
  lt.loop()->AddTimer(absl::Milliseconds(30), [&] { fired.Notify(); });
  lt.Start();
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(kWait));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(29));
}

TEST_P(IoTest, AcceptsManyConnections) {
  constexpr int kConns = 300;
  TestServer<EchoHandler> server;
  LoopThread lt(MakeLoop());
  lt.Start();
  int port = 0;
  ASSERT_TRUE(lt.RunSync([&] {  // Listen() on a running loop
    absl::StatusOr<int> p = lt.loop()->Listen("127.0.0.1", 0, server.Acceptor(lt.loop()));
    ASSERT_TRUE(p.ok()) << p.status();
    port = *p;
  }));
  ASSERT_GT(port, 0);
  std::vector<int> fds;
  for (int i = 0; i < kConns; ++i) {
    fds.push_back(Connect(port));
    ASSERT_GE(fds.back(), 0) << i << ": " << strerror(errno);
  }
  EXPECT_TRUE(WaitUntil([&] { return server.accepted.load() == kConns; }));
  for (int fd : fds) close(fd);
  EXPECT_TRUE(WaitUntil([&] {
    for (int i = 0; i < kConns; ++i) {
      if (server.handler(i)->closed.load() != 1) return false;
    }
    return true;
  }));
}

TEST_P(IoTest, StopListeningRefusesNewConnections) {
  TestServer<EchoHandler> server;
  LoopThread lt(MakeLoop());
  ASSERT_LISTEN(port, lt.loop(), server);
  lt.Start();
  const int before = Connect(port);
  ASSERT_GE(before, 0);
  ASSERT_TRUE(WaitUntil([&] { return server.accepted.load() == 1; }));
  ASSERT_TRUE(lt.RunSync([&] { lt.loop()->StopListening(); }));
  EXPECT_TRUE(WaitUntil([&] {
    const int fd = Connect(port);
    if (fd >= 0) close(fd);
    return fd < 0;
  }, absl::Seconds(2)));
  // The accepted connection keeps working.
  ASSERT_TRUE(SendAll(before, "still here"));
  EXPECT_EQ(RecvUpTo(before, 10), "still here");
  close(before);
}

TEST_P(IoTest, BatchEndHookRunsAfterTheBatchWork) {
  LoopThread lt(MakeLoop());
  std::atomic<int> hooks{0};
  lt.loop()->SetBatchEndHook([&] { hooks.fetch_add(1); });
  lt.Start();
  std::atomic<int> hooks_when_posted_ran{-1};
  lt.loop()->Post([&] { hooks_when_posted_ran = hooks.load(); });
  ASSERT_TRUE(WaitUntil([&] { return hooks_when_posted_ran.load() >= 0; }));
  EXPECT_TRUE(WaitUntil([&] { return hooks.load() > hooks_when_posted_ran.load(); }));
  EXPECT_EQ(EventLoop::Current(), nullptr);
}

TEST_P(IoTest, NowIsCachedPerBatch) {
  LoopThread lt(MakeLoop());
  lt.Start();
  ASSERT_TRUE(lt.RunSync([&] {
    const absl::Time t1 = lt.loop()->Now();
    absl::SleepFor(absl::Milliseconds(5));
    EXPECT_EQ(lt.loop()->Now(), t1);
    EXPECT_LE(absl::Now() - t1, absl::Seconds(1));
  }));
}

// Lowers RLIMIT_NOFILE in a child process so that accept() fails with EMFILE
// while three connections wait in the backlog. Returns 0 if the loop backed
// off instead of spinning and accepted all three once the limit was raised.
int AcceptBackoffChild(Backend backend) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = CreateEventLoop(backend);
  if (!loop.ok()) return 10;
  int accepted = 0;
  int batches = 0;
  int batches_while_failing = -1;
  absl::StatusOr<int> port = (*loop)->Listen("127.0.0.1", 0, [&](int fd) {
    ++accepted;
    close(fd);
  });
  if (!port.ok()) return 11;
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(Connect(*port));
    if (clients.back() < 0) return 12;
  }
  rlimit old{};
  getrlimit(RLIMIT_NOFILE, &old);
  const int lowest_free = dup(0);
  close(lowest_free);
  rlimit low = old;
  low.rlim_cur = static_cast<rlim_t>(lowest_free);  // no new descriptor fits
  if (setrlimit(RLIMIT_NOFILE, &low) != 0) return 13;
  (*loop)->SetBatchEndHook([&] { ++batches; });
  (*loop)->AddTimer(absl::Milliseconds(300), [&] {
    batches_while_failing = batches;
    setrlimit(RLIMIT_NOFILE, &old);
  });
  (*loop)->AddTimer(absl::Milliseconds(1500), [&] { (*loop)->Stop(); });
  (*loop)->Run();
  if (batches_while_failing > 50) return 14;  // spinning on EMFILE
  if (accepted != 3) return 15;
  return 0;
}

int WaitChild(pid_t pid) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

TEST_P(IoTest, AcceptErrorsBackOffInsteadOfSpinning) {
  const Backend backend = GetParam();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(AcceptBackoffChild(backend));
  EXPECT_EQ(WaitChild(pid), 0)
      << "10-13: setup failed, 14: loop spun on EMFILE, 15: connections not accepted after";
}

// Records what it reads and pauses reading after every read when
// pause_after_read is set (the server pauses a fast publisher from inside
// OnRead). The bytes are read by the test under mu.
class PausingReader : public ConnectionHandler {
 public:
  void OnRead(std::string_view data) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      received.append(data);
    }
    reads.fetch_add(1);
    if (pause_after_read.load()) conn->PauseReading();
  }
  void OnWriteDone(absl::Status status) override { writes_done.fetch_add(1); }
  void OnClosed(absl::Status reason) override {
    close_reason = reason;
    conn = nullptr;
    closed.fetch_add(1);
  }
  size_t received_size() {
    std::lock_guard<std::mutex> lock(mu);
    return received.size();
  }

  Connection* conn = nullptr;
  std::atomic<bool> pause_after_read{true};
  std::atomic<int> reads{0};
  std::atomic<int> writes_done{0};
  std::atomic<int> closed{0};
  absl::Status close_reason;  // read after `closed`
  std::mutex mu;
  std::string received;
};

// Sends as much of `data` as the socket takes without blocking.
size_t SendNonBlocking(int fd, std::string_view data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  return sent;
}

TEST_P(IoTest, PausedReadingBacksUpInTheKernelAndResumeDeliversInOrder) {
  TestServer<PausingReader> server;
  LoopThread lt(MakeLoop());
  ASSERT_LISTEN(port, lt.loop(), server);
  lt.Start();
  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  const std::string& payload = BigPayload();

  // The first read pauses the connection; everything sent after it stays in
  // the kernel, so the sender runs out of socket buffer long before 16 MB.
  ASSERT_TRUE(SendAll(fd, payload.substr(0, 100)));
  ASSERT_TRUE(WaitUntil([&] { return server.handler(0) != nullptr && server.handler(0)->reads.load() > 0; }));
  PausingReader* h = server.handler(0);
  size_t sent = 100;
  const absl::Time deadline = absl::Now() + kWait;
  // Bytes can still drain into the loop from a read issued before the pause
  // took effect (kept by the loop, not delivered): retry until EAGAIN holds.
  while (absl::Now() < deadline) {
    const size_t n = SendNonBlocking(fd, std::string_view(payload).substr(sent));
    sent += n;
    if (n == 0) {
      absl::SleepFor(absl::Milliseconds(20));
      if (SendNonBlocking(fd, std::string_view(payload).substr(sent, 1)) == 0) break;
      ++sent;
    }
  }
  ASSERT_LT(sent, payload.size()) << "the sender never saw EAGAIN";
  const size_t delivered_while_paused = h->received_size();
  EXPECT_LT(delivered_while_paused, sent);
  bool paused = false;
  ASSERT_TRUE(lt.RunSync([&] { paused = h->conn->reading_paused(); }));
  EXPECT_TRUE(paused);

  // Resume after every read until all has arrived: each resume may first
  // deliver bytes the loop held from before the pause.
  ASSERT_TRUE(WaitUntil([&] {
    EXPECT_TRUE(lt.RunSync([&] {
      if (h->conn != nullptr) h->conn->ResumeReading();
    }));
    return h->received_size() >= sent;
  }));
  EXPECT_EQ(h->closed.load(), 0);
  {
    std::lock_guard<std::mutex> lock(h->mu);
    ASSERT_EQ(h->received.size(), sent);
    EXPECT_TRUE(h->received == std::string_view(payload).substr(0, sent)) << "bytes out of order";
  }
  // A paused connection does not notice the peer's close (nothing reads).
  h->pause_after_read.store(false);
  ASSERT_TRUE(lt.RunSync([&] { h->conn->ResumeReading(); }));
  close(fd);
  EXPECT_TRUE(WaitUntil([&] { return h->closed.load() == 1; }));
}

TEST_P(IoTest, PauseAndResumeFromManyBatchesKeepsAStreamInOrder) {
  // A writer thread streams 16 MB while the test resumes the reader over and
  // over (it pauses again after each read), so pauses land while reads are
  // in flight in the kernel.
  TestServer<PausingReader> server;
  LoopThread lt(MakeLoop());
  ASSERT_LISTEN(port, lt.loop(), server);
  lt.Start();
  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  const std::string& payload = BigPayload();
  std::atomic<bool> send_ok{false};
  std::thread writer([&] { send_ok.store(SendAll(fd, payload)); });
  ASSERT_TRUE(WaitUntil([&] { return server.handler(0) != nullptr; }));
  PausingReader* h = server.handler(0);
  const bool all = WaitUntil(
      [&] {
        EXPECT_TRUE(lt.RunSync([&] {
          if (h->conn != nullptr) h->conn->ResumeReading();
        }));
        return h->received_size() >= payload.size();
      },
      absl::Seconds(60));
  writer.join();
  ASSERT_TRUE(all) << h->received_size() << " of " << payload.size();
  EXPECT_TRUE(send_ok.load());
  {
    std::lock_guard<std::mutex> lock(h->mu);
    ASSERT_EQ(h->received.size(), payload.size());
    EXPECT_TRUE(h->received == payload) << "bytes out of order";
  }
  EXPECT_GT(h->reads.load(), 1);
  // A paused connection does not notice the peer's close (nothing reads).
  h->pause_after_read.store(false);
  ASSERT_TRUE(lt.RunSync([&] { h->conn->ResumeReading(); }));
  close(fd);
  EXPECT_TRUE(WaitUntil([&] { return h->closed.load() == 1; }));
}

TEST_P(IoTest, PausedConnectionCanWriteAndClose) {
  TestServer<PausingReader> server;
  LoopThread lt(MakeLoop());
  ASSERT_LISTEN(port, lt.loop(), server);
  lt.Start();
  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "first"));
  ASSERT_TRUE(WaitUntil([&] { return server.handler(0) != nullptr && server.handler(0)->reads.load() > 0; }));
  PausingReader* h = server.handler(0);
  ASSERT_TRUE(SendAll(fd, std::string(256 << 10, 'p')));  // stays in the kernel (or held)

  static const std::string kReply = "written while paused";
  ASSERT_TRUE(lt.RunSync([&] {
    const iovec v{const_cast<char*>(kReply.data()), kReply.size()};
    h->conn->Write(std::span<const iovec>(&v, 1));
  }));
  EXPECT_EQ(RecvUpTo(fd, kReply.size()), kReply);
  ASSERT_TRUE(WaitUntil([&] { return h->writes_done.load() == 1; }));

  ASSERT_TRUE(lt.RunSync([&] {
    h->conn->Close(absl::CancelledError("closed while paused"));
  }));
  ASSERT_TRUE(WaitUntil([&] { return h->closed.load() == 1; }));
  EXPECT_EQ(h->close_reason, absl::CancelledError("closed while paused"));
  EXPECT_TRUE(WaitForClose(fd));
  close(fd);
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(h->closed.load(), 1);
}

TEST_P(IoTest, PeerCloseWhilePausedIsReportedAfterResume) {
  TestServer<PausingReader> server;
  LoopThread lt(MakeLoop());
  ASSERT_LISTEN(port, lt.loop(), server);
  lt.Start();
  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "first"));
  ASSERT_TRUE(WaitUntil([&] { return server.handler(0) != nullptr && server.handler(0)->reads.load() > 0; }));
  PausingReader* h = server.handler(0);
  ASSERT_TRUE(SendAll(fd, "second"));
  shutdown(fd, SHUT_WR);
  // Every byte is delivered before the close is reported.
  h->pause_after_read.store(false);
  ASSERT_TRUE(lt.RunSync([&] { h->conn->ResumeReading(); }));
  ASSERT_TRUE(WaitUntil([&] { return h->closed.load() == 1; }));
  EXPECT_TRUE(h->close_reason.ok()) << h->close_reason;
  std::lock_guard<std::mutex> lock(h->mu);
  EXPECT_EQ(h->received, "firstsecond");
  close(fd);
}

INSTANTIATE_TEST_SUITE_P(Backends, IoTest, ::testing::Values(Backend::kUring, Backend::kEpoll),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kUring ? std::string("Uring")
                                                                : std::string("Epoll");
                         });

// ---------------------------------------------------------------------------
// Backend selection

TEST(BackendSelection, ProbeResultOnThisMachine) {
  const absl::Status s = ProbeIoUring();
  std::printf("ProbeIoUring(): %s\n", s.ToString().c_str());
  std::string why;
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = CreateEventLoop(Backend::kAuto, &why);
  ASSERT_TRUE(loop.ok()) << loop.status();
  EXPECT_EQ((*loop)->backend(), s.ok() ? Backend::kUring : Backend::kEpoll);
  EXPECT_EQ(why.empty(), s.ok()) << why;
}

TEST(BackendSelection, EnvironmentVariableForcesEpoll) {
  setenv("NATSD_IO_URING_DISABLE", "1", 1);
  const absl::Status s = ProbeIoUring();
  std::string why_auto = "stale";
  std::string why_epoll = "stale";
  absl::StatusOr<std::unique_ptr<EventLoop>> automatic = CreateEventLoop(Backend::kAuto, &why_auto);
  absl::StatusOr<std::unique_ptr<EventLoop>> forced = CreateEventLoop(Backend::kUring);
  absl::StatusOr<std::unique_ptr<EventLoop>> epoll = CreateEventLoop(Backend::kEpoll, &why_epoll);
  unsetenv("NATSD_IO_URING_DISABLE");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  ASSERT_TRUE(automatic.ok()) << automatic.status();
  EXPECT_EQ((*automatic)->backend(), Backend::kEpoll);
  EXPECT_NE(why_auto.find("NATSD_IO_URING_DISABLE"), std::string::npos) << why_auto;
  EXPECT_FALSE(forced.ok());
  ASSERT_TRUE(epoll.ok()) << epoll.status();
  EXPECT_EQ((*epoll)->backend(), Backend::kEpoll);
  EXPECT_TRUE(why_epoll.empty()) << why_epoll;  // epoll was asked for: nothing to explain
}

// A child process whose seccomp filter makes io_uring_setup fail with EPERM,
// as Docker's default profile does, must select epoll and still serve.
class PingEcho : public ConnectionHandler {
 public:
  void OnRead(std::string_view data) override {
    buf_.assign(data);
    const iovec v{buf_.data(), buf_.size()};
    conn->Write(std::span<const iovec>(&v, 1));
  }
  void OnWriteDone(absl::Status) override { EventLoop::Current()->Stop(); }
  void OnClosed(absl::Status) override {}
  Connection* conn = nullptr;

 private:
  std::string buf_;
};

int SeccompChild() {
#if defined(__x86_64__)
  constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
  return 0;  // no filter for this architecture: nothing to check
#endif
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 20;
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) return 21;

  if (ProbeIoUring().code() != absl::StatusCode::kPermissionDenied) return 22;
  if (CreateEventLoop(Backend::kUring).ok()) return 23;
  std::string why;
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = CreateEventLoop(Backend::kAuto, &why);
  if (!loop.ok() || (*loop)->backend() != Backend::kEpoll) return 24;
  if (why.find("EPERM") == std::string::npos) return 25;

  PingEcho handler;
  absl::StatusOr<int> port = (*loop)->Listen("127.0.0.1", 0, [&](int fd) {
    handler.conn = EventLoop::Current()->Adopt(fd, &handler);
  });
  if (!port.ok()) return 26;
  const int fd = Connect(*port);
  if (fd < 0 || !SendAll(fd, "PING\r\n")) return 27;
  (*loop)->AddTimer(absl::Seconds(5), [&] { (*loop)->Stop(); });
  (*loop)->Run();
  if (RecvUpTo(fd, 6) != "PING\r\n") return 28;
  return 0;
}

TEST(BackendSelection, SeccompEpermFallsBackToEpoll) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(SeccompChild());
  EXPECT_EQ(WaitChild(pid), 0) << "20-21: seccomp setup, 22: probe status, 23: kUring "
                                  "succeeded, 24-25: kAuto selection, 26-28: epoll echo";
}

}  // namespace
}  // namespace natsd::io
