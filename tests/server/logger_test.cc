#include "server/logger.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
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

  // Rotated backups of path_, oldest first (their names sort by time).
  std::vector<std::string> Backups() {
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      std::string name = entry.path().string();
      if (name.starts_with(path_ + ".")) found.push_back(name);
    }
    std::sort(found.begin(), found.end());
    return found;
  }
  std::string Pid() { return "[" + std::to_string(::getpid()) + "] "; }

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

TEST_F(LoggerTest, RotatesOnceTheFilePassesTheLimit) {
  Logger log;
  LoggerConfig c = FileConfig(false, false, false);
  c.log_size_limit = 1000;
  ASSERT_TRUE(log.Configure(c).ok());
  std::string filler(80, 'x');
  // Each line is Pid() + "[INF] " + 4 digits + " " + 80 = about 100 bytes,
  // so the 10th or 11th line crosses 1000.
  int i = 0;
  while (Backups().empty()) {
    ASSERT_LT(i, 20) << "no rotation";
    log.Notice("{:04d} {}", i++, filler);
  }
  std::vector<std::string> backups = Backups();
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_THAT(backups[0], MatchesRegex(".*/natsd\\.log\\.[0-9]{4}\\.[0-9]{2}\\.[0-9]{2}\\."
                                       "[0-9]{2}\\.[0-9]{2}\\.[0-9]{2}\\.[0-9]{9}"));
  // The line that crossed the limit is the backup's last.
  std::vector<std::string> old_lines = Lines(backups[0]);
  ASSERT_EQ(old_lines.size(), static_cast<size_t>(i));
  EXPECT_EQ(old_lines.back(), fmt::format("{}[INF] {:04d} {}", Pid(), i - 1, filler));
  EXPECT_GT(std::filesystem::file_size(backups[0]), 1000u);
  // The new file starts with nats-server's notice, "\r\n" and all.
  std::vector<std::string> lines = Lines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], Pid() + "[INF] Rotated log, backup saved as \"" + backups[0] + "\"\r");
  log.Notice("next");
  EXPECT_EQ(Lines(path_).size(), 2u);
  EXPECT_EQ(Backups().size(), 1u);
}

TEST_F(LoggerTest, RotationLosesNoLines) {
  Logger log;
  LoggerConfig c = FileConfig(true, false, false);
  c.log_size_limit = 500;
  ASSERT_TRUE(log.Configure(c).ok());
  constexpr int kLines = 300;
  for (int i = 0; i < kLines; ++i) log.Notice("line {}", i);
  std::vector<std::string> files = Backups();
  ASSERT_GT(files.size(), 10u);
  files.push_back(path_);
  std::vector<int> seen;
  for (const std::string& f : files) {
    EXPECT_LE(std::filesystem::file_size(f), 500u + 100u) << f;
    for (const std::string& line : Lines(f)) {
      if (line.find("Rotated log") != std::string::npos) continue;
      size_t at = line.find("[INF] line ");
      ASSERT_NE(at, std::string::npos) << line;
      seen.push_back(std::stoi(line.substr(at + 11)));
    }
  }
  ASSERT_EQ(seen.size(), size_t{kLines});
  for (int i = 0; i < kLines; ++i) EXPECT_EQ(seen[i], i);
}

TEST_F(LoggerTest, ConcurrentWritersDuringRotationLoseNoLines) {
  Logger log;
  LoggerConfig c = FileConfig(false, false, false);
  c.log_size_limit = 20000;
  ASSERT_TRUE(log.Configure(c).ok());
  constexpr int kThreads = 4, kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kLines; ++i) log.Notice("thread {} line {} {}", t, i, std::string(50, 'x'));
    });
  }
  for (std::thread& th : threads) th.join();
  std::vector<std::string> files = Backups();
  EXPECT_GT(files.size(), 2u);
  files.push_back(path_);
  size_t lines = 0;
  for (const std::string& f : files) {
    for (const std::string& line : Lines(f)) lines += line.find("thread ") != std::string::npos;
  }
  EXPECT_EQ(lines, size_t{kThreads * kLines});
}

