// Accounts end to end: the accounts block as the reference parses and
// checks it, and routing — isolation between accounts, stream imports with
// prefix and to, service imports with their "_R_." replies, restricted
// exports — on both I/O backends.
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/accounts.h"
#include "server/config.h"
#include "tests/server/server_fixture.h"

namespace natsd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

absl::Status Apply(const std::string& text, Options* o) {
  absl::StatusOr<ConfValue> root = ParseConfString(text, "t.conf");
  if (!root.ok()) return root.status();
  std::vector<std::string> warnings;
  return ApplyConfig(*root, o, &warnings);
}

constexpr char kConfig[] = R"(
accounts {
  A: {
    users: [ {user: a, password: a} ]
    exports: [ {stream: "foo.>"}, {service: "req.*", accounts: [B]}, {stream: "only.c", accounts: [C]} ]
  }
  B: {
    users: [ {user: b, password: b} ]
    imports: [
      {stream: {account: A, subject: "foo.>"}, prefix: "x"}
      {service: {account: A, subject: "req.a"}, to: "local.req"}
    ]
  }
  C: {
    users: [ {user: c, password: c} ]
    imports: [ {stream: {account: A, subject: "foo.bar"}, to: "renamed"}, {stream: {account: A, subject: "only.c"}} ]
  }
}
)";

std::string Login(std::string_view user) {
  return fmt::format(
      "CONNECT {{\"verbose\":false,\"pedantic\":false,\"headers\":true,\"user\":\"{0}\","
      "\"pass\":\"{0}\"}}\r\n", user);
}

// ---------------------------------------------------------------- config

TEST(AccountsConfig, ParsesUsersExportsAndImports) {
  Options o;
  ASSERT_TRUE(Apply(kConfig, &o).ok());
  ASSERT_EQ(o.accounts.size(), 3u);
  EXPECT_EQ(o.accounts[0].name, "A");
  ASSERT_EQ(o.accounts[0].exports.size(), 3u);
  EXPECT_TRUE(o.accounts[0].exports[1].service);
  ASSERT_EQ(o.accounts[1].imports.size(), 2u);
  EXPECT_EQ(o.accounts[1].imports[0].to, "x.foo.>");
  EXPECT_EQ(o.accounts[1].imports[1].to, "local.req");
  ASSERT_EQ(o.users.size(), 3u);
  EXPECT_EQ(o.users[1].username, "b");
  EXPECT_EQ(o.users[1].account, "B");
}

struct BadConfig {
  const char* text;
  const char* error;
};

TEST(AccountsConfig, ReferenceErrors) {
  const BadConfig cases[] = {
      {"accounts { A: {}, B: { imports: [{stream: {account: Z, subject: foo}}] } }",
       "\"Z\" account not defined for stream import"},
      {"accounts { A: {users: [{user: a, password: a}]}, B: {users: [{user: a, password: b}]} }",
       "Duplicate user \"a\" detected"},
      {"accounts { A: {}, B: { imports: [{stream: {account: A, subject: foo}}] } }",
       "Error adding stream import \"foo\": stream import not authorized"},
      {"accounts { A: {exports: [{service: \"req.*\", accounts: [C]}]}, B: { imports: "
       "[{service: {account: A, subject: req.a}}] }, C: {} }",
       "Error adding service import \"req.a\": service import not authorized"},
      {"accounts { A: {exports: [{stream: \">\"}]}, B: { imports: "
       "[{stream: {account: A, subject: foo}, prefix: \"x.*\"}] } }",
       "stream import prefix can not contain wildcard tokens"},
      {"accounts { A: {exports: [{stream: foo, accounts: [Q]}]} }",
       "\"Q\" account not defined for stream export"},
      {"accounts { $G: {} }", "\"$G\" is a Reserved Account"},
      {"authorization { user: x, password: y }\naccounts { A: {users: [{user: a, password: a}]} }",
       "Can not have a single user/pass and accounts"},
      {"accounts { A: {exports: [{service: foo}]}, B: {imports: [{service: {account: A, "
       "subject: foo}}, {service: {account: A, subject: foo}}]} }",
       "Duplicate service import subject \"foo\", previously used in import for account "
       "\"A\", subject \"foo\""},
      {"accounts { A: {foo: 1} }", "unknown field \"foo\""},
      {"accounts { A: {exports: [{service: foo}], imports: [{service: {account: B, subject: foo}}]}, "
       "B: {exports: [{service: foo}], imports: [{service: {account: A, subject: foo}}]} }",
       "import forms a cycle"},
  };
  for (const BadConfig& c : cases) {
    Options o;
    absl::Status s = Apply(c.text, &o);
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.error)) << c.text;
  }
}

