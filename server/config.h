// Applying a parsed configuration file (conf_parser.h) to Options.
//
// Accepts every top-level key nats-server 2.9 accepts, with its aliases
// ("max_conn" for "max_connections", "net" for "host", ...), matched
// case-insensitively. Core NATS keys set typed fields; blocks and keys of
// subsystems natsd does not have yet are stored raw in Options. Unknown keys
// are errors (`file:line:col: unknown field "foo"`), except keys that were
// referenced as $variables, as in nats-server.
//
// All errors of a file are reported together, one per line, like
// nats-server does. Warnings (for example a duration given as a bare number
// of seconds) do not stop the server; `natsd -t` treats them as errors.
//
//   natsd::Options opts;
//   std::vector<std::string> warnings;
//   absl::Status s = natsd::ProcessConfigFile("nats.conf", &opts, &warnings);
//
// Thread-safety: reentrant; the caller owns `opts`.
#ifndef NATSD_SERVER_CONFIG_H_
#define NATSD_SERVER_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/conf_parser.h"
#include "server/options.h"

namespace natsd {

// Applies the map `root` over the current contents of `opts` (keys absent
// from the file leave their field unchanged). Returns InvalidArgument with
// every error, newline separated. Warnings are appended to `warnings`.
absl::Status ApplyConfig(const ConfValue& root, Options* opts,
                         std::vector<std::string>* warnings);

// Parses `path` and applies it; also records it as opts->config_file.
absl::Status ProcessConfigFile(const std::string& path, Options* opts,
                               std::vector<std::string>* warnings);

}  // namespace natsd

#endif  // NATSD_SERVER_CONFIG_H_
