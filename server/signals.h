// Signals: how the natsd process reacts to POSIX signals.
//
// The handled signals are blocked in every thread (BlockSignals() runs before
// any thread starts, and threads inherit the mask) and received synchronously
// by the main thread in WaitForSignals() (through a signalfd), so no handler
// runs in signal context and no I/O thread is ever interrupted.
//
//   INT, TERM  graceful shutdown; WaitForSignals() returns and main exits 0.
//              As in nats-server, TERM is ignored once in lame duck mode
//              (the server is already on its way out); INT is not
//   USR1       reopen the log file (log rotation)
//   HUP        reload the configuration: `reload` is called; its error is
//              logged as the reference logs it, and the server runs on
//   USR2       lame duck mode: `enter_lame_duck_mode` is called (once); when
//              the server has closed its clients it calls LameDuckModeDone()
//              and WaitForSignals() returns 0
//   PIPE       ignored (a peer that went away is seen as a write error)
//
// Thread-safety: BlockSignals() and WaitForSignals() from the main thread
// only; LameDuckModeDone() from any thread.
#ifndef NATSD_SERVER_SIGNALS_H_
#define NATSD_SERVER_SIGNALS_H_

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"

namespace natsd {

struct SignalActions {
  absl::AnyInvocable<void()> enter_lame_duck_mode;
  absl::AnyInvocable<absl::Status()> reload;
};

void BlockSignals();
// Returns the signal that asked for shutdown, or 0 when lame duck mode
// completed.
int WaitForSignals(SignalActions actions);
// Any thread: lame duck mode is over; makes WaitForSignals() return 0.
void LameDuckModeDone();

}  // namespace natsd

#endif  // NATSD_SERVER_SIGNALS_H_
