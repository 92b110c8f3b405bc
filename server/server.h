// Server: the natsd process's core — workers (I/O threads), the client
// listener, the global account, and the INFO every client is greeted with.
//
//   natsd::Server server(opts);
//   if (absl::Status s = server.Start(); !s.ok()) { ... }
//   ... wait for a signal ...
//   server.Shutdown();   // closes clients, joins the I/O threads
//
// Lame duck mode (lame_duck.cc) runs on worker 0's loop thread: it stops the
// listener, has every worker send its clients the LDM INFO, waits the grace
// period, then asks the workers to close their clients a few at a time,
// spread over the rest of lame_duck_duration, and finally calls `done`.
//
// Thread-safety: Start(), EnterLameDuckMode() and Shutdown() from one
// controlling thread; the accessors are safe from any thread once Start()
// returned.
#ifndef NATSD_SERVER_SERVER_H_
#define NATSD_SERVER_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "protocol/info.h"
#include "server/account.h"
#include "server/options.h"

namespace natsd {

class Authenticator;
class Monitor;
class TlsContext;
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
  // Enters lame duck mode as nats-server does (see above). `done` runs on an
  // I/O thread once the last client has been asked to close (right away
  // without clients); the controlling thread then calls Shutdown(), which
  // finishes the closing as the reference's final Shutdown does. Shutdown() earlier abandons the schedule (`done`
  // is then never called). False, and nothing happens, unless started and
  // not yet in lame duck mode or shut down.
  bool EnterLameDuckMode(absl::AnyInvocable<void() &&> done);

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
  // The INFO telling a client that the server is in lame duck mode
  // ("ldm":true), as the reference sends it (any thread).
  std::string LameDuckInfo(uint64_t cid, const std::string& client_ip) const;
  // Client authentication, built by Start() (any thread once started).
  const Authenticator& authenticator() const { return *authenticator_; }
  // The TLS context clients must handshake with; null without TLS. Built by
  // Start() (any thread once started).
  const std::shared_ptr<const TlsContext>& tls_context() const { return tls_context_; }
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
  // Lame duck mode steps (lame_duck.cc), on worker 0's loop thread.
  void LameDuckCounted(int worker, size_t clients);
  void LameDuckCloseNext();
  void LameDuckFinish();

  Options opts_;
  Account global_account_{kGlobalAccountName};
  std::string server_id_;
  ServerInfo info_;  // template: client-specific fields filled per client
  bool auth_required_ = false;
  std::unique_ptr<Authenticator> authenticator_;
  std::shared_ptr<const TlsContext> tls_context_;
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
  bool lame_duck_ = false;  // controlling thread

  // The lame duck schedule; worker 0's loop thread only.
  struct LameDuck {
    absl::AnyInvocable<void() &&> done;
    int awaiting_counts = 0;      // workers yet to report their clients
    std::vector<size_t> to_close;  // per worker: clients still to close
    size_t total = 0;             // sum of to_close
    size_t next_worker = 0;       // round-robin position
    absl::Duration interval;      // the longest pause between two batches
    size_t batch = 1;             // clients closed per pause
    absl::InsecureBitGen rng;
  };
  LameDuck ldm_;
};

}  // namespace natsd

#endif  // NATSD_SERVER_SERVER_H_
