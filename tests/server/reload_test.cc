// Config reload: which changes DiffOptions accepts and how it reports them
// (the reference's words and order), and, end to end on both I/O backends,
// what a reload does to live connections: new users and permissions apply
// to new operations, clients no longer allowed in are closed, subscriptions
// no longer permitted are removed.
#include "server/reload.h"

#include <string>
#include <vector>

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/config_text.h"
#include "tests/server/server_fixture.h"

namespace natsd {
namespace {

using ::natsd::testing::ApplyConfigText;
using ::natsd::testing::FromConfig;
using ::natsd::testing::ServerFixture;
using ::natsd::testing::TestClient;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTwoUsers[] =
    "authorization { users: [\n"
    "  {user: a, password: pa}\n"
    "  {user: b, password: pb}\n"
    "] }\n";


TEST(DiffOptionsTest, NothingChangedStillReportsUsersAndAccounts) {
  // As the reference, which rebuilds its user and account lists on every
  // load and so always reports them.
  absl::StatusOr<ReloadPlan> plan = DiffOptions(Options(), Options());
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->notices,
              ElementsAre("Reloaded: authorization users", "Reloaded: accounts"));
  EXPECT_FALSE(plan->auth);
  EXPECT_FALSE(plan->logging);
}

TEST(DiffOptionsTest, NoticesInTheReferenceOrder) {
  Options before = FromConfig("max_payload: 1000\n");
  Options after = FromConfig(
      "max_payload: 2000\nping_interval: \"30s\"\ndebug: true\n"
      "authorization { users: [ {user: a, password: b} ] }\n");
  absl::StatusOr<ReloadPlan> plan = DiffOptions(before, after);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // The same lines, in the same order, as nats-server 2.9.10 logs for this
  // change.
  EXPECT_THAT(plan->notices,
              ElementsAre("Reloaded: debug = true", "Reloaded: authorization users",
                          "Reloaded: accounts", "Reloaded: ping_interval = 30s",
                          "Reloaded: max_payload = 2000"));
  EXPECT_TRUE(plan->auth);
  EXPECT_TRUE(plan->logging);
}

TEST(DiffOptionsTest, UnsupportedChangesUseTheReferenceMessage) {
  struct Case {
    std::string before, after, error;
  };
  const std::vector<Case> cases = {
      {"port: 4222\n", "port: 4223\n",
       "config reload not supported for Port: old=4222, new=4223"},
      {"", "server_name: foo\n", "config reload not supported for ServerName: old=, new=foo"},
      {"", "max_subscriptions: 10\n", "config reload not supported for MaxSubs: old=0, new=10"},
      {"", "lame_duck_duration: \"40s\"\n",
       "config reload not supported for LameDuckDuration: old=2m0s, new=40s"},
      {"", "http_port: 8333\n", "config reload not supported for HTTPPort: old=0, new=8333"},
      // The first unsupported field in the reference's field order wins.
      {"", "max_pending: 100\nserver_name: x\n",
       "config reload not supported for ServerName: old=, new=x"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ReloadPlan> plan = DiffOptions(FromConfig(c.before), FromConfig(c.after));
    ASSERT_FALSE(plan.ok()) << c.after;
    EXPECT_EQ(plan.status().message(), c.error);
  }
}

TEST(DiffOptionsTest, RandomPortKeepsTheBoundOne) {
  Options before = FromConfig("port: 4222\n");
  Options after = before;
  after.port = kRandomPort;
  EXPECT_TRUE(DiffOptions(before, after).ok());
}

TEST(DiffOptionsTest, NoAuthUserMayOnlyBeDroppedWithItsUser) {
  const std::string users = "authorization { users: [ {user: a, password: b} ] }\n";
  Options with = FromConfig(users + "no_auth_user: a\n");
  absl::StatusOr<ReloadPlan> drop_both =
      DiffOptions(with, FromConfig("authorization { users: [ {user: c, password: d} ] }\n"));
  EXPECT_TRUE(drop_both.ok()) << drop_both.status();
  absl::StatusOr<ReloadPlan> drop_setting = DiffOptions(with, FromConfig(users));
  ASSERT_FALSE(drop_setting.ok());
  EXPECT_EQ(drop_setting.status().message(),
            "config reload not supported for NoAuthUser: old=a, new=");
}

TEST(DiffOptionsTest, SameRulesFromAnotherFileAreNoAuthChange) {
  const std::string text =
      "authorization { users: [ {user: a, password: b, permissions: {publish: \"x\"}} ] }\n";
  Options before = FromConfig(text);
  Options after = FromConfig("\n\n" + text);  // other positions, same content
  absl::StatusOr<ReloadPlan> plan = DiffOptions(before, after);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->auth);
  Options tighter = FromConfig(
      "authorization { users: [ {user: a, password: b, permissions: {publish: \"y\"}} ] }\n");
  plan = DiffOptions(before, tighter);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->auth);
}

