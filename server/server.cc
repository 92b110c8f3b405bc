#include "server/server.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "fmt/format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "server/auth.h"
#include "server/io/event_loop.h"
#include "server/logger.h"
#include "server/monitor/monitor.h"
#include "server/tls/tls_context.h"
#include "server/worker.h"

namespace natsd {
namespace {

// How long shutdown waits for clients to take their last bytes.
constexpr absl::Duration kShutdownGrace = absl::Seconds(2);

// A server id shaped like nats-server's (an NKEY server public key: 'N' and
// 55 base32 characters). Clients treat it as an opaque string.
std::string NewServerId() {
  static constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  absl::BitGen gen;
  std::string id = "N";
  for (int i = 0; i < 55; ++i) id += kBase32[absl::Uniform(gen, 0, 32)];
  return id;
}

bool IsAnyAddress(const std::string& host) {
  return host == "0.0.0.0" || host == "::" || host == "[::]" || host.empty();
}

// The addresses a client can reach us on, for the ports file: the listen
// host, or every global unicast address when listening on all interfaces.
std::vector<std::string> ReachableHosts(const std::string& host) {
  if (!IsAnyAddress(host)) return {host};
  std::vector<std::string> hosts;
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) == 0) {
    for (ifaddrs* i = ifs; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      const uint32_t a = ntohl(sin->sin_addr.s_addr);
      if ((a >> 24) == 127 || a == 0) continue;  // loopback / unspecified
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
      hosts.emplace_back(buf);
    }
    freeifaddrs(ifs);
  }
  if (hosts.empty()) hosts.emplace_back("127.0.0.1");
  return hosts;
}

// Splits "host[:port]" ("[v6]:port" too); the port is kept when absent.
void SplitHostPort(const std::string& in, std::string* host, int64_t* port) {
  const size_t colon = in.rfind(':');
  const size_t bracket = in.rfind(']');
  const bool has_port =
      colon != std::string::npos &&
      (bracket != std::string::npos ? colon > bracket
                                    : in.find(':') == colon);
  int p = 0;
  if (has_port && absl::SimpleAtoi(in.substr(colon + 1), &p)) {
    *host = in.substr(0, colon);
    *port = p;
  } else {
    *host = in;
  }
  if (host->size() > 1 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
}

io::Backend ToIoBackend(IoBackend b) {
  switch (b) {
    case IoBackend::kUring: return io::Backend::kUring;
    case IoBackend::kEpoll: return io::Backend::kEpoll;
    case IoBackend::kAuto: break;
  }
  return io::Backend::kAuto;
}

}  // namespace

Server::Server(Options opts)
    : initial_opts_(std::move(opts)), server_id_(NewServerId()) {}

Server::~Server() { Shutdown(); }

