// End-to-end tests of the server core over loopback: a real Server (all
// workers, both I/O backends) and raw protocol clients.
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "server/io/event_loop.h"
#include "server/logger.h"
#include "tests/server/server_fixture.h"
#include "tests/server/test_client.h"

namespace natsd {
namespace {

using ::natsd::testing::BackendTestName;
using ::natsd::testing::kBothBackends;
using ::natsd::testing::ServerFixture;
using ::natsd::testing::TestClient;

class ServerTest : public ServerFixture {};

TEST_P(ServerTest, SendsInfoFirst) {
  Start();
  auto c = TestClient::Connect(port());
  ASSERT_TRUE(c.ok());
  auto info = c->ReadUntil("\r\n");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->starts_with("INFO {\"server_id\":\"N")) << *info;
  EXPECT_TRUE(info->ends_with("} \r\n")) << *info;
  EXPECT_NE(info->find("\"max_payload\":1048576"), std::string::npos);
  EXPECT_NE(info->find("\"headers\":true"), std::string::npos);
  EXPECT_NE(info->find("\"client_ip\":\"127.0.0.1\""), std::string::npos);
}

TEST_P(ServerTest, VerboseAcknowledgesEveryOp) {
  Start();
  auto c = TestClient::Connect(port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->ReadUntil("\r\n").ok());
  c->Send("CONNECT {}\r\nSUB foo 1\r\nPUB foo 005\r\nhello\r\nPING\r\n");
  auto got = c->ReadUntil("PONG\r\n");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "+OK\r\n+OK\r\n+OK\r\nMSG foo 1 005\r\nhello\r\nPONG\r\n");
}

TEST_P(ServerTest, PubSubAcrossThreadsKeepsOrder) {
  Start();
  std::vector<TestClient> subs;
  for (int i = 0; i < 4; ++i) {
    subs.push_back(Client());
    subs.back().Send("SUB orders.* 7\r\n");
    Sync(subs.back());
  }
  TestClient pub = Client();
  std::string batch;
  constexpr int kMsgs = 500;
  for (int i = 0; i < kMsgs; ++i) {
    std::string body = absl::StrCat(i);
    absl::StrAppend(&batch, "PUB orders.new ", body.size(), "\r\n", body, "\r\n");
  }
  pub.Send(batch);
  for (TestClient& s : subs) {
    for (int i = 0; i < kMsgs; ++i) {
      std::string body = absl::StrCat(i);
      auto m = s.ReadUntil(absl::StrCat("\r\n", body, "\r\n"));
      ASSERT_TRUE(m.ok()) << m.status();
      EXPECT_EQ(*m, absl::StrCat("MSG orders.new 7 ", body.size(), "\r\n", body,
                                 "\r\n"));
    }
  }
}

TEST_P(ServerTest, WildcardsMatchLikeTheReference) {
  Start();
  TestClient sub = Client();
  sub.Send("SUB a.* 1\r\nSUB a.> 2\r\nSUB a.b 3\r\nSUB *.*.c 4\r\n");
  Sync(sub);
  TestClient pub = Client();
  pub.Send("PUB a.b 1\r\nx\r\nPUB a.b.c 1\r\ny\r\nPUB b 1\r\nz\r\n");
  Sync(pub);
  std::string got = sub.ReadFor(absl::Milliseconds(300));
  // a.b → sids 1, 2, 3; a.b.c → sids 2, 4; b → nobody.
  for (const char* want : {"MSG a.b 1 1\r\nx\r\n", "MSG a.b 2 1\r\nx\r\n",
                           "MSG a.b 3 1\r\nx\r\n", "MSG a.b.c 2 1\r\ny\r\n",
                           "MSG a.b.c 4 1\r\ny\r\n"}) {
    EXPECT_NE(got.find(want), std::string::npos) << want << " in " << got;
  }
  EXPECT_EQ(got.find("MSG b "), std::string::npos);
}

