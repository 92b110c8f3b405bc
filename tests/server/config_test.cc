#include "server/config.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/options.h"

namespace natsd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Applies `text` over default Options.
absl::Status Apply(std::string_view text, Options* opts,
                   std::vector<std::string>* warnings = nullptr) {
  std::vector<std::string> ignored;
  absl::StatusOr<ConfValue> root = ParseConfString(text, "t.conf");
  if (!root.ok()) return root.status();
  return ApplyConfig(*root, opts, warnings ? warnings : &ignored);
}

TEST(Options, Defaults) {
  Options o;
  EXPECT_EQ(o.host, "0.0.0.0");
  EXPECT_EQ(o.port, 4222);
  EXPECT_EQ(o.max_connections, 65536);
  EXPECT_EQ(o.max_subscriptions, 0);
  EXPECT_EQ(o.max_payload, 1024 * 1024);
  EXPECT_EQ(o.max_control_line, 4096);
  EXPECT_EQ(o.max_pending, 64 * 1024 * 1024);
  EXPECT_EQ(o.write_deadline, absl::Seconds(10));
  EXPECT_EQ(o.ping_interval, absl::Minutes(2));
  EXPECT_EQ(o.max_pings_out, 2);
  EXPECT_EQ(o.auth_timeout, absl::Seconds(2));
  EXPECT_TRUE(o.logtime);
  EXPECT_EQ(o.lame_duck_duration, absl::Minutes(2));
  EXPECT_EQ(o.lame_duck_grace_period, absl::Seconds(10));
  EXPECT_EQ(o.connect_error_reports, 3600);
  EXPECT_EQ(o.reconnect_error_reports, 1);
  EXPECT_EQ(o.io_backend, IoBackend::kAuto);
  EXPECT_EQ(o.io_threads, 0);
  EXPECT_TRUE(ValidateOptions(o).ok());
}

TEST(Config, CoreKeys) {
  Options o;
  absl::Status s = Apply(R"(
    host: 127.0.0.1
    port: 4333
    server_name: "srv-1"
    client_advertise: "example.com:4222"
    max_connections: 100
    max_subscriptions: 10
    max_payload: 2MB
    max_control_line: 2KB
    max_pending: "128MB"
    write_deadline: "3s"
    ping_interval: "1m30s"
    ping_max: 5
    debug: true
    trace: on
    logtime: false
    log_file: "/tmp/natsd.log"
    logfile_size_limit: 1GB
    syslog: yes
    remote_syslog: "udp://localhost:514"
    pid_file: "/tmp/natsd.pid"
    ports_file_dir: "/tmp"
    http_port: 8222
    https_port: 8443
    max_traced_msg_len: 64
    lame_duck_duration: "45s"
    lame_duck_grace_period: "5s"
    no_auth_user: bob
    connect_error_reports: 10
    reconnect_error_reports: 2
    io_backend: epoll
    io_threads: 4
  )", &o);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 4333);
  EXPECT_EQ(o.server_name, "srv-1");
  EXPECT_EQ(o.client_advertise, "example.com:4222");
  EXPECT_EQ(o.max_connections, 100);
  EXPECT_EQ(o.max_subscriptions, 10);
  EXPECT_EQ(o.max_payload, 2 * 1024 * 1024);
  EXPECT_EQ(o.max_control_line, 2048);
  EXPECT_EQ(o.max_pending, 128 * 1024 * 1024);
  EXPECT_EQ(o.write_deadline, absl::Seconds(3));
  EXPECT_EQ(o.ping_interval, absl::Seconds(90));
  EXPECT_EQ(o.max_pings_out, 5);
  EXPECT_TRUE(o.debug);
  EXPECT_TRUE(o.trace);
  EXPECT_FALSE(o.logtime);
  EXPECT_EQ(o.log_file, "/tmp/natsd.log");
  EXPECT_EQ(o.log_size_limit, int64_t{1} << 30);
  EXPECT_TRUE(o.syslog);
  EXPECT_EQ(o.remote_syslog, "udp://localhost:514");
  EXPECT_EQ(o.pid_file, "/tmp/natsd.pid");
  EXPECT_EQ(o.ports_file_dir, "/tmp");
  EXPECT_EQ(o.http_port, 8222);
  EXPECT_EQ(o.https_port, 8443);
  EXPECT_EQ(o.max_traced_msg_len, 64);
  EXPECT_EQ(o.lame_duck_duration, absl::Seconds(45));
  EXPECT_EQ(o.lame_duck_grace_period, absl::Seconds(5));
  EXPECT_EQ(o.no_auth_user, "bob");
  EXPECT_EQ(o.connect_error_reports, 10);
  EXPECT_EQ(o.reconnect_error_reports, 2);
  EXPECT_EQ(o.io_backend, IoBackend::kEpoll);
  EXPECT_EQ(o.io_threads, 4);
}