TEST(DiffOptionsTest, AccountsAreFixedButTheirUsersMayChange) {
  Options before = FromConfig("accounts { A: { users: [ {user: a, password: pa} ] } }\n");
  absl::StatusOr<ReloadPlan> plan = DiffOptions(
      before, FromConfig("accounts { A: { users: [ {user: a, password: new} ] } }\n"));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->auth);
  plan = DiffOptions(before, FromConfig("accounts { A: { users: [ {user: a, password: pa} ] }, "
                                        "B: {} }\n"));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(), "config reload not supported for Accounts: old=[A], new=[A B]");
  plan = DiffOptions(before, FromConfig("accounts { A: { users: [ {user: a, password: pa} ], "
                                        "exports: [ {stream: x} ] } }\n"));
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(std::string(plan.status().message()), HasSubstr("for Accounts"));
  // Limits are part of the fixed accounts.
  plan = DiffOptions(before, FromConfig("accounts { A: { users: [ {user: a, password: pa} ], "
                                        "limits: {max_connections: 1} } }\n"));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "config reload not supported for Accounts: old=[A], new=[A] (other imports, "
            "exports or settings)");
}

// Mappings are wired into the accounts at start, like the accounts.
TEST(DiffOptionsTest, MappingsAreFixed) {
  Options before = FromConfig("mappings { foo: bar }\n");
  EXPECT_TRUE(DiffOptions(before, FromConfig("mappings { foo: bar }\n")).ok());
  absl::StatusOr<ReloadPlan> plan =
      DiffOptions(before, FromConfig("mappings { foo: bar, \"a.*\": \"b.$1\" }\n"));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "config reload not supported for Mappings: old=[foo], new=[foo a.*]");
  plan = DiffOptions(before, FromConfig("mappings { foo: baz }\n"));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "config reload not supported for Mappings: old=[foo], new=[foo] (other destinations)");
  plan = DiffOptions(FromConfig("accounts { A: { mappings: { x: y } } }\n"),
                     FromConfig("accounts { A: { mappings: { x: z } } }\n"));
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(std::string(plan.status().message()), HasSubstr("for Accounts"));
}

TEST(DiffOptionsTest, Tls) {
  Options before;
  before.tls_config = TlsOptions{.cert_file = "a.pem", .key_file = "a-key.pem"};
  Options after = before;
  after.tls_config->cert_file = "b.pem";
  after.tls_config->timeout = absl::Seconds(5);
  absl::StatusOr<ReloadPlan> plan = DiffOptions(before, after);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->notices, ::testing::IsSupersetOf({"Reloaded: tls timeout = 5",
                                                      "Reloaded: tls = enabled"}));
  // Same names, new contents: a rotation.
  plan = DiffOptions(before, before, /*tls_files_changed=*/true);
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(plan->notices, ::testing::Contains("Reloaded: tls = enabled"));
  plan = DiffOptions(before, Options());
  ASSERT_TRUE(plan.ok());
  EXPECT_THAT(plan->notices, ::testing::Contains("Reloaded: tls = disabled"));
  after = before;
  after.tls_config->verify = true;
  plan = DiffOptions(before, after);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "config reload not supported for TLSVerify: old=false, new=true");
}

