#include "server/config.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "fmt/format.h"
#include "server/accounts_config.h"
#include "server/config_users.h"
#include "server/mappings_config.h"
#include "server/tls/tls_config.h"

namespace natsd {
namespace {

// Collects the errors and warnings of one file while its keys are applied.
class Applier {
 public:
  Applier(Options* opts, std::vector<std::string>* warnings)
      : opts_(opts), warnings_(warnings) {}

  void ApplyTop(const ConfEntry& e);
  // After every top-level key: the accounts block, which refers to the
  // authorization settings wherever they appear in the file.
  void ApplyAccounts() {
    if (accounts_ != nullptr) ApplyAccountsConfig(*accounts_, opts_, &errors_);
  }

  absl::Status Result() const {
    if (errors_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrJoin(errors_, "\n"));
  }

 private:
  void Error(const SourcePos& pos, std::string_view msg) {
    errors_.push_back(fmt::format("{}: {}", pos.ToString(), msg));
  }
  void Unknown(const ConfEntry& e) {
    if (!e.used_as_variable) Error(e.key_pos, fmt::format("unknown field \"{}\"", e.key));
  }
  void TypeError(const ConfEntry& e, std::string_view want) {
    Error(e.key_pos, fmt::format("{}: expected {}, got {}", e.key, want,
                                 e.value.TypeName()));
  }

  // Typed readers: on a type or range error they record it and return false.
  bool String(const ConfEntry& e, std::string* out) {
    const std::string* s = e.value.get_if<std::string>();
    if (s == nullptr) {
      TypeError(e, "a string");
      return false;
    }
    *out = *s;
    return true;
  }
  bool Bool(const ConfEntry& e, bool* out) {
    const bool* b = e.value.get_if<bool>();
    if (b == nullptr) {
      TypeError(e, "a boolean");
      return false;
    }
    *out = *b;
    return true;
  }
  bool Int64(const ConfEntry& e, int64_t* out) {
    const int64_t* n = e.value.get_if<int64_t>();
    if (n == nullptr) {
      TypeError(e, "an integer");
      return false;
    }
    *out = *n;
    return true;
  }
  bool Int(const ConfEntry& e, int* out) {
    int64_t n;
    if (!Int64(e, &n)) return false;
    if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) {
      Error(e.key_pos, fmt::format("{} value is too big", e.key));
      return false;
    }
    *out = static_cast<int>(n);
    return true;
  }
  bool NonNegativeInt(const ConfEntry& e, int* out) {
    int n;
    if (!Int(e, &n)) return false;
    if (n < 0) {
      Error(e.key_pos, fmt::format("{} value can not be negative", e.key));
      return false;
    }
    *out = n;
    return true;
  }
  // A byte count: an integer (suffixes already applied by the parser) or a
  // string such as "1MB", which nats-server accepts for JetStream sizes.
  bool Size(const ConfEntry& e, int64_t* out);
  // A Go duration string; a bare integer is taken as seconds with a warning.
  bool Duration(const ConfEntry& e, absl::Duration* out);
  // "host:port", or just a port.
  bool Listen(const ConfEntry& e, std::string* host, int* port);
  void Authorization(const ConfEntry& e);

