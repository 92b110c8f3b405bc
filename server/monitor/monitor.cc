#include "server/monitor/monitor.h"

#include <unistd.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <utility>

#include "server/client.h"
#include "server/logger.h"
#include "server/server.h"
#include "server/tls/tls_context.h"
#include "server/worker.h"

namespace natsd {
namespace {

// "/prefix/" -> "/prefix"; "" and "/" -> "".
std::string NormaliseBasePath(std::string p) {
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (!p.empty() && p.front() != '/') p.insert(p.begin(), '/');
  return p;
}

// utime + stime of this process, in clock ticks (/proc/self/stat fields 14
// and 15; the command name in field 2 may contain spaces, so count from its
// closing parenthesis).
int64_t ProcessCpuTicks() {
  std::ifstream f("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream in(stat.substr(paren + 2));
  std::string field;
  int64_t utime = -1, stime = -1;
  // Field 3 (state) is the first after the parenthesis.
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::strtoll(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoll(field.c_str(), nullptr, 10);
  }
  return utime < 0 || stime < 0 ? -1 : utime + stime;
}

// HTTPS serves the client listener's certificate and never asks for a
// client certificate, as the reference does.
absl::StatusOr<std::shared_ptr<const TlsContext>> HttpsContext(const Options& o) {
  if (!o.tls_config) return absl::InvalidArgumentError("TLS cert and key required for HTTPS");
  return TlsContext::Create(*o.tls_config, TlsContext::ClientCerts::kNone);
}

}  // namespace

Monitor::Monitor(Server& server)
    : server_(server),
      base_path_(NormaliseBasePath(server.config()->opts.http_base_path)) {}

Monitor::~Monitor() { Stop(); }

absl::Status Monitor::Reloaded(const Options& opts) {
  if (!secure_) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<const TlsContext>> tls = HttpsContext(opts);
  if (!tls.ok()) return tls.status();
  http_.SetTls(*std::move(tls));
  return absl::OkStatus();
}

absl::Status Monitor::Start() {
  const std::shared_ptr<const ServerConfig> config = server_.config();
  const Options& o = config->opts;
  if (o.http_port != 0 && o.https_port != 0) {
    return absl::InvalidArgumentError(fmt::format(
        "can't specify both HTTP ({}) and HTTPs ({}) ports", o.http_port, o.https_port));
  }
  std::shared_ptr<const TlsContext> tls;
  if (o.https_port != 0) {
    absl::StatusOr<std::shared_ptr<const TlsContext>> made = HttpsContext(o);
    if (!made.ok()) return made.status();
    tls = *std::move(made);
    secure_ = true;
  }
  const std::string host = o.http_host.empty() ? o.host : o.http_host;
  const int configured = secure_ ? o.https_port : o.http_port;
  const int port = configured == kRandomPort ? 0 : configured;
  SampleCpu();
  http_.Every(absl::Seconds(1), [this] { SampleCpu(); });
  absl::StatusOr<int> bound = http_.Start(
      host, port, [this](const HttpRequest& req) { return Handle(req); }, std::move(tls));
  if (!bound.ok()) {
    return absl::UnavailableError(
        fmt::format("can't listen to the monitor port: listen tcp {}:{}: {}",
                    host, port, std::string(bound.status().message())));
  }
  Logger::Global().Notice("Starting {} monitor on {}:{}", secure_ ? "https" : "http", host,
                          *bound);
  return absl::OkStatus();
}

void Monitor::Stop() { http_.Stop(); }

HttpResponse Monitor::Handle(const HttpRequest& req) {
  std::string_view path = req.path;
  if (!path.starts_with(base_path_)) {
    return HttpResponse::Text(404, "404 page not found\n");
  }
  path.remove_prefix(base_path_.size());
  if (path.empty()) path = "/";
  // The reference counts each endpoint under its canonical path.
  auto count = [this](const char* p) { ++req_stats_[p]; };
  if (path == "/") {
    count("/");
    return Root();
  }
  if (path == "/varz") {
    count("/varz");
    return Varz(req);
  }
  if (path == "/connz") {
    count("/connz");
    return Connz(req);
  }
  if (path == "/routez") {
    count("/routez");
    return Routez(req);
  }
  if (path == "/subsz" || path == "/subscriptionsz") {
    count("/subsz");
    return Subsz(req);
  }
  if (path == "/accountz") {
    count("/accountz");
    return Accountz(req);
  }
  if (path == "/healthz") {
    count("/healthz");
    return Healthz(req);
  }
  if (path == "/jsz") {
    count("/jsz");
    return Jsz(req);
  }
  if (path == "/metrics") return Metrics();
  return HttpResponse::Text(404, "404 page not found\n");
}

absl::Status Monitor::VisitWorkers(std::function<void(int, Worker&)> visit) {
  struct Pending {
    absl::Mutex mu;
    int left ABSL_GUARDED_BY(mu) = 0;
  };
  auto pending = std::make_shared<Pending>();
  auto fn = std::make_shared<std::function<void(int, Worker&)>>(std::move(visit));
  const int n = server_.num_workers();
  {
    absl::MutexLock lock(&pending->mu);
    pending->left = n;
  }
  for (int i = 0; i < n; ++i) {
    Worker& w = server_.worker(i);
    w.PostVisit([pending, fn, i, &w] {
      (*fn)(i, w);
      absl::MutexLock lock(&pending->mu);
      --pending->left;
    });
  }
  absl::MutexLock lock(&pending->mu);
  auto done = [&pending]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(pending->mu) {
    return pending->left == 0;
  };
  if (!pending->mu.AwaitWithTimeout(absl::Condition(&done), kCollectTimeout)) {
    return absl::DeadlineExceededError("a worker did not answer in time");
  }
  return absl::OkStatus();
}

absl::StatusOr<Monitor::Totals> Monitor::CollectTotals() {
  auto per_worker = std::make_shared<std::vector<Totals>>(server_.num_workers());
  absl::Status s = VisitWorkers([per_worker](int i, Worker& w) {
    Totals& t = (*per_worker)[i];
    const Worker::ClosedTotals& closed = w.closed_totals();
    t.in_msgs = closed.in_msgs;
    t.in_bytes = closed.in_bytes;
    t.out_msgs = closed.out_msgs;
    t.out_bytes = closed.out_bytes;
    t.slow_consumers = closed.slow_consumers;
    ConnInfo info;
    w.ForEachClient([&](const Client& c) {
      c.Describe(&info, /*with_subs=*/false);
      ++t.connections;
      t.in_msgs += info.in_msgs;
      t.in_bytes += info.in_bytes;
      t.out_msgs += info.out_msgs;
      t.out_bytes += info.out_bytes;
    });
  });
  if (!s.ok()) return s;
  Totals sum;
  for (const Totals& t : *per_worker) {
    sum.connections += t.connections;
    sum.in_msgs += t.in_msgs;
    sum.in_bytes += t.in_bytes;
    sum.out_msgs += t.out_msgs;
    sum.out_bytes += t.out_bytes;
    sum.slow_consumers += t.slow_consumers;
  }
  return sum;
}

absl::StatusOr<std::vector<ConnInfo>> Monitor::CollectConnections(bool with_subs) {
  auto per_worker =
      std::make_shared<std::vector<std::vector<ConnInfo>>>(server_.num_workers());
  absl::Status s = VisitWorkers([per_worker, with_subs](int i, Worker& w) {
    std::vector<ConnInfo>& out = (*per_worker)[i];
    w.ForEachClient([&](const Client& c) {
      c.Describe(&out.emplace_back(), with_subs);
    });
  });
  if (!s.ok()) return s;
  std::vector<ConnInfo> all;
  for (auto& v : *per_worker) {
    for (ConnInfo& c : v) all.push_back(std::move(c));
  }
  return all;
}

void Monitor::RecordClosed(ConnInfo info) {
  absl::MutexLock lock(&closed_mu_);
  if (closed_.size() >= kMaxClosedClients) closed_.pop_front();
  closed_.push_back(std::move(info));
}

std::vector<ConnInfo> Monitor::ClosedConnections() const {
  absl::MutexLock lock(&closed_mu_);
  return std::vector<ConnInfo>(closed_.begin(), closed_.end());
}

void Monitor::SampleCpu() {
  const int64_t ticks = ProcessCpuTicks();
  const absl::Time now = absl::Now();
  if (ticks >= 0 && last_cpu_ticks_ >= 0) {
    const double seconds = absl::ToDoubleSeconds(now - last_cpu_sample_);
    if (seconds > 0) {
      const double used = static_cast<double>(ticks - last_cpu_ticks_) /
                          static_cast<double>(sysconf(_SC_CLK_TCK));
      // Percent of one core, to one decimal like the reference.
      cpu_percent_ = std::round(used / seconds * 1000.0) / 10.0;
    }
  }
  last_cpu_ticks_ = ticks;
  last_cpu_sample_ = now;
}

}  // namespace natsd
