// /metrics: the /varz and /subsz figures in the Prometheus text exposition
// format (version 0.0.4). Names are natsd_<endpoint>_<field>, the field
// named as in the JSON (so natsd_varz_in_msgs is /varz's in_msgs), with the
// unit appended where the JSON leaves it implicit (_bytes, _seconds). Totals
// that only grow are counters; the rest are gauges. See docs/OPERATIONS.md.
#include <thread>

#include "server/account.h"
#include "server/monitor/json_util.h"
#include "server/monitor/monitor.h"
#include "server/server.h"

namespace natsd {

using namespace monitor;  // NOLINT: the JSON helpers of this folder

namespace {

// Label values escape backslash, double quote and newline.
std::string EscapeLabel(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Exposition {
 public:
  void Counter(std::string_view name, std::string_view help, double value) {
    Family(name, help, "counter");
    Sample(name, "", value);
  }
  void Gauge(std::string_view name, std::string_view help, double value) {
    Family(name, help, "gauge");
    Sample(name, "", value);
  }
  void Family(std::string_view name, std::string_view help, std::string_view type) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void Sample(std::string_view name, std::string_view labels, double value) {
    out_ += fmt::format("{}{} {}\n", name, labels, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

HttpResponse Monitor::Metrics() {
  absl::StatusOr<Totals> totals = CollectTotals();
  if (!totals.ok()) {
    return HttpResponse::Text(503, std::string(totals.status().message()));
  }
  const std::shared_ptr<const ServerConfig> config = server_.config();
  const Options& o = config->opts;
  const ServerInfo& info = config->info;
  const absl::Time now = absl::Now();
  Sublist::Stats st{};
  for (const auto& a : server_.accounts().all()) st.Add(a->sublist().stats());

  Exposition e;
  e.Family("natsd_info", "Server identity; the value is always 1.", "gauge");
  e.Sample("natsd_info",
           fmt::format("{{server_id=\"{}\",server_name=\"{}\",version=\"{}\",natsd_version=\"{}\"}}",
                       EscapeLabel(info.server_id), EscapeLabel(info.server_name),
                       EscapeLabel(info.version), EscapeLabel(kNatsdVersion)),
           1);
  e.Gauge("natsd_varz_start_time_seconds", "Server start time, seconds since the Unix epoch.",
          absl::ToDoubleSeconds(server_.start_time() - absl::UnixEpoch()));
  e.Gauge("natsd_varz_uptime_seconds", "Seconds since the server started.",
          absl::ToDoubleSeconds(now - server_.start_time()));
  e.Gauge("natsd_varz_mem_bytes", "Resident set size of the process.",
          static_cast<double>(ResidentMemoryBytes()));
  e.Gauge("natsd_varz_cpu", "CPU use over the last second, percent of one core.",
          cpu_percent_);
  e.Gauge("natsd_varz_cores", "CPU cores of the host.",
          std::max(1u, std::thread::hardware_concurrency()));
  e.Gauge("natsd_varz_io_threads", "I/O threads serving clients.", server_.num_workers());
  e.Gauge("natsd_varz_connections", "Open client connections.",
          static_cast<double>(totals->connections));
  e.Counter("natsd_varz_total_connections", "Client connections accepted since start.",
            static_cast<double>(server_.total_connections()));
  e.Gauge("natsd_varz_subscriptions", "Subscriptions in all accounts.",
          static_cast<double>(st.subs));
  e.Counter("natsd_varz_in_msgs", "Messages received from clients.",
            static_cast<double>(totals->in_msgs));
  e.Counter("natsd_varz_out_msgs", "Messages delivered to clients.",
            static_cast<double>(totals->out_msgs));
  e.Counter("natsd_varz_in_bytes", "Payload bytes received from clients.",
            static_cast<double>(totals->in_bytes));
  e.Counter("natsd_varz_out_bytes", "Payload bytes delivered to clients.",
            static_cast<double>(totals->out_bytes));
  e.Counter("natsd_varz_slow_consumers", "Clients closed as slow consumers.",
            static_cast<double>(totals->slow_consumers));
  e.Gauge("natsd_varz_max_connections", "Configured connection limit.", o.max_connections);
  e.Gauge("natsd_varz_max_payload_bytes", "Configured maximum message payload.",
          static_cast<double>(o.max_payload));
  e.Gauge("natsd_varz_max_pending_bytes", "Configured per-client outbound buffer limit.",
          static_cast<double>(o.max_pending));
  e.Family("natsd_varz_http_req_stats", "Monitoring requests served, per endpoint.",
           "counter");
  for (const auto& [path, n] : req_stats_) {
    e.Sample("natsd_varz_http_req_stats", fmt::format("{{path=\"{}\"}}", EscapeLabel(path)),
             static_cast<double>(n));
  }
  e.Gauge("natsd_subsz_num_cache", "Entries in the subject match cache.",
          static_cast<double>(st.cache_entries));
  e.Counter("natsd_subsz_num_inserts", "Subscriptions added since start.",
            static_cast<double>(st.inserts));
  e.Counter("natsd_subsz_num_removes", "Subscriptions removed since start.",
            static_cast<double>(st.removes));
  e.Counter("natsd_subsz_num_matches", "Subject lookups in the shared sublist.",
            static_cast<double>(st.matches));
  e.Gauge("natsd_subsz_cache_hit_rate", "Share of lookups answered by the cache (0..1).",
          st.matches > 0 ? static_cast<double>(st.cache_hits) / st.matches : 0);
  e.Gauge("natsd_subsz_max_fanout", "Largest recipient count among cached subjects.",
          static_cast<double>(st.max_fanout));
  e.Gauge("natsd_subsz_avg_fanout", "Mean recipient count among cached subjects.",
          st.total_fanout > 0 ? static_cast<double>(st.total_fanout) / st.cache_entries : 0);
  size_t closed;
  {
    absl::MutexLock lock(&closed_mu_);
    closed = closed_.size();
  }
  e.Gauge("natsd_connz_closed_connections", "Closed connections kept for /connz?state=closed.",
          static_cast<double>(closed));
  return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", e.Take(), {}};
}

}  // namespace natsd
