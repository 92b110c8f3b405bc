#include "server/signal_command.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "fmt/format.h"
#include "gtest/gtest.h"

namespace natsd {
namespace {

// A child process that waits to be signalled; reaped by the destructor.
class Target {
 public:
  Target() {
    pid_ = fork();
    if (pid_ == 0) {
      alarm(10);  // never outlive a failed test
      for (;;) pause();
    }
  }
  ~Target() {
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  int pid() const { return pid_; }
  // The signal that ended the child, or 0.
  int WaitSignal() {
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }

 private:
  int pid_ = -1;
  bool reaped_ = false;
};

TEST(SignalCommandTest, SendsTheCommandsSignalToAPid) {
  struct Case {
    const char* command;
    int signal;
  };
  for (const Case& c : {Case{"stop", SIGKILL}, Case{"quit", SIGINT},
                        Case{"term", SIGTERM}, Case{"reopen", SIGUSR1},
                        Case{"reload", SIGHUP}, Case{"ldm", SIGUSR2}}) {
    Target t;
    ASSERT_TRUE(SendSignalCommand(fmt::format("{}={}", c.command, t.pid())).ok())
        << c.command;
    EXPECT_EQ(t.WaitSignal(), c.signal) << c.command;
  }
}

TEST(SignalCommandTest, ReadsThePidFromAPidFile) {
  Target t;
  char path[] = "/tmp/natsd-pidfile-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << t.pid() << "\n";
  EXPECT_TRUE(SendSignalCommand(fmt::format("term={}", path)).ok());
  EXPECT_EQ(t.WaitSignal(), SIGTERM);
  std::remove(path);
}

TEST(SignalCommandTest, ReportsTheReferencesErrors) {
  Target t;
  EXPECT_EQ(SendSignalCommand(fmt::format("bogus={}", t.pid())).message(),
            "unknown signal \"bogus\"");
  EXPECT_EQ(SendSignalCommand("term=abc").message(), "invalid pid: abc");
  EXPECT_EQ(SendSignalCommand("term=1=2=3").message(),
            "invalid signal parameters: [2 3]");
}

}  // namespace
}  // namespace natsd
