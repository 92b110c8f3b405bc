// End-to-end tests of the monitoring endpoints: a real Server with
// http_port, raw protocol clients for traffic, raw HTTP GETs, JSON parsed
// with RapidJSON and /metrics parsed by a strict Prometheus text parser.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "server/monitor/http_server.h"
#include "server/monitor/monitor.h"
#include "server/server.h"
#include "tests/server/config_text.h"
#include "tests/server/test_client.h"

namespace natsd {
namespace {

using ::natsd::testing::TestClient;

struct HttpReply {
  int status = 0;
  std::string headers;
  std::string body;
};

// One request over a fresh connection; the server closes after answering.
HttpReply RawHttp(int port, const std::string& request) {
  HttpReply r;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return r;
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  (void)!write(fd, request.data(), request.size());
  std::string all;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) all.append(buf, n);
  close(fd);
  const size_t end = all.find("\r\n\r\n");
  if (end == std::string::npos || all.size() < 12) return r;
  r.status = std::stoi(all.substr(9, 3));
  r.headers = all.substr(0, end);
  r.body = all.substr(end + 4);
  return r;
}

HttpReply Get(int port, const std::string& path) {
  return RawHttp(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
}

// A strict parser for the Prometheus text format 0.0.4: every sample
// belongs to a family announced by HELP then TYPE, names and label syntax
// are checked, values parse as numbers. Returns name{labels} -> value.
std::map<std::string, double> ParsePrometheus(const std::string& text) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kSample(
      "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\\n]|\\\\.)*\""
      "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\\n]|\\\\.)*\")*)\\})? "
      "([-+]?[0-9.eE+-]+|NaN|[+-]Inf)");
  std::map<std::string, double> out;
  std::string help_for, type_for;
  std::set<std::string> families;
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::string l(line);
    std::smatch m;
    if (l.starts_with("# HELP ")) {
      std::vector<std::string> parts = absl::StrSplit(l.substr(7), absl::MaxSplits(' ', 1));
      EXPECT_TRUE(std::regex_match(parts[0], kName)) << l;
      EXPECT_EQ(parts.size(), 2u) << l;
      EXPECT_TRUE(families.insert(parts[0]).second) << "duplicate family " << l;
      help_for = parts[0];
    } else if (l.starts_with("# TYPE ")) {
      std::vector<std::string> parts = absl::StrSplit(l.substr(7), ' ');
      EXPECT_EQ(parts.size(), 2u) << l;
      if (parts.size() != 2) continue;
      EXPECT_EQ(parts[0], help_for) << "TYPE without HELP: " << l;
      EXPECT_TRUE(parts[1] == "counter" || parts[1] == "gauge") << l;
      type_for = parts[0];
    } else if (std::regex_match(l, m, kSample)) {
      EXPECT_EQ(m[1].str(), type_for) << "sample outside its family: " << l;
      out[m[1].str() + m[2].str()] = std::stod(m[m.size() - 1].str());
    } else {
      ADD_FAILURE() << "not Prometheus text: " << l;
    }
  }
  return out;
}

class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }
  // (Re)starts the server; `tweak` adjusts the options.
  void StartServer(const std::function<void(Options&)>& tweak = nullptr) {
    if (server_) server_->Shutdown();
    Options o;
    o.host = "127.0.0.1";
    o.port = kRandomPort;
    o.http_port = kRandomPort;
    o.io_backend = IoBackend::kEpoll;
    o.io_threads = 2;
    if (tweak) tweak(o);
    server_ = std::make_unique<Server>(o);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->monitor(), nullptr);
    http_port_ = server_->monitor()->port();
  }
  void TearDown() override { server_->Shutdown(); }

  rapidjson::Document Json(const std::string& path, int want_status = 200) {
    HttpReply r = Get(http_port_, path);
    EXPECT_EQ(r.status, want_status) << path << ": " << r.body;
    EXPECT_NE(r.headers.find("Content-Type: application/json"), std::string::npos);
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    EXPECT_FALSE(d.HasParseError()) << r.body;
    return d;
  }
  // Polls `path` every 20 ms, at most `tries` times, until `done` holds;
  // returns the last document. The server notices closes asynchronously.
  rapidjson::Document JsonWhen(const std::string& path,
                               const std::function<bool(const rapidjson::Document&)>& done,
                               int tries) {
    rapidjson::Document d;
    for (int i = 0; i < tries; ++i) {
      d = Json(path);
      if (done(d)) break;
      usleep(20000);
    }
    return d;
  }
  TestClient Client(std::string_view connect) {
    auto c = TestClient::ConnectAndHandshake(server_->client_port(), connect);
    EXPECT_TRUE(c.ok()) << c.status();
    return *std::move(c);
  }

  std::unique_ptr<Server> server_;
  int http_port_ = 0;
};