TEST(AccountsConfig, ParsesLimits) {
  Options o;
  ASSERT_TRUE(Apply("accounts {\n"
                    "  A: { limits: { max_connections: 2, max_subscriptions: 3, max_payload: 1KB,"
                    " max_leafnodes: 4 } }\n"
                    "  B: { limits: { Max_Conn: 5, max_subs: -1, max_pay: 0, max_leafs: 6 } }\n"
                    "  C: { limits: { max_connections: 3000000000 } }\n"
                    "  D: {}\n"
                    "}\n",
                    &o)
                  .ok());
  ASSERT_EQ(o.accounts.size(), 4u);
  EXPECT_EQ(o.accounts[0].limits, (AccountLimits{2, 3, 1024, 4}));
  EXPECT_EQ(o.accounts[1].limits, (AccountLimits{5, -1, 0, 6}));
  // Truncated to 32 bits, as the reference stores it.
  EXPECT_EQ(o.accounts[2].limits.max_connections, static_cast<int32_t>(3000000000LL));
  EXPECT_EQ(o.accounts[3].limits, AccountLimits{});
  EXPECT_TRUE(o.accounts[0].other_config.empty());
}

TEST(AccountsConfig, LimitsReferenceErrors) {
  const BadConfig cases[] = {
      {"accounts { A: {\n limits: { foo: 1 } } }",
       "t.conf:2:12: Unknown field \"foo\" parsing account limits"},
      {"accounts { A: {\n limits: 5 } }",
       "t.conf:2:2: Expected account limits to be a map/struct, got 5"},
      {"accounts { A: {\n limits: \"str\" } }",
       "t.conf:2:2: Expected account limits to be a map/struct, got str"},
      {"accounts { A: {\n limits: { max_connections: \"abc\" } } }",
       "t.conf:2:12: interface conversion: interface {} is string, not int64"},
      {"accounts { A: {\n limits: { max_payload: 1.5 } } }",
       "t.conf:2:12: interface conversion: interface {} is float64, not int64"},
      {"accounts { A: {\n limits: { max_subs: true } } }",
       "t.conf:2:12: interface conversion: interface {} is bool, not int64"},
  };
  for (const BadConfig& c : cases) {
    Options o;
    absl::Status s = Apply(c.text, &o);
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.error)) << c.text;
  }
}

TEST(AccountsConfig, UnknownSystemAccountFailsAtStart) {
  Options o;
  ASSERT_TRUE(Apply("accounts { A: {} }\nsystem_account: X\n", &o).ok());
  absl::StatusOr<std::unique_ptr<Accounts>> a = Accounts::Create(o);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "error resolving system account: account missing");
}

TEST(AccountsConfig, NamesOnlyAndNoAuthUser) {
  Options o;
  ASSERT_TRUE(Apply("accounts: [A, B]\n", &o).ok());
  ASSERT_EQ(o.accounts.size(), 2u);
  Options p;
  ASSERT_TRUE(Apply("accounts { A: {users: [{user: a, password: a}]} }\nno_auth_user: a\n", &p)
                  .ok());
  EXPECT_EQ(p.no_auth_user, "a");
}

// ---------------------------------------------------------------- routing

class AccountTest : public ServerFixture {
 protected:
  void StartWith(const std::string& config) {
    Start([&](Options& o) { ASSERT_TRUE(Apply(config, &o).ok()); });
  }
  // A connection that has read its greeting INFO (returned in `info`).
  TestClient Greeted(std::string* info = nullptr) {
    absl::StatusOr<TestClient> c = TestClient::Connect(port());
    EXPECT_TRUE(c.ok()) << c.status();
    absl::StatusOr<std::string> got = c->ReadUntil("\r\n");
    EXPECT_TRUE(got.ok()) << got.status();
    if (info != nullptr && got.ok()) *info = *got;
    return *std::move(c);
  }
};

