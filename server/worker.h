// Worker: one I/O thread, its event loop, and the clients it owns.
//
// A connection stays on the worker that adopted it for its whole life. Work
// for another worker crosses threads only as a posted closure, and delivery
// needs at most one post per target worker per read batch: publishers queue
// frames straight into subscribers' Outbound buffers (any thread), and the
// subscribers to flush are collected here and handed over at the end of the
// batch (see OnBatchEnd).
//
// Each worker holds the configuration generation (server_config.h) its
// clients read, so options and the authenticator are read without a lock;
// a reload replaces it with PostReload.
//
// Thread-safety: PostFlushes(), PostAdopt(), PostShutdown(), PostVisit(),
// PostLameDuckStart(), PostLameDuckClose(), PostReload() and
// PostCloseOverLimit() may be called from any thread; set_config() only
// before StartThread(); everything else only on this worker's loop thread.
#ifndef NATSD_SERVER_WORKER_H_
#define NATSD_SERVER_WORKER_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "protocol/sublist.h"
#include "server/io/event_loop.h"
#include "server/server_config.h"

namespace natsd {

class Client;
class Server;

class Worker {
 public:
  Worker(Server& server, int index, std::unique_ptr<io::EventLoop> loop);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  int index() const { return index_; }
  // Loop thread: the configuration this worker's clients use.
  const ServerConfig& config() const { return *config_; }
  const Options& options() const { return config_->opts; }
  // Before StartThread(): the first configuration.
  void set_config(std::shared_ptr<const ServerConfig> config) {
    config_ = std::move(config);
  }
  // Any thread, config reload: switches to `config`, then has every client
  // apply it (Client::ApplyReload; `auth_changed`: authorize it again).
  void PostReload(std::shared_ptr<const ServerConfig> config, bool auth_changed);
  // Any thread, config reload under a lowered max_connections: closes `n`
  // of this worker's clients with the reference's 'maximum connections
  // exceeded'.
  void PostCloseOverLimit(size_t n);
  io::EventLoop& loop() { return *loop_; }
  // Loop thread: this thread's lock-free cache of subject matches in the
  // account numbered `account_index` (Account::index()), one per account
  // so that clients of different accounts do not evict each other.
  MatchCache& match_cache(size_t account_index) { return match_caches_[account_index]; }
  // Loop thread: a fast random number (queue group member choice).
  uint32_t NextRandom() { return absl::Uniform<uint32_t>(rng_); }

  // Starts the loop thread / waits for it to end after Shutdown.
  void StartThread();
  void Join();

  // Any thread: the worker adopts `fd` as a new client connection.
  void PostAdopt(int fd);
  // Loop thread: a client closed for good; drop the worker's reference.
  void RemoveClient(uint64_t cid);
  // Loop thread: `client` (of any worker) has new outbound bytes; flush it
  // at the end of this batch.
  void ScheduleFlush(std::shared_ptr<Client> client);
  // Any thread: flush these clients of this worker.
  void PostFlushes(std::vector<std::shared_ptr<Client>> clients);
  // Any thread: close every client, then stop the loop once they are gone
  // (or after `grace`).
  void PostShutdown(absl::Duration grace);
  // Loop thread: whether PostShutdown's work has begun.
  bool shutting_down() const { return shutting_down_; }

  // Any thread, lame duck mode (Server::EnterLameDuckMode): sends every
  // client the LDM INFO and lines them up, in order, to be closed; then
  // calls `counted` with their number, on this loop thread.
  void PostLameDuckStart(absl::AnyInvocable<void(size_t clients) &&> counted);
  // Any thread: closes the next `n` of the clients lined up.
  void PostLameDuckClose(size_t n);

  // Counters of the clients this worker has closed, added when each closes
  // (Client::ReportClosed). With the live clients' own counters they give
  // the server totals without any per-message shared counter. Loop thread
  // only: the monitor reads them from a PostVisit closure.
  struct ClosedTotals {
    uint64_t in_msgs = 0;
    uint64_t in_bytes = 0;
    uint64_t out_msgs = 0;
    uint64_t out_bytes = 0;
    uint64_t slow_consumers = 0;
  };
  ClosedTotals& closed_totals() { return closed_totals_; }
  // Any thread: runs `visit` on the loop thread, where it may call
  // ForEachClient and read closed_totals() as one consistent view (a client
  // is counted either live or closed, never both).
  void PostVisit(absl::AnyInvocable<void() &&> visit) {
    loop_->Post(std::move(visit));
  }
  // Loop thread: fn(const Client&) for every live client.
  template <typename Fn>
  void ForEachClient(Fn&& fn) const {
    for (const auto& [cid, c] : clients_) fn(*c);
  }

  size_t num_clients() const {
    return num_clients_.load(std::memory_order_relaxed);
  }

 private:
  void Adopt(int fd);
  void OnBatchEnd();
  void DrainInbox();
  void MaybeStopAfterShutdown();
  // Up to `limit` of the live clients, collected so that the caller may
  // close them (which removes them from clients_) while walking the list.
  std::vector<std::shared_ptr<Client>> Clients(
      size_t limit = std::numeric_limits<size_t>::max()) const;
  // Every second: closes clients whose write is stuck past the deadline.
  void SweepWriteDeadlines();

  Server& server_;
  const int index_;
  std::shared_ptr<const ServerConfig> config_;
  std::unique_ptr<io::EventLoop> loop_;
  std::thread thread_;
  std::unique_ptr<MatchCache[]> match_caches_;  // one per account
  absl::InsecureBitGen rng_;

  absl::flat_hash_map<uint64_t, std::shared_ptr<Client>> clients_;
  std::atomic<size_t> num_clients_{0};
  ClosedTotals closed_totals_;
  bool shutting_down_ = false;
  // Lame duck mode: the clients to close, and how many have been.
  std::vector<std::weak_ptr<Client>> lame_duck_clients_;
  size_t lame_duck_closed_ = 0;

  // Clients with new outbound bytes during the current batch.
  std::vector<std::shared_ptr<Client>> to_flush_;
  // Per target worker, reused across batches to avoid reallocating.
  std::vector<std::vector<std::shared_ptr<Client>>> remote_flush_;

  absl::Mutex inbox_mu_;
  std::vector<std::shared_ptr<Client>> inbox_ ABSL_GUARDED_BY(inbox_mu_);
};

}  // namespace natsd

#endif  // NATSD_SERVER_WORKER_H_