absl::Status Server::Start() {
  const Options& opts = initial_opts_;
  Logger::Global().Notice("Starting natsd");
  Logger::Global().Notice("  Version:  {} (nats-server {} compatible)", kNatsdVersion,
               kCompatibleNatsVersion);
  Logger::Global().Notice("  Name:     {}",
                          opts.server_name.empty() ? server_id_ : opts.server_name);
  Logger::Global().Notice("  ID:       {}", server_id_);
  if (!opts.config_file.empty()) {
    Logger::Global().Notice("Using configuration file: {}", opts.config_file);
  }

  // Debian builds abseil without NDEBUG, so every Mutex::Lock would also
  // update a global lock graph for deadlock detection: measurable on the
  // delivery path (Outbound, sublist, posted work).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  absl::StatusOr<std::unique_ptr<Accounts>> accounts = Accounts::Create(opts);
  if (!accounts.ok()) return accounts.status();
  accounts_ = *std::move(accounts);

  absl::StatusOr<std::unique_ptr<Authenticator>> auth = Authenticator::Create(opts);
  if (!auth.ok()) return auth.status();
  if ((*auth)->has_plaintext_passwords()) {
    Logger::Global().Warn("Plaintext passwords detected, use nkeys or bcrypt");
  }

  absl::StatusOr<std::shared_ptr<const TlsContext>> tls_made = ClientTlsContext(opts.tls_config);
  if (!tls_made.ok()) return tls_made.status();
  std::shared_ptr<const TlsContext> tls = *std::move(tls_made);

  int threads = opts.io_threads;
  if (threads <= 0) {
    threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  std::string why_not_uring;
  io::Backend backend = ToIoBackend(opts.io_backend);
  for (int i = 0; i < threads; ++i) {
    absl::StatusOr<std::unique_ptr<io::EventLoop>> loop =
        io::CreateEventLoop(backend, i == 0 ? &why_not_uring : nullptr);
    if (!loop.ok()) {
      return absl::Status(loop.status().code(),
                          fmt::format("cannot start I/O threads: {}",
                                      std::string(loop.status().message())));
    }
    // Every worker uses what the first one got, so the probe runs once.
    backend = (*loop)->backend();
    workers_.push_back(std::make_unique<Worker>(*this, i, *std::move(loop)));
  }
  if (backend == io::Backend::kUring) {
    Logger::Global().Notice("Using io_uring for client I/O on {} threads", threads);
  } else if (why_not_uring.empty()) {
    Logger::Global().Notice("Using epoll for client I/O on {} threads", threads);
  } else {
    Logger::Global().Notice("Using epoll for client I/O on {} threads (io_uring "
                 "unavailable: {})", threads, why_not_uring);
  }

  const int port = opts.port == kRandomPort ? 0 : opts.port;
  absl::StatusOr<int> bound = workers_[0]->loop().Listen(
      opts.host, port, [this](int fd) { OnAccept(fd); });
  if (!bound.ok()) {
    return absl::Status(
        bound.status().code(),
        fmt::format("Error listening on port: {}:{}, \"{}\"", opts.host, port,
                    std::string(bound.status().message())));
  }
  client_port_ = *bound;
  Logger::Global().Notice("Listening for client connections on {}:{}", opts.host,
               client_port_);
  if (tls != nullptr) Logger::Global().Notice("TLS required for client connections");

  // The first configuration generation; `opts` is moved into it.
  auto config = std::make_shared<ServerConfig>();
  config->info = MakeInfo(opts, **auth);
  config->auth = *std::move(auth);
  config->tls = std::move(tls);
  config->opts = std::move(initial_opts_);
  {
    absl::MutexLock lock(&config_mu_);
    config_ = config;
    config_load_time_ = start_time_;
  }
  for (auto& w : workers_) w->set_config(config);

  if (config->opts.http_port != 0 || config->opts.https_port != 0) {
    monitor_ = std::make_unique<Monitor>(*this);
    if (absl::Status s = monitor_->Start(); !s.ok()) return s;
  }

  if (absl::Status s = WritePidFile(config->opts); !s.ok()) return s;
  if (absl::Status s = WritePortsFile(config->opts); !s.ok()) return s;

  for (auto& w : workers_) w->StartThread();
  started_ = true;
  Logger::Global().Notice("Server is ready");
  return absl::OkStatus();
}

void Server::OnAccept(int fd) {
  const uint32_t n = next_worker_.fetch_add(1, std::memory_order_relaxed);
  workers_[n % workers_.size()]->PostAdopt(fd);
}

std::shared_ptr<const ServerConfig> Server::config() const {
  absl::MutexLock lock(&config_mu_);
  return config_;
}

absl::Time Server::config_load_time() const {
  absl::MutexLock lock(&config_mu_);
  return config_load_time_;
}

ServerInfo Server::MakeInfo(const Options& opts, const Authenticator& auth) const {
  ServerInfo info;
  info.server_id = server_id_;
  info.server_name = opts.server_name.empty() ? server_id_ : opts.server_name;
  info.version = std::string(kCompatibleNatsVersion);
  info.go = fmt::format("natsd{}", kNatsdVersion);
  info.host = opts.host;
  info.port = client_port_;
  if (!opts.client_advertise.empty()) {
    // Clients are told to use this address instead of ours.
    SplitHostPort(opts.client_advertise, &info.host, &info.port);
  }
  info.headers = !opts.no_header_support;
  info.auth_required = auth.advertise_auth_required();
  info.max_payload = opts.max_payload;
  info.tls_required = opts.tls_config.has_value();
  info.tls_verify = opts.tls_config.has_value() && opts.tls_config->verify;
  return info;
}

bool Server::AdmitConnection(int max_connections) {
  const int64_t n = num_connections_.fetch_add(1, std::memory_order_relaxed);
  if (max_connections > 0 && n >= max_connections) {
    num_connections_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

std::string ServerConfig::ClientInfo(uint64_t cid, const std::string& client_ip,
                                     const std::string& nonce) const {
  ServerInfo i = info;
  i.client_id = cid;
  i.client_ip = client_ip;
  i.nonce = nonce;
  return EncodeInfo(i);
}

namespace {

// The reference's async INFO: the template with the client's id, address
// and own max_payload, without the nonce of the greeting, and with the
// other cluster members' URLs only (there are none without clustering).
ServerInfo AsyncInfoFor(const ServerInfo& info, uint64_t cid, const std::string& client_ip,
                        int64_t max_payload) {
  ServerInfo i = info;
  i.client_id = cid;
  i.client_ip = client_ip;
  i.max_payload = max_payload;
  i.connect_urls.clear();
  return i;
}

}  // namespace

std::string ServerConfig::AsyncInfo(uint64_t cid, const std::string& client_ip,
                                    int64_t max_payload) const {
  return EncodeInfo(AsyncInfoFor(info, cid, client_ip, max_payload));
}

std::string ServerConfig::LameDuckInfo(uint64_t cid, const std::string& client_ip,
                                       int64_t max_payload) const {
  ServerInfo i = AsyncInfoFor(info, cid, client_ip, max_payload);
  i.ldm = true;
  return EncodeInfo(i);
}

absl::Status Server::WritePidFile(const Options& opts) {
  if (opts.pid_file.empty()) return absl::OkStatus();
  std::ofstream f(opts.pid_file, std::ios::trunc);
  f << getpid();
  if (!f) {
    return absl::InternalError(
        absl::StrCat("Could not write pidfile: open ", opts.pid_file));
  }
  return absl::OkStatus();
}

absl::Status Server::WritePortsFile(const Options& opts) {
  if (opts.ports_file_dir.empty()) return absl::OkStatus();
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  std::string base = "natsd";
  if (n > 0) {
    std::string path(exe, n);
    base = path.substr(path.rfind('/') + 1);
  }
  ports_file_ = absl::StrCat(opts.ports_file_dir, "/", base, "_", getpid(),
                             ".ports");
  std::vector<std::string> urls;
  for (const std::string& h : ReachableHosts(opts.host)) {
    urls.push_back(absl::StrCat("\"nats://", h, ":", client_port_, "\""));
  }
  std::ofstream f(ports_file_, std::ios::trunc);
  f << "{\"nats\":[" << absl::StrJoin(urls, ",") << "]}";
  if (!f) {
    return absl::InternalError(
        absl::StrCat("Error writing ports file (", ports_file_, ")"));
  }
  return absl::OkStatus();
}

void Server::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // First, so that no request waits on (or visits) a worker that is going.
  if (monitor_ != nullptr) monitor_->Stop();
  if (!started_) {
    workers_.clear();
    return;
  }
  Logger::Global().Notice("Initiating Shutdown...");
  Worker& acceptor = *workers_[0];
  acceptor.loop().Post([&acceptor] { acceptor.loop().StopListening(); });
  for (auto& w : workers_) w->PostShutdown(kShutdownGrace);
  for (auto& w : workers_) w->Join();
  workers_.clear();
  const std::string pid_file = config()->opts.pid_file;
  if (!pid_file.empty()) std::remove(pid_file.c_str());
  if (!ports_file_.empty()) std::remove(ports_file_.c_str());
  Logger::Global().Notice("Server Exiting..");
}

}  // namespace natsd
