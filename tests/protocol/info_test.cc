// Tests of INFO encoding/decoding. The expected lines were captured from
// nats-server 2.9.10 (Debian) and only the server id and port changed.
#include "protocol/info.h"

#include <gtest/gtest.h>

namespace natsd {
namespace {

ServerInfo ReferenceLike() {
  ServerInfo i;
  i.server_id = "NCIMGTHXELN7DR3POT2UJRDPAUNILWQPVJQVAROXCF6ID3I4ALSORBQH";
  i.server_name = i.server_id;
  i.version = "2.9.10";
  i.proto = 1;
  i.go = "go1.19.8";
  i.host = "127.0.0.1";
  i.port = 14222;
  i.headers = true;
  i.max_payload = 1048576;
  i.client_id = 4;
  i.client_ip = "127.0.0.1";
  return i;
}

TEST(InfoTest, MatchesReferenceDefaultServer) {
  EXPECT_EQ(EncodeInfo(ReferenceLike()),
            "INFO {\"server_id\":\"NCIMGTHXELN7DR3POT2UJRDPAUNILWQPVJQVAROXCF6ID3I4ALSORBQH\","
            "\"server_name\":\"NCIMGTHXELN7DR3POT2UJRDPAUNILWQPVJQVAROXCF6ID3I4ALSORBQH\","
            "\"version\":\"2.9.10\",\"proto\":1,\"go\":\"go1.19.8\",\"host\":\"127.0.0.1\","
            "\"port\":14222,\"headers\":true,\"max_payload\":1048576,\"client_id\":4,"
            "\"client_ip\":\"127.0.0.1\"} \r\n");
}

TEST(InfoTest, MatchesReferenceWithAuth) {
  // ref: --user/--pass adds auth_required right after headers.
  ServerInfo i = ReferenceLike();
  i.auth_required = true;
  const std::string line = EncodeInfo(i);
  EXPECT_NE(line.find("\"headers\":true,\"auth_required\":true,\"max_payload\":1048576"),
            std::string::npos);
}

TEST(InfoTest, MatchesReferenceEscapingAndClusterFields) {
  // ref: -n 'a<b>&c"\<DEL>é<U+2028>' -js --cluster ... --cluster_name C1
  ServerInfo i = ReferenceLike();
  i.server_name = "a<b>&c\"\\\x7f\xc3\xa9\xe2\x80\xa8";
  i.jetstream = true;
  i.cluster = "C1";
  const std::string line = EncodeInfo(i);
  EXPECT_NE(line.find("\"server_name\":\"a\\u003cb\\u003e\\u0026c\\\"\\\\\x7f\xc3\xa9\\u2028\""),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"max_payload\":1048576,\"jetstream\":true,\"client_id\":4,"
                      "\"client_ip\":\"127.0.0.1\",\"cluster\":\"C1\"}"),
            std::string::npos)
      << line;
}

TEST(InfoTest, EscapesLikeGo) {
  ServerInfo i;
  i.server_id = "\x01\x08\x0c\n\r\t\xff\xe2\x80\xa9\xed\xa0\x80\xf0\x9f\x98\x80";
  const std::string line = EncodeInfo(i);
  EXPECT_NE(line.find("\"server_id\":\"\\u0001\\u0008\\u000c\\n\\r\\t\\ufffd\\u2029"
                      "\\ufffd\\ufffd\\ufffd\xf0\x9f\x98\x80\""),
            std::string::npos)
      << line;
}

TEST(InfoTest, KeyOrderOfEveryField) {
  ServerInfo i;
  i.server_id = "I";
  i.server_name = "N";
  i.version = "V";
  i.proto = 2;
  i.git_commit = "G";
  i.go = "go";
  i.host = "h";
  i.port = 1;
  i.headers = true;
  i.auth_required = i.tls_required = i.tls_verify = i.tls_available = true;
  i.max_payload = 5;
  i.jetstream = true;
  i.ip = "nats-route://1.2.3.4:6222/";
  i.client_id = 7;
  i.client_ip = "c";
  i.nonce = "n";
  i.cluster = "cl";
  i.cluster_dynamic = true;
  i.domain = "d";
  i.connect_urls = {"a:1", "b:2"};
  i.ws_connect_urls = {"w:3"};
  i.ldm = true;
  i.import_permission = SubjectPermission{{"x"}, {}};
  i.export_permission = SubjectPermission{};
  i.lnoc = i.info_on_connect = i.connect_info = true;
  EXPECT_EQ(EncodeInfo(i),
            "INFO {\"server_id\":\"I\",\"server_name\":\"N\",\"version\":\"V\",\"proto\":2,"
            "\"git_commit\":\"G\",\"go\":\"go\",\"host\":\"h\",\"port\":1,\"headers\":true,"
            "\"auth_required\":true,\"tls_required\":true,\"tls_verify\":true,"
            "\"tls_available\":true,\"max_payload\":5,\"jetstream\":true,"
            "\"ip\":\"nats-route://1.2.3.4:6222/\",\"client_id\":7,\"client_ip\":\"c\","
            "\"nonce\":\"n\",\"cluster\":\"cl\",\"cluster_dynamic\":true,\"domain\":\"d\","
            "\"connect_urls\":[\"a:1\",\"b:2\"],\"ws_connect_urls\":[\"w:3\"],\"ldm\":true,"
            "\"import\":{\"allow\":[\"x\"]},\"export\":{},\"lnoc\":true,"
            "\"info_on_connect\":true,\"connect_info\":true} \r\n");
}

TEST(InfoTest, NonOmitemptyFieldsAlwaysPresent) {
  EXPECT_EQ(EncodeInfo(ServerInfo{}),
            "INFO {\"server_id\":\"\",\"server_name\":\"\",\"version\":\"\",\"proto\":1,"
            "\"go\":\"\",\"host\":\"\",\"port\":0,\"headers\":false,\"max_payload\":0} \r\n");
}

TEST(InfoTest, RoundTrip) {
  ServerInfo i = ReferenceLike();
  i.connect_urls = {"127.0.0.1:4222"};
  i.cluster = "C";
  i.ldm = true;
  i.nonce = "abc";
  i.import_permission = SubjectPermission{{"a"}, {"b"}};
  const std::string line = EncodeInfo(i);
  const std::string_view json =
      std::string_view(line).substr(5, line.size() - 5 - 3);  // strip "INFO " and " \r\n"
  absl::StatusOr<ServerInfo> back = ParseInfo(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, i);
}

TEST(InfoTest, ParseDefaultsAndErrors) {
  absl::StatusOr<ServerInfo> i = ParseInfo("{}");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->proto, 0);  // Go's zero value
  EXPECT_TRUE(ParseInfo(R"({"unknown":[1,{}],"PORT":4222})").ok());
  EXPECT_EQ(ParseInfo(R"({"PORT":4222})")->port, 4222);
  // ref: "INFO {bad" from a client closes it without -ERR.
  for (const char* bad : {"{bad", "", "[]", R"({"port":"x"})", R"({"client_id":-1})",
                          R"({"connect_urls":"x"})", R"({"headers":1})"}) {
    EXPECT_FALSE(ParseInfo(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace natsd
