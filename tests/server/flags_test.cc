#include "server/flags.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace natsd {
namespace {

using ::testing::HasSubstr;
using Action = FlagResult::Action;

absl::StatusOr<FlagResult> Parse(std::vector<std::string_view> args) {
  return ParseFlags(args);
}

// Defaults plus the given flags, without a config file.
Options Build(std::vector<std::string_view> args) {
  absl::StatusOr<FlagResult> flags = Parse(args);
  EXPECT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->action, Action::kRun) << flags->error;
  std::vector<std::string> warnings;
  absl::StatusOr<Options> opts = BuildOptions(*flags, &warnings);
  EXPECT_TRUE(opts.ok()) << opts.status();
  return opts.ok() ? *opts : Options{};
}

std::string BadFlag(std::vector<std::string_view> args) {
  absl::StatusOr<FlagResult> flags = Parse(args);
  EXPECT_TRUE(flags.ok());
  EXPECT_EQ(flags->action, Action::kBadFlag);
  return flags->error;
}

TEST(Flags, ValueForms) {
  for (std::vector<std::string_view> args :
       {std::vector<std::string_view>{"-p", "4333"}, {"-p=4333"}, {"--port", "4333"},
        {"--port=4333"}, {"-port", "4333"}, {"-port=4333"}}) {
    EXPECT_EQ(Build(args).port, 4333) << args[0];
  }
}

TEST(Flags, AllOptionFlags) {
  Options o = Build({"-a", "127.0.0.1", "-n", "srv", "--client_advertise", "adv:1", "-P", "p.pid",
                     "-m", "8222", "-ms", "8443", "--ports_file_dir", "/tmp", "-l", "x.log",
                     "-r", "udp://h:514", "--max_traced_msg_len", "10", "--user", "u", "--pass",
                     "pw", "--auth", "tok", "--log_size_limit", "1000000000000", "--profile",
                     "6060", "--cluster", "nats://0.0.0.0:6222", "--routes", "nats://a:6222",
                     "--cluster_name", "c", "--cluster_advertise", "ca", "--no_advertise",
                     "--connect_retries", "3", "-js", "-sd", "/tmp/js", "--io", "epoll",
                     "--io_threads", "3"});
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.server_name, "srv");
  EXPECT_EQ(o.client_advertise, "adv:1");
  EXPECT_EQ(o.pid_file, "p.pid");
  EXPECT_EQ(o.http_port, 8222);
  EXPECT_EQ(o.https_port, 8443);
  EXPECT_EQ(o.ports_file_dir, "/tmp");
  EXPECT_EQ(o.log_file, "x.log");
  EXPECT_EQ(o.remote_syslog, "udp://h:514");
  EXPECT_EQ(o.max_traced_msg_len, 10);
  EXPECT_EQ(o.username, "u");
  EXPECT_EQ(o.password, "pw");
  EXPECT_EQ(o.authorization, "tok");
  EXPECT_EQ(o.log_size_limit, 1000000000000);
  EXPECT_EQ(o.prof_port, 6060);
  EXPECT_EQ(o.cluster_listen, "nats://0.0.0.0:6222");
  EXPECT_EQ(o.routes, "nats://a:6222");
  EXPECT_EQ(o.cluster_name, "c");
  EXPECT_EQ(o.cluster_advertise, "ca");
  EXPECT_TRUE(o.cluster_no_advertise);
  EXPECT_EQ(o.cluster_connect_retries, 3);
  EXPECT_TRUE(o.jetstream);
  EXPECT_EQ(o.store_dir, "/tmp/js");
  EXPECT_EQ(o.io_backend, IoBackend::kEpoll);
  EXPECT_EQ(o.io_threads, 3);
  EXPECT_EQ(Build({"--addr", "h1"}).host, "h1");
  EXPECT_EQ(Build({"--net", "h2"}).host, "h2");
  EXPECT_EQ(Build({"--server_name", "s2"}).server_name, "s2");
  EXPECT_EQ(Build({"-p", "-1"}).port, kRandomPort);
}

