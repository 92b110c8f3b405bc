#include "server/reload.h"

#include <string>
#include <string_view>
#include <variant>

#include "fmt/format.h"
#include "server/auth.h"
#include "server/conf_parser.h"
#include "server/logger.h"
#include "server/monitor/monitor.h"
#include "server/server.h"
#include "server/tls/tls_context.h"
#include "server/worker.h"

namespace natsd {
namespace {

// Config values compared by content: where a value was read from (its
// position, its include file) is not a change.
bool SameValue(const ConfValue& a, const ConfValue& b);

bool SameValue(const std::optional<ConfValue>& a, const std::optional<ConfValue>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a.has_value() || SameValue(*a, *b);
}

bool SameValue(const ConfValue& a, const ConfValue& b) {
  if (a.data().index() != b.data().index()) return false;
  if (const auto* arr = a.get_if<ConfValue::Array>()) {
    const auto& other = *b.get_if<ConfValue::Array>();
    if (arr->size() != other.size()) return false;
    for (size_t i = 0; i < arr->size(); ++i) {
      if (!SameValue((*arr)[i], other[i])) return false;
    }
    return true;
  }
  if (const auto* map = a.get_if<ConfValue::Map>()) {
    const auto& other = *b.get_if<ConfValue::Map>();
    if (map->size() != other.size()) return false;
    for (size_t i = 0; i < map->size(); ++i) {
      if ((*map)[i].key != other[i].key || !SameValue((*map)[i].value, other[i].value)) {
        return false;
      }
    }
    return true;
  }
  return std::visit(
      [&b](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ConfValue::Array> ||
                      std::is_same_v<T, ConfValue::Map>) {
          return false;  // handled above
        } else {
          return x == *b.get_if<T>();
        }
      },
      a.data());
}

// A config value the way Go's %v prints the reference's parsed form closely
// enough to see what changed: maps as {k:v ...}, arrays as [a b].
std::string Render(const ConfValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ConfValue::Array>) {
          std::string out = "[";
          for (size_t i = 0; i < x.size(); ++i) {
            out += (i ? " " : "") + Render(x[i]);
          }
          return out + "]";
        } else if constexpr (std::is_same_v<T, ConfValue::Map>) {
          std::string out = "{";
          for (size_t i = 0; i < x.size(); ++i) {
            out += fmt::format("{}{}:{}", i ? " " : "", x[i].key, Render(x[i].value));
          }
          return out + "}";
        } else if constexpr (std::is_same_v<T, absl::Time>) {
          return absl::FormatTime(absl::RFC3339_sec, x, absl::UTCTimeZone());
        } else {
          return fmt::format("{}", x);
        }
      },
      v.data());
}

std::string Render(const std::optional<ConfValue>& v) {
  return v.has_value() ? Render(*v) : "<nil>";
}

bool SameUsers(const Options& a, const Options& b) {
  if (a.users.size() != b.users.size()) return false;
  for (size_t i = 0; i < a.users.size(); ++i) {
    const ConfigUser& x = a.users[i];
    const ConfigUser& y = b.users[i];
    if (x.username != y.username || x.password != y.password || x.nkey != y.nkey ||
        x.account != y.account ||
        !SameValue(x.permissions, y.permissions) ||
        !SameValue(x.allowed_connection_types, y.allowed_connection_types)) {
      return false;
    }
  }
  return true;
}

bool SameNkeyUsers(const Options& a, const Options& b) {
  std::vector<const ConfigUser*> x, y;
  for (const ConfigUser& u : a.users) if (!u.nkey.empty()) x.push_back(&u);
  for (const ConfigUser& u : b.users) if (!u.nkey.empty()) y.push_back(&u);
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i]->nkey != y[i]->nkey || !SameValue(x[i]->permissions, y[i]->permissions) ||
        !SameValue(x[i]->allowed_connection_types, y[i]->allowed_connection_types)) {
      return false;
    }
  }
  return true;
}