// The issue's acceptance: a client of one account cannot receive what a
// client of another publishes, on the same subject, without an import.
TEST_P(AccountTest, NoMessageCrossesAccountsWithoutImport) {
  StartWith(kConfig);
  TestClient a = Client(Login("a"));
  TestClient c = Client(Login("c"));
  c.Send("SUB secret 1\r\nSUB > 2\r\n");
  Sync(c);
  a.Send("SUB secret 1\r\n");
  Sync(a);
  a.Send("PUB secret 3\r\nabc\r\n");
  // A's own subscriber got it, so it was routed; C's did not.
  ASSERT_TRUE(a.ReadUntil("MSG secret 1 3\r\nabc\r\n").ok());
  c.Send("PUB mine 2\r\nok\r\n");
  absl::StatusOr<std::string> got = c.ReadUntil("MSG mine 2 2\r\nok\r\n");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(*got, Not(HasSubstr("secret")));
}

TEST_P(AccountTest, StreamImportWithPrefixAndTo) {
  StartWith(kConfig);
  TestClient a = Client(Login("a"));
  TestClient b = Client(Login("b"));
  TestClient c = Client(Login("c"));
  b.Send("SUB x.foo.* 1\r\nSUB foo.bar 2\r\n");
  Sync(b);
  c.Send("SUB renamed 7\r\nSUB only.c 8\r\n");
  Sync(c);
  a.Send("PUB foo.bar 2\r\nhi\r\nPUB only.c 1\r\nz\r\n");
  Sync(a);
  absl::StatusOr<std::string> got = b.ReadUntil("MSG x.foo.bar 1 2\r\nhi\r\n");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(c.ReadUntil("MSG renamed 7 2\r\nhi\r\n").ok());
  ASSERT_TRUE(c.ReadUntil("MSG only.c 8 1\r\nz\r\n").ok());
  // B subscribed foo.bar in its own account too: only the import delivers.
  b.Send("PUB done 0\r\n\r\n");
  b.Send("SUB done 3\r\n");
  Sync(b);
  b.Send("PUB done 0\r\n\r\n");
  got = b.ReadUntil("MSG done 3 0\r\n");
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(*got, Not(HasSubstr("MSG foo.bar")));
  // After UNSUB the shadow is gone.
  b.Send("UNSUB 1\r\n");
  Sync(b);
  a.Send("PUB foo.bar 2\r\nhi\r\n");
  Sync(a);
  b.Send("PUB done 0\r\n\r\n");
  got = b.ReadUntil("MSG done 3 0\r\n");
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(*got, Not(HasSubstr("x.foo.bar")));
}

TEST_P(AccountTest, ServiceImportRequestReply) {
  StartWith(kConfig);
  TestClient a = Client(Login("a"));
  TestClient b = Client(Login("b"));
  a.Send("SUB req.* 1\r\n");
  Sync(a);
  b.Send("SUB _INBOX.1 9\r\nPUB local.req _INBOX.1 2\r\nhi\r\n");
  Sync(b);
  absl::StatusOr<std::string> req = a.ReadUntil("\r\nhi\r\n");
  ASSERT_TRUE(req.ok()) << req.status();
  // HMSG req.a 1 _R_.xxxxxx.yyyyyy <hdr> <total>: the reply is mapped and
  // the request carries the requesting account.
  ASSERT_TRUE(req->starts_with("HMSG req.a 1 _R_.")) << *req;
  EXPECT_THAT(*req, HasSubstr("Nats-Request-Info: {\"acc\":\"B\""));
  const size_t start = req->find("_R_.");
  const std::string reply = req->substr(start, req->find(' ', start) - start);
  EXPECT_EQ(reply.size(), 4 + 6 + 1 + 6u);
  a.Send(fmt::format("PUB {0} 3\r\nyes\r\nPUB {0} 4\r\nyes2\r\n", reply));
  Sync(a);
  ASSERT_TRUE(b.ReadUntil("MSG _INBOX.1 9 3\r\nyes\r\n").ok());
  // A singleton service answers once.
  EXPECT_THAT(b.ReadFor(absl::Milliseconds(200)), Not(HasSubstr("yes2")));
  // The exporter's subject is not reachable from the importer directly.
  b.Send("PUB req.a _INBOX.1 2\r\nno\r\n");
  Sync(b);
  EXPECT_THAT(a.ReadFor(absl::Milliseconds(200)), Not(HasSubstr("no")));
}