TEST(Flags, BooleansDoNotConsumeNextArgument) {
  Options o = Build({"-D", "-V", "-s", "-T=false"});
  EXPECT_TRUE(o.debug);
  EXPECT_TRUE(o.trace);
  EXPECT_TRUE(o.syslog);
  EXPECT_FALSE(o.logtime);
  EXPECT_FALSE(Build({"-D=true", "--debug=false"}).debug);
  EXPECT_TRUE(Build({"--debug=1"}).debug);
  EXPECT_TRUE(Build({"-debug=T"}).debug);
  // "-D false" leaves "false" as a command word.
  absl::StatusOr<FlagResult> r = Parse({"-D", "false"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unrecognized command: \"false\"");
}

TEST(Flags, CombinedDebugTrace) {
  Options o = Build({"-DV"});
  EXPECT_TRUE(o.debug && o.trace && !o.trace_verbose);
  o = Build({"-VV"});
  EXPECT_TRUE(!o.debug && o.trace && o.trace_verbose);
  o = Build({"-DVV"});
  EXPECT_TRUE(o.debug && o.trace && o.trace_verbose);
  // The combinations win over the single flags regardless of order.
  o = Build({"-DV", "-D=false"});
  EXPECT_TRUE(o.debug);
}

TEST(Flags, IntegerSyntax) {
  EXPECT_EQ(Build({"-p", "0x10E1"}).port, 4321);
  EXPECT_EQ(Build({"-p", "010"}).port, 8);
  EXPECT_EQ(Build({"-p", "0o10"}).port, 8);
  EXPECT_EQ(Build({"-p", "0b11"}).port, 3);
  EXPECT_EQ(Build({"-p", "0x_1_0"}).port, 16);
  EXPECT_EQ(Build({"-p", "+5"}).port, 5);
  EXPECT_EQ(BadFlag({"-p", "1_0"}), "invalid value \"1_0\" for flag -p: parse error");
  EXPECT_EQ(BadFlag({"-p", "0x"}), "invalid value \"0x\" for flag -p: parse error");
  EXPECT_EQ(BadFlag({"-p", "09"}), "invalid value \"09\" for flag -p: parse error");
}

TEST(Flags, Errors) {
  EXPECT_EQ(BadFlag({"-foo"}), "flag provided but not defined: -foo");
  EXPECT_EQ(BadFlag({"--foo=1"}), "flag provided but not defined: -foo");
  EXPECT_EQ(BadFlag({"-p", "abc"}), "invalid value \"abc\" for flag -p: parse error");
  EXPECT_EQ(BadFlag({"--port=abc"}), "invalid value \"abc\" for flag -port: parse error");
  EXPECT_EQ(BadFlag({"-p", "99999999999999999999"}),
            "invalid value \"99999999999999999999\" for flag -p: value out of range");
  EXPECT_EQ(BadFlag({"-p", "9999999999"}),
            "invalid value \"9999999999\" for flag -p: value out of range");
  EXPECT_EQ(BadFlag({"-D=maybe"}), "invalid boolean value \"maybe\" for -D: parse error");
  EXPECT_EQ(BadFlag({"-p"}), "flag needs an argument: -p");
  EXPECT_EQ(BadFlag({"---p", "1"}), "bad flag syntax: ---p");
  EXPECT_EQ(BadFlag({"-=x"}), "bad flag syntax: -=x");
  EXPECT_EQ(BadFlag({"--io", "kqueue"}),
            "invalid value \"kqueue\" for flag -io: expected auto, uring or epoll");
  EXPECT_EQ(BadFlag({"--io_threads", "-2"}),
            "invalid value \"-2\" for flag -io_threads: value can not be negative");
  // The first bad flag wins, even before -h.
  EXPECT_EQ(BadFlag({"-foo", "-h"}), "flag provided but not defined: -foo");
}

TEST(Flags, NonFlagArguments) {
  absl::StatusOr<FlagResult> r = Parse({"-D", "extra"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unrecognized command: \"extra\"");
  r = Parse({"-"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unrecognized command: \"-\"");
  EXPECT_EQ(Parse({"version"})->action, Action::kVersion);
  EXPECT_EQ(Parse({"HELP"})->action, Action::kHelp);
  // "--" ends the flags; what follows is a command word.
  EXPECT_EQ(Parse({"-D", "--", "version"})->action, Action::kVersion);
  r = Parse({"--", "-D"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unrecognized command: \"-D\"");
}

TEST(Flags, Actions) {
  EXPECT_EQ(Parse({})->action, Action::kRun);
  EXPECT_EQ(Parse({"-h"})->action, Action::kHelp);
  EXPECT_EQ(Parse({"--help"})->action, Action::kHelp);
  EXPECT_EQ(Parse({"-h=false"})->action, Action::kRun);
  EXPECT_EQ(Parse({"-v"})->action, Action::kVersion);
  EXPECT_EQ(Parse({"--version"})->action, Action::kVersion);
  EXPECT_EQ(Parse({"--help_tls"})->action, Action::kTlsHelp);
  EXPECT_EQ(Parse({"-v", "-h"})->action, Action::kVersion);
  EXPECT_EQ(Parse({"-v", "extra"})->action, Action::kVersion);
  absl::StatusOr<FlagResult> r = Parse({"--signal", "reload=/var/run/natsd.pid"});
  EXPECT_EQ(r->action, Action::kSignal);
  EXPECT_EQ(r->signal, "reload=/var/run/natsd.pid");
  EXPECT_EQ(Parse({"-sl", "stop"})->signal, "stop");
  r = Parse({"-t", "-c", "x.conf"});
  EXPECT_EQ(r->action, Action::kRun);
  EXPECT_TRUE(r->check_config);
  EXPECT_EQ(r->config_file, "x.conf");
  EXPECT_EQ(Parse({"--config=y.conf"})->config_file, "y.conf");
}

TEST(Flags, IsSet) {
  absl::StatusOr<FlagResult> r = Parse({"-p", "1", "--debug", "-c", "x"});
  EXPECT_TRUE(r->IsSet("port"));
  EXPECT_TRUE(r->IsSet("debug"));
  EXPECT_FALSE(r->IsSet("trace"));
  EXPECT_FALSE(r->IsSet("host"));
}

TEST(Flags, Texts) {
  EXPECT_EQ(VersionText(), "natsd version 0.1.0 (compatible with nats-server v2.9.10)");
  EXPECT_THAT(UsageText(), HasSubstr("Usage: natsd [options]"));
  EXPECT_THAT(UsageText(), HasSubstr("--io <auto|uring|epoll>"));
  EXPECT_THAT(UsageText(), HasSubstr("--help_tls"));
  EXPECT_THAT(TlsHelpText(), HasSubstr("--tlscert"));
}

class BuildOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("natsd_flags_test_" + std::to_string(::getpid()) + ".conf"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  absl::StatusOr<Options> Run(const std::string& conf, std::vector<std::string_view> args,
                              std::vector<std::string>* warnings) {
    std::ofstream(path_) << conf;
    args.push_back("-c");
    args.push_back(path_);
    absl::StatusOr<FlagResult> flags = ParseFlags(args);
    EXPECT_TRUE(flags.ok());
    return BuildOptions(*flags, warnings);
  }
  std::string path_;
};

TEST_F(BuildOptionsTest, FlagsOverrideConfig) {
  std::vector<std::string> warnings;
  absl::StatusOr<Options> o = Run("port: 5000\nhost: 1.2.3.4\ndebug: true\nlogtime: false\n"
                                  "max_payload: 2MB\n",
                                  {"-p", "6000", "--debug=false"}, &warnings);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->port, 6000);            // flag wins
  EXPECT_EQ(o->host, "1.2.3.4");       // config kept
  EXPECT_FALSE(o->debug);              // explicit false flag wins
  EXPECT_FALSE(o->logtime);            // config beats the flag default
  EXPECT_EQ(o->max_payload, 2 << 20);  // config over the default
  EXPECT_EQ(o->config_file, path_);
}

TEST_F(BuildOptionsTest, ConfigErrorsAndWarnings) {
  std::vector<std::string> warnings;
  absl::StatusOr<Options> o = Run("write_deadline: 5\n", {}, &warnings);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(warnings.size(), 1u);
  // With -t, warnings are errors.
  warnings.clear();
  o = Run("write_deadline: 5\n", {"-t"}, &warnings);
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("write_deadline should be converted to a duration"));
  warnings.clear();
  o = Run("write_deadline: 5\nfoo: 1\n", {}, &warnings);
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("should be converted to a duration\n"));
  EXPECT_THAT(o.status().message(), HasSubstr(":2:1: unknown field \"foo\""));
}

TEST_F(BuildOptionsTest, CrossChecks) {
  std::vector<std::string> warnings;
  absl::StatusOr<FlagResult> f = Parse({"-t"});
  EXPECT_EQ(BuildOptions(*f, &warnings).status().message(),
            "must specify [-c, --config] option to check configuration file syntax");
  f = Parse({"--routes", "nats://a:6222"});
  EXPECT_EQ(BuildOptions(*f, &warnings).status().message(),
            "solicited routes require cluster capabilities, e.g. --cluster");
  EXPECT_TRUE(Run("cluster { listen: 6222 }\n", {"--routes", "nats://a:6222"}, &warnings).ok());
  f = Parse({"--tlsverify"});
  EXPECT_EQ(BuildOptions(*f, &warnings).status().message(),
            "TLS Server certificate must be present and valid");
  f = Parse({"--tls", "--tlscert", "c"});
  EXPECT_EQ(BuildOptions(*f, &warnings).status().message(),
            "TLS Server private key must be present and valid");
  f = Parse({"--tls=false", "--tlsverify"});
  EXPECT_TRUE(BuildOptions(*f, &warnings).ok());
  absl::StatusOr<Options> o = Run("max_payload: 100MB\n", {}, &warnings);
  EXPECT_THAT(o.status().message(), HasSubstr("cannot be higher than max_pending"));
}

}  // namespace
}  // namespace natsd
