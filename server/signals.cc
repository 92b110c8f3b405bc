#include "server/signals.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "server/logger.h"

namespace natsd {
namespace {

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
  return set;
}

// Written by LameDuckModeDone() on an I/O thread; the main thread polls it
// next to the signalfd, so that it wakes for either.
int LameDuckDoneFd() {
  static const int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return fd;
}

}  // namespace

void BlockSignals() {
  sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  LameDuckDoneFd();  // created before any thread can need it
}

void LameDuckModeDone() {
  const uint64_t one = 1;
  (void)!write(LameDuckDoneFd(), &one, sizeof(one));
}

int WaitForSignals(SignalActions actions) {
  sigset_t set = HandledSignals();
  const int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  pollfd fds[2] = {{sfd, POLLIN, 0}, {LameDuckDoneFd(), POLLIN, 0}};
  bool lame_duck = false;
  int result = -1;
  while (result < 0) {
    if (poll(fds, 2, -1) < 0) continue;  // EINTR
    if (fds[1].revents & POLLIN) {
      result = 0;
      break;
    }
    signalfd_siginfo si;
    if (!(fds[0].revents & POLLIN) || read(sfd, &si, sizeof(si)) != sizeof(si)) {
      continue;
    }
    const int sig = static_cast<int>(si.ssi_signo);
    switch (sig) {
      case SIGINT:
        Logger::Global().Notice("Trapped \"interrupt\" signal");
        result = sig;
        break;
      case SIGTERM:
        if (lame_duck) {
          Logger::Global().Debug("Trapped \"terminated\" signal");
          break;
        }
        Logger::Global().Notice("Trapped \"terminated\" signal");
        result = sig;
        break;
      case SIGUSR1:
        Logger::Global().Reopen();
        Logger::Global().Notice("Reopened log file");
        break;
      case SIGHUP:
        Logger::Global().Debug("Trapped \"hangup\" signal");
        if (absl::Status s = actions.reload(); !s.ok()) {
          Logger::Global().Error("Failed to reload server configuration: {}",
                                 std::string(s.message()));
        }
        break;
      case SIGUSR2:
        if (!lame_duck) {
          lame_duck = true;
          actions.enter_lame_duck_mode();
        }
        break;
      default:
        break;
    }
  }
  close(sfd);
  return result;
}

}  // namespace natsd
