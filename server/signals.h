// Signals: how the natsd process reacts to POSIX signals.
//
// The handled signals are blocked in every thread (BlockSignals() runs before
// any thread starts, and threads inherit the mask) and received synchronously
// by the main thread in WaitForSignals(), so no handler runs in signal
// context and no I/O thread is ever interrupted.
//
//   INT, TERM  graceful shutdown; WaitForSignals() returns and main exits 0
//   USR1       reopen the log file (log rotation)
//   HUP        reload the configuration (not available yet: logged)
//   USR2       lame duck mode (not available yet: logged)
//   PIPE       ignored (a peer that went away is seen as a write error)
//
// Thread-safety: call both from the main thread only.
#ifndef NATSD_SERVER_SIGNALS_H_
#define NATSD_SERVER_SIGNALS_H_

namespace natsd {

void BlockSignals();
// Returns the signal that asked for shutdown.
int WaitForSignals();

}  // namespace natsd

#endif  // NATSD_SERVER_SIGNALS_H_
