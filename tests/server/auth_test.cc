// Authentication (Authenticator) and, end to end over loopback, how a
// Server applies it and the users' permissions.
#include "server/auth.h"

#include <memory>
#include <string>

#include "fmt/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/nkeys.h"
#include "server/server.h"
#include "tests/server/config_text.h"
#include "tests/server/test_client.h"

namespace natsd {
namespace {

using ::natsd::testing::FromConfig;
using ::natsd::testing::TestClient;
using ::testing::HasSubstr;
using ::testing::Not;

// bcrypt hashes (cost 4) of "s3cret" and "tok", made with Go's bcrypt.
constexpr char kSecretHash[] = "$2a$04$zS2xR9.sxZ1GuWWapHsTMezMweO0yF71xYNWhcZzIcCyIAr.hfbtq";
constexpr char kTokHash[] = "$2a$04$2.3AIkS2AZJ6i2XCCLO3cOBMPxmMvHWBaZE8zKb74FOeA9b.fSgee";


ConnectOptions Creds(std::string user, std::string pass, std::string token = "") {
  ConnectOptions c;
  c.user = std::move(user);
  c.pass = std::move(pass);
  c.auth_token = std::move(token);
  return c;
}

std::unique_ptr<Authenticator> Make(const Options& o) {
  absl::StatusOr<std::unique_ptr<Authenticator>> a = Authenticator::Create(o);
  EXPECT_TRUE(a.ok()) << a.status();
  return a.ok() ? *std::move(a) : nullptr;
}

TEST(BcryptTest, DetectsAndCompares) {
  EXPECT_TRUE(IsBcrypt(kSecretHash));
  EXPECT_TRUE(IsBcrypt("$2b$10$abc"));
  EXPECT_TRUE(IsBcrypt("$2y$10$abc"));
  EXPECT_FALSE(IsBcrypt("$2c$10$abc"));
  EXPECT_FALSE(IsBcrypt("$2a$1$abc"));
  EXPECT_FALSE(IsBcrypt("s3cret"));
  EXPECT_TRUE(ComparePasswords(kSecretHash, "s3cret"));
  EXPECT_FALSE(ComparePasswords(kSecretHash, "s3cret!"));
  EXPECT_FALSE(ComparePasswords(kSecretHash, ""));
  EXPECT_FALSE(ComparePasswords(kSecretHash, std::string("s3cret\0", 7)));
  EXPECT_FALSE(ComparePasswords(kSecretHash, kSecretHash));
  EXPECT_TRUE(ComparePasswords("plain", "plain"));
  EXPECT_FALSE(ComparePasswords("plain", "plai"));
  EXPECT_FALSE(ComparePasswords("plain", "plainx"));
}

TEST(AuthenticatorTest, NoAuthConfigured) {
  auto a = Make(Options{});
  EXPECT_FALSE(a->auth_required());
  EXPECT_FALSE(a->nonce_required());
  EXPECT_TRUE(a->Authenticate(Creds("any", "thing"), "").has_value());
}

TEST(AuthenticatorTest, Token) {
  Options o;
  o.authorization = "tok";
  auto a = Make(o);
  EXPECT_TRUE(a->auth_required());
  EXPECT_TRUE(a->Authenticate(Creds("", "", "tok"), "").has_value());
  EXPECT_FALSE(a->Authenticate(Creds("", "", "tok2"), "").has_value());
  EXPECT_FALSE(a->Authenticate(Creds("tok", "tok"), "").has_value());
  o.authorization = kTokHash;
  auto b = Make(o);
  EXPECT_TRUE(b->Authenticate(Creds("", "", "tok"), "").has_value());
  EXPECT_FALSE(b->Authenticate(Creds("", "", kTokHash), "").has_value());
}

TEST(AuthenticatorTest, SingleUser) {
  Options o;
  o.username = "u";
  o.password = kSecretHash;
  auto a = Make(o);
  EXPECT_TRUE(a->auth_required());
  EXPECT_FALSE(a->has_plaintext_passwords());
  std::optional<AuthenticatedUser> user = a->Authenticate(Creds("u", "s3cret"), "");
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->name, "u");
  EXPECT_EQ(user->permissions, nullptr);
  EXPECT_FALSE(a->Authenticate(Creds("u", "wrong"), "").has_value());
  EXPECT_FALSE(a->Authenticate(Creds("v", "s3cret"), "").has_value());
  EXPECT_FALSE(a->Authenticate(Creds("", ""), "").has_value());
}

TEST(AuthenticatorTest, UsersWithPermissionsAndDefaults) {
  auto a = Make(FromConfig(R"(
    authorization {
      default_permissions: { publish: "pub.>" }
      users: [
        { user: alice, password: s3cret, permissions: { subscribe: "a.>" } }
        { user: bob, password: ")" + std::string(kSecretHash) + R"(" }
      ]
    })"));
  EXPECT_TRUE(a->auth_required());
  EXPECT_TRUE(a->has_plaintext_passwords());
  std::optional<AuthenticatedUser> alice = a->Authenticate(Creds("alice", "s3cret"), "");
  ASSERT_TRUE(alice.has_value());
  ASSERT_NE(alice->permissions, nullptr);
  // Her own permissions replace the defaults entirely.
  EXPECT_FALSE(alice->permissions->has_publish_lists());
  std::optional<AuthenticatedUser> bob = a->Authenticate(Creds("bob", "s3cret"), "");
  ASSERT_TRUE(bob.has_value());
  ASSERT_NE(bob->permissions, nullptr);
  EXPECT_TRUE(bob->permissions->PublishListsAllow("pub.x"));
  EXPECT_FALSE(bob->permissions->PublishListsAllow("other"));
  EXPECT_FALSE(a->Authenticate(Creds("bob", kSecretHash), "").has_value());
  EXPECT_FALSE(a->Authenticate(Creds("carol", "s3cret"), "").has_value());
  EXPECT_FALSE(a->Authenticate(Creds("", ""), "").has_value());
}

TEST(AuthenticatorTest, NoAuthUser) {
  Options o = FromConfig(R"(
    authorization { users: [ { user: anon, password: pw }, { user: admin, password: x } ] }
    no_auth_user: anon)");
  auto a = Make(o);
  std::optional<AuthenticatedUser> u = a->Authenticate(Creds("", ""), "");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->name, "anon");
  EXPECT_TRUE(a->Authenticate(Creds("admin", "x"), "").has_value());
  EXPECT_FALSE(a->Authenticate(Creds("admin", "y"), "").has_value());
  // Sending only a token does not make the client anonymous.
  EXPECT_FALSE(a->Authenticate(Creds("", "", "t"), "").has_value());
}

TEST(AuthenticatorTest, NoAuthUserMustExist) {
  Options o;
  o.no_auth_user = "ghost";
  absl::StatusOr<std::unique_ptr<Authenticator>> a = Authenticator::Create(o);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(),
            "no_auth_user: \"ghost\" present, but users are not defined");
  o.users.push_back(ConfigUser{.username = "u", .password = "p"});
  a = Authenticator::Create(o);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(),
            "no_auth_user: \"ghost\" not present as user in authorization block or "
            "account configuration");
}

