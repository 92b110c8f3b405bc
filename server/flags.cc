#include "server/flags.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "fmt/format.h"
#include "server/config.h"
#include "server/tls/tls_config.h"

namespace natsd {

using FlagValue = std::variant<bool, int64_t, std::string>;

enum class FlagKind { kBool, kInt, kString };

// What the steering flags asked for, resolved once all flags are parsed
// because nats-server ranks version over help over TLS help.
struct Requests {
  FlagResult& result;
  bool version = false;
  bool help = false;
  bool tls_help = false;
};

struct FlagSpec {
  std::array<std::string_view, 3> names;  // unused slots are empty
  FlagKind kind;
  // The option this flag overrides, for FlagResult::IsSet; empty for flags
  // that steer the command (help, version, config, ...).
  std::string_view option;
  // Sets the option. Null for steering flags, which set FlagResult fields.
  void (*apply)(Options&, const FlagValue&) = nullptr;
  void (*steer)(Requests&, const FlagValue&) = nullptr;
  // Extra check beyond the kind's syntax; returns the reason it is invalid.
  std::string_view (*check)(const FlagValue&) = nullptr;
  // -DV, -DVV and -VV: applied after all plain flags, as nats-server does.
  bool combination = false;
};

namespace {

bool B(const FlagValue& v) { return std::get<bool>(v); }
int I(const FlagValue& v) { return static_cast<int>(std::get<int64_t>(v)); }
const std::string& S(const FlagValue& v) { return std::get<std::string>(v); }

#define NATSD_SET(field, getter) [](Options& o, const FlagValue& v) { o.field = getter(v); }

// Every flag nats-server 2.9.10 defines, plus natsd's --io and --io_threads.
const FlagSpec kFlags[] = {
    {{"h", "help"}, FlagKind::kBool, "", nullptr,
     [](Requests& r, const FlagValue& v) { r.help = B(v); }},
    {{"v", "version"}, FlagKind::kBool, "", nullptr,
     [](Requests& r, const FlagValue& v) { r.version = B(v); }},
    {{"help_tls"}, FlagKind::kBool, "", nullptr,
     [](Requests& r, const FlagValue& v) { r.tls_help = B(v); }},
    {{"c", "config"}, FlagKind::kString, "", nullptr,
     [](Requests& r, const FlagValue& v) { r.result.config_file = S(v); }},
    {{"t"}, FlagKind::kBool, "", nullptr,
     [](Requests& r, const FlagValue& v) { r.result.check_config = B(v); }},
    {{"sl", "signal"}, FlagKind::kString, "", nullptr,
     [](Requests& r, const FlagValue& v) { r.result.signal = S(v); }},
    {{"p", "port"}, FlagKind::kInt, "port", NATSD_SET(port, I)},
    {{"n", "name", "server_name"}, FlagKind::kString, "server_name", NATSD_SET(server_name, S)},
    {{"a", "addr", "net"}, FlagKind::kString, "host", NATSD_SET(host, S)},
    {{"client_advertise"}, FlagKind::kString, "client_advertise", NATSD_SET(client_advertise, S)},
    {{"D", "debug"}, FlagKind::kBool, "debug", NATSD_SET(debug, B)},
    {{"V", "trace"}, FlagKind::kBool, "trace", NATSD_SET(trace, B)},
    {{"VV"}, FlagKind::kBool, "trace_verbose",
     [](Options& o, const FlagValue& v) { o.trace = o.trace_verbose = B(v); },
     nullptr, nullptr, true},
    {{"DV"}, FlagKind::kBool, "debug",
     [](Options& o, const FlagValue& v) { o.debug = o.trace = B(v); },
     nullptr, nullptr, true},
    {{"DVV"}, FlagKind::kBool, "trace_verbose",
     [](Options& o, const FlagValue& v) { o.debug = o.trace = o.trace_verbose = B(v); },
     nullptr, nullptr, true},
    {{"T", "logtime"}, FlagKind::kBool, "logtime", NATSD_SET(logtime, B)},
    {{"user"}, FlagKind::kString, "username", NATSD_SET(username, S)},
    {{"pass"}, FlagKind::kString, "password", NATSD_SET(password, S)},
    {{"auth"}, FlagKind::kString, "authorization", NATSD_SET(authorization, S)},
    {{"m", "http_port"}, FlagKind::kInt, "http_port", NATSD_SET(http_port, I)},
    {{"ms", "https_port"}, FlagKind::kInt, "https_port", NATSD_SET(https_port, I)},
    {{"P", "pid"}, FlagKind::kString, "pid_file", NATSD_SET(pid_file, S)},
    {{"ports_file_dir"}, FlagKind::kString, "ports_file_dir", NATSD_SET(ports_file_dir, S)},
    {{"l", "log"}, FlagKind::kString, "log_file", NATSD_SET(log_file, S)},
    {{"log_size_limit"}, FlagKind::kInt, "log_size_limit",
     [](Options& o, const FlagValue& v) { o.log_size_limit = std::get<int64_t>(v); }},
    {{"s", "syslog"}, FlagKind::kBool, "syslog", NATSD_SET(syslog, B)},
    {{"r", "remote_syslog"}, FlagKind::kString, "remote_syslog", NATSD_SET(remote_syslog, S)},
    {{"profile"}, FlagKind::kInt, "prof_port", NATSD_SET(prof_port, I)},
    {{"routes"}, FlagKind::kString, "routes", NATSD_SET(routes, S)},
    {{"cluster", "cluster_listen"}, FlagKind::kString, "cluster_listen",
     NATSD_SET(cluster_listen, S)},
    {{"cluster_advertise"}, FlagKind::kString, "cluster_advertise",
     NATSD_SET(cluster_advertise, S)},
    {{"no_advertise"}, FlagKind::kBool, "cluster_no_advertise",
     NATSD_SET(cluster_no_advertise, B)},
    {{"connect_retries"}, FlagKind::kInt, "cluster_connect_retries",
     NATSD_SET(cluster_connect_retries, I)},
    {{"cluster_name"}, FlagKind::kString, "cluster_name", NATSD_SET(cluster_name, S)},
    {{"tls"}, FlagKind::kBool, "tls", NATSD_SET(tls, B)},
    {{"tlsverify"}, FlagKind::kBool, "tls_verify", NATSD_SET(tls_verify, B)},
    {{"tlscert"}, FlagKind::kString, "tls_cert", NATSD_SET(tls_cert, S)},
    {{"tlskey"}, FlagKind::kString, "tls_key", NATSD_SET(tls_key, S)},
    {{"tlscacert"}, FlagKind::kString, "tls_ca_cert", NATSD_SET(tls_ca_cert, S)},
    {{"max_traced_msg_len"}, FlagKind::kInt, "max_traced_msg_len",
     NATSD_SET(max_traced_msg_len, I)},
    {{"js", "jetstream"}, FlagKind::kBool, "jetstream", NATSD_SET(jetstream, B)},
    {{"sd", "store_dir"}, FlagKind::kString, "store_dir", NATSD_SET(store_dir, S)},
    {{"io"}, FlagKind::kString, "io_backend",
     [](Options& o, const FlagValue& v) { o.io_backend = *ParseIoBackend(S(v)); }, nullptr,
     [](const FlagValue& v) -> std::string_view {
       return ParseIoBackend(S(v)) ? "" : "expected auto, uring or epoll";
     }},
    {{"io_threads"}, FlagKind::kInt, "io_threads", NATSD_SET(io_threads, I), nullptr,
     [](const FlagValue& v) -> std::string_view {
       return std::get<int64_t>(v) < 0 ? "value can not be negative" : "";
     }},
};

#undef NATSD_SET

const FlagSpec* FindFlag(std::string_view name) {
  for (const FlagSpec& f : kFlags) {
    if (std::find(f.names.begin(), f.names.end(), name) != f.names.end() && !name.empty()) {
      return &f;
    }
  }
  return nullptr;
}

// Go's strconv.ParseBool.
std::optional<bool> ParseGoBool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") return false;
  return std::nullopt;
}

// Go's strconv.ParseInt(s, 0, 64): optional sign, then decimal, 0x hex,
// 0o or leading-0 octal, or 0b binary; underscores may separate digits after
// a base prefix. Returns the reason on failure, in Go's words.
std::string_view ParseGoInt(std::string_view s, int64_t* out) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  bool prefixed = false;
  if (s.size() >= 2 && s[0] == '0') {
    char p = absl::ascii_tolower(static_cast<unsigned char>(s[1]));
    prefixed = true;
    if (p == 'x') {
      base = 16;
      s.remove_prefix(2);
    } else if (p == 'b') {
      base = 2;
      s.remove_prefix(2);
    } else if (p == 'o') {
      base = 8;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  if (s.empty()) return "parse error";
  uint64_t value = 0;
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  bool range = false;
  char prev = '0';  // an underscore may follow a base prefix
  for (char c : s) {
    if (c == '_') {
      if (!prefixed || prev == '_') return "parse error";
      prev = c;
      continue;
    }
    prev = c;
    int digit;
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digit = c - '0';
    } else if (absl::ascii_isalpha(static_cast<unsigned char>(c))) {
      digit = absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    } else {
      return "parse error";
    }
    if (digit >= base) return "parse error";
    if (value > (limit - static_cast<uint64_t>(digit)) / static_cast<uint64_t>(base)) {
      range = true;
      value = limit;
    } else if (!range) {
      value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
    }
  }
  if (prev == '_') return "parse error";
  if (range) return "value out of range";
  *out = negative ? static_cast<int64_t>(0 - value) : static_cast<int64_t>(value);
  return "";
}

// Parses one flag's value; on failure returns the Go flag package's message.
std::optional<std::string> ParseValue(const FlagSpec& spec, std::string_view name,
                                      std::string_view text, FlagValue* out) {
  switch (spec.kind) {
    case FlagKind::kBool: {
      std::optional<bool> b = ParseGoBool(text);
      if (!b) return fmt::format("invalid boolean value \"{}\" for -{}: parse error", text, name);
      *out = *b;
      break;
    }
    case FlagKind::kInt: {
      int64_t n = 0;
      std::string_view err = ParseGoInt(text, &n);
      // Options fields are C++ ints except the log size limit.
      if (err.empty() && spec.option != "log_size_limit" &&
          (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max())) {
        err = "value out of range";
      }
      if (!err.empty()) return fmt::format("invalid value \"{}\" for flag -{}: {}", text, name, err);
      *out = n;
      break;
    }
    case FlagKind::kString:
      *out = std::string(text);
      break;
  }
  if (spec.check != nullptr) {
    if (std::string_view why = spec.check(*out); !why.empty()) {
      return fmt::format("invalid value \"{}\" for flag -{}: {}", text, name, why);
    }
  }
  return std::nullopt;
}

}  // namespace