TEST_P(ServerTest, QueueGroupDeliversOncePerGroupAndSpreads) {
  Start();
  std::vector<TestClient> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back(Client());
    members.back().Send("SUB work workers 1\r\n");
    Sync(members.back());
  }
  TestClient plain = Client();
  plain.Send("SUB work 9\r\n");
  Sync(plain);
  TestClient pub = Client();
  constexpr int kMsgs = 300;
  std::string batch;
  for (int i = 0; i < kMsgs; ++i) absl::StrAppend(&batch, "PUB work 1\r\nx\r\n");
  pub.Send(batch);
  Sync(pub);
  int total = 0;
  for (TestClient& m : members) {
    std::string got = m.ReadFor(absl::Milliseconds(300));
    int n = 0;
    for (size_t p = got.find("MSG work 1 1"); p != std::string::npos;
         p = got.find("MSG work 1 1", p + 1)) {
      ++n;
    }
    EXPECT_GT(n, kMsgs / 10) << "members should share the load";
    total += n;
  }
  EXPECT_EQ(total, kMsgs);
  std::string got = plain.ReadFor(absl::Milliseconds(300));
  int n = 0;
  for (size_t p = got.find("MSG work 9"); p != std::string::npos;
       p = got.find("MSG work 9", p + 1)) {
    ++n;
  }
  EXPECT_EQ(n, kMsgs);
}

TEST_P(ServerTest, RequestReplyAndNoResponders) {
  Start();
  TestClient responder = Client();
  responder.Send("SUB svc 1\r\n");
  Sync(responder);
  TestClient requester = Client();
  requester.Send("SUB _INBOX.x 5\r\nPUB svc _INBOX.x 2\r\nhi\r\n");
  auto req = responder.ReadUntil("hi\r\n");
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(*req, "MSG svc 1 _INBOX.x 2\r\nhi\r\n");
  responder.Send("PUB _INBOX.x 3\r\nyes\r\n");
  auto rep = requester.ReadUntil("yes\r\n");
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(*rep, "MSG _INBOX.x 5 3\r\nyes\r\n");
  // Nobody listens on "nobody": the requester asked for no_responders.
  requester.Send("PUB nobody _INBOX.x 0\r\n\r\n");
  auto nr = requester.ReadUntil("\r\n\r\n\r\n");
  ASSERT_TRUE(nr.ok()) << nr.status();
  EXPECT_EQ(*nr, "HMSG _INBOX.x 5 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
}

TEST_P(ServerTest, EchoOffSkipsOwnMessages) {
  Start();
  TestClient c = Client("CONNECT {\"verbose\":false,\"echo\":false}\r\n");
  c.Send("SUB e 1\r\nPUB e 2\r\nhi\r\nPING\r\n");
  auto got = c.ReadUntil("PONG\r\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "PONG\r\n");
}

TEST_P(ServerTest, AutoUnsubscribeStopsAfterMax) {
  Start();
  TestClient d = Client();
  d.Send("SUB v 1\r\nUNSUB 1 2\r\n");
  Sync(d);
  for (int i = 0; i < 5; ++i) d.Send("PUB v 1\r\nx\r\n");
  d.Send("PING\r\n");
  auto all = d.ReadUntil("PONG\r\n");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, "MSG v 1 1\r\nx\r\nMSG v 1 1\r\nx\r\nPONG\r\n");
}

TEST_P(ServerTest, HeadersAreStrippedForClientsWithoutHeaders) {
  Start();
  TestClient with = Client();
  with.Send("SUB h 1\r\n");
  Sync(with);
  TestClient without = Client("CONNECT {\"verbose\":false,\"headers\":false}\r\n");
  without.Send("SUB h 2\r\n");
  Sync(without);
  TestClient pub = Client();
  pub.Send("HPUB h 12 17\r\nNATS/1.0\r\n\r\nhello\r\n");
  auto h = with.ReadUntil("hello\r\n");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, "HMSG h 1 12 17\r\nNATS/1.0\r\n\r\nhello\r\n");
  auto m = without.ReadUntil("hello\r\n");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, "MSG h 2 5\r\nhello\r\n");
}

TEST_P(ServerTest, SplitInputIsReassembled) {
  Start();
  TestClient c = Client();
  const std::string ops = "SUB s 1\r\nPUB s 5\r\nhello\r\nPING\r\n";
  for (char ch : ops) {
    c.Send(std::string(1, ch));
    absl::SleepFor(absl::Microseconds(200));
  }
  auto got = c.ReadUntil("PONG\r\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "MSG s 1 5\r\nhello\r\nPONG\r\n");
}

TEST_P(ServerTest, ProtocolErrorsCloseWithTheReferenceText) {
  Start();
  {
    TestClient c = Client();
    c.Send("FOO\r\n");
    auto got = c.ReadUntil("\r\n");
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, "-ERR 'Unknown Protocol Operation'\r\n");
    EXPECT_TRUE(c.WaitClosed());
  }
  {
    TestClient c = Client();
    c.Send("PUB foo 2000000\r\n");
    auto got = c.ReadUntil("\r\n");
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, "-ERR 'Maximum Payload Violation'\r\n");
    EXPECT_TRUE(c.WaitClosed());
  }
  {
    TestClient c = Client();
    c.Send(absl::StrCat("SUB ", std::string(5000, 'a'), " 1\r\n"));
    auto got = c.ReadUntil("\r\n");
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, "-ERR 'maximum control line exceeded'\r\n");
    EXPECT_TRUE(c.WaitClosed());
  }
}