  Options* opts_;
  std::vector<std::string>* warnings_;
  std::vector<std::string> errors_;
  const ConfEntry* accounts_ = nullptr;  // the last `accounts` key, if any
};

bool Applier::Size(const ConfEntry& e, int64_t* out) {
  if (const int64_t* n = e.value.get_if<int64_t>()) {
    *out = *n;
    return true;
  }
  const std::string* s = e.value.get_if<std::string>();
  if (s == nullptr) {
    TypeError(e, "a size");
    return false;
  }
  // Reuse the config grammar's integer suffixes: "1MB" parses as 1048576.
  absl::StatusOr<ConfValue> parsed = ParseConfString(
      fmt::format("v={}", *s), "<size>", {.allow_includes = false, .allow_env = false});
  const ConfValue* v = parsed.ok() ? parsed->Find("v") : nullptr;
  const int64_t* n = v != nullptr ? v->get_if<int64_t>() : nullptr;
  if (n == nullptr) {
    Error(e.key_pos, fmt::format("{}: invalid size \"{}\"", e.key, *s));
    return false;
  }
  *out = *n;
  return true;
}

bool Applier::Duration(const ConfEntry& e, absl::Duration* out) {
  if (const int64_t* secs = e.value.get_if<int64_t>()) {
    warnings_->push_back(fmt::format(
        "{}: invalid use of field \"{}\": {} should be converted to a duration",
        e.key_pos.ToString(), e.key, e.key));
    *out = absl::Seconds(*secs);
    return true;
  }
  std::string text;
  if (!String(e, &text)) return false;
  absl::StatusOr<absl::Duration> d = ParseGoDuration(text);
  if (!d.ok()) {
    Error(e.key_pos, fmt::format("error parsing {}: {}", e.key, std::string(d.status().message())));
    return false;
  }
  *out = *d;
  return true;
}

bool Applier::Listen(const ConfEntry& e, std::string* host, int* port) {
  if (e.value.get_if<int64_t>() != nullptr) {
    return Int(e, port);
  }
  const std::string* s = e.value.get_if<std::string>();
  if (s == nullptr) {
    Error(e.key_pos, fmt::format("expected port or host:port, got {}", e.value.TypeName()));
    return false;
  }
  // Go's net.SplitHostPort: IPv6 hosts are bracketed, the port is required.
  std::string_view hp = *s;
  std::string_view h, p;
  size_t colon = hp.rfind(':');
  bool ok = colon != std::string_view::npos;
  if (ok) {
    h = hp.substr(0, colon);
    p = hp.substr(colon + 1);
    if (!h.empty() && h.front() == '[') {
      ok = h.back() == ']';
      h = h.substr(1, h.size() - 2);
    } else {
      ok = h.find(':') == std::string_view::npos;
    }
  }
  if (!ok) {
    Error(e.key_pos, fmt::format("could not parse address string \"{}\"", *s));
    return false;
  }
  int n;
  if (!absl::SimpleAtoi(std::string(p), &n)) {
    Error(e.key_pos, fmt::format("could not parse port \"{}\"", p));
    return false;
  }
  *host = std::string(h);
  *port = n;
  return true;
}

void Applier::Authorization(const ConfEntry& e) {
  const ConfValue::Map* map = e.value.get_if<ConfValue::Map>();
  if (map == nullptr) {
    TypeError(e, "a map");
    return;
  }
  std::string user, pass, token;
  std::optional<std::vector<ConfigUser>> users;
  absl::Duration timeout = kDefaultAuthTimeout;
  bool timeout_given = false;
  for (const ConfEntry& f : *map) {
    std::string key = absl::AsciiStrToLower(f.key);
    if (key == "user" || key == "username") {
      String(f, &user);
    } else if (key == "pass" || key == "password") {
      String(f, &pass);
    } else if (key == "token") {
      String(f, &token);
    } else if (key == "timeout") {
      // Seconds, integer or fractional.
      if (const int64_t* n = f.value.get_if<int64_t>()) {
        timeout = absl::Seconds(*n);
        timeout_given = *n != 0;
      } else if (const double* d = f.value.get_if<double>()) {
        timeout = absl::Seconds(*d);
        timeout_given = *d != 0;
      } else {
        TypeError(f, "a number of seconds");
      }
    } else if (key == "users") {
      users.emplace();
      ParseConfigUsers(f, &*users, &errors_);
    } else if (key == "default_permission" || key == "default_permissions" ||
               key == "permissions") {
      opts_->default_permissions = f.value;
    } else {
      Unknown(f);
    }
  }
  opts_->username = user;
  opts_->password = pass;
  opts_->authorization = token;
  opts_->auth_timeout = timeout;
  // As in the reference, a zero timeout means "the default" (which TLS
  // lengthens).
  opts_->auth_timeout_set = timeout_given;
  if ((!user.empty() || !pass.empty()) && !token.empty()) {
    Error(e.key_pos, "Cannot have a user/pass and token");
    return;
  }
  if (!users) return;
  if (!user.empty()) {
    Error(e.key_pos, "Can not have a single user/pass and a users array");
    return;
  }
  if (!token.empty()) {
    Error(e.key_pos, "Can not have a token and a users array");
    return;
  }
  absl::flat_hash_set<std::string> seen;
  for (const ConfigUser& u : opts_->users) seen.insert(u.nkey.empty() ? u.username : u.nkey);
  for (ConfigUser& u : *users) {
    const std::string& id = u.nkey.empty() ? u.username : u.nkey;
    if (!seen.insert(id).second) {
      Error(e.key_pos, fmt::format("Duplicate {} \"{}\" detected",
                                   u.nkey.empty() ? "user" : "nkey", id));
      return;
    }
  }
  for (ConfigUser& u : *users) opts_->users.push_back(std::move(u));
}

// Keys nats-server accepts whose subsystems natsd does not have yet; their
// values are kept in Options::other_config.
const absl::flat_hash_set<std::string_view>& DeferredKeys() {
  static const auto* keys = new absl::flat_hash_set<std::string_view>{
      "ocsp", "allow_non_tls", "operator", "operators",
      "roots", "root", "root_operators", "root_operator", "resolver",
      "account_resolver", "accounts_resolver", "resolver_tls",
      "resolver_preload", "resolver_pinned_accounts", "no_system_account", "no_system", "no_sys_acc", "trusted",
      "trusted_keys", "server_tags", "default_js_domain"};
  return *keys;
}

void Applier::ApplyTop(const ConfEntry& e) {
  Options& o = *opts_;
  const std::string k = absl::AsciiStrToLower(e.key);
  int64_t n;
  if (k == "listen") {
    Listen(e, &o.host, &o.port);
  } else if (k == "host" || k == "net") {
    String(e, &o.host);
  } else if (k == "port") {
    Int(e, &o.port);
  } else if (k == "server_name") {
    String(e, &o.server_name);
  } else if (k == "client_advertise") {
    String(e, &o.client_advertise);
  } else if (k == "debug") {
    Bool(e, &o.debug);
  } else if (k == "trace") {
    Bool(e, &o.trace);
  } else if (k == "trace_verbose") {
    if (Bool(e, &o.trace_verbose)) o.trace = o.trace_verbose;
  } else if (k == "logtime") {
    Bool(e, &o.logtime);
  } else if (k == "logfile" || k == "log_file") {
    String(e, &o.log_file);
  } else if (k == "logfile_size_limit" || k == "log_size_limit") {
    Size(e, &o.log_size_limit);
  } else if (k == "syslog") {
    Bool(e, &o.syslog);
  } else if (k == "remote_syslog") {
    String(e, &o.remote_syslog);
  } else if (k == "pidfile" || k == "pid_file") {
    String(e, &o.pid_file);
  } else if (k == "ports_file_dir") {
    String(e, &o.ports_file_dir);
  } else if (k == "authorization") {
    Authorization(e);
  } else if (k == "no_auth_user") {
    String(e, &o.no_auth_user);
  } else if (k == "http") {
    Listen(e, &o.http_host, &o.http_port);
  } else if (k == "https") {
    Listen(e, &o.http_host, &o.https_port);
  } else if (k == "http_port" || k == "monitor_port") {
    Int(e, &o.http_port);
  } else if (k == "https_port") {
    Int(e, &o.https_port);
  } else if (k == "http_base_path") {
    String(e, &o.http_base_path);
  } else if (k == "prof_port") {
    Int(e, &o.prof_port);
  } else if (k == "max_connections" || k == "max_conn") {
    Int(e, &o.max_connections);
  } else if (k == "max_subscriptions" || k == "max_subs") {
    Int(e, &o.max_subscriptions);
  } else if (k == "max_control_line" || k == "max_payload") {
    if (!Size(e, &n)) return;
    if (n > std::numeric_limits<int32_t>::max()) {
      Error(e.key_pos, fmt::format("{} value is too big", e.key));
    } else if (k == "max_payload") {
      o.max_payload = n;
    } else {
      o.max_control_line = static_cast<int>(n);
    }
  } else if (k == "max_pending") {
    Size(e, &o.max_pending);
  } else if (k == "max_sub_tokens" || k == "max_subscription_tokens") {
    if (!Int64(e, &n)) return;
    if (n > 255) {
      Error(e.key_pos, fmt::format("{} value is too big", e.key));
    } else if (n <= 0) {
      Error(e.key_pos, fmt::format("{} value can not be negative", e.key));
    } else {
      o.max_sub_tokens = static_cast<int>(n);
    }
  } else if (k == "max_traced_msg_len") {
    Int(e, &o.max_traced_msg_len);
  } else if (k == "ping_interval") {
    Duration(e, &o.ping_interval);
  } else if (k == "ping_max") {
    Int(e, &o.max_pings_out);
  } else if (k == "write_deadline") {
    Duration(e, &o.write_deadline);
  } else if (k == "lame_duck_duration") {
    absl::Duration d;
    if (!Duration(e, &d)) return;
    if (d < kMinLameDuckDuration) {
      Error(e.key_pos, fmt::format("invalid lame_duck_duration of {}, minimum is 30 seconds",
                                   FormatGoDuration(d)));
      return;
    }
    o.lame_duck_duration = d;
  } else if (k == "lame_duck_grace_period") {
    absl::Duration d;
    if (!Duration(e, &d)) return;
    if (d < absl::ZeroDuration()) {
      Error(e.key_pos, "invalid lame_duck_grace_period, needs to be positive");
      return;
    }
    o.lame_duck_grace_period = d;
  } else if (k == "connect_error_reports") {
    Int(e, &o.connect_error_reports);
  } else if (k == "reconnect_error_reports") {
    Int(e, &o.reconnect_error_reports);
  } else if (k == "no_header_support") {
    Bool(e, &o.no_header_support);
  } else if (k == "disable_sublist_cache" || k == "no_sublist_cache") {
    Bool(e, &o.disable_sublist_cache);
  } else if (k == "store_dir" || k == "storedir") {
    String(e, &o.store_dir);
  } else if (k == "cluster") {
    o.cluster_block = e.value;
  } else if (k == "jetstream") {
    o.jetstream_block = e.value;
  } else if (k == "accounts") {
    accounts_ = &e;
  } else if (k == "mappings" || k == "maps") {
    ReadMappings(e, &o.mappings, &errors_);
  } else if (k == "system_account" || k == "system") {
    String(e, &o.system_account);
  } else if (k == "tls") {
    absl::StatusOr<TlsOptions> tls = ParseTlsBlock(e, warnings_);
    if (tls.ok()) {
      o.tls_config = *std::move(tls);
    } else {
      errors_.emplace_back(tls.status().message());
    }
  } else if (k == "websocket" || k == "ws") {
    o.websocket_block = e.value;
  } else if (k == "leafnodes" || k == "leaf") {
    o.leafnodes_block = e.value;
  } else if (k == "mqtt") {
    o.mqtt_block = e.value;
  } else if (k == "gateway") {
    o.gateway_block = e.value;
  } else if (k == "io_backend") {
    std::string name;
    if (!String(e, &name)) return;
    std::optional<IoBackend> b = ParseIoBackend(name);
    if (!b) {
      Error(e.key_pos, fmt::format("invalid io_backend \"{}\": expected auto, uring or epoll", name));
      return;
    }
    o.io_backend = *b;
  } else if (k == "io_threads") {
    NonNegativeInt(e, &o.io_threads);
  } else if (DeferredKeys().contains(k)) {
    o.other_config.emplace_back(k, e.value);
  } else {
    Unknown(e);
  }
}

}  // namespace

absl::Status ApplyConfig(const ConfValue& root, Options* opts,
                         std::vector<std::string>* warnings) {
  const ConfValue::Map* map = root.get_if<ConfValue::Map>();
  if (map == nullptr) {
    return absl::InvalidArgumentError(
        fmt::format("{}: configuration root must be a map", root.pos().ToString()));
  }
  Applier applier(opts, warnings);
  for (const ConfEntry& e : *map) applier.ApplyTop(e);
  applier.ApplyAccounts();
  return applier.Result();
}

absl::Status ProcessConfigFile(const std::string& path, Options* opts,
                               std::vector<std::string>* warnings) {
  opts->config_file = path;
  absl::StatusOr<ConfValue> root = ParseConfFile(path);
  if (!root.ok()) return root.status();
  return ApplyConfig(*root, opts, warnings);
}

}  // namespace natsd
