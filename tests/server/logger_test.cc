#include "server/logger.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace natsd {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class LoggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("natsd_logger_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "natsd.log").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> Lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  LoggerConfig FileConfig(bool logtime, bool debug, bool trace) {
    LoggerConfig c;
    c.log_file = path_;
    c.logtime = logtime;
    c.debug = debug;
    c.trace = trace;
    return c;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(LoggerTest, LineFormatWithTime) {
  Logger log;
  ASSERT_TRUE(log.Configure(FileConfig(true, false, false)).ok());
  log.Notice("Listening for client connections on {}:{}", "0.0.0.0", 4222);
  std::vector<std::string> lines = Lines(path_);
  ASSERT_EQ(lines.size(), 1u);
  std::string pid = std::to_string(::getpid());
  EXPECT_THAT(lines[0], MatchesRegex("\\[" + pid +
                                     "\\] [0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
                                     "\\.[0-9]{6} \\[INF\\] Listening for client connections on "
                                     "0\\.0\\.0\\.0:4222"));
}

TEST_F(LoggerTest, LabelsAndLevels) {
  Logger log;
  ASSERT_TRUE(log.Configure(FileConfig(false, false, false)).ok());
  EXPECT_FALSE(log.debug_enabled());
  EXPECT_FALSE(log.trace_enabled());
  log.Notice("n");
  log.Warn("w");
  log.Error("e {}", 1);
  log.Debug("hidden");
  log.Trace("hidden");
  ASSERT_TRUE(log.Configure(FileConfig(false, true, true)).ok());
  EXPECT_TRUE(log.debug_enabled());
  EXPECT_TRUE(log.trace_enabled());
  log.Debug("d");
  log.Trace("t");
  std::string p = "[" + std::to_string(::getpid()) + "] ";
  EXPECT_EQ(Lines(path_), (std::vector<std::string>{p + "[INF] n", p + "[WRN] w", p + "[ERR] e 1",
                                                     p + "[DBG] d", p + "[TRC] t"}));
}

TEST_F(LoggerTest, FileIsAppended) {
  std::ofstream(path_) << "existing\n";
  Logger log;
  ASSERT_TRUE(log.Configure(FileConfig(false, false, false)).ok());
  log.Notice("new");
  std::vector<std::string> lines = Lines(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "existing");
}

TEST_F(LoggerTest, ReopenAfterRotation) {
  Logger log;
  ASSERT_TRUE(log.Configure(FileConfig(false, false, false)).ok());
  log.Notice("before");
  std::string rotated = path_ + ".1";
  std::filesystem::rename(path_, rotated);
  log.Notice("still old file");
  log.Reopen();
  log.Notice("after");
  EXPECT_EQ(Lines(rotated).size(), 2u);
  std::vector<std::string> lines = Lines(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("[INF] File log re-opened"));
  EXPECT_THAT(lines[1], HasSubstr("after"));
}

TEST_F(LoggerTest, ConfigureErrorsKeepPreviousSink) {
  Logger log;
  ASSERT_TRUE(log.Configure(FileConfig(false, false, false)).ok());
  LoggerConfig bad;
  bad.log_file = (dir_ / "no" / "such" / "dir.log").string();
  absl::Status s = log.Configure(bad);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("error opening file"));
  LoggerConfig remote;
  remote.remote_syslog = "http://localhost:514";
  EXPECT_EQ(log.Configure(remote).message(), "error invalid network type: \"http\"");
  log.Notice("still here");
  EXPECT_EQ(Lines(path_).size(), 1u);
}

TEST_F(LoggerTest, ConcurrentLinesDoNotInterleave) {
  Logger log;
  ASSERT_TRUE(log.Configure(FileConfig(true, false, false)).ok());
  constexpr int kThreads = 8, kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kLines; ++i) log.Notice("thread {} line {} {}", t, i, std::string(100, 'x'));
    });
  }
  for (std::thread& th : threads) th.join();
  std::vector<std::string> lines = Lines(path_);
  ASSERT_EQ(lines.size(), size_t{kThreads * kLines});
  for (const std::string& line : lines) {
    EXPECT_THAT(line, MatchesRegex(".*\\[INF\\] thread [0-9] line [0-9]+ x{100}"));
  }
}

TEST_F(LoggerTest, RemoteSyslogOverUnixSocket) {
  std::string sock_path = (dir_ / "syslog.sock").string();
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock_path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);

  Logger log;
  LoggerConfig c;
  c.remote_syslog = "unix://" + sock_path;
  c.syslog_tag = "natsd-test";
  c.debug = true;
  ASSERT_TRUE(log.Configure(c).ok());
  log.Warn("careful {}", 42);
  log.Debug("dbg");
  char buf[512];
  ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  ASSERT_GT(n, 0);
  std::string msg(buf, static_cast<size_t>(n));
  EXPECT_THAT(msg, MatchesRegex("<4>[0-9T:+Z-]+ .+ natsd-test\\[[0-9]+\\]: careful 42\n"));
  n = ::recv(fd, buf, sizeof(buf), 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(buf[0], '<');
  EXPECT_EQ(buf[1], '7');
  ::close(fd);
}

TEST(LoggerConfigTest, FromOptions) {
  Options o;
  o.debug = true;
  o.logtime = false;
  o.log_file = "f.log";
  LoggerConfig c = LoggerConfigFromOptions(o, "natsd");
  EXPECT_TRUE(c.debug);
  EXPECT_FALSE(c.trace);
  EXPECT_FALSE(c.logtime);
  EXPECT_EQ(c.log_file, "f.log");
  EXPECT_EQ(c.syslog_tag, "natsd");
}

TEST(LoggerGlobal, IsASingleton) {
  EXPECT_EQ(&Logger::Global(), &Logger::Global());
}

}  // namespace
}  // namespace natsd