TEST_F(MonitorTest, VarzCountsTraffic) {
  rapidjson::Document before = Json("/varz");
  for (const char* k : {"server_id", "server_name", "version", "go", "host", "port",
                        "max_connections", "ping_interval", "http_port", "auth_timeout",
                        "max_payload", "max_pending", "cluster", "jetstream", "start",
                        "now", "uptime", "mem", "cores", "cpu", "connections",
                        "total_connections", "in_msgs", "out_msgs", "in_bytes",
                        "out_bytes", "slow_consumers", "subscriptions",
                        "http_req_stats", "config_load_time", "write_deadline"}) {
    EXPECT_TRUE(before.HasMember(k)) << k;
  }
  EXPECT_EQ(before["port"].GetInt(), server_->client_port());
  EXPECT_EQ(before["http_port"].GetInt(), http_port_);
  EXPECT_GT(before["mem"].GetInt64(), 0);
  EXPECT_EQ(before["in_msgs"].GetInt(), 0);

  TestClient sub = Client("CONNECT {\"verbose\":false}\r\n");
  sub.Send("SUB foo 1\r\nPING\r\n");
  ASSERT_TRUE(sub.ReadUntil("PONG\r\n").ok());
  TestClient pub = Client("CONNECT {\"verbose\":false}\r\n");
  pub.Send("PUB foo 5\r\nhello\r\nPUB foo 3\r\nabc\r\nPING\r\n");
  ASSERT_TRUE(pub.ReadUntil("PONG\r\n").ok());
  ASSERT_TRUE(sub.ReadUntil("abc\r\n").ok());

  rapidjson::Document after = Json("/varz");
  EXPECT_EQ(after["in_msgs"].GetInt(), 2);
  EXPECT_EQ(after["in_bytes"].GetInt(), 8);
  EXPECT_EQ(after["out_msgs"].GetInt(), 2);
  EXPECT_EQ(after["out_bytes"].GetInt(), 8);
  EXPECT_EQ(after["connections"].GetInt(), 2);
  EXPECT_EQ(after["total_connections"].GetInt(), 2);
  EXPECT_EQ(after["subscriptions"].GetInt(), 1);
  EXPECT_EQ(after["http_req_stats"]["/varz"].GetInt(), 2);

  // Counters survive their connection closing.
  pub.Send("QUIT\r\n");  // unknown op: the server closes it
  ASSERT_TRUE(pub.WaitClosed());
  rapidjson::Document closed =
      JsonWhen("/varz", [](const auto& d) { return d["connections"].GetInt() == 1; }, 50);
  EXPECT_EQ(closed["connections"].GetInt(), 1);
  EXPECT_EQ(closed["in_msgs"].GetInt(), 2);
  EXPECT_EQ(closed["out_msgs"].GetInt(), 2);
}

