// Lame duck mode, with nats-server's schedule (server.go lameDuckMode): stop
// accepting, tell the clients, wait the grace period, then close the clients
// one (or, when there are very many, a batch) at a time with a random pause
// of between half and all of (duration - grace) / clients, at most 1 s, and
// finish right after the last one. The reference sleeps a goroutine between
// closes; here each pause is a timer on worker 0's loop, so no I/O thread
// ever blocks.
#include <algorithm>
#include <vector>
#include <utility>

#include "server/io/event_loop.h"
#include "server/logger.h"
#include "server/server.h"
#include "server/worker.h"

namespace natsd {

bool Server::EnterLameDuckMode(absl::AnyInvocable<void() &&> done) {
  if (!started_ || shut_down_ || lame_duck_) return false;
  lame_duck_ = true;
  Logger::Global().Notice("Entering lame duck mode, stop accepting new clients");
  Worker& acceptor = *workers_[0];
  acceptor.loop().Post([this, &acceptor, done = std::move(done)]() mutable {
    // Sockets accepted before this point were posted to their workers
    // before the counting requests below, so every client is counted.
    acceptor.loop().StopListening();
    ldm_.done = std::move(done);
    ldm_.awaiting_counts = num_workers();
    ldm_.to_close.assign(num_workers(), 0);
    for (int i = 0; i < num_workers(); ++i) {
      workers_[i]->PostLameDuckStart([this, &acceptor, i](size_t clients) {
        acceptor.loop().Post([this, i, clients] { LameDuckCounted(i, clients); });
      });
    }
  });
  return true;
}

void Server::LameDuckCounted(int worker, size_t clients) {
  ldm_.to_close[worker] = clients;
  ldm_.total += clients;
  if (--ldm_.awaiting_counts > 0 || workers_[0]->shutting_down()) return;
  if (ldm_.total == 0) {
    LameDuckFinish();
    return;
  }
  // Not reloadable: any generation has the durations Start() was given.
  const Options& opts = workers_[0]->options();
  const absl::Duration grace = opts.lame_duck_grace_period;
  absl::Duration spread = opts.lame_duck_duration - grace;
  if (spread <= absl::ZeroDuration()) spread = absl::Seconds(1);
  const int64_t spread_ns = absl::ToInt64Nanoseconds(spread);
  const int64_t total = static_cast<int64_t>(ldm_.total);
  int64_t interval_ns = spread_ns / total;
  ldm_.batch = 1;
  if (interval_ns < 1) {
    // More clients than nanoseconds to spread them over.
    interval_ns = 1;
    ldm_.batch = static_cast<size_t>(total / spread_ns);
  }
  // No point in spreading a few clients over minutes.
  ldm_.interval = std::min(absl::Nanoseconds(interval_ns), absl::Seconds(1));
  // The grace period lets several servers enter lame duck mode before any
  // of their clients reconnects (possibly to one of them).
  workers_[0]->loop().AddTimer(grace, [this] {
    if (workers_[0]->shutting_down()) return;
    Logger::Global().Notice("Closing existing clients");
    LameDuckCloseNext();
  });
}

void Server::LameDuckCloseNext() {
  if (workers_[0]->shutting_down()) return;
  std::vector<size_t> closes(workers_.size(), 0);
  for (size_t n = 0; n < ldm_.batch && ldm_.total > 0; ++n) {
    while (ldm_.to_close[ldm_.next_worker] == 0) {
      ldm_.next_worker = (ldm_.next_worker + 1) % workers_.size();
    }
    --ldm_.to_close[ldm_.next_worker];
    --ldm_.total;
    ++closes[ldm_.next_worker];
    ldm_.next_worker = (ldm_.next_worker + 1) % workers_.size();
  }
  for (size_t i = 0; i < closes.size(); ++i) {
    if (closes[i] > 0) workers_[i]->PostLameDuckClose(closes[i]);
  }
  if (ldm_.total == 0) {
    LameDuckFinish();
    return;
  }
  const int64_t max_ns = absl::ToInt64Nanoseconds(ldm_.interval);
  const int64_t pause_ns =
      std::max(absl::Uniform<int64_t>(ldm_.rng, 0, max_ns), max_ns / 2);
  workers_[0]->loop().AddTimer(absl::Nanoseconds(pause_ns),
                               [this] { LameDuckCloseNext(); });
}

void Server::LameDuckFinish() {
  if (ldm_.done) std::move(ldm_.done)();
}

}  // namespace natsd
