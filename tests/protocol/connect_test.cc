// Tests of CONNECT decoding. "ref:" notes were observed on nats-server
// 2.9.10 over a socket.
#include "protocol/connect.h"

#include <gtest/gtest.h>

namespace natsd {
namespace {

TEST(ConnectTest, DefaultsAreTheReferencesPreConnectState) {
  const ConnectOptions o;
  EXPECT_TRUE(o.verbose);
  EXPECT_TRUE(o.pedantic);
  EXPECT_TRUE(o.echo);
  EXPECT_FALSE(o.headers);
  EXPECT_EQ(o.protocol, 0);
}

TEST(ConnectTest, EmptyObjectKeepsBase) {
  // ref: "CONNECT {}" gets +OK (verbose stays true).
  absl::StatusOr<ConnectOptions> o = ParseConnect("{}", ConnectOptions{});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, ConnectOptions{});
}

TEST(ConnectTest, AllFields) {
  absl::StatusOr<ConnectOptions> o = ParseConnect(
      R"({"verbose":false,"pedantic":false,"echo":false,"headers":true,"no_responders":true,
          "tls_required":true,"name":"n","lang":"go","version":"1.22.1","user":"u","pass":"p",
          "auth_token":"t","nkey":"UA","sig":"s","jwt":"j","protocol":1,"account":"A",
          "new_account":true,"import":{"allow":["a.>"],"deny":["b"]},"export":{"deny":["c"]}})",
      ConnectOptions{});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->verbose);
  EXPECT_FALSE(o->pedantic);
  EXPECT_FALSE(o->echo);
  EXPECT_TRUE(o->headers);
  EXPECT_TRUE(o->no_responders);
  EXPECT_TRUE(o->tls_required);
  EXPECT_EQ(o->name, "n");
  EXPECT_EQ(o->lang, "go");
  EXPECT_EQ(o->version, "1.22.1");
  EXPECT_EQ(o->user, "u");
  EXPECT_EQ(o->pass, "p");
  EXPECT_EQ(o->auth_token, "t");
  EXPECT_EQ(o->nkey, "UA");
  EXPECT_EQ(o->sig, "s");
  EXPECT_EQ(o->jwt, "j");
  EXPECT_EQ(o->protocol, 1);
  EXPECT_EQ(o->account, "A");
  EXPECT_TRUE(o->new_account);
  ASSERT_TRUE(o->import_permission.has_value());
  EXPECT_EQ(o->import_permission->allow, std::vector<std::string>{"a.>"});
  EXPECT_EQ(o->import_permission->deny, std::vector<std::string>{"b"});
  ASSERT_TRUE(o->export_permission.has_value());
  EXPECT_TRUE(o->export_permission->allow.empty());
}

TEST(ConnectTest, AppliesOverBase) {
  // A second CONNECT is decoded over the first one's options.
  ConnectOptions base;
  base.verbose = false;
  base.name = "first";
  absl::StatusOr<ConnectOptions> o = ParseConnect(R"({"lang":"c"})", base);
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->verbose);
  EXPECT_EQ(o->name, "first");
  EXPECT_EQ(o->lang, "c");
}

TEST(ConnectTest, KeysAreCaseInsensitive) {
  // ref: CONNECT {"VERBOSE":false} then PING gets only PONG (no +OK).
  absl::StatusOr<ConnectOptions> o = ParseConnect(R"({"VERBOSE":false,"Name":"x"})", {});
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->verbose);
  EXPECT_EQ(o->name, "x");
}

TEST(ConnectTest, NullKeepsValues) {
  // ref: CONNECT {"protocol":null,"verbose":null} gets +OK; "CONNECT null" too.
  absl::StatusOr<ConnectOptions> o = ParseConnect(R"({"protocol":null,"verbose":null})", {});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->verbose);
  o = ParseConnect("null", {});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, ConnectOptions{});
}

TEST(ConnectTest, UnknownFieldsIgnoredAndLastDuplicateWins) {
  absl::StatusOr<ConnectOptions> o =
      ParseConnect(R"({"foo":{"x":[1,2]},"name":"a","name":"b","ssl_required":1})", {});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->name, "b");
}

TEST(ConnectTest, TrailingWhitespaceAllowed) {
  // ref: CONNECT {"verbose":false}   \r\n is accepted.
  EXPECT_TRUE(ParseConnect("{\"verbose\":false}   \t", {}).ok());
  EXPECT_TRUE(ParseConnect("\n{}", {}).ok());  // ref: "CONNECT\n{}\r\n" gets +OK
}

TEST(ConnectTest, Errors) {
  // ref: each closes the connection without -ERR.
  for (const char* bad : {"{bad json", "", "\r", "[]", "\"x\"", "1", R"({"verbose":"yes"})",
                          R"({"echo":1})", R"({"protocol":1.0})", R"({"protocol":1e0})",
                          R"({"protocol":"1"})", R"({"protocol":99999999999999999999})",
                          R"({"name":5})", R"({"verbose":false} trailing)", R"({"a":1,})",
                          R"({"import":"x"})", R"({"import":{"allow":"x"}})",
                          R"({"import":{"allow":[1]}})", "{\"name\":\"a\x01\"}", "{} {}"}) {
    EXPECT_FALSE(ParseConnect(bad, {}).ok()) << bad;
  }
}

TEST(ConnectTest, ProtocolRangeIsTheCallersCheck) {
  // ref: protocol 2 or -1 decode fine, then -ERR 'invalid client protocol'.
  absl::StatusOr<ConnectOptions> o = ParseConnect(R"({"protocol":2})", {});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->protocol, 2);
  o = ParseConnect(R"({"protocol":-1})", {});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->protocol, -1);
}

TEST(ConnectTest, EscapesAreDecoded) {
  absl::StatusOr<ConnectOptions> o = ParseConnect(R"({"pass":"a\"b\\c\u00e9\n"})", {});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->pass, "a\"b\\c\xc3\xa9\n");
}

TEST(ConnectTest, NullPermissionResets) {
  ConnectOptions base;
  base.import_permission = SubjectPermission{{"a"}, {}};
  absl::StatusOr<ConnectOptions> o = ParseConnect(R"({"import":null})", base);
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->import_permission.has_value());
}

}  // namespace
}  // namespace natsd
