// Monitor: nats-server's HTTP monitoring endpoints (/varz, /connz, /routez,
// /subsz, /accountz, /healthz, /jsz and the index page) plus Prometheus
// metrics (/metrics), served on `http_port` (or over TLS on `https_port`).
//
//   Monitor monitor(server);
//   if (absl::Status s = monitor.Start(); !s.ok()) { ... }
//   ...
//   monitor.Stop();   // before the workers stop
//
// Monitoring stays off the data path. Requests are served by one HTTP thread
// (http_server.h). Per-connection data lives on the workers' loop threads,
// so a request posts one closure to every worker (Worker::PostVisit) and
// waits, at most kCollectTimeout, for all of them; the server-wide message
// counters are the live clients' counters plus each worker's totals of
// closed clients, summed in the same visit, so the publish path pays nothing
// for them.
//
// Thread-safety: Start(), Stop() and Reloaded() from the server's
// controlling thread;
// RecordClosed() from any thread (workers, as clients close); everything
// else runs on the HTTP thread.
#ifndef NATSD_SERVER_MONITOR_MONITOR_H_
#define NATSD_SERVER_MONITOR_MONITOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/conn_info.h"
#include "server/monitor/http_server.h"

namespace natsd {

struct Options;
class Server;
class Worker;

class Monitor {
 public:
  // The reference's DEFAULT_MAX_CLOSED_CLIENTS: closed connections kept for
  // /connz?state=closed, oldest dropped first.
  static constexpr size_t kMaxClosedClients = 10000;
  // How long a request waits for the workers' answers.
  static constexpr absl::Duration kCollectTimeout = absl::Seconds(2);

  explicit Monitor(Server& server);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Listens on http_host:http_port (port -1: any) and starts the HTTP thread.
  absl::Status Start();
  // Stops serving and joins the HTTP thread. Idempotent.
  void Stop();
  // After a config reload: HTTPS serves new connections with the reloaded
  // certificate, as the reference (which reads its TLS options per
  // handshake). An error leaves the old one in use.
  absl::Status Reloaded(const Options& opts);
  // The bound port (valid after Start), and whether it serves HTTPS.
  int port() const { return http_.port(); }
  bool secure() const { return secure_; }

  // Any thread: keeps `info` (a connection that just closed) in the ring.
  void RecordClosed(ConnInfo info);

  // The figures /varz and /metrics share.
  struct Totals {
    uint64_t connections = 0;
    uint64_t in_msgs = 0;
    uint64_t in_bytes = 0;
    uint64_t out_msgs = 0;
    uint64_t out_bytes = 0;
    uint64_t slow_consumers = 0;
  };

 private:
  HttpResponse Handle(const HttpRequest& req);

  // Endpoints (one file each; see the .cc files of this folder).
  HttpResponse Root();
  HttpResponse Varz(const HttpRequest& req);
  HttpResponse Connz(const HttpRequest& req);
  HttpResponse Routez(const HttpRequest& req);
  HttpResponse Subsz(const HttpRequest& req);
  HttpResponse Accountz(const HttpRequest& req);
  HttpResponse Healthz(const HttpRequest& req);
  HttpResponse Jsz(const HttpRequest& req);
  HttpResponse Metrics();

  // Runs `visit` on every worker's loop thread (argument: the worker's
  // index) and waits for all of them. DeadlineExceeded when a worker did not
  // answer within kCollectTimeout; `visit` may then still run later, so it
  // must only touch state it owns (capture shared_ptrs).
  absl::Status VisitWorkers(std::function<void(int, Worker&)> visit);
  absl::StatusOr<Totals> CollectTotals();
  // Open connections, each described on its own thread.
  absl::StatusOr<std::vector<ConnInfo>> CollectConnections(bool with_subs);
  std::vector<ConnInfo> ClosedConnections() const;

  // Samples /proc/self/stat once a second (HTTP thread) so that cpu is the
  // usage over the last second, as the reference reports it.
  void SampleCpu();

  Server& server_;
  HttpServer http_;
  bool secure_ = false;  // https_port: set by Start()
  std::string base_path_;  // "" or "/prefix" without a trailing slash

  // HTTP thread only.
  std::map<std::string, uint64_t> req_stats_;  // path -> requests
  double cpu_percent_ = 0;
  int64_t last_cpu_ticks_ = -1;
  absl::Time last_cpu_sample_;

  mutable absl::Mutex closed_mu_;
  std::deque<ConnInfo> closed_ ABSL_GUARDED_BY(closed_mu_);
};

}  // namespace natsd

#endif  // NATSD_SERVER_MONITOR_MONITOR_H_
