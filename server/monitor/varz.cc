// /varz: the server's identity, limits from Options, and live figures.
#include <unistd.h>

#include <fstream>
#include <thread>

#include "server/auth.h"
#include "server/monitor/json_util.h"
#include "server/monitor/monitor.h"
#include "server/server.h"

namespace natsd {

using namespace monitor;  // NOLINT: the JSON helpers of this folder

int64_t monitor::ResidentMemoryBytes() {
  // /proc/self/statm: size resident shared text lib data dt (in pages).
  std::ifstream f("/proc/self/statm");
  int64_t size = 0, resident = 0;
  if (!(f >> size >> resident)) return 0;
  return resident * sysconf(_SC_PAGESIZE);
}

HttpResponse Monitor::Varz(const HttpRequest& req) {
  absl::StatusOr<Totals> totals = CollectTotals();
  if (!totals.ok()) {
    return HttpResponse::Text(503, std::string(totals.status().message()));
  }
  const std::shared_ptr<const ServerConfig> config = server_.config();
  const Options& o = config->opts;
  const ServerInfo& info = config->info;
  const absl::Time now = absl::Now();

  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  IndentLikeGo(w);
  w.StartObject();
  KeyString(w, "server_id", info.server_id);
  KeyString(w, "server_name", info.server_name);
  KeyString(w, "version", info.version);
  KeyInt(w, "proto", 1);
  KeyString(w, "go", info.go);
  KeyString(w, "host", o.host);
  KeyInt(w, "port", server_.client_port());
  if (config->auth->auth_required()) KeyBool(w, "auth_required", true);
  if (o.tls_config) KeyBool(w, "tls_required", true);
  if (o.tls_config && o.tls_config->verify) KeyBool(w, "tls_verify", true);
  KeyInt(w, "max_connections", o.max_connections);
  if (o.max_subscriptions > 0) KeyInt(w, "max_subscriptions", o.max_subscriptions);
  KeyInt(w, "ping_interval", absl::ToInt64Nanoseconds(o.ping_interval));
  KeyInt(w, "ping_max", o.max_pings_out);
  KeyString(w, "http_host", o.http_host.empty() ? o.host : o.http_host);
  KeyInt(w, "http_port", secure() ? o.http_port : port());
  KeyString(w, "http_base_path", o.http_base_path);
  KeyInt(w, "https_port", secure() ? port() : o.https_port);
  KeyFloat(w, "auth_timeout", absl::ToDoubleSeconds(o.auth_timeout));
  KeyInt(w, "max_control_line", o.max_control_line);
  KeyInt(w, "max_payload", o.max_payload);
  KeyInt(w, "max_pending", o.max_pending);
  // natsd has no clustering, gateways, leaf nodes, MQTT, websocket or
  // JetStream yet: the reference shows each as an empty object then.
  for (const char* k : {"cluster", "gateway", "leaf", "mqtt", "websocket", "jetstream"}) {
    Key(w, k);
    w.StartObject();
    w.EndObject();
  }
  // The reference reports its handshake timeout even without TLS.
  KeyFloat(w, "tls_timeout", absl::ToDoubleSeconds(
                                o.tls_config ? o.tls_config->timeout : kDefaultTlsTimeout));
  KeyInt(w, "write_deadline", absl::ToInt64Nanoseconds(o.write_deadline));
  KeyTime(w, "start", server_.start_time());
  KeyTime(w, "now", now);
  KeyString(w, "uptime", FormatUptime(now - server_.start_time()));
  KeyInt(w, "mem", ResidentMemoryBytes());
  KeyInt(w, "cores", std::max(1u, std::thread::hardware_concurrency()));
  // Go's GOMAXPROCS; for natsd the I/O threads that run client work.
  KeyInt(w, "gomaxprocs", server_.num_workers());
  KeyFloat(w, "cpu", cpu_percent_);
  KeyUint(w, "connections", totals->connections);
  KeyUint(w, "total_connections", server_.total_connections());
  KeyInt(w, "routes", 0);
  KeyInt(w, "remotes", 0);
  KeyInt(w, "leafnodes", 0);
  KeyUint(w, "in_msgs", totals->in_msgs);
  KeyUint(w, "out_msgs", totals->out_msgs);
  KeyUint(w, "in_bytes", totals->in_bytes);
  KeyUint(w, "out_bytes", totals->out_bytes);
  KeyUint(w, "slow_consumers", totals->slow_consumers);
  size_t subscriptions = 0;
  for (const auto& a : server_.accounts().all()) subscriptions += a->sublist().count();
  KeyUint(w, "subscriptions", subscriptions);
  Key(w, "http_req_stats");
  w.StartObject();
  for (const auto& [path, n] : req_stats_) KeyUint(w, path, n);
  w.EndObject();
  KeyTime(w, "config_load_time", server_.config_load_time());
  if (const Account* sys = server_.accounts().system_account()) {
    KeyString(w, "system_account", sys->name());
  }
  w.EndObject();
  return JsonResponse(req, std::string(buf.GetString(), buf.GetSize()));
}

}  // namespace natsd