TEST_F(MonitorTest, ConnzOpenClosedAndParams) {
  TestClient a = Client(
      "CONNECT {\"verbose\":false,\"name\":\"alpha\",\"lang\":\"c\",\"version\":\"9\"}\r\n");
  a.Send("SUB foo 1\r\nSUB bar q 2\r\nPUB foo 2\r\nhi\r\nPING\r\n");
  ASSERT_TRUE(a.ReadUntil("PONG\r\n").ok());
  {
    TestClient b = Client("CONNECT {\"verbose\":false}\r\n");
  }  // closed by the peer
  // The server notices the peer's close asynchronously: wait for it before
  // counting open connections, or b may still be listed.
  rapidjson::Document closed =
      JsonWhen("/connz?state=closed", [](const auto& d) { return d["total"].GetInt() == 1; }, 100);

  rapidjson::Document d = Json("/connz?subs=detail");
  ASSERT_EQ(d["connections"].Size(), 1u);
  const auto& c = d["connections"][0];
  EXPECT_EQ(c["name"].GetString(), std::string("alpha"));
  EXPECT_EQ(c["lang"].GetString(), std::string("c"));
  EXPECT_EQ(c["ip"].GetString(), std::string("127.0.0.1"));
  EXPECT_EQ(c["in_msgs"].GetInt(), 1);
  EXPECT_EQ(c["out_msgs"].GetInt(), 1);
  EXPECT_EQ(c["subscriptions"].GetInt(), 2);
  EXPECT_EQ(c["subscriptions_list_detail"].Size(), 2u);
  for (const char* k : {"cid", "port", "start", "last_activity", "rtt", "uptime", "idle",
                        "pending_bytes", "kind", "type"}) {
    EXPECT_TRUE(c.HasMember(k)) << k;
  }

  ASSERT_EQ(closed["connections"].Size(), 1u);
  EXPECT_EQ(closed["connections"][0]["reason"].GetString(), std::string("Client Closed"));
  EXPECT_TRUE(closed["connections"][0].HasMember("stop"));

  rapidjson::Document all = Json("/connz?state=all&limit=1&offset=1");
  EXPECT_EQ(all["total"].GetInt(), 2);
  EXPECT_EQ(all["num_connections"].GetInt(), 1);
  EXPECT_EQ(all["limit"].GetInt(), 1);

  const int cid = c["cid"].GetInt();
  rapidjson::Document one = Json("/connz?subs=1&cid=" + std::to_string(cid));
  ASSERT_EQ(one["connections"].Size(), 1u);
  EXPECT_EQ(one["connections"][0]["subscriptions_list"].Size(), 2u);

  EXPECT_EQ(Get(http_port_, "/connz?sort=bogus").status, 400);
  EXPECT_EQ(Get(http_port_, "/connz?sort=stop").status, 400);
  EXPECT_EQ(Get(http_port_, "/connz?state=bogus").status, 400);
  EXPECT_EQ(Get(http_port_, "/connz?limit=x").body,
            "Error decoding int for 'limit': strconv.Atoi: parsing \"x\": invalid syntax");
  EXPECT_EQ(Json("/connz?sort=msgs_to")["connections"].Size(), 1u);
}