bool SameAccounts(const Options& a, const Options& b) {
  if (a.accounts.size() != b.accounts.size()) return false;
  for (size_t i = 0; i < a.accounts.size(); ++i) {
    const ConfigAccount& x = a.accounts[i];
    const ConfigAccount& y = b.accounts[i];
    if (x.name != y.name || x.nkey != y.nkey || x.exports != y.exports ||
        x.imports != y.imports || x.limits != y.limits || x.mappings != y.mappings ||
        x.other_config.size() != y.other_config.size()) {
      return false;
    }
    for (size_t j = 0; j < x.other_config.size(); ++j) {
      if (x.other_config[j].first != y.other_config[j].first ||
          !SameValue(x.other_config[j].second, y.other_config[j].second)) {
        return false;
      }
    }
  }
  return true;
}

// "[A B]": the account names, or "[foo bar.*]": the mapping sources, as
// Go prints a slice of names.
template <typename T>
std::string Names(const std::vector<T>& items, std::string T::*name) {
  std::string out = "[";
  for (const T& item : items) out += (out.size() > 1 ? " " : "") + item.*name;
  return out + "]";
}
std::string AccountNames(const Options& o) { return Names(o.accounts, &ConfigAccount::name); }
std::string MappingSources(const Options& o) { return Names(o.mappings, &ConfigMapping::src); }

const ConfValue* FindOther(const Options& o, std::string_view key) {
  for (const auto& [k, v] : o.other_config) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::optional<ConfValue> OtherOrNone(const Options& o, std::string_view key) {
  const ConfValue* v = FindOther(o, key);
  return v != nullptr ? std::optional<ConfValue>(*v) : std::nullopt;
}

std::string Go(bool b) { return b ? "true" : "false"; }
std::string Go(const std::string& s) { return s; }
std::string Go(int64_t n) { return fmt::format("{}", n); }
std::string Go(int n) { return fmt::format("{}", n); }
std::string Go(absl::Duration d) { return FormatGoDuration(d); }
std::string Go(const std::optional<ConfValue>& v) { return Render(v); }

// Walks the fields in the reference's order; stops at the first change
// that cannot be applied.
class Differ {
 public:
  // A field the running server cannot change.
  template <typename T>
  void Fixed(std::string_view go_name, const T& a, const T& b) {
    if (!Same(a, b)) Refuse(go_name, Go(a), Go(b));
  }

  void Refuse(std::string_view go_name, const std::string& a, const std::string& b) {
    if (!error_.ok()) return;
    error_ = absl::InvalidArgumentError(
        fmt::format("config reload not supported for {}: old={}, new={}", go_name, a, b));
  }

  // A reloadable field: when it changed, logs `notice` and returns true.
  template <typename T>
  bool Changed(const T& a, const T& b, std::string notice) {
    if (!error_.ok() || Same(a, b)) return false;
    plan_.notices.push_back(std::move(notice));
    return true;
  }

  void Notice(std::string notice) {
    if (error_.ok()) plan_.notices.push_back(std::move(notice));
  }

  ReloadPlan& plan() { return plan_; }
  const absl::Status& error() const { return error_; }

 private:
  template <typename T>
  static bool Same(const T& a, const T& b) {
    if constexpr (std::is_same_v<T, std::optional<ConfValue>>) {
      return SameValue(a, b);
    } else {
      return a == b;
    }
  }

  ReloadPlan plan_;
  absl::Status error_;
};

}  // namespace