TEST(AuthenticatorTest, ConnectionTypes) {
  auto a = Make(FromConfig(R"(
    authorization { users: [
      { user: ws, password: p, allowed_connection_types: ["websocket"] }
      { user: std, password: p, allowed_connection_types: ["STANDARD", "MQTT"] }
    ] })"));
  EXPECT_FALSE(a->Authenticate(Creds("ws", "p"), "").has_value());
  EXPECT_TRUE(a->Authenticate(Creds("std", "p"), "").has_value());
  Options bad = FromConfig(R"(
    authorization { users: [ { user: x, password: p, allowed_connection_types: ["TELNET"] } ] })");
  EXPECT_EQ(Authenticator::Create(bad).status().message(),
            "unknown connection type \"TELNET\"");
}

TEST(AuthenticatorTest, Nkeys) {
  NkeyUserKeyPair kp = NkeyUserKeyPair::Generate();
  Options o;
  o.users.push_back(ConfigUser{.nkey = kp.PublicKey()});
  auto a = Make(o);
  EXPECT_TRUE(a->auth_required());
  EXPECT_TRUE(a->nonce_required());
  const std::string nonce = NewNonce();
  ConnectOptions c;
  c.nkey = kp.PublicKey();
  c.sig = EncodeBase64RawUrl(kp.Sign(nonce));
  std::optional<AuthenticatedUser> user = a->Authenticate(c, nonce);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->name, kp.PublicKey());
  // Signed for another nonce (a replay), missing, or garbled.
  EXPECT_FALSE(a->Authenticate(c, NewNonce()).has_value());
  ConnectOptions no_sig = c;
  no_sig.sig.clear();
  EXPECT_FALSE(a->Authenticate(no_sig, nonce).has_value());
  ConnectOptions garbled = c;
  garbled.sig = "!!!";
  EXPECT_FALSE(a->Authenticate(garbled, nonce).has_value());
  // Standard base64 (padded) is accepted too, as by the reference.
  ConnectOptions std_sig = c;
  const std::string raw = kp.Sign(nonce);
  std::string b64 = EncodeBase64RawUrl(raw);
  for (char& ch : b64) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
  std_sig.sig = b64 + "==";
  EXPECT_TRUE(a->Authenticate(std_sig, nonce).has_value());
  // Another key, even correctly signed, is not configured.
  NkeyUserKeyPair other = NkeyUserKeyPair::Generate();
  ConnectOptions o2;
  o2.nkey = other.PublicKey();
  o2.sig = EncodeBase64RawUrl(other.Sign(nonce));
  EXPECT_FALSE(a->Authenticate(o2, nonce).has_value());
}