TEST_P(ServerTest, InvalidSubjectsKeepTheConnection) {
  Start();
  TestClient c = Client("CONNECT {\"verbose\":false,\"pedantic\":true}\r\n");
  c.Send("SUB foo..bar 1\r\nPUB foo.* 0\r\n\r\nPING\r\n");
  auto got = c.ReadUntil("PONG\r\n");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got,
            "-ERR 'Invalid Subject'\r\n-ERR 'Invalid Publish Subject'\r\nPONG\r\n");
}

TEST_P(ServerTest, UserPasswordAuth) {
  Start([](Options& o) {
    o.username = "alice";
    o.password = "s3cret";
    o.auth_timeout = absl::Milliseconds(300);
  });
  {
    auto c = TestClient::Connect(port());
    ASSERT_TRUE(c.ok());
    auto info = c->ReadUntil("\r\n");
    ASSERT_TRUE(info.ok());
    EXPECT_NE(info->find("\"auth_required\":true"), std::string::npos);
    c->Send("CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"bad\"}\r\n");
    auto got = c->ReadUntil("\r\n");
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, "-ERR 'Authorization Violation'\r\n");
    EXPECT_TRUE(c->WaitClosed());
  }
  {
    auto c = TestClient::ConnectAndHandshake(
        port(), "CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"s3cret\"}\r\n");
    EXPECT_TRUE(c.ok()) << c.status();
  }
  {
    auto c = TestClient::Connect(port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->ReadUntil("\r\n").ok());
    auto got = c->ReadUntil("\r\n", absl::Seconds(3));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, "-ERR 'Authentication Timeout'\r\n");
    EXPECT_TRUE(c->WaitClosed());
  }
}

TEST_P(ServerTest, ConnectionAndSubscriptionLimits) {
  Start([](Options& o) {
    o.max_connections = 1;
    o.max_subscriptions = 1;
  });
  TestClient first = Client();
  first.Send("SUB a 1\r\nSUB b 2\r\nPING\r\n");
  auto got = first.ReadUntil("PONG\r\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");

  auto second = TestClient::Connect(port());
  ASSERT_TRUE(second.ok());
  auto info = second->ReadUntil("\r\n");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->starts_with("INFO "));
  auto err = second->ReadUntil("\r\n");
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(*err, "-ERR 'maximum connections exceeded'\r\n");
  EXPECT_TRUE(second->WaitClosed());
}

TEST_P(ServerTest, StaleConnectionAfterUnansweredPings) {
  Start([](Options& o) {
    o.ping_interval = absl::Milliseconds(100);
    o.max_pings_out = 2;
  });
  TestClient c = Client();
  auto got = c.ReadUntil("'Stale Connection'\r\n", absl::Seconds(3));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "PING\r\nPING\r\n-ERR 'Stale Connection'\r\n");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_P(ServerTest, SlowConsumerIsDisconnected) {
  Start([](Options& o) { o.max_pending = 256 * 1024; });
  TestClient slow = Client();
  slow.Send("SUB flood 1\r\n");
  Sync(slow);
  TestClient pub = Client();
  const std::string body(60 * 1024, 'x');
  const std::string msg = absl::StrCat("PUB flood ", body.size(), "\r\n", body, "\r\n");
  // Far more than the socket buffers plus max_pending can hold, since the
  // subscriber does not read.
  for (int i = 0; i < 1000 && pub.Send(msg); ++i) {
  }
  EXPECT_TRUE(slow.WaitClosed(absl::Seconds(10)));
  Sync(pub);  // the publisher is unaffected
}