TEST_F(LoggerTest, LimitZeroNeverRotates) {
  Logger log;
  ASSERT_TRUE(log.Configure(FileConfig(false, false, false)).ok());
  for (int i = 0; i < 2000; ++i) log.Notice("line {} {}", i, std::string(100, 'x'));
  EXPECT_TRUE(Backups().empty());
  EXPECT_EQ(Lines(path_).size(), 2000u);
}

TEST_F(LoggerTest, FileAlreadyPastTheLimitIsRotatedWhenOpened) {
  std::ofstream(path_) << std::string(2000, 'o') << "\n";
  Logger log;
  LoggerConfig c = FileConfig(false, false, false);
  c.log_size_limit = 1000;
  ASSERT_TRUE(log.Configure(c).ok());
  std::vector<std::string> backups = Backups();
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_EQ(Lines(backups[0]),
            (std::vector<std::string>{std::string(2000, 'o'), Pid() + "[INF] Rotating logfile..."}));
  std::vector<std::string> lines = Lines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("Rotated log, backup saved as"));
}

TEST_F(LoggerTest, ReopenCountsFromTheReopenedFile) {
  Logger log;
  LoggerConfig c = FileConfig(false, false, false);
  c.log_size_limit = 1000;
  ASSERT_TRUE(log.Configure(c).ok());
  for (int i = 0; i < 6; ++i) log.Notice("before {}", std::string(90, 'x'));
  // logrotate moves the file away and sends USR1: the new, empty file
  // must not inherit the old one's count.
  std::filesystem::rename(path_, (dir_ / "moved.log").string());
  log.Reopen();
  for (int i = 0; i < 6; ++i) log.Notice("after {}", std::string(90, 'x'));
  EXPECT_TRUE(Backups().empty());
  EXPECT_EQ(Lines(path_).size(), 7u);

  // A file put back in place past the limit is rotated by the reopen.
  std::ofstream(path_) << std::string(1500, 'o') << "\n";
  log.Reopen();
  std::vector<std::string> backups = Backups();
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_THAT(Lines(backups[0]).back(), HasSubstr("[INF] Rotating logfile..."));
  std::vector<std::string> lines = Lines(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("Rotated log, backup saved as"));
  EXPECT_THAT(lines[1], HasSubstr("[INF] File log re-opened"));
}

TEST_F(LoggerTest, DeletedFileComesBackAtRotation) {
  Logger log;
  LoggerConfig c = FileConfig(false, false, false);
  c.log_size_limit = 500;
  ASSERT_TRUE(log.Configure(c).ok());
  log.Notice("first");
  std::filesystem::remove(path_);
  for (int i = 0; i < 10; ++i) log.Notice("line {} {}", i, std::string(80, 'x'));
  // Nothing to rename: no backup, the path is opened anew, and the next
  // attempt waits for twice the limit instead of every line.
  EXPECT_TRUE(Backups().empty());
  std::vector<std::string> lines = Lines(path_);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], Pid() +
                          "[ERR] Unable to rename logfile for rotation (No such file or "
                          "directory), will attempt next rotation at size 1000\r");
  for (int i = 0; Backups().empty(); ++i) {
    ASSERT_LT(i, 20) << "no rotation";
    log.Notice("more {}", std::string(80, 'x'));
  }
  std::vector<std::string> backups = Backups();
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_EQ(Lines(backups[0])[0], lines[0]);
  EXPECT_GT(std::filesystem::file_size(backups[0]), 1000u);
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
  o.log_size_limit = 4096;
  LoggerConfig c = LoggerConfigFromOptions(o, "natsd");
  EXPECT_TRUE(c.debug);
  EXPECT_FALSE(c.trace);
  EXPECT_FALSE(c.logtime);
  EXPECT_EQ(c.log_file, "f.log");
  EXPECT_EQ(c.log_size_limit, 4096);
  EXPECT_EQ(c.syslog_tag, "natsd");
}

TEST(LoggerGlobal, IsASingleton) {
  EXPECT_EQ(&Logger::Global(), &Logger::Global());
}

}  // namespace
}  // namespace natsd