TEST(AuthenticatorTest, BadNkeyAndBadPermissionsFailStartup) {
  Options o;
  o.users.push_back(ConfigUser{.nkey = "UABC"});
  EXPECT_EQ(Authenticator::Create(o).status().message(),
            "Not a valid public nkey for a user");
  Options p = FromConfig(R"(authorization { users: [ { user: u, permissions: { pub: "a..b" } } ] })");
  EXPECT_THAT(std::string(Authenticator::Create(p).status().message()),
              HasSubstr("subject \"a..b\" is not a valid subject"));
}

// What `natsd -t` checks, as nats-server's -t: the config-time errors, but
// not no_auth_user (the reference checks it only at start-up).
TEST(AuthenticatorTest, CheckConfig) {
  EXPECT_TRUE(Authenticator::CheckConfig(Options{}).ok());
  Options nkey;
  nkey.users.push_back(ConfigUser{.nkey = "UABC"});
  EXPECT_EQ(Authenticator::CheckConfig(nkey).message(), "Not a valid public nkey for a user");
  Options perms = FromConfig(
      R"(authorization { users: [ { user: u, password: p, permissions: { publish: { allow: "a.>.b" } } } ] })");
  EXPECT_THAT(std::string(Authenticator::CheckConfig(perms).message()),
              HasSubstr("subject \"a.>.b\" is not a valid subject"));
  Options defaults = FromConfig(
      R"(authorization { default_permissions: { subscribe: "a..b" }, users: [ { user: u, password: p } ] })");
  EXPECT_THAT(std::string(Authenticator::CheckConfig(defaults).message()),
              HasSubstr("subject \"a..b\" is not a valid subject"));
  Options types = FromConfig(
      R"(authorization { users: [ { user: x, password: p, allowed_connection_types: ["TELNET"] } ] })");
  EXPECT_FALSE(Authenticator::CheckConfig(types).ok());

  Options ghost = FromConfig(R"(
    authorization { users: [ { user: u, password: p } ] }
    no_auth_user: ghost)");
  EXPECT_TRUE(Authenticator::CheckConfig(ghost).ok());
  EXPECT_FALSE(Authenticator::Create(ghost).ok());
  Options ghost_no_users;
  ghost_no_users.no_auth_user = "ghost";
  EXPECT_TRUE(Authenticator::CheckConfig(ghost_no_users).ok());
}

// ---------------------------------------------------------------------------
// End to end

class AuthServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  void Start(Options o) {
    o.host = "127.0.0.1";
    o.port = kRandomPort;
    o.io_threads = 2;
    server_ = std::make_unique<Server>(std::move(o));
    absl::Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s;
  }
  TestClient Connect(std::string_view connect_json, std::string* info = nullptr) {
    absl::StatusOr<TestClient> c = TestClient::Connect(server_->client_port());
    EXPECT_TRUE(c.ok()) << c.status();
    absl::StatusOr<std::string> i = c->ReadUntil("\r\n");
    EXPECT_TRUE(i.ok());
    if (info != nullptr && i.ok()) *info = *i;
    c->Send(fmt::format("CONNECT {}\r\nPING\r\n", connect_json));
    return *std::move(c);
  }
  // Connects and expects the handshake to succeed.
  TestClient Login(std::string_view connect_json) {
    TestClient c = Connect(connect_json);
    absl::StatusOr<std::string> r = c.ReadUntil("PONG\r\n");
    EXPECT_TRUE(r.ok()) << r.status();
    return c;
  }
  static std::string Sync(TestClient& c) {
    c.Send("PING\r\n");
    absl::StatusOr<std::string> r = c.ReadUntil("PONG\r\n");
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : "";
  }
  std::unique_ptr<Server> server_;
};