absl::StatusOr<ReloadPlan> DiffOptions(const Options& o, const Options& n,
                                       bool tls_files_changed) {
  Differ d;
  ReloadPlan& plan = d.plan();
  d.Fixed("ServerName", o.server_name, n.server_name);
  d.Fixed("Host", o.host, n.host);
  if (n.port != kRandomPort) d.Fixed("Port", o.port, n.port);
  d.Changed(o.client_advertise, n.client_advertise,
            fmt::format("Reload: client_advertise = {}", n.client_advertise));
  plan.logging |= d.Changed(o.trace, n.trace, "Reloaded: trace = " + Go(n.trace));
  plan.logging |= d.Changed(o.debug, n.debug, "Reloaded: debug = " + Go(n.debug));
  plan.logging |= d.Changed(o.trace_verbose, n.trace_verbose,
                            "Reloaded: trace_verbose = " + Go(n.trace_verbose));
  d.Fixed("NoSublistCache", o.disable_sublist_cache, n.disable_sublist_cache);
  d.Fixed("NoHeaderSupport", o.no_header_support, n.no_header_support);
  plan.logging |= d.Changed(o.logtime, n.logtime, "Reloaded: logtime = " + Go(n.logtime));
  if (d.Changed(o.max_connections, n.max_connections,
                "Reloaded: max_connections = " + Go(n.max_connections))) {
    plan.max_connections_notice = static_cast<int>(plan.notices.size()) - 1;
  }
  d.Fixed("MaxSubs", o.max_subscriptions, n.max_subscriptions);
  d.Fixed("MaxSubTokens", o.max_sub_tokens, n.max_sub_tokens);
  // The reference compares user lists it rebuilds on every load, so it
  // always reports users and accounts as reloaded; natsd reauthorizes live
  // clients only when the rules really changed.
  if (!SameNkeyUsers(o, n)) d.Notice("Reloaded: authorization nkey users");
  d.Notice("Reloaded: authorization users");
  // Accounts (their imports and exports) are wired once, at start; the
  // users in them may change.
  if (!SameAccounts(o, n)) {
    std::string new_names = AccountNames(n);
    if (new_names == AccountNames(o)) new_names += " (other imports, exports or settings)";
    d.Refuse("Accounts", AccountNames(o), new_names);
  }
  d.Notice("Reloaded: accounts");
  // Like accounts, mappings are wired once, at start.
  if (o.mappings != n.mappings) {
    std::string new_sources = MappingSources(n);
    if (new_sources == MappingSources(o)) new_sources += " (other destinations)";
    d.Refuse("Mappings", MappingSources(o), new_sources);
  }
  if (o.no_auth_user != n.no_auth_user) {
    // Only dropping a no_auth_user whose user is gone is allowed.
    bool user_gone = !o.no_auth_user.empty() && n.no_auth_user.empty();
    for (const ConfigUser& u : n.users) {
      if (u.username == o.no_auth_user) user_gone = false;
    }
    if (!user_gone) d.Fixed("NoAuthUser", o.no_auth_user, n.no_auth_user);
  }
  d.Fixed("SystemAccount", o.system_account, n.system_account);
  d.Changed(o.username, n.username, "Reloaded: authorization username");
  d.Changed(o.password, n.password, "Reloaded: authorization password");
  d.Changed(o.authorization, n.authorization, "Reloaded: authorization token");
  d.Changed(o.ping_interval, n.ping_interval,
            "Reloaded: ping_interval = " + Go(n.ping_interval));
  d.Changed(o.max_pings_out, n.max_pings_out, "Reloaded: ping_max = " + Go(n.max_pings_out));
  d.Fixed("HTTPHost", o.http_host, n.http_host);
  d.Fixed("HTTPPort", o.http_port, n.http_port);
  d.Fixed("HTTPBasePath", o.http_base_path, n.http_base_path);
  d.Fixed("HTTPSPort", o.https_port, n.https_port);
  d.Changed(o.auth_timeout, n.auth_timeout,
            fmt::format("Reloaded: authorization timeout = {}",
                        absl::ToDoubleSeconds(n.auth_timeout)));
  d.Changed(o.max_control_line, n.max_control_line,
            "Reloaded: max_control_line = " + Go(n.max_control_line));
  d.Changed(o.max_payload, n.max_payload, "Reloaded: max_payload = " + Go(n.max_payload));
  d.Fixed("MaxPending", o.max_pending, n.max_pending);
  d.Fixed("Cluster", o.cluster_block, n.cluster_block);
  d.Fixed("Gateway", o.gateway_block, n.gateway_block);
  d.Fixed("LeafNode", o.leafnodes_block, n.leafnodes_block);
  d.Fixed("JetStream", o.jetstream, n.jetstream);
  d.Fixed("JetStream", o.jetstream_block, n.jetstream_block);
  d.Fixed("StoreDir", o.store_dir, n.store_dir);
  d.Fixed("Websocket", o.websocket_block, n.websocket_block);
  d.Fixed("MQTT", o.mqtt_block, n.mqtt_block);
  d.Fixed("ProfPort", o.prof_port, n.prof_port);
  // An emptied pid file is dropped silently, as in the reference.
  if (!n.pid_file.empty()) {
    plan.pid_file = d.Changed(o.pid_file, n.pid_file, "Reloaded: pid_file = " + n.pid_file);
  }
  plan.ports_file_dir = d.Changed(o.ports_file_dir, n.ports_file_dir,
                                  "Reloaded: ports_file_dir = " + n.ports_file_dir);
  plan.logging |= d.Changed(o.log_file, n.log_file, "Reloaded: log_file = " + n.log_file);
  d.Fixed("LogSizeLimit", o.log_size_limit, n.log_size_limit);
  plan.logging |= d.Changed(o.syslog, n.syslog, "Reloaded: syslog = " + Go(n.syslog));
  plan.logging |= d.Changed(o.remote_syslog, n.remote_syslog,
                            "Reloaded: remote_syslog = " + n.remote_syslog);
  d.Fixed("RoutesStr", o.routes, n.routes);
  // TLS: certificates, keys, CAs, ciphers and curves may change (new
  // clients handshake with the new ones), and TLS may be turned on or off
  // for new clients; whether client certificates are required or mapped
  // may not, as in the reference.
  const TlsOptions none;
  const TlsOptions& ot = o.tls_config ? *o.tls_config : none;
  const TlsOptions& nt = n.tls_config ? *n.tls_config : none;
  d.Changed(ot.timeout, nt.timeout,
            fmt::format("Reloaded: tls timeout = {}", absl::ToDoubleSeconds(nt.timeout)));
  d.Fixed("TLS", o.tls, n.tls);
  d.Fixed("TLSVerify", ot.verify, nt.verify);
  d.Fixed("TLSMap", ot.map, nt.map);
  d.Fixed("TLSCert", o.tls_cert, n.tls_cert);
  d.Fixed("TLSKey", o.tls_key, n.tls_key);
  d.Fixed("TLSCaCert", o.tls_ca_cert, n.tls_ca_cert);
  const bool tls_differs =
      o.tls_config.has_value() != n.tls_config.has_value() || ot.cert_file != nt.cert_file ||
      ot.key_file != nt.key_file || ot.ca_file != nt.ca_file ||
      ot.cipher_suites != nt.cipher_suites || ot.curve_preferences != nt.curve_preferences;
  if (tls_differs || tls_files_changed) {
    d.Notice(fmt::format("Reloaded: tls = {}", n.tls_config ? "enabled" : "disabled"));
  }
  d.Fixed("AllowNonTLS", OtherOrNone(o, "allow_non_tls"), OtherOrNone(n, "allow_non_tls"));
  d.Changed(o.write_deadline, n.write_deadline,
            "Reloaded: write_deadline = " + Go(n.write_deadline));
  d.Fixed("LameDuckDuration", o.lame_duck_duration, n.lame_duck_duration);
  d.Fixed("LameDuckGracePeriod", o.lame_duck_grace_period, n.lame_duck_grace_period);
  d.Changed(o.max_traced_msg_len, n.max_traced_msg_len,
            "Reloaded: max_traced_msg_len = " + Go(n.max_traced_msg_len));
  d.Changed(o.connect_error_reports, n.connect_error_reports,
            "Reloaded: connect_error_reports = " + Go(n.connect_error_reports));
  d.Changed(o.reconnect_error_reports, n.reconnect_error_reports,
            "Reloaded: reconnect_error_reports = " + Go(n.reconnect_error_reports));
  d.Changed(OtherOrNone(o, "server_tags"), OtherOrNone(n, "server_tags"), "Reloaded: tags");
  // natsd's own settings.
  d.Fixed("io_backend", std::string(IoBackendName(o.io_backend)),
          std::string(IoBackendName(n.io_backend)));
  d.Fixed("io_threads", o.io_threads, n.io_threads);
  // Keys natsd keeps without acting on them (operator, resolver, ...): any
  // change is refused rather than silently ignored.
  for (const auto& [key, value] : n.other_config) {
    if (key == "server_tags") continue;
    d.Fixed(key, OtherOrNone(o, key), std::optional<ConfValue>(value));
  }
  for (const auto& [key, value] : o.other_config) {
    if (FindOther(n, key) == nullptr) {
      d.Fixed(key, std::optional<ConfValue>(value), std::optional<ConfValue>());
    }
  }
  if (!d.error().ok()) return d.error();
  plan.auth = o.username != n.username || o.password != n.password ||
              o.authorization != n.authorization || o.no_auth_user != n.no_auth_user ||
              !SameUsers(o, n) || !SameValue(o.default_permissions, n.default_permissions);
  return plan;
}

