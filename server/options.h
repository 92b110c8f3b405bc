// Options: every tunable of natsd with its default, the equivalent of
// nats-server's const.go defaults plus its Options struct.
//
// An Options value is built once at start-up (defaults, then the config file,
// then command-line flags; see flags.h and config.h) and is then read-only.
// Subsystems that are not implemented yet (cluster, JetStream,
// ...) keep their raw config sub-tree so that a config written for
// nats-server 2.9 is accepted and the owning subsystem can interpret it later.
//
//   natsd::Options opts;                  // all defaults
//   opts.port = 4223;
//   absl::Status s = natsd::ValidateOptions(opts);
//
// Thread-safety: a plain value type; no internal synchronization.
#ifndef NATSD_SERVER_OPTIONS_H_
#define NATSD_SERVER_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/conf_parser.h"
#include "server/tls/tls_options.h"

namespace natsd {

// Version of natsd itself and of the nats-server release it mirrors.
inline constexpr std::string_view kNatsdVersion = "0.1.0";
inline constexpr std::string_view kCompatibleNatsVersion = "2.9.10";

inline constexpr std::string_view kDefaultHost = "0.0.0.0";
inline constexpr int kDefaultPort = 4222;
// A port of -1 asks for an OS-assigned port ("RANDOM_PORT" in nats-server).
inline constexpr int kRandomPort = -1;
inline constexpr int kDefaultHttpPort = 8222;
inline constexpr int kDefaultMaxConnections = 64 * 1024;
inline constexpr int kDefaultMaxControlLine = 4096;
inline constexpr int64_t kDefaultMaxPayload = 1024 * 1024;
// nats-server warns at start-up when max_payload exceeds this.
inline constexpr int64_t kMaxPayloadMaxSize = 8 * 1024 * 1024;
inline constexpr int64_t kDefaultMaxPending = 64 * 1024 * 1024;
inline constexpr absl::Duration kDefaultWriteDeadline = absl::Seconds(10);
inline constexpr absl::Duration kDefaultPingInterval = absl::Minutes(2);
inline constexpr int kDefaultMaxPingsOut = 2;
inline constexpr absl::Duration kDefaultAuthTimeout = absl::Seconds(2);
inline constexpr absl::Duration kDefaultLameDuckDuration = absl::Minutes(2);
inline constexpr absl::Duration kDefaultLameDuckGracePeriod = absl::Seconds(10);
// Config files may not shorten lame duck mode below this.
inline constexpr absl::Duration kMinLameDuckDuration = absl::Seconds(30);
inline constexpr int kDefaultConnectErrorReports = 3600;
inline constexpr int kDefaultReconnectErrorReports = 1;

// Which kernel interface the I/O threads use (natsd-only).
enum class IoBackend {
  kAuto,   // io_uring when the probe succeeds, else epoll
  kUring,  // io_uring only; start-up fails if it is unavailable
  kEpoll,  // epoll only
};

// "auto", "uring", "epoll".
std::string_view IoBackendName(IoBackend backend);
// Inverse of IoBackendName (case-insensitive); also accepts "io_uring".
std::optional<IoBackend> ParseIoBackend(std::string_view name);

// One entry of `authorization { users: [...] }`. Permissions and allowed
// connection types are kept raw for the auth subsystem to interpret.
struct ConfigUser {
  std::string username;
  std::string password;  // plain or bcrypt ("$2a$...")
  std::string nkey;      // public user nkey; exclusive with username/password
  std::optional<ConfValue> permissions;
  std::optional<ConfValue> allowed_connection_types;
  // The account the user logs in to (`accounts { A { users: [...] } }`);
  // empty: the global account "$G".
  std::string account;
};

// How a service export answers (`response_type`), the reference's
// ServiceRespType: one response per request, or several until the
// response threshold passes.
enum class ServiceResponseType { kSingleton, kStreamed, kChunked };
// "Singleton", "Streamed", "Chunked", as /accountz shows them.
std::string_view ServiceResponseTypeName(ServiceResponseType type);

// The reference's DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD: how long a
// request's reply mapping waits for its response.
inline constexpr absl::Duration kDefaultServiceResponseThreshold = absl::Minutes(2);

// One entry of an account's `exports`: a stream or service subject others
// may import, by everyone (`accounts` absent) or by the accounts listed.
struct ConfigExport {
  std::string subject;
  bool service = false;
  std::optional<std::vector<std::string>> accounts;
  ServiceResponseType response_type = ServiceResponseType::kSingleton;
  absl::Duration response_threshold = kDefaultServiceResponseThreshold;