TEST_F(AuthServerTest, InfoSaysAuthRequired) {
  Options o;
  o.authorization = "tok";
  Start(o);
  std::string info;
  TestClient c = Connect(R"({"verbose":false,"auth_token":"tok"})", &info);
  EXPECT_THAT(info, HasSubstr("\"auth_required\":true"));
  EXPECT_THAT(info, Not(HasSubstr("nonce")));
  EXPECT_TRUE(c.ReadUntil("PONG\r\n").ok());
}

TEST_F(AuthServerTest, WrongTokenIsAuthorizationViolationAndClose) {
  Options o;
  o.authorization = "tok";
  Start(o);
  TestClient c = Connect(R"({"verbose":false,"auth_token":"nope"})");
  absl::StatusOr<std::string> r = c.ReadUntil("\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "-ERR 'Authorization Violation'\r\n");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(AuthServerTest, AuthenticationTimeout) {
  Options o;
  o.username = "u";
  o.password = "p";
  o.auth_timeout = absl::Milliseconds(200);
  Start(o);
  absl::StatusOr<TestClient> c = TestClient::Connect(server_->client_port());
  ASSERT_TRUE(c.ok());
  absl::StatusOr<std::string> r = c->ReadUntil("Timeout'\r\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, HasSubstr("-ERR 'Authentication Timeout'\r\n"));
  EXPECT_TRUE(c->WaitClosed());
}

TEST_F(AuthServerTest, NkeyLoginOverTheWire) {
  NkeyUserKeyPair kp = NkeyUserKeyPair::Generate();
  Options o;
  o.users.push_back(ConfigUser{.nkey = kp.PublicKey()});
  Start(o);
  absl::StatusOr<TestClient> c = TestClient::Connect(server_->client_port());
  ASSERT_TRUE(c.ok());
  absl::StatusOr<std::string> info = c->ReadUntil("\r\n");
  ASSERT_TRUE(info.ok());
  const size_t at = info->find("\"nonce\":\"");
  ASSERT_NE(at, std::string::npos) << *info;
  const std::string nonce = info->substr(at + 9, 15);
  c->Send(fmt::format("CONNECT {{\"verbose\":false,\"nkey\":\"{}\",\"sig\":\"{}\"}}\r\nPING\r\n",
                      kp.PublicKey(), EncodeBase64RawUrl(kp.Sign(nonce))));
  EXPECT_TRUE(c->ReadUntil("PONG\r\n").ok());

  // A signature of another connection's nonce does not work here.
  TestClient replay = Connect(fmt::format(R"({{"verbose":false,"nkey":"{}","sig":"{}"}})",
                                          kp.PublicKey(), EncodeBase64RawUrl(kp.Sign(nonce))));
  absl::StatusOr<std::string> r = replay.ReadUntil("\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "-ERR 'Authorization Violation'\r\n");
}

Options PermissionsConfig() {
  return FromConfig(R"(
    authorization { users: [
      { user: pub, password: p, permissions: {
          publish: { allow: ["foo.>", "req"], deny: "foo.secret" }
          subscribe: { allow: ["foo.*", "work v1"], deny: "foo.hidden" } } }
      { user: svc, password: p, permissions: { subscribe: "req", allow_responses: true } }
      { user: all, password: p }
    ] })");
}

TEST_F(AuthServerTest, PublishViolationKeepsConnectionAndDropsMessage) {
  Start(PermissionsConfig());
  TestClient all = Login(R"({"verbose":false,"user":"all","pass":"p"})");
  all.Send("SUB > 1\r\n");
  Sync(all);
  TestClient pub = Login(R"({"verbose":true,"user":"pub","pass":"p"})");
  pub.Send("PUB foo.secret 1\r\nx\r\nPUB bar 1\r\ny\r\nPUB foo.ok 1\r\nz\r\n");
  std::string got = Sync(pub);
  // No +OK for a refused message, as the reference.
  EXPECT_EQ(got,
            "-ERR 'Permissions Violation for Publish to \"foo.secret\"'\r\n"
            "-ERR 'Permissions Violation for Publish to \"bar\"'\r\n"
            "+OK\r\nPONG\r\n");
  absl::StatusOr<std::string> m = all.ReadUntil("MSG foo.ok 1 1\r\nz\r\n");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(*m, Not(HasSubstr("foo.secret")));
  EXPECT_THAT(*m, Not(HasSubstr("MSG bar")));
}

TEST_F(AuthServerTest, SubscribeViolations) {
  Start(PermissionsConfig());
  TestClient c = Login(R"({"verbose":false,"user":"pub","pass":"p"})");
  c.Send("SUB foo.a.b 1\r\nSUB work 2\r\nSUB work v2 3\r\nSUB work v1 4\r\nSUB foo.hidden 5\r\n");
  EXPECT_EQ(Sync(c),
            "-ERR 'Permissions Violation for Subscription to \"foo.a.b\"'\r\n"
            "-ERR 'Permissions Violation for Subscription to \"work\"'\r\n"
            "-ERR 'Permissions Violation for Subscription to \"work\" using queue \"v2\"'\r\n"
            "-ERR 'Permissions Violation for Subscription to \"foo.hidden\"'\r\n"
            "PONG\r\n");
}

TEST_F(AuthServerTest, WildcardSubscriberDoesNotGetDeniedSubjects) {
  Start(PermissionsConfig());
  TestClient sub = Login(R"({"verbose":false,"user":"pub","pass":"p"})");
  sub.Send("SUB foo.* 1\r\n");
  Sync(sub);
  TestClient all = Login(R"({"verbose":false,"user":"all","pass":"p"})");
  all.Send("PUB foo.hidden 1\r\nh\r\nPUB foo.shown 1\r\ns\r\n");
  Sync(all);
  absl::StatusOr<std::string> m = sub.ReadUntil("MSG foo.shown 1 1\r\ns\r\n");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(*m, Not(HasSubstr("hidden")));
}

TEST_F(AuthServerTest, AllowResponses) {
  Start(PermissionsConfig());
  TestClient svc = Login(R"({"verbose":false,"user":"svc","pass":"p"})");
  svc.Send("SUB req 1\r\n");
  Sync(svc);
  TestClient all = Login(R"({"verbose":false,"user":"all","pass":"p"})");
  all.Send("SUB _INBOX.1 9\r\nPUB req _INBOX.1 1\r\nq\r\n");
  Sync(all);
  ASSERT_TRUE(svc.ReadUntil("MSG req 1 _INBOX.1 1\r\nq\r\n").ok());
  // One response is allowed (the default max), the second is not; nor is
  // publishing anywhere else.
  svc.Send("PUB _INBOX.1 1\r\na\r\nPUB _INBOX.1 1\r\nb\r\nPUB other 1\r\nc\r\n");
  EXPECT_EQ(Sync(svc),
            "-ERR 'Permissions Violation for Publish to \"_INBOX.1\"'\r\n"
            "-ERR 'Permissions Violation for Publish to \"other\"'\r\n"
            "PONG\r\n");
  absl::StatusOr<std::string> m = all.ReadUntil("MSG _INBOX.1 9 1\r\na\r\n");
  EXPECT_TRUE(m.ok()) << m.status();
}

TEST_F(AuthServerTest, ReservedPrefixesForEveryClient) {
  Start(Options{});
  TestClient c = Login(R"({"verbose":false,"pedantic":false})");
  c.Send("PUB _GR_.x 1\r\nx\r\nPUB a _R_.y 1\r\nx\r\nPUB a $JS.ACK.z 1\r\nx\r\n"
         "PUB _GR_. 1\r\nx\r\nPUB a _INBOX.q 1\r\nx\r\nSUB a _sys_ 1\r\n");
  EXPECT_EQ(Sync(c),
            "-ERR 'Permissions Violation for Publish to \"_GR_.x\"'\r\n"
            "-ERR 'Permissions Violation for Publish with Reply of \"_R_.y\"'\r\n"
            "-ERR 'Permissions Violation for Publish with Reply of \"$JS.ACK.z\"'\r\n"
            "-ERR 'Permissions Violation for Subscription to \"a\" using queue \"_sys_\"'\r\n"
            "PONG\r\n");
}

TEST_F(AuthServerTest, ReconnectAsAnotherUserSwitchesPermissions) {
  Start(PermissionsConfig());
  TestClient c = Login(R"({"verbose":false,"user":"pub","pass":"p"})");
  c.Send("PUB bar 1\r\nx\r\n");
  EXPECT_THAT(Sync(c), HasSubstr("Permissions Violation"));
  c.Send("CONNECT {\"verbose\":false,\"user\":\"all\",\"pass\":\"p\"}\r\nPUB bar 1\r\nx\r\n");
  EXPECT_EQ(Sync(c), "PONG\r\n");
}

}  // namespace
}  // namespace natsd
