#include "server/signals.h"

#include <signal.h>

#include "server/logger.h"

namespace natsd {
namespace {

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
  return set;
}

}  // namespace

void BlockSignals() {
  sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int WaitForSignals() {
  sigset_t set = HandledSignals();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    switch (sig) {
      case SIGINT:
      case SIGTERM:
        Logger::Global().Notice("Trapped \"{}\" signal",
                     sig == SIGINT ? "interrupt" : "terminated");
        return sig;
      case SIGUSR1:
        Logger::Global().Reopen();
        Logger::Global().Notice("Reopened log file");
        break;
      case SIGHUP:
        Logger::Global().Warn("Trapped \"hangup\" signal: configuration reload is not "
                   "available in this version of natsd");
        break;
      case SIGUSR2:
        Logger::Global().Warn("Trapped \"user defined signal 2\" signal: lame duck mode "
                   "is not available in this version of natsd");
        break;
      default:
        break;
    }
  }
}

}  // namespace natsd
