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

Server::Server(Options opts) : opts_(std::move(opts)), server_id_(NewServerId()) {
  info_.server_id = server_id_;
  info_.server_name = opts_.server_name.empty() ? server_id_ : opts_.server_name;
  info_.version = std::string(kCompatibleNatsVersion);
  info_.go = fmt::format("natsd{}", kNatsdVersion);
  info_.host = opts_.host;
  info_.headers = !opts_.no_header_support;
  info_.max_payload = opts_.max_payload;
}

Server::~Server() { Shutdown(); }

absl::Status Server::Start() {
  Logger::Global().Notice("Starting natsd");
  Logger::Global().Notice("  Version:  {} (nats-server {} compatible)", kNatsdVersion,
               kCompatibleNatsVersion);
  Logger::Global().Notice("  Name:     {}", info_.server_name);
  Logger::Global().Notice("  ID:       {}", server_id_);
  if (!opts_.config_file.empty()) {
    Logger::Global().Notice("Using configuration file: {}", opts_.config_file);
  }

  // Debian builds abseil without NDEBUG, so every Mutex::Lock would also
  // update a global lock graph for deadlock detection: measurable on the
  // delivery path (Outbound, sublist, posted work).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  absl::StatusOr<std::unique_ptr<Authenticator>> auth = Authenticator::Create(opts_);
  if (!auth.ok()) return auth.status();
  authenticator_ = *std::move(auth);
  auth_required_ = authenticator_->auth_required();
  info_.auth_required = authenticator_->advertise_auth_required();
  if (authenticator_->has_plaintext_passwords()) {
    Logger::Global().Warn("Plaintext passwords detected, use nkeys or bcrypt");
  }

  if (opts_.tls_config) {
    absl::StatusOr<std::shared_ptr<const TlsContext>> tls =
        TlsContext::Create(*opts_.tls_config, TlsContext::ClientCerts::kAsConfigured);
    if (!tls.ok()) return tls.status();
    tls_context_ = *std::move(tls);
    info_.tls_required = true;
    info_.tls_verify = opts_.tls_config->verify;
  }

  int threads = opts_.io_threads;
  if (threads <= 0) {
    threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  std::string why_not_uring;
  io::Backend backend = ToIoBackend(opts_.io_backend);
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

  const int port = opts_.port == kRandomPort ? 0 : opts_.port;
  absl::StatusOr<int> bound = workers_[0]->loop().Listen(
      opts_.host, port, [this](int fd) { OnAccept(fd); });
  if (!bound.ok()) {
    return absl::Status(
        bound.status().code(),
        fmt::format("Error listening on port: {}:{}, \"{}\"", opts_.host, port,
                    std::string(bound.status().message())));
  }
  client_port_ = *bound;
  info_.port = client_port_;
  if (!opts_.client_advertise.empty()) {
    // Clients are told to use this address instead of ours.
    SplitHostPort(opts_.client_advertise, &info_.host, &info_.port);
  }
  Logger::Global().Notice("Listening for client connections on {}:{}", opts_.host,
               client_port_);
  if (tls_context_ != nullptr) Logger::Global().Notice("TLS required for client connections");

  if (opts_.http_port != 0 || opts_.https_port != 0) {
    monitor_ = std::make_unique<Monitor>(*this);
    if (absl::Status s = monitor_->Start(); !s.ok()) return s;
  }

  if (absl::Status s = WritePidFile(); !s.ok()) return s;
  if (absl::Status s = WritePortsFile(); !s.ok()) return s;

  for (auto& w : workers_) w->StartThread();
  started_ = true;
  Logger::Global().Notice("Server is ready");
  return absl::OkStatus();
}

void Server::OnAccept(int fd) {
  const uint32_t n = next_worker_.fetch_add(1, std::memory_order_relaxed);
  workers_[n % workers_.size()]->PostAdopt(fd);
}

bool Server::AdmitConnection() {
  const int64_t n = num_connections_.fetch_add(1, std::memory_order_relaxed);
  if (opts_.max_connections > 0 && n >= opts_.max_connections) {
    num_connections_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

std::string Server::ClientInfo(uint64_t cid, const std::string& client_ip,
                               const std::string& nonce) const {
  ServerInfo info = info_;
  info.client_id = cid;
  info.client_ip = client_ip;
  info.nonce = nonce;
  return EncodeInfo(info);
}

std::string Server::LameDuckInfo(uint64_t cid, const std::string& client_ip) const {
  // The reference's async INFO: the template with the client's id and
  // address, without the nonce of the greeting, and the other cluster
  // members' URLs only (there are none without clustering).
  ServerInfo info = info_;
  info.client_id = cid;
  info.client_ip = client_ip;
  info.connect_urls.clear();
  info.ldm = true;
  return EncodeInfo(info);
}

absl::Status Server::WritePidFile() {
  if (opts_.pid_file.empty()) return absl::OkStatus();
  std::ofstream f(opts_.pid_file, std::ios::trunc);
  f << getpid();
  if (!f) {
    return absl::InternalError(
        absl::StrCat("Could not write pidfile: open ", opts_.pid_file));
  }
  return absl::OkStatus();
}

absl::Status Server::WritePortsFile() {
  if (opts_.ports_file_dir.empty()) return absl::OkStatus();
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  std::string base = "natsd";
  if (n > 0) {
    std::string path(exe, n);
    base = path.substr(path.rfind('/') + 1);
  }
  ports_file_ = absl::StrCat(opts_.ports_file_dir, "/", base, "_", getpid(),
                             ".ports");
  std::vector<std::string> urls;
  for (const std::string& h : ReachableHosts(opts_.host)) {
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
  if (!opts_.pid_file.empty()) std::remove(opts_.pid_file.c_str());
  if (!ports_file_.empty()) std::remove(ports_file_.c_str());
  Logger::Global().Notice("Server Exiting..");
}

}  // namespace natsd
