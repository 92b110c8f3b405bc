// The natsd command line: nats-server's flags with the semantics of Go's
// `flag` package, and the assembly of the final Options.
//
// Flag forms: `-p 4222`, `-p=4222`, `--port 4222`, `--port=4222`. Boolean
// flags never consume the next argument (`-D`, `-D=true`, `--debug=false`).
// `--` ends the flags; the first non-flag argument may be `version` or
// `help`. Integers accept Go's base prefixes (0x1F, 0o17, 017, 0b101).
//
// Precedence is nats-server's: defaults, then the config file (-c), then
// every flag given on the command line. Typical use in main():
//
//   absl::StatusOr<natsd::FlagResult> flags = natsd::ParseFlags(args);
//   if (!flags.ok()) { print "natsd: " + message to stderr; exit 1; }
//   switch (flags->action) {
//     case kBadFlag: print flags->error to stderr, UsageText() to stdout, exit 0
//     case kVersion: print VersionText(); exit 0   ... }
//   std::vector<std::string> warnings;
//   absl::StatusOr<natsd::Options> opts = natsd::BuildOptions(*flags, &warnings);
//
// Nothing here prints or exits; the caller decides.
//
// Thread-safety: plain functions and value types.
#ifndef NATSD_SERVER_FLAGS_H_
#define NATSD_SERVER_FLAGS_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "server/options.h"

namespace natsd {

struct FlagSpec;  // one flag's names, kind and effect (flags.cc)

// One flag as given on the command line, already parsed and validated.
struct FlagAssignment {
  const FlagSpec* spec;
  std::string name;  // as written, without dashes
  std::variant<bool, int64_t, std::string> value;
};

struct FlagResult {
  enum class Action {
    kRun,       // start the server (or only check the config: check_config)
    kVersion,   // -v, --version, or the `version` command
    kHelp,      // -h, --help, or the `help` command
    kTlsHelp,   // --help_tls
    kSignal,    // --signal/-sl: signal a running server, then exit
    kBadFlag,   // a flag error; nats-server prints `error` to stderr, the
                // usage to stdout, and exits 0
  };
  Action action = Action::kRun;
  std::string error;         // kBadFlag: the Go flag package's message
  std::string config_file;   // -c, --config
  bool check_config = false; // -t: validate the config and exit
  std::string signal;        // kSignal: "<command>[=<pid or pid file>]"
  std::vector<FlagAssignment> assignments;  // in command-line order

  // True if the command line set `option`, named like the nats-server
  // config key it overrides: "port", "host", "debug", "trace", "logtime",
  // "syslog", "cluster_no_advertise", ... (see kFlags in flags.cc).
  bool IsSet(std::string_view option) const;

  // Applies the command-line values over `opts`: plain flags in order, then
  // the -DV/-DVV/-VV combinations, which win as they do in nats-server.
  void ApplyTo(Options* opts) const;
};

// Parses the arguments after the program name. Returns an error only for a
// bad non-flag argument ("unrecognized command: \"x\""); flag errors are
// reported as Action::kBadFlag.
absl::StatusOr<FlagResult> ParseFlags(std::span<const std::string_view> args);

// Defaults, then the config file, then the flags; then nats-server's checks
// on the combination (-t needs -c, --routes needs a cluster, TLS flags need
// a certificate and key) and ValidateOptions(). Config warnings are returned
// in `warnings`; with -t they are errors, as in nats-server.
absl::StatusOr<Options> BuildOptions(const FlagResult& flags,
                                     std::vector<std::string>* warnings);

// `natsd -h` output: nats-server's usage plus natsd's I/O flags.
std::string_view UsageText();
// `natsd --help_tls` output.
std::string_view TlsHelpText();
// `natsd -v` output, without the trailing newline.
std::string VersionText();

}  // namespace natsd

#endif  // NATSD_SERVER_FLAGS_H_
