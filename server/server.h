// Server: the natsd process's core — workers (I/O threads), the client
// listener, the global account, and the INFO every client is greeted with.
//
//   natsd::Server server(opts);
//   if (absl::Status s = server.Start(); !s.ok()) { ... }
//   ... wait for a signal ...
//   server.Shutdown();   // closes clients, joins the I/O threads
//
// Thread-safety: Start() and Shutdown() from one controlling thread; the
// accessors are safe from any thread once Start() returned.
#ifndef NATSD_SERVER_SERVER_H_
#define NATSD_SERVER_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "protocol/info.h"
#include "server/account.h"
#include "server/options.h"

namespace natsd {

class Authenticator;
class Monitor;
class Worker;

class Server {
 public:
  explicit Server(Options opts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Chooses the I/O backend, starts the workers, listens, writes the pid and
  // ports files. Logs what it does in nats-server's words.
  absl::Status Start();
  // Closes every client (flushing what is queued), stops listening, joins the
  // I/O threads, removes the pid and ports files. Idempotent.
  void Shutdown();

  const Options& options() const { return opts_; }
  Account& global_account() { return global_account_; }
  const std::string& server_id() const { return server_id_; }
  // The port clients connect to (the bound one when opts.port was random).
  int client_port() const { return client_port_; }
  bool auth_required() const { return auth_required_; }

  // The INFO line for a new client (any thread); `nonce` only when NKEY
  // users are configured.
  std::string ClientInfo(uint64_t cid, const std::string& client_ip,
                         const std::string& nonce = "") const;
  // Client authentication, built by Start() (any thread once started).
  const Authenticator& authenticator() const { return *authenticator_; }
  uint64_t NextClientId() {
    return next_cid_.fetch_add(1, std::memory_order_relaxed);
  }
  // Counts a new client connection against max_connections; false when
  // the limit is reached (the client must then be refused).
  bool AdmitConnection();
  void ReleaseConnection() {
    num_connections_.fetch_sub(1, std::memory_order_relaxed);
  }
  Worker& worker(int i) { return *workers_[i]; }
  int num_workers() const { return static_cast<int>(workers_.size()); }

  // Monitoring (server/monitor/): the INFO template, when Start() began,
  // client connections accepted so far, and the monitor (null when
  // http_port is not set). Any thread once started.
  const ServerInfo& info() const { return info_; }
  absl::Time start_time() const { return start_time_; }
  uint64_t total_connections() const {
    return next_cid_.load(std::memory_order_relaxed) - 1;
  }
  Monitor* monitor() const { return monitor_.get(); }

 private:
  void OnAccept(int fd);
  absl::Status WritePidFile();
  absl::Status WritePortsFile();

  Options opts_;
  Account global_account_{kGlobalAccountName};
  std::string server_id_;
  ServerInfo info_;  // template: client-specific fields filled per client
  bool auth_required_ = false;
  std::unique_ptr<Authenticator> authenticator_;
  int client_port_ = 0;
  std::string ports_file_;

  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<uint64_t> next_cid_{1};
  std::atomic<int64_t> num_connections_{0};
  std::atomic<uint32_t> next_worker_{0};
  absl::Time start_time_ = absl::Now();
  std::unique_ptr<Monitor> monitor_;
  bool started_ = false;
  bool shut_down_ = false;
};

}  // namespace natsd

#endif  // NATSD_SERVER_SERVER_H_