// Regression: with debug logging, a peer's disconnect was logged through the
// already-freed connection.
TEST_P(ServerTest, DebugAndTraceLogsSurviveDisconnects) {
  char dir[] = "/tmp/natsd-logtest-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string log_path = std::string(dir) + "/natsd.log";
  LoggerConfig trace;
  trace.debug = true;
  trace.trace = true;
  trace.log_file = log_path;
  ASSERT_TRUE(Logger::Global().Configure(trace).ok());
  Start();
  {
    TestClient c = Client("CONNECT {\"verbose\":false,\"name\":\"app\"}\r\n");
    c.Send("SUB t 1\r\nPUB t 2\r\nhi\r\n");
    Sync(c);
  }  // the client disconnects here
  TestClient probe = Client();
  Sync(probe);
  server_->Shutdown();
  ASSERT_TRUE(Logger::Global().Configure(LoggerConfig{}).ok());
  std::ifstream f(log_path);
  const std::string log((std::istreambuf_iterator<char>(f)), {});
  EXPECT_NE(log.find("\"app\" - <<- MSG_PAYLOAD: [\"hi\"]"), std::string::npos) << log;
  EXPECT_NE(log.find("\"app\" - Client connection closed: Client Closed"),
            std::string::npos) << log;
  std::remove(log_path.c_str());
  rmdir(dir);
}

TEST_P(ServerTest, ShutdownClosesClients) {
  Start();
  TestClient c = Client();
  server_->Shutdown();
  EXPECT_TRUE(c.WaitClosed());
}

// A subscriber that reads in small pieces with pauses in between, far slower
// than a publisher can send: the server must stall the publisher instead of
// dropping the subscriber once max_pending/2 is passed.
TEST_P(ServerTest, FastPublisherIsStalledInsteadOfDroppingSlowSubscriber) {
  Start([](Options& o) { o.max_pending = 4 << 20; });
  constexpr int kMsgs = 800;  // 50 MB
  constexpr size_t kSize = 64 * 1024;

  // A raw socket, so that the subscriber controls how fast it reads.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  timeval tv{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string in;
  auto read_until = [&](std::string_view needle) {
    char buf[16 * 1024];
    while (in.find(needle) == std::string::npos) {
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      in.append(buf, static_cast<size_t>(n));
    }
    return true;
  };
  const std::string hello = "CONNECT {\"verbose\":false}\r\nSUB flood 1\r\nPING\r\n";
  ASSERT_EQ(send(fd, hello.data(), hello.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(hello.size()));
  ASSERT_TRUE(read_until("PONG\r\n"));
  in.clear();

  // Reads 16 KB at a time with a short sleep, parsing MSG frames, until all
  // messages arrived, the connection ends or a read times out.
  int received = 0;
  std::string error;
  std::thread reader([&] {
    const std::string header = absl::StrCat("MSG flood 1 ", kSize, "\r\n");
    char buf[16 * 1024];
    size_t pos = 0;
    while (received < kMsgs) {
      const size_t frame = header.size() + kSize + 2;
      // The server's PINGs (the first comes after ~2 s) are answered.
      if (std::string_view(in).substr(pos).starts_with("PING\r\n")) {
        send(fd, "PONG\r\n", 6, MSG_NOSIGNAL);
        pos += 6;
        continue;
      }
      if (in.size() - pos >= frame) {
        const std::string_view f(in.data() + pos, frame);
        const std::string seq = absl::StrCat(received, ":");
        if (!f.starts_with(header) || f.substr(header.size(), seq.size()) != seq ||
            !f.ends_with("\r\n")) {
          error = absl::StrCat("message ", received, " malformed or out of order: ",
                               std::string(f.substr(0, 40)));
          return;
        }
        ++received;
        pos += frame;
        continue;
      }
      in.erase(0, pos);
      pos = 0;
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        error = absl::StrCat("connection ended after ", received, " messages");
        return;
      }
      in.append(buf, static_cast<size_t>(n));
      absl::SleepFor(absl::Microseconds(500));
    }
    in.erase(0, pos);
  });

  TestClient pub = Client();
  bool sent = true;
  for (int i = 0; i < kMsgs && sent; ++i) {
    std::string body = absl::StrCat(i, ":");
    body.resize(kSize, 'x');
    sent = pub.Send(absl::StrCat("PUB flood ", kSize, "\r\n", body, "\r\n"));
  }
  reader.join();
  EXPECT_TRUE(sent);
  EXPECT_EQ(error, "");
  EXPECT_EQ(received, kMsgs);
  // Both are still connected.
  Sync(pub);
  ASSERT_EQ(send(fd, "PING\r\n", 6, MSG_NOSIGNAL), 6);
  EXPECT_TRUE(read_until("PONG\r\n"));
  close(fd);
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerTest, kBothBackends, BackendTestName);

}  // namespace
}  // namespace natsd