TEST(DiffOptionsTest, MaxConnectionsAndPidFile) {
  Options before;
  Options after = FromConfig("max_connections: 5\npid_file: \"/tmp/x.pid\"\n");
  absl::StatusOr<ReloadPlan> plan = DiffOptions(before, after);
  ASSERT_TRUE(plan.ok());
  ASSERT_GE(plan->max_connections_notice, 0);
  EXPECT_EQ(plan->notices[plan->max_connections_notice], "Reloaded: max_connections = 5");
  EXPECT_TRUE(plan->pid_file);
  // Emptying the pid file is silent, as in the reference.
  plan = DiffOptions(after, FromConfig("max_connections: 5\n"));
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->pid_file);
  EXPECT_THAT(plan->notices, Not(::testing::Contains(HasSubstr("pid_file"))));
}

class ReloadTest : public ServerFixture {
 protected:
  // Options as Start() builds them, from `config` text.
  void StartWith(const std::string& config) {
    Start([&](Options& o) { ApplyConfigText(config, &o); });
  }
  absl::Status ReloadWith(const std::string& config) {
    Options o = server_->config()->opts;
    o.users.clear();
    o.default_permissions.reset();
    o.username.clear();
    o.password.clear();
    o.authorization.clear();
    o.no_auth_user.clear();
    o.accounts.clear();
    ApplyConfigText(config, &o);
    return server_->Reload(o);
  }
  TestClient As(const std::string& user, const std::string& pass) {
    return Client(fmt::format(
        "CONNECT {{\"verbose\":false,\"pedantic\":false,\"user\":\"{}\",\"pass\":\"{}\"}}\r\n",
        user, pass));
  }
};

TEST_P(ReloadTest, NewPermissionsApplyToLiveConnections) {
  StartWith(kTwoUsers);
  TestClient a = As("a", "pa");
  TestClient b = As("b", "pb");
  a.Send("SUB foo 1\r\nSUB bar 2\r\n");
  Sync(a);

  ASSERT_TRUE(ReloadWith(
                  "authorization { users: [\n"
                  "  {user: a, password: pa, permissions: {subscribe: \"foo\", publish: \"foo\"}}\n"
                  "  {user: b, password: pb}\n"
                  "] }\n")
                  .ok());
  // The subscription the new rules forbid is removed, with the reference's
  // error naming its sid; the connection stays.
  absl::StatusOr<std::string> err =
      a.ReadUntil("-ERR 'Permissions Violation for Subscription to \"bar\" (sid \"2\")'\r\n");
  ASSERT_TRUE(err.ok()) << err.status();
  Sync(a);

  b.Send("PUB foo 2\r\nhi\r\nPUB bar 2\r\nno\r\n");
  Sync(b);
  absl::StatusOr<std::string> got = a.ReadUntil("MSG foo 1 2\r\nhi\r\n");
  ASSERT_TRUE(got.ok()) << got.status();
  Sync(a);
  EXPECT_THAT(a.ReadFor(absl::Milliseconds(100)), Not(HasSubstr("bar")));

  // New operations follow the new rules.
  a.Send("PUB baz 1\r\nx\r\n");
  EXPECT_TRUE(a.ReadUntil("-ERR 'Permissions Violation for Publish to \"baz\"'\r\n").ok());
  a.Send("SUB bar 3\r\n");
  EXPECT_TRUE(a.ReadUntil("-ERR 'Permissions Violation for Subscription to \"bar\"'\r\n").ok());
}

TEST_P(ReloadTest, RemovedUserIsDisconnectedAndRefused) {
  StartWith(kTwoUsers);
  TestClient a = As("a", "pa");
  TestClient b = As("b", "pb");
  ASSERT_TRUE(ReloadWith("authorization { users: [ {user: a, password: pa} ] }\n").ok());
  // As the reference: a client whose user is gone is closed without -ERR.
  EXPECT_TRUE(b.WaitClosed());
  Sync(a);  // a is still welcome

  auto again = TestClient::ConnectAndHandshake(
      port(), "CONNECT {\"verbose\":false,\"user\":\"b\",\"pass\":\"pb\"}\r\n");
  EXPECT_FALSE(again.ok());
}

