// Lame duck mode end to end: a real Server, raw protocol clients, short
// grace period and duration.
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/io/event_loop.h"
#include "server/server.h"
#include "tests/server/server_fixture.h"
#include "tests/server/test_client.h"

namespace natsd {
namespace {

using ::natsd::testing::BackendTestName;
using ::natsd::testing::kBothBackends;
using ::natsd::testing::ServerFixture;
using ::natsd::testing::TestClient;

constexpr char kConnectProto1[] =
    "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\n";
constexpr char kConnectProto0[] = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";

class LameDuckTest : public ServerFixture {
 protected:
  void Start(absl::Duration grace, absl::Duration duration) {
    ServerFixture::Start([&](Options& o) {
      o.lame_duck_grace_period = grace;
      o.lame_duck_duration = duration;
    });
  }

  absl::Notification done_;
};

TEST_P(LameDuckTest, NotifiesRefusesAndClosesEveryClient) {
  Start(absl::Milliseconds(200), absl::Seconds(1));
  std::vector<TestClient> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(Client(kConnectProto1));
  TestClient old_client = Client(kConnectProto0);

  ASSERT_TRUE(server_->EnterLameDuckMode([this] { done_.Notify(); }));
  EXPECT_FALSE(server_->EnterLameDuckMode([] {}));

  for (TestClient& c : clients) {
    auto info = c.ReadUntil("\r\n");
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_TRUE(info->starts_with("INFO {")) << *info;
    EXPECT_NE(info->find(",\"ldm\":true}"), std::string::npos) << *info;
    EXPECT_NE(info->find("\"client_ip\":\"127.0.0.1\""), std::string::npos);
  }
  // The INFO went out after the listener was closed.
  EXPECT_FALSE(TestClient::Connect(server_->client_port()).ok());

  for (TestClient& c : clients) EXPECT_TRUE(c.WaitClosed());
  // A protocol 0 client cannot take an asynchronous INFO: it is only closed.
  EXPECT_TRUE(old_client.WaitClosed());
  EXPECT_EQ(old_client.ReadFor(absl::ZeroDuration()), "");  // what was kept
  EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST_P(LameDuckTest, FinishesAtOnceWithoutClients) {
  Start(absl::Seconds(10), absl::Seconds(30));
  ASSERT_TRUE(server_->EnterLameDuckMode([this] { done_.Notify(); }));
  // Far sooner than the grace period: nobody is waited for.
  EXPECT_TRUE(done_.WaitForNotificationWithTimeout(absl::Seconds(5)));
}

TEST_P(LameDuckTest, ShutdownAbandonsTheSchedule) {
  Start(absl::Seconds(10), absl::Seconds(30));
  TestClient c = Client(kConnectProto1);
  ASSERT_TRUE(server_->EnterLameDuckMode([this] { done_.Notify(); }));
  ASSERT_TRUE(c.ReadUntil("\"ldm\":true} \r\n").ok());
  server_->Shutdown();
  EXPECT_TRUE(c.WaitClosed(absl::Seconds(1)));
  EXPECT_FALSE(done_.HasBeenNotified());
}

TEST_P(LameDuckTest, RefusedBeforeStartAndAfterShutdown) {
  Options o;
  o.port = kRandomPort;
  Server idle(o);
  EXPECT_FALSE(idle.EnterLameDuckMode([] {}));
  Start(absl::Milliseconds(200), absl::Seconds(1));
  server_->Shutdown();
  EXPECT_FALSE(server_->EnterLameDuckMode([] {}));
}

INSTANTIATE_TEST_SUITE_P(Backends, LameDuckTest, kBothBackends, BackendTestName);

}  // namespace
}  // namespace natsd