TEST(Config, AliasesAndCase) {
  Options o;
  ASSERT_TRUE(Apply("NET: 10.0.0.1\nmax_conn: 7\nmax_subs: 3\nlogfile: a.log\npidfile: p\n"
                    "monitor_port: 9000\nPORT: 1234\n", &o).ok());
  EXPECT_EQ(o.host, "10.0.0.1");
  EXPECT_EQ(o.max_connections, 7);
  EXPECT_EQ(o.max_subscriptions, 3);
  EXPECT_EQ(o.log_file, "a.log");
  EXPECT_EQ(o.pid_file, "p");
  EXPECT_EQ(o.http_port, 9000);
  EXPECT_EQ(o.port, 1234);
}

TEST(Config, Listen) {
  Options o;
  ASSERT_TRUE(Apply("listen: 127.0.0.1:4555\nhttp: \"localhost:8000\"\n", &o).ok());
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 4555);
  EXPECT_EQ(o.http_host, "localhost");
  EXPECT_EQ(o.http_port, 8000);
  ASSERT_TRUE(Apply("listen: \"[::1]:4666\"\n", &o).ok());
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 4666);
  ASSERT_TRUE(Apply("listen: 4777\n", &o).ok());
  EXPECT_EQ(o.port, 4777);
  EXPECT_EQ(Apply("listen: \"1.2.3.4:abc\"", &o).message(),
            "t.conf:1:0: could not parse port \"abc\"");
  EXPECT_EQ(Apply("listen: \"nohostport\"", &o).message(),
            "t.conf:1:0: could not parse address string \"nohostport\"");
  EXPECT_EQ(Apply("listen: true", &o).message(),
            "t.conf:1:0: expected port or host:port, got bool");
}

TEST(Config, Durations) {
  Options o;
  std::vector<std::string> warnings;
  ASSERT_TRUE(Apply("write_deadline: 5\nping_interval: \"2m\"", &o, &warnings).ok());
  EXPECT_EQ(o.write_deadline, absl::Seconds(5));
  EXPECT_EQ(o.ping_interval, absl::Minutes(2));
  EXPECT_THAT(warnings, ElementsAre("t.conf:1:0: invalid use of field \"write_deadline\": "
                                    "write_deadline should be converted to a duration"));
  EXPECT_EQ(Apply("write_deadline: \"5x\"", &o).message(),
            "t.conf:1:0: error parsing write_deadline: time: unknown unit \"x\" in duration \"5x\"");
  EXPECT_EQ(Apply("lame_duck_duration: \"10s\"", &o).message(),
            "t.conf:1:0: invalid lame_duck_duration of 10s, minimum is 30 seconds");
  EXPECT_EQ(Apply("lame_duck_grace_period: \"-1s\"", &o).message(),
            "t.conf:1:0: invalid lame_duck_grace_period, needs to be positive");
}

TEST(Config, UnknownFields) {
  Options o;
  EXPECT_EQ(Apply("port: 4222\n  foo = \"bar\"\nbar 2\n", &o).message(),
            "t.conf:2:3: unknown field \"foo\"\nt.conf:3:1: unknown field \"bar\"");
  // Keys used as variables are not unknown fields.
  EXPECT_TRUE(Apply("TOKEN: abc\nauthorization { token: $TOKEN }\n", &o).ok());
  EXPECT_EQ(o.authorization, "abc");
  EXPECT_EQ(Apply("authorization { foo: 1 }", &o).message(),
            "t.conf:1:16: unknown field \"foo\"");
}

