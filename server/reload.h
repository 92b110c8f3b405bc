// Config reload (SIGHUP, `--signal reload`): which option changes natsd can
// apply to a running server, as nats-server 2.9.10 decides it.
//
// DiffOptions compares the running options with freshly built ones (config
// file re-read, command-line flags applied over it again) field by field, in
// the order of the reference's Options struct, so that the first change it
// cannot apply is the one reported, in the reference's words:
//
//   config reload not supported for Port: old=4222, new=4223
//
// and the "Reloaded: ..." notices come out in the reference's order. The
// server (Server::Reload, reload.cc) then applies the plan; see
// docs/OPERATIONS.md for the table of reloadable options.
//
// Thread-safety: plain functions and value types.
#ifndef NATSD_SERVER_RELOAD_H_
#define NATSD_SERVER_RELOAD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/options.h"

namespace natsd {

// What a reload changes.
struct ReloadPlan {
  // "Reloaded: ..." lines, in the order the reference logs them.
  std::vector<std::string> notices;
  // Index in `notices` of the max_connections notice, or -1. Connections
  // over a lowered limit are closed (and that logged) right before it.
  int max_connections_notice = -1;
  bool logging = false;     // debug, trace, logtime, log file, syslog
  // Authentication or permissions differ: live clients are authorized again
  // under the new rules.
  bool auth = false;
  bool pid_file = false;
  bool ports_file_dir = false;
};

// The changes from `current` to `fresh`, or the reference's error for the
// first option that cannot change while running. `fresh` asking for a random
// port keeps the current one, as in the reference. `tls_files_changed`: the
// certificate, key or CA files have new contents under the same names (a
// certificate rotation), which is reported as a TLS change.
absl::StatusOr<ReloadPlan> DiffOptions(const Options& current, const Options& fresh,
                                       bool tls_files_changed = false);

}  // namespace natsd

#endif  // NATSD_SERVER_RELOAD_H_