TEST_P(AccountTest, ImportedQueueSubscribersShareWork) {
  StartWith(kConfig);
  TestClient a = Client(Login("a"));
  TestClient b1 = Client(Login("b"));
  TestClient b2 = Client(Login("b"));
  b1.Send("SUB x.foo.q g 1\r\n");
  b2.Send("SUB x.foo.q g 1\r\n");
  Sync(b1);
  Sync(b2);
  for (int i = 0; i < 10; ++i) a.Send("PUB foo.q 1\r\nm\r\n");
  Sync(a);
  const std::string got =
      b1.ReadFor(absl::Milliseconds(200)) + b2.ReadFor(absl::Milliseconds(200));
  size_t n = 0;
  for (size_t p = got.find("MSG x.foo.q"); p != std::string::npos;
       p = got.find("MSG x.foo.q", p + 1)) {
    ++n;
  }
  EXPECT_EQ(n, 10u);
}

TEST_P(AccountTest, UsersLogInToTheirAccount) {
  StartWith(kConfig + std::string("no_auth_user: c\n"));
  // Wrong password: refused.
  absl::StatusOr<TestClient> bad = TestClient::ConnectAndHandshake(
      port(), "CONNECT {\"verbose\":false,\"user\":\"a\",\"pass\":\"x\"}\r\n");
  EXPECT_FALSE(bad.ok());
  // No credentials: the no_auth_user, in account C.
  TestClient anon = Client();
  TestClient c = Client(Login("c"));
  anon.Send("SUB only.c 1\r\n");
  Sync(anon);
  c.Send("PUB only.c 2\r\nhi\r\n");
  Sync(c);
  ASSERT_TRUE(anon.ReadUntil("MSG only.c 1 2\r\nhi\r\n").ok());
}

// ---------------------------------------------------------------- limits

constexpr char kLimits[] = R"(
accounts {
  A: {
    users: [ {user: a, password: a}, {user: a2, password: a2}, {user: a3, password: a3} ]
    limits: { max_connections: 2, max_subscriptions: 2, max_payload: 8 }
  }
  B: { users: [ {user: b, password: b} ] }
}
)";

std::string LoginProto1(std::string_view user) {
  return fmt::format("CONNECT {{\"verbose\":false,\"protocol\":1,\"user\":\"{0}\","
                     "\"pass\":\"{0}\"}}\r\n", user);
}