TEST(Config, TypeAndRangeErrors) {
  Options o;
  EXPECT_EQ(Apply("port: \"abc\"", &o).message(), "t.conf:1:0: port: expected an integer, got string");
  EXPECT_EQ(Apply("debug: \"yes\"", &o).message(), "t.conf:1:0: debug: expected a boolean, got string");
  EXPECT_EQ(Apply("host: 1", &o).message(), "t.conf:1:0: host: expected a string, got integer");
  EXPECT_EQ(Apply("max_payload: 10GB", &o).message(), "t.conf:1:0: max_payload value is too big");
  EXPECT_EQ(Apply("max_pending: \"lots\"", &o).message(),
            "t.conf:1:0: max_pending: invalid size \"lots\"");
  EXPECT_EQ(Apply("max_sub_tokens: 0", &o).message(),
            "t.conf:1:0: max_sub_tokens value can not be negative");
  EXPECT_EQ(Apply("io_backend: kqueue", &o).message(),
            "t.conf:1:0: invalid io_backend \"kqueue\": expected auto, uring or epoll");
  EXPECT_EQ(Apply("io_threads: -1", &o).message(),
            "t.conf:1:0: io_threads value can not be negative");
  // All errors of a file are reported together.
  EXPECT_EQ(Apply("port: x\ndebug: 1\n", &o).message(),
            "t.conf:1:0: port: expected an integer, got string\n"
            "t.conf:2:1: debug: expected a boolean, got integer");
}

TEST(Config, Authorization) {
  Options o;
  ASSERT_TRUE(Apply("authorization { user: a, password: b, timeout: 1.5 }", &o).ok());
  EXPECT_EQ(o.username, "a");
  EXPECT_EQ(o.password, "b");
  EXPECT_EQ(o.auth_timeout, absl::Milliseconds(1500));

  Options u;
  absl::Status s = Apply(R"(
    authorization {
      default_permissions: { publish: "x.>" }
      users: [
        {user: alice, password: "$2a$11$abc", permissions: {subscribe: "y"}}
        {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4, clients: [STANDARD]}
      ]
      timeout: 3
    }
  )", &u);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(u.users.size(), 2u);
  EXPECT_EQ(u.users[0].username, "alice");
  EXPECT_EQ(u.users[0].password, "$2a$11$abc");
  EXPECT_TRUE(u.users[0].permissions.has_value());
  EXPECT_EQ(u.users[1].nkey, "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4");
  EXPECT_TRUE(u.users[1].allowed_connection_types.has_value());
  EXPECT_TRUE(u.default_permissions.has_value());
  EXPECT_EQ(u.auth_timeout, absl::Seconds(3));

  Options e;
  EXPECT_EQ(Apply("authorization { user: a, pass: b, token: c }", &e).message(),
            "t.conf:1:0: Cannot have a user/pass and token");
  EXPECT_EQ(Apply("authorization { user: a, users: [] }", &e).message(),
            "t.conf:1:0: Can not have a single user/pass and a users array");
  EXPECT_EQ(Apply("authorization { token: t, users: [] }", &e).message(),
            "t.conf:1:0: Can not have a token and a users array");
  EXPECT_EQ(Apply("authorization { users: [{user: a}, {user: a}] }", &e).message(),
            "t.conf:1:0: Duplicate user \"a\" detected");
  EXPECT_EQ(Apply("authorization { users: [{password: a}] }", &e).message(),
            "t.conf:1:25: User entry requires a user");
  EXPECT_EQ(Apply("authorization { users: [{nkey: U, user: x}] }", &e).message(),
            "t.conf:1:25: Nkey users do not take usernames or passwords");
  EXPECT_EQ(Apply("authorization { users: 1 }", &e).message(),
            "t.conf:1:16: Expected users field to be an array, got integer");
}