  bool operator==(const ConfigExport&) const = default;
};

// One entry of an account's `imports`. `subject` is the exporter's subject;
// `to` the local one (a stream import's `to`, or `prefix` + subject; a
// service import's `to`, else `subject`), filled in by the parser.
struct ConfigImport {
  bool service = false;
  std::string account;
  std::string subject;
  std::string to;
  std::string prefix;  // stream imports: as configured, for /accountz
  bool share = false;

  bool operator==(const ConfigImport&) const = default;
};

// One destination of a subject mapping: where a share (`weight` percent) of
// the messages published on the mapping's source goes. `cluster` scopes it
// to one cluster; natsd has no cluster, so such destinations never apply, as
// in a nats-server outside that cluster.
struct ConfigMapDest {
  std::string subject;
  int weight = 100;
  std::string cluster;

  bool operator==(const ConfigMapDest&) const = default;
};

// One entry of a `mappings` block (top level: the global account; or an
// account's): messages published on `src` go to `dests` instead.
struct ConfigMapping {
  std::string src;
  std::vector<ConfigMapDest> dests;

  bool operator==(const ConfigMapping&) const = default;
};

// An account's `limits` block. -1 (the default) is no limit; any other
// value, 0 included, is one, as in nats-server.
struct AccountLimits {
  int32_t max_connections = -1;    // the account's connections at once
  int32_t max_subscriptions = -1;  // per connection of the account
  int32_t max_payload = -1;        // per connection; the server's may be lower
  int32_t max_leafnodes = -1;      // read only: natsd has no leaf nodes

  bool operator==(const AccountLimits&) const = default;
};

// One account of the `accounts` block; its users are in Options::users with
// ConfigUser::account naming it.
struct ConfigAccount {
  std::string name;
  std::string nkey;  // optional public account nkey ("A..."), checked at start
  std::vector<ConfigExport> exports;
  std::vector<ConfigImport> imports;
  AccountLimits limits;
  std::vector<ConfigMapping> mappings;
  // Keys of subsystems natsd does not have (jetstream),
  // kept raw with the key lower-cased, as Options::other_config.
  std::vector<std::pair<std::string, ConfValue>> other_config;
};

struct Options {
  // --- Client listener -----------------------------------------------------
  std::string host = std::string(kDefaultHost);  // -a/--addr, listen, host, net
  int port = kDefaultPort;                       // -p; kRandomPort = any port
  std::string server_name;       // -n; empty = the server id is used
  std::string client_advertise;  // host[:port] given to clients instead of ours
  std::string pid_file;          // -P; written at start, removed at exit
  std::string ports_file_dir;    // writes <exe>_<pid>.ports with our URLs

  // --- Monitoring (stored now, served by the monitoring subsystem) -------
  std::string http_host;  // empty = same as `host`
  int http_port = 0;      // -m; 0 = disabled, kRandomPort = any port
  int https_port = 0;     // -ms; 0 = disabled
  std::string http_base_path;
  int prof_port = 0;  // --profile; accepted for compatibility, unused

  // --- Limits --------------------------------------------------------------
  int max_connections = kDefaultMaxConnections;
  int max_subscriptions = 0;  // per connection; 0 = unlimited
  int64_t max_payload = kDefaultMaxPayload;
  int max_control_line = kDefaultMaxControlLine;
  // Outbound bytes buffered per connection before it is a slow consumer.
  int64_t max_pending = kDefaultMaxPending;
  // A write blocked longer than this marks the connection a slow consumer.
  absl::Duration write_deadline = kDefaultWriteDeadline;
  absl::Duration ping_interval = kDefaultPingInterval;
  int max_pings_out = kDefaultMaxPingsOut;  // unanswered PINGs before closing
  int max_sub_tokens = 0;                   // 0 = unlimited
  bool no_header_support = false;           // hide headers from INFO
  bool disable_sublist_cache = false;