TEST_P(ReloadTest, ChangedPasswordIsAnAuthorizationViolation) {
  StartWith(kTwoUsers);
  TestClient a = As("a", "pa");
  TestClient b = As("b", "pb");
  ASSERT_TRUE(
      ReloadWith("authorization { users: [ {user: a, password: pa}, {user: b, password: new} ] }\n")
          .ok());
  EXPECT_TRUE(b.ReadUntil("-ERR 'Authorization Violation'\r\n").ok());
  EXPECT_TRUE(b.WaitClosed());
  Sync(a);
}

TEST_P(ReloadTest, UserMovedToAnotherAccountIsClosed) {
  StartWith(
      "accounts {\n"
      "  A: { users: [ {user: a, password: pa}, {user: b, password: pb} ] }\n"
      "  B: {}\n"
      "}\n");
  TestClient a = As("a", "pa");
  TestClient b = As("b", "pb");
  ASSERT_TRUE(ReloadWith("accounts {\n"
                         "  A: { users: [ {user: a, password: pa} ] }\n"
                         "  B: { users: [ {user: b, password: pb} ] }\n"
                         "}\n")
                  .ok());
  // As the reference: closed without an error, to come back in its new
  // account.
  EXPECT_TRUE(b.WaitClosed());
  Sync(a);
  TestClient again = As("b", "pb");
  Sync(again);
}

TEST_P(ReloadTest, AuthTurnedOnClosesAnonymousClients) {
  Start();
  TestClient anon = Client();
  ASSERT_TRUE(ReloadWith("authorization { token: s3cret }\n").ok());
  EXPECT_TRUE(anon.ReadUntil("-ERR 'Authorization Violation'\r\n").ok());
  EXPECT_TRUE(anon.WaitClosed());
  // New clients are told to authenticate.
  auto fresh = TestClient::Connect(port());
  ASSERT_TRUE(fresh.ok());
  absl::StatusOr<std::string> info = fresh->ReadUntil("\r\n");
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(*info, HasSubstr("\"auth_required\":true"));
  Client("CONNECT {\"verbose\":false,\"auth_token\":\"s3cret\"}\r\n");
}

TEST_P(ReloadTest, LimitsApplyToLiveConnections) {
  Start([](Options& o) { o.max_payload = 1000; });
  TestClient c = Client();
  Options o = server_->config()->opts;
  o.max_payload = 4;
  ASSERT_TRUE(server_->Reload(o).ok());
  Sync(c);  // the reload reached c's worker before this PING's reply
  c.Send("PUB foo 5\r\nhello\r\n");
  EXPECT_TRUE(c.ReadUntil("-ERR 'Maximum Payload Violation'\r\n").ok());
  // New clients see the new limit in INFO.
  auto fresh = TestClient::Connect(port());
  ASSERT_TRUE(fresh.ok());
  absl::StatusOr<std::string> info = fresh->ReadUntil("\r\n");
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(*info, HasSubstr("\"max_payload\":4"));
}

TEST_P(ReloadTest, LoweredMaxConnectionsClosesTheExcess) {
  Start();
  std::vector<TestClient> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(Client());
  Options o = server_->config()->opts;
  o.max_connections = 2;
  ASSERT_TRUE(server_->Reload(o).ok());
  int closed = 0;
  for (TestClient& c : clients) {
    std::string got = c.ReadFor(absl::Milliseconds(300));
    if (got.find("-ERR 'maximum connections exceeded'") != std::string::npos) {
      EXPECT_TRUE(c.WaitClosed());
      ++closed;
    }
  }
  EXPECT_EQ(closed, 2);
}

TEST_P(ReloadTest, RejectedReloadKeepsTheOldConfiguration) {
  Start([](Options& o) { o.max_payload = 1000; });
  Options o = server_->config()->opts;
  o.max_payload = 4;
  o.server_name = "renamed";
  absl::Status s = server_->Reload(o);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("config reload not supported for ServerName"));
  EXPECT_EQ(server_->config()->opts.max_payload, 1000);
  TestClient c = Client();
  c.Send("PUB foo 5\r\nhello\r\n");
  Sync(c);
  EXPECT_THAT(c.ReadFor(absl::Milliseconds(50)), Not(HasSubstr("-ERR")));
}

INSTANTIATE_TEST_SUITE_P(Backends, ReloadTest, ::natsd::testing::kBothBackends,
                         ::natsd::testing::BackendTestName);

}  // namespace
}  // namespace natsd