bool FlagResult::IsSet(std::string_view option) const {
  return std::any_of(assignments.begin(), assignments.end(),
                     [&](const FlagAssignment& a) { return a.spec->option == option; });
}

void FlagResult::ApplyTo(Options* opts) const {
  // Combinations apply last, each once with its final value, in name order:
  // nats-server applies them while visiting the set flags sorted by name.
  std::map<std::string_view, const FlagAssignment*> combinations;
  for (const FlagAssignment& a : assignments) {
    if (a.spec->apply == nullptr) continue;
    if (a.spec->combination) {
      combinations[a.spec->names[0]] = &a;
    } else {
      a.spec->apply(*opts, a.value);
    }
  }
  for (const auto& [name, a] : combinations) a->spec->apply(*opts, a->value);
}

absl::StatusOr<FlagResult> ParseFlags(std::span<const std::string_view> args) {
  FlagResult result;
  Requests requests{result};
  size_t i = 0;
  auto bad = [&](std::string message) {
    FlagResult r;
    r.action = FlagResult::Action::kBadFlag;
    r.error = std::move(message);
    return r;
  };
  while (i < args.size()) {
    std::string_view arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') break;
    size_t dashes = 1;
    if (arg[1] == '-') {
      dashes = 2;
      if (arg.size() == 2) {  // "--" ends the flags
        ++i;
        break;
      }
    }
    std::string_view name = arg.substr(dashes);
    if (name.empty() || name[0] == '-' || name[0] == '=') {
      return bad(fmt::format("bad flag syntax: {}", arg));
    }
    ++i;
    std::optional<std::string_view> text;
    if (size_t eq = name.find('='); eq != std::string_view::npos) {
      text = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = FindFlag(name);
    if (spec == nullptr) return bad(fmt::format("flag provided but not defined: -{}", name));
    if (!text) {
      if (spec->kind == FlagKind::kBool) {
        text = "true";
      } else if (i < args.size()) {
        text = args[i++];
      } else {
        return bad(fmt::format("flag needs an argument: -{}", name));
      }
    }
    FlagValue value;
    if (std::optional<std::string> err = ParseValue(*spec, name, *text, &value)) {
      return bad(*std::move(err));
    }
    if (spec->steer != nullptr) spec->steer(requests, value);
    result.assignments.push_back(FlagAssignment{spec, std::string(name), std::move(value)});
  }

  // Precedence of nats-server: version, help and TLS help flags, then a
  // command word, then --signal.
  if (requests.version || requests.help || requests.tls_help) {
    result.action = requests.version ? FlagResult::Action::kVersion
                    : requests.help  ? FlagResult::Action::kHelp
                                     : FlagResult::Action::kTlsHelp;
    return result;
  }
  if (i < args.size()) {
    std::string command = absl::AsciiStrToLower(std::string(args[i]));
    if (command == "version") {
      result.action = FlagResult::Action::kVersion;
    } else if (command == "help") {
      result.action = FlagResult::Action::kHelp;
    } else {
      return absl::InvalidArgumentError(
          fmt::format("unrecognized command: \"{}\"", args[i]));
    }
    return result;
  }
  if (!result.signal.empty()) result.action = FlagResult::Action::kSignal;
  return result;
}

absl::StatusOr<Options> BuildOptions(const FlagResult& flags,
                                     std::vector<std::string>* warnings) {
  Options opts;
  if (flags.check_config && flags.config_file.empty()) {
    return absl::InvalidArgumentError(
        "must specify [-c, --config] option to check configuration file syntax");
  }
  if (!flags.config_file.empty()) {
    absl::Status s = ProcessConfigFile(flags.config_file, &opts, warnings);
    if (!s.ok() || (flags.check_config && !warnings->empty())) {
      // Like nats-server: warnings first, then errors.
      std::vector<std::string> lines = *warnings;
      if (!s.ok()) lines.emplace_back(s.message());
      return absl::Status(s.ok() ? absl::StatusCode::kInvalidArgument : s.code(),
                          absl::StrJoin(lines, "\n"));
    }
  }
  flags.ApplyTo(&opts);
  opts.config_file = flags.config_file;

  // Any --tls* flag turns TLS on unless --tls=false was given.
  bool tls_flag = false;
  bool tls_off = false;
  for (const FlagAssignment& a : flags.assignments) {
    if (a.name.starts_with("tls")) tls_flag = true;
    if (a.name == "tls" && !std::get<bool>(a.value)) tls_off = true;
  }
  if (tls_flag && !tls_off) {
    absl::StatusOr<TlsOptions> tls = TlsOptionsFromFlags(
        opts.tls_cert, opts.tls_key, opts.tls_ca_cert, opts.tls_verify,
        opts.tls_config ? &*opts.tls_config : nullptr);
    if (!tls.ok()) return tls.status();
    opts.tls_config = *std::move(tls);
  }
  // The reference's getDefaultAuthTimeout: TLS lengthens the default.
  if (opts.tls_config && !opts.auth_timeout_set) {
    opts.auth_timeout = opts.tls_config->timeout + absl::Seconds(1);
  }
  if (!opts.routes.empty() && opts.cluster_listen.empty() && !opts.cluster_block) {
    return absl::InvalidArgumentError(
        "solicited routes require cluster capabilities, e.g. --cluster");
  }
  if (absl::Status s = ValidateOptions(opts); !s.ok()) return s;
  return opts;
}

std::string VersionText() {
  return fmt::format("natsd version {} (compatible with nats-server v{})", kNatsdVersion,
                     kCompatibleNatsVersion);
}

std::string_view UsageText() {
  return R"(
Usage: natsd [options]

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222)
    -n, --name
        --server_name <server_name>  Server name (default: auto)
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring
    -ms,--https_port <port>          Use port for https monitoring
    -c, --config <file>              Configuration file
    -t                               Test configuration and exit
    -sl,--signal <signal>[=<pid>]    Send signal to natsd process (ldm, stop, quit, term, reopen, reload)
                                     <pid> can be either a PID (e.g. 1) or the path to a PID file (e.g. /var/run/natsd.pid)
        --client_advertise <string>  Client URL to advertise to other servers
        --ports_file_dir <dir>       Creates a ports file in the specified directory (<executable_name>_<pid>.ports).

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
    -s, --syslog                     Log to syslog
    -r, --remote_syslog <addr>       Syslog server addr (udp://localhost:514)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -VV                              Verbose trace (traces system account as well)
    -DV                              Debug and trace
    -DVV                             Debug and verbose trace (traces system account as well)
        --log_size_limit <limit>     Logfile size limit (default: auto)
        --max_traced_msg_len <len>   Maximum printable length for traced messages (default: unlimited)

JetStream Options:
    -js, --jetstream                 Enable JetStream functionality
    -sd, --store_dir <dir>           Set the storage directory

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

TLS Options:
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

Cluster Options:
        --routes <rurl-1, rurl-2>    Routes to solicit and connect
        --cluster <cluster-url>      Cluster URL for solicited routes
        --cluster_name <string>      Cluster Name, if not set one will be dynamically generated
        --no_advertise <bool>        Do not advertise known cluster information to clients
        --cluster_advertise <string> Cluster URL to advertise to other servers
        --connect_retries <number>   For implicit routes, number of connect retries
        --cluster_listen <url>       Cluster url from which members can solicit routes

Profiling Options:
        --profile <port>             Profiling HTTP port

I/O Options (natsd):
        --io <auto|uring|epoll>      Kernel I/O interface (default: auto, io_uring with epoll fallback)
        --io_threads <n>             Number of I/O threads (default: 0, one per core)

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version
        --help_tls                   TLS help

)";
}

std::string_view TlsHelpText() {
  return R"(
TLS Options:
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

Or in the configuration file:

    tls {
        cert_file: "./certs/server.pem"
        key_file: "./certs/server.key"
        ca_file: "./certs/ca.pem"    # clients are verified against it
        verify: true
        timeout: 2                   # seconds
    }

)";
}

}  // namespace natsd
