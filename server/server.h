// Server: the natsd process's core — workers (I/O threads), the client
// listener, the global account, and the INFO every client is greeted with.
//
//   natsd::Server server(opts);
//   if (absl::Status s = server.Start(); !s.ok()) { ... }
//   ... wait for a signal; on SIGHUP: server.Reload(rebuilt options) ...
//   server.Shutdown();   // closes clients, joins the I/O threads
//
// The configuration in force is a ServerConfig generation (server_config.h):
// Reload (reload.cc) builds a new one and hands it to every worker, which
// re-checks its clients against it on its own thread.
//
// Lame duck mode (lame_duck.cc) runs on worker 0's loop thread: it stops the
// listener, has every worker send its clients the LDM INFO, waits the grace
// period, then asks the workers to close their clients a few at a time,
// spread over the rest of lame_duck_duration, and finally calls `done`.
//
// Thread-safety: Start(), Reload(), EnterLameDuckMode() and Shutdown() from
// one controlling thread; the accessors are safe from any thread once Start()
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
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/account.h"
#include "server/accounts.h"
#include "server/options.h"
#include "server/server_config.h"

namespace natsd {

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
  // Enters lame duck mode as nats-server does (see above). `done` runs on an
  // I/O thread once the last client has been asked to close (right away
  // without clients); the controlling thread then calls Shutdown(), which
  // finishes the closing as the reference's final Shutdown does. Shutdown() earlier abandons the schedule (`done`
  // is then never called). False, and nothing happens, unless started and
  // not yet in lame duck mode or shut down.
  bool EnterLameDuckMode(absl::AnyInvocable<void() &&> done);
  // Applies `fresh` (the config file read again, the command line over it)
  // to the running server, as nats-server's reload does: on an option that
  // cannot change while running, or invalid options, returns the
  // reference's error and nothing changes. Otherwise logs what changed,
  // installs the new generation and hands it to every worker, which checks
  // its live clients against the new authorization (closing those no longer
  // allowed in, removing subscriptions no longer permitted).
  absl::Status Reload(Options fresh);

  // Any thread: the configuration in force.
  std::shared_ptr<const ServerConfig> config() const;
  // When the configuration in force was loaded (start or last reload).
  absl::Time config_load_time() const;
  // Every account, "$G" first (accounts.h); built by Start(), fixed for the
  // server's life (a reload may not change the accounts).
  Accounts& accounts() { return *accounts_; }
  Account& global_account() { return accounts_->global(); }
  const std::string& server_id() const { return server_id_; }
  // The port clients connect to (the bound one when opts.port was random).
  int client_port() const { return client_port_; }

  uint64_t NextClientId() {
    return next_cid_.fetch_add(1, std::memory_order_relaxed);
  }
  // Counts a new client connection against `max_connections` (the limit of
  // the caller's configuration; <= 0: none); false when it is reached (the
  // client must then be refused).
  bool AdmitConnection(int max_connections);
  void ReleaseConnection() {
    num_connections_.fetch_sub(1, std::memory_order_relaxed);
  }
  Worker& worker(int i) { return *workers_[i]; }
  int num_workers() const { return static_cast<int>(workers_.size()); }

  // Monitoring (server/monitor/): when Start() began, client connections
  // accepted so far, and the monitor (null when http_port is not set). Any
  // thread once started.
  absl::Time start_time() const { return start_time_; }
  uint64_t total_connections() const {
    return next_cid_.load(std::memory_order_relaxed) - 1;
  }
  Monitor* monitor() const { return monitor_.get(); }

 private:
  void OnAccept(int fd);
  absl::Status WritePidFile(const Options& opts);
  absl::Status WritePortsFile(const Options& opts);
  // The INFO template for `opts` once listening (reload.cc rebuilds it).
  ServerInfo MakeInfo(const Options& opts, const Authenticator& auth) const;
  // Controlling thread: installs `config` and hands it to every worker.
  void Install(std::shared_ptr<const ServerConfig> config, bool auth_changed);
  // Reload: closes connections over a lowered max_connections.
  void CloseOverLimit(int max_connections);
  // Lame duck mode steps (lame_duck.cc), on worker 0's loop thread.
  void LameDuckCounted(int worker, size_t clients);
  void LameDuckCloseNext();
  void LameDuckFinish();

  mutable absl::Mutex config_mu_;
  std::shared_ptr<const ServerConfig> config_ ABSL_GUARDED_BY(config_mu_);
  absl::Time config_load_time_ ABSL_GUARDED_BY(config_mu_);
  // The options Start() was given; moved into the first ServerConfig.
  Options initial_opts_;
  std::unique_ptr<Accounts> accounts_;
  std::string server_id_;
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
