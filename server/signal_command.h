// SignalCommand: `natsd --signal <command>[=<pid or pid file>]`, which sends
// a running natsd the signal for that command, as `nats-server --signal`
// does for nats-server.
//
//   stop -> KILL   quit -> INT   term -> TERM
//   reopen -> USR1 reload -> HUP ldm -> USR2
//
// Without a pid, the one natsd process running (other than this one) is the
// target; none or several is an error, as in the reference.
//
// Thread-safety: a plain function.
#ifndef NATSD_SERVER_SIGNAL_COMMAND_H_
#define NATSD_SERVER_SIGNAL_COMMAND_H_

#include <string_view>

#include "absl/status/status.h"

namespace natsd {

// `spec` is the --signal argument. Errors carry the reference's texts
// ("unknown signal \"x\"", "invalid pid: x", "no natsd processes running").
absl::Status SendSignalCommand(std::string_view spec);

}  // namespace natsd

#endif  // NATSD_SERVER_SIGNAL_COMMAND_H_