TEST_F(MonitorTest, SubszRoutezAccountzJszHealthz) {
  TestClient a = Client("CONNECT {\"verbose\":false}\r\n");
  a.Send("SUB foo.* 1\r\nSUB bar 2\r\nPUB foo.x 0\r\n\r\nPING\r\n");
  ASSERT_TRUE(a.ReadUntil("PONG\r\n").ok());

  rapidjson::Document stats = Json("/subsz");
  EXPECT_EQ(stats["num_subscriptions"].GetInt(), 2);
  EXPECT_FALSE(stats.HasMember("subscriptions_list"));
  rapidjson::Document list = Json("/subsz?subs=1&test=foo.y");
  ASSERT_EQ(list["subscriptions_list"].Size(), 1u);
  EXPECT_EQ(list["subscriptions_list"][0]["subject"].GetString(), std::string("foo.*"));
  EXPECT_EQ(Get(http_port_, "/subsz?test=foo.*").status, 400);

  EXPECT_EQ(Json("/routez")["num_routes"].GetInt(), 0);
  EXPECT_EQ(Json("/accountz")["accounts"][0].GetString(), std::string("$G"));
  EXPECT_TRUE(Json("/jsz")["disabled"].GetBool());
  HttpReply h = Get(http_port_, "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "{\"status\":\"ok\"}");
  EXPECT_EQ(Get(http_port_, "/healthz?js-enabled-only=maybe").status, 400);
  EXPECT_EQ(Get(http_port_, "/").status, 200);
}

// Like the reference, /subsz adds up every account's sublist unless `acc`
// names one; /metrics counts every account's subscriptions.
TEST_F(MonitorTest, SubszAndMetricsCountEveryAccount) {
  StartServer([](Options& o) {
    testing::ApplyConfigText(
        "accounts { A: {users: [{user: a, password: a}]}, B: {users: [{user: b, password: b}]} }\n",
        &o);
  });
  TestClient a = Client("CONNECT {\"verbose\":false,\"user\":\"a\",\"pass\":\"a\"}\r\n");
  a.Send("SUB foo 1\r\nSUB bar 2\r\nPING\r\n");
  ASSERT_TRUE(a.ReadUntil("PONG\r\n").ok());
  TestClient b = Client("CONNECT {\"verbose\":false,\"user\":\"b\",\"pass\":\"b\"}\r\n");
  b.Send("SUB foo 1\r\nPING\r\n");
  ASSERT_TRUE(b.ReadUntil("PONG\r\n").ok());

  EXPECT_EQ(Json("/subsz")["num_subscriptions"].GetInt(), 3);
  EXPECT_EQ(Json("/subsz?acc=A")["num_subscriptions"].GetInt(), 2);
  EXPECT_EQ(Json("/subsz?acc=nope")["num_subscriptions"].GetInt(), 0);
  rapidjson::Document list = Json("/subsz?subs=1&acc=B");
  ASSERT_EQ(list["subscriptions_list"].Size(), 1u);
  EXPECT_EQ(list["subscriptions_list"][0]["account"].GetString(), std::string("B"));
  EXPECT_EQ(Json("/subsz?subs=1&test=foo")["subscriptions_list"].Size(), 2u);
  EXPECT_EQ(ParsePrometheus(Get(http_port_, "/metrics").body)["natsd_varz_subscriptions"], 3);
}

TEST_F(MonitorTest, MetricsAreStrictPrometheusText) {
  TestClient a = Client("CONNECT {\"verbose\":false}\r\n");
  a.Send("SUB foo 1\r\nPUB foo 4\r\nabcd\r\nPING\r\n");
  ASSERT_TRUE(a.ReadUntil("PONG\r\n").ok());
  HttpReply r = Get(http_port_, "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("text/plain; version=0.0.4"), std::string::npos);
  std::map<std::string, double> m = ParsePrometheus(r.body);
  EXPECT_EQ(m["natsd_varz_in_msgs"], 1);
  EXPECT_EQ(m["natsd_varz_out_bytes"], 4);
  EXPECT_EQ(m["natsd_varz_connections"], 1);
  EXPECT_EQ(m["natsd_varz_subscriptions"], 1);
  EXPECT_GT(m["natsd_varz_mem_bytes"], 0);
  a.Send("PUB foo 1\r\nx\r\nPING\r\n");
  ASSERT_TRUE(a.ReadUntil("PONG\r\n").ok());
  EXPECT_EQ(ParsePrometheus(Get(http_port_, "/metrics").body)["natsd_varz_in_msgs"], 2);
}

TEST_F(MonitorTest, BadHttpIsAnsweredNotFatal) {
  EXPECT_EQ(RawHttp(http_port_, "garbage\r\n\r\n").status, 400);
  EXPECT_EQ(RawHttp(http_port_, "GET /varz HTTP/9.9\r\n\r\n").status, 400);
  EXPECT_EQ(RawHttp(http_port_, "GET varz HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(RawHttp(http_port_, "GET /%zz HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(RawHttp(http_port_, "POST /varz HTTP/1.1\r\n\r\n").status, 405);
  EXPECT_EQ(RawHttp(http_port_, "GET /varz HTTP/1.1\r\n" +
                                    std::string(HttpServer::kMaxRequestBytes, 'a'))
                .status,
            431);
  EXPECT_EQ(Get(http_port_, "/nope").status, 404);
  HttpReply head = RawHttp(http_port_, "HEAD /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  // Still serving.
  EXPECT_EQ(Get(http_port_, "/healthz").status, 200);
}

TEST(HttpRequestParse, QueryDecoding) {
  absl::StatusOr<HttpRequest> r =
      ParseHttpRequest("GET /connz?sort=bytes_to&subs=detail&x=a%20b+c&y HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "/connz");
  EXPECT_EQ(r->Query("sort"), "bytes_to");
  EXPECT_EQ(r->Query("x"), "a b c");
  EXPECT_EQ(r->Query("y"), "");
  EXPECT_EQ(r->Query("absent"), "");
  EXPECT_FALSE(ParseHttpRequest("GET /x HTTP/1.1\r\nno colon\r\n\r\n").ok());
}

TEST(MonitorStart, HttpsPortNeedsTls) {
  Options o;
  o.host = "127.0.0.1";
  o.port = kRandomPort;
  o.https_port = kRandomPort;
  o.io_backend = IoBackend::kEpoll;
  o.io_threads = 1;
  Server s(o);
  absl::Status st = s.Start();
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "TLS cert and key required for HTTPS") << st;
  s.Shutdown();
}

}  // namespace
}  // namespace natsd