absl::Status Server::Reload(Options fresh) {
  if (!started_ || shut_down_) {
    return absl::FailedPreconditionError("server is not running");
  }
  const std::shared_ptr<const ServerConfig> current = config();
  // The TLS files are read again even under the same names: rotating a
  // certificate in place is the common case.
  absl::StatusOr<std::shared_ptr<const TlsContext>> tls = ClientTlsContext(fresh.tls_config);
  if (!tls.ok()) return tls.status();
  const bool tls_files_changed =
      *tls != nullptr &&
      (current->tls == nullptr || (*tls)->files_digest() != current->tls->files_digest());
  absl::StatusOr<ReloadPlan> plan = DiffOptions(current->opts, fresh, tls_files_changed);
  if (!plan.ok()) return plan.status();
  // A random port asked for again keeps the bound one, as in the reference.
  if (fresh.port == kRandomPort) fresh.port = current->opts.port;
  if (absl::Status s = ValidateOptions(fresh); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<Authenticator>> auth = Authenticator::Create(fresh);
  if (!auth.ok()) return auth.status();

  auto next = std::make_shared<ServerConfig>();
  next->tls = *std::move(tls);
  next->info = MakeInfo(fresh, **auth);
  next->auth = *std::move(auth);
  next->opts = std::move(fresh);
  const Options& opts = next->opts;

  // The reference logs each change as it applies it, then reconfigures the
  // logger: the notices go to the old log.
  for (size_t i = 0; i < plan->notices.size(); ++i) {
    if (static_cast<int>(i) == plan->max_connections_notice) {
      CloseOverLimit(opts.max_connections);
    }
    Logger::Global().Notice("{}", plan->notices[i]);
  }
  if (plan->pid_file) {
    if (absl::Status s = WritePidFile(opts); !s.ok()) {
      Logger::Global().Error("Failed to write pidfile: {}", std::string(s.message()));
    }
  }
  if (plan->ports_file_dir) {
    if (!ports_file_.empty()) std::remove(ports_file_.c_str());
    ports_file_.clear();
    if (absl::Status s = WritePortsFile(opts); !s.ok()) {
      Logger::Global().Error("{}", std::string(s.message()));
    }
  }
  if (plan->logging) {
    if (absl::Status s = Logger::Global().Configure(LoggerConfigFromOptions(opts, "natsd"));
        !s.ok()) {
      Logger::Global().Error("{}", std::string(s.message()));
    }
  }
  {
    absl::MutexLock lock(&config_mu_);
    config_ = next;
    config_load_time_ = absl::Now();
  }
  for (auto& w : workers_) w->PostReload(next, plan->auth);
  if (monitor_ != nullptr) {
    if (absl::Status s = monitor_->Reloaded(opts); !s.ok()) {
      Logger::Global().Error("Monitor keeps its TLS certificate: {}", std::string(s.message()));
    }
  }
  Logger::Global().Notice("Reloaded server configuration");
  return absl::OkStatus();
}

void Server::CloseOverLimit(int max_connections) {
  const int64_t open = num_connections_.load(std::memory_order_relaxed);
  if (max_connections <= 0 || open <= max_connections) return;
  // Taken from the workers in turn; the reference closes clients picked at
  // random (Go map order).
  int64_t excess = open - max_connections;
  const int64_t total = excess;
  for (auto& w : workers_) {
    if (excess == 0) break;
    const int64_t n = std::min<int64_t>(excess, static_cast<int64_t>(w->num_clients()));
    if (n > 0) w->PostCloseOverLimit(static_cast<size_t>(n));
    excess -= n;
  }
  Logger::Global().Notice("Closed {} connections to fall within max_connections",
                          total - excess);
}

}  // namespace natsd
