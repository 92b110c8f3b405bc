// ServerFixture: end-to-end tests against a real Server (every worker, the
// I/O backend given as the test parameter) on a random loopback port, driven
// by raw protocol clients. io_uring cases are skipped, saying why, only where
// the kernel or sandbox refuses io_uring.
//
//   class MyTest : public ServerFixture {};
//   TEST_P(MyTest, Works) { Start(); TestClient c = Client(); ... }
//   INSTANTIATE_TEST_SUITE_P(Backends, MyTest, kBothBackends, BackendTestName);
#ifndef NATSD_TESTS_SERVER_SERVER_FIXTURE_H_
#define NATSD_TESTS_SERVER_SERVER_FIXTURE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "server/io/event_loop.h"
#include "server/options.h"
#include "server/server.h"
#include "tests/server/test_client.h"

namespace natsd::testing {

inline const auto kBothBackends =
    ::testing::Values(IoBackend::kUring, IoBackend::kEpoll);

inline std::string BackendTestName(const ::testing::TestParamInfo<IoBackend>& info) {
  return std::string(IoBackendName(info.param));
}

class ServerFixture : public ::testing::TestWithParam<IoBackend> {
 protected:
  void SetUp() override {
    if (GetParam() == IoBackend::kUring) {
      if (absl::Status s = io::ProbeIoUring(); !s.ok()) {
        GTEST_SKIP() << "io_uring unavailable here: " << s;
      }
    }
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  // Starts a server on a random loopback port; `tweak` adjusts the options.
  void Start(const std::function<void(Options&)>& tweak = nullptr) {
    Options o;
    o.host = "127.0.0.1";
    o.port = kRandomPort;
    o.io_backend = GetParam();
    o.io_threads = 2;
    if (tweak) tweak(o);
    server_ = std::make_unique<Server>(o);
    ASSERT_TRUE(server_->Start().ok());
  }
  int port() const { return server_->client_port(); }
  TestClient Client(std::string_view connect =
                        "CONNECT {\"verbose\":false,\"pedantic\":false,"
                        "\"headers\":true,\"no_responders\":true}\r\n") {
    auto c = TestClient::ConnectAndHandshake(port(), connect);
    EXPECT_TRUE(c.ok()) << c.status();
    return *std::move(c);
  }
  // A round trip, so that everything sent before has been processed.
  static void Sync(TestClient& c) {
    c.Send("PING\r\n");
    ASSERT_TRUE(c.ReadUntil("PONG\r\n").ok());
  }

  std::unique_ptr<Server> server_;
};

}  // namespace natsd::testing

#endif  // NATSD_TESTS_SERVER_SERVER_FIXTURE_H_