TEST(Config, BlocksAndDeferredKeysAreKept) {
  Options o;
  absl::Status s = Apply(R"(
    cluster { name: c1, listen: 0.0.0.0:6222, routes: [nats://a:6222] }
    jetstream { store_dir: /tmp/js }
    accounts { A: { users: [{user: a}] } }
    websocket { port: 8080 }
    leafnodes { port: 7422 }
    mqtt { port: 1883 }
    gateway { name: g }
    system_account: SYS
    server_tags: ["a", "b"]
  )", &o);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(o.cluster_block.has_value());
  EXPECT_EQ(*o.cluster_block->Find("name")->get_if<std::string>(), "c1");
  EXPECT_TRUE(o.jetstream_block && o.websocket_block &&
              o.leafnodes_block && o.mqtt_block && o.gateway_block);
  ASSERT_EQ(o.accounts.size(), 1u);
  EXPECT_EQ(o.system_account, "SYS");
  ASSERT_EQ(o.other_config.size(), 1u);
  EXPECT_EQ(o.other_config[0].first, "server_tags");
}

TEST(Config, ProcessConfigFile) {
  Options o;
  std::vector<std::string> warnings;
  absl::Status s = ProcessConfigFile("/nonexistent/x.conf", &o, &warnings);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(o.config_file, "/nonexistent/x.conf");
}

TEST(GoDuration, Parse) {
  EXPECT_EQ(*ParseGoDuration("0"), absl::ZeroDuration());
  EXPECT_EQ(*ParseGoDuration("2s"), absl::Seconds(2));
  EXPECT_EQ(*ParseGoDuration("1m30s"), absl::Seconds(90));
  EXPECT_EQ(*ParseGoDuration("1.5h"), absl::Minutes(90));
  EXPECT_EQ(*ParseGoDuration("300ms"), absl::Milliseconds(300));
  EXPECT_EQ(*ParseGoDuration("10us"), absl::Microseconds(10));
  EXPECT_EQ(*ParseGoDuration("10\xC2\xB5s"), absl::Microseconds(10));
  EXPECT_EQ(*ParseGoDuration("7ns"), absl::Nanoseconds(7));
  EXPECT_EQ(*ParseGoDuration("-2m"), absl::Minutes(-2));
  EXPECT_EQ(*ParseGoDuration(".5s"), absl::Milliseconds(500));
  EXPECT_EQ(ParseGoDuration("5").status().message(), "time: missing unit in duration \"5\"");
  EXPECT_EQ(ParseGoDuration("5x").status().message(),
            "time: unknown unit \"x\" in duration \"5x\"");
  EXPECT_EQ(ParseGoDuration("").status().message(), "time: invalid duration \"\"");
  EXPECT_EQ(ParseGoDuration("abc").status().message(), "time: invalid duration \"abc\"");
  EXPECT_EQ(ParseGoDuration(".s").status().message(), "time: invalid duration \".s\"");
  EXPECT_FALSE(ParseGoDuration("99999999999h").ok());
}

TEST(GoDuration, Format) {
  EXPECT_EQ(FormatGoDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(FormatGoDuration(absl::Seconds(10)), "10s");
  EXPECT_EQ(FormatGoDuration(absl::Minutes(2)), "2m0s");
  EXPECT_EQ(FormatGoDuration(absl::Hours(1)), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(absl::Milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatGoDuration(absl::Milliseconds(300)), "300ms");
  EXPECT_EQ(FormatGoDuration(absl::Microseconds(1500)), "1.5ms");
  EXPECT_EQ(FormatGoDuration(absl::Microseconds(2)), "2\xC2\xB5s");
  EXPECT_EQ(FormatGoDuration(absl::Nanoseconds(5)), "5ns");
  EXPECT_EQ(FormatGoDuration(absl::Seconds(-90)), "-1m30s");
}

TEST(Options, Validate) {
  Options o;
  o.lame_duck_grace_period = absl::Minutes(2);
  EXPECT_EQ(ValidateOptions(o).message(),
            "lame duck grace period (2m0s) should be strictly lower than lame duck duration (2m0s)");
  Options p;
  p.max_payload = p.max_pending + 1;
  EXPECT_EQ(ValidateOptions(p).message(),
            "max_payload (67108865) cannot be higher than max_pending (67108864)");
}

TEST(Options, IoBackendNames) {
  EXPECT_EQ(ParseIoBackend("URING"), IoBackend::kUring);
  EXPECT_EQ(ParseIoBackend("io_uring"), IoBackend::kUring);
  EXPECT_EQ(ParseIoBackend("epoll"), IoBackend::kEpoll);
  EXPECT_EQ(ParseIoBackend("auto"), IoBackend::kAuto);
  EXPECT_FALSE(ParseIoBackend("poll").has_value());
  EXPECT_EQ(IoBackendName(IoBackend::kUring), "uring");
}

}  // namespace
}  // namespace natsd