TEST_P(AccountTest, MaxConnectionsRefusesTheAccountsNextConnection) {
  StartWith(kLimits);
  auto a1 = std::make_unique<TestClient>(Client(Login("a")));
  TestClient a2 = Client(Login("a2"));
  TestClient a3 = Greeted();
  a3.Send(Login("a3") + "PING\r\n");
  absl::StatusOr<std::string> got = a3.ReadUntil("\r\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "-ERR 'maximum account active connections exceeded'\r\n");
  EXPECT_TRUE(a3.WaitClosed());
  // Other accounts are not counted; a closed connection frees its place.
  TestClient b = Client(Login("b"));
  a1.reset();
  for (int i = 0;; ++i) {
    absl::StatusOr<TestClient> again =
        TestClient::ConnectAndHandshake(port(), Login("a3"));
    if (again.ok()) break;
    ASSERT_LT(i, 50) << "the closed connection's place was never freed";
    absl::SleepFor(absl::Milliseconds(20));
  }
}

TEST_P(AccountTest, MaxSubscriptionsIsPerConnection) {
  StartWith(kLimits);
  TestClient a = Client(Login("a"));
  a.Send("SUB x 1\r\nSUB y 2\r\nSUB z 3\r\nPING\r\n");
  absl::StatusOr<std::string> got = a.ReadUntil("PONG\r\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");
  // Still open, and the two subscriptions work.
  a.Send("PUB z 1\r\nn\r\nPUB x 1\r\ny\r\nPING\r\n");
  got = a.ReadUntil("PONG\r\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "MSG x 1 1\r\ny\r\nPONG\r\n");
  TestClient a2 = Client(Login("a2"));
  a2.Send("SUB x 1\r\nSUB y 2\r\nPING\r\n");
  got = a2.ReadUntil("PONG\r\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "PONG\r\n");
}

TEST_P(AccountTest, MaxPayloadAppliesToTheAccountAndIsAnnounced) {
  StartWith(kLimits);
  std::string greeting;
  TestClient a = Greeted(&greeting);
  EXPECT_THAT(greeting, HasSubstr("\"max_payload\":1048576"));
  a.Send(LoginProto1("a") + "PING\r\n");
  // The first PONG is followed by an INFO with the account's max_payload.
  absl::StatusOr<std::string> info = a.ReadUntil("} \r\n");
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(*info, ::testing::StartsWith("PONG\r\nINFO {"));
  EXPECT_THAT(*info, HasSubstr("\"max_payload\":8,"));
  a.Send("PUB p 8\r\n12345678\r\nPING\r\n");
  ASSERT_TRUE(a.ReadUntil("PONG\r\n").ok());
  a.Send("PUB p 9\r\n123456789\r\n");
  absl::StatusOr<std::string> err = a.ReadUntil("\r\n");
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(*err, "-ERR 'Maximum Payload Violation'\r\n");
  EXPECT_TRUE(a.WaitClosed());
  // Another account keeps the server's limit, and gets no second INFO.
  TestClient b = Client(LoginProto1("b"));
  b.Send("PUB p 9\r\n123456789\r\nPING\r\n");
  absl::StatusOr<std::string> got = b.ReadUntil("PONG\r\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "PONG\r\n");
}

TEST_P(AccountTest, TheServersLowerLimitsWin) {
  Start([](Options& o) {
    ASSERT_TRUE(Apply(std::string(kLimits) + "max_payload: 4\nmax_subscriptions: 1\n", &o).ok());
  });
  TestClient a = Client(Login("a"));
  a.Send("SUB x 1\r\nSUB y 2\r\nPING\r\n");
  absl::StatusOr<std::string> got = a.ReadUntil("PONG\r\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");
  a.Send("PUB p 5\r\n12345\r\n");
  EXPECT_TRUE(a.WaitClosed());
}

TEST_P(AccountTest, NoSubscriptionsAllowedClosesAtConnect) {
  StartWith("accounts { Z: { users: [{user: z, password: z}], limits: {max_subs: 0} } }\n");
  TestClient z = Greeted();
  z.Send(Login("z"));
  absl::StatusOr<std::string> got = z.ReadUntil("\r\n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "-ERR 'maximum subscriptions exceeded'\r\n");
  EXPECT_TRUE(z.WaitClosed());
}

// Mappings rewrite what an account's clients publish, in their account only:
// the top-level block is the global account's.
TEST_P(AccountTest, MappingsRewriteWhatClientsPublishInTheirAccount) {
  StartWith(R"(
mappings { foo: bar }
authorization { users: [ {user: g, password: g} ] }
accounts { A: { users: [ {user: a, password: a} ], mappings: { "in.*": "out.$1" } } }
)");
  TestClient g = Client(Login("g"));
  TestClient a = Client(Login("a"));
  g.Send("SUB > 1\r\n");
  Sync(g);
  a.Send("SUB > 1\r\n");
  Sync(a);
  g.Send("PUB foo 1\r\nx\r\nPUB in.z 1\r\ny\r\n");
  ASSERT_TRUE(g.ReadUntil("MSG bar 1 1\r\nx\r\nMSG in.z 1 1\r\ny\r\n").ok());
  a.Send("PUB in.q 1\r\nz\r\nPUB foo 1\r\nw\r\n");
  absl::StatusOr<std::string> got = a.ReadUntil("MSG out.q 1 1\r\nz\r\nMSG foo 1 1\r\nw\r\n");
  ASSERT_TRUE(got.ok()) << got.status();
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountTest, kBothBackends, BackendTestName);

}  // namespace
}  // namespace natsd::testing