  // --- Authorization (single user / token / users list) --------------------
  std::string username;       // --user
  std::string password;       // --pass
  std::string authorization;  // --auth token
  // Clients must send CONNECT within this. Unless set explicitly
  // (auth_timeout_set), it is the TLS timeout + 1s when TLS is configured.
  absl::Duration auth_timeout = kDefaultAuthTimeout;
  bool auth_timeout_set = false;  // `authorization { timeout }` was given
  std::vector<ConfigUser> users;
  std::optional<ConfValue> default_permissions;
  std::string no_auth_user;  // user assumed for clients sending no credentials

  // --- Accounts (accounts_config.h) ----------------------------------------
  // Configured accounts in file order; "$G" is implicit.
  std::vector<ConfigAccount> accounts;
  std::string system_account;  // must name a configured account
  std::vector<ConfigMapping> mappings;  // top-level `mappings`: the global account's

  // --- Logging -------------------------------------------------------------
  bool debug = false;          // -D
  bool trace = false;          // -V
  bool trace_verbose = false;  // -VV; also traces the system account
  bool logtime = true;         // -T; prefix log lines with a timestamp
  std::string log_file;        // -l; appended to; empty = stderr
  // logfile_size_limit, --log_size_limit: bytes past which log_file is
  // rotated to a timestamped backup (see LoggerConfig); 0 = never.
  int64_t log_size_limit = 0;
  bool syslog = false;        // -s; log to the local syslog
  std::string remote_syslog;  // -r; udp://host:port, tcp://..., unix:///path
  int max_traced_msg_len = 0;  // 0 = unlimited

  // --- Lifecycle -----------------------------------------------------------
  absl::Duration lame_duck_duration = kDefaultLameDuckDuration;
  // Delay before lame duck mode starts closing clients.
  absl::Duration lame_duck_grace_period = kDefaultLameDuckGracePeriod;
  std::string config_file;  // -c; re-read on reload
  // Report every Nth failed connect/reconnect attempt (routes, leafnodes).
  int connect_error_reports = kDefaultConnectErrorReports;
  int reconnect_error_reports = kDefaultReconnectErrorReports;

  // --- Cluster (flags stored; routing is a later subsystem) ----------------
  std::string routes;             // --routes, comma separated URLs
  std::string cluster_listen;     // --cluster nats-route://host:port
  std::string cluster_name;       // --cluster_name
  std::string cluster_advertise;  // --cluster_advertise
  bool cluster_no_advertise = false;  // --no_advertise
  int cluster_connect_retries = 0;    // --connect_retries

  // --- JetStream (flags stored; JetStream is a later subsystem) ------------
  bool jetstream = false;  // -js
  std::string store_dir;   // -sd, store_dir

  // --- TLS ------------------------------------------------------------------
  // Set when clients must use TLS: from the `tls` block, or from the flags
  // below, which replace the block (see server/tls/tls_config.h).
  std::optional<TlsOptions> tls_config;
  bool tls = false;         // --tls
  bool tls_verify = false;  // --tlsverify
  std::string tls_cert;     // --tlscert
  std::string tls_key;      // --tlskey
  std::string tls_ca_cert;  // --tlscacert

  // --- Raw sub-trees of config blocks that later subsystems interpret ------
  std::optional<ConfValue> cluster_block;
  std::optional<ConfValue> jetstream_block;
  std::optional<ConfValue> websocket_block;
  std::optional<ConfValue> leafnodes_block;
  std::optional<ConfValue> mqtt_block;
  std::optional<ConfValue> gateway_block;
  // Other keys nats-server 2.9 accepts that natsd does not act on yet
  // (operator, resolver, ...), in file order and
  // with the key lower-cased.
  std::vector<std::pair<std::string, ConfValue>> other_config;

  // --- natsd-only I/O settings ---------------------------------------------
  IoBackend io_backend = IoBackend::kAuto;  // --io
  int io_threads = 0;                       // --io_threads; 0 = one per core
};

// Cross-field checks nats-server performs before starting: the lame duck
// grace period is below its duration and max_payload within max_pending.
// Messages match nats-server's.
absl::Status ValidateOptions(const Options& opts);

// Go's time.ParseDuration ("300ms", "1m30s", "-1.5h"), with its error texts
// ("time: unknown unit \"x\" in duration \"5x\"").
absl::StatusOr<absl::Duration> ParseGoDuration(std::string_view text);
// Go's Duration.String(): "2m0s", "10s", "1.5s", "300ms", "0s".
std::string FormatGoDuration(absl::Duration d);

}  // namespace natsd

#endif  // NATSD_SERVER_OPTIONS_H_
