#include "server/worker.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "server/client.h"
#include "server/logger.h"
#include "server/server.h"

namespace natsd {
namespace {
// How often write deadlines are checked. A slow consumer is detected between
// write_deadline and write_deadline + this.
constexpr absl::Duration kWriteDeadlineSweep = absl::Seconds(1);
}  // namespace

Worker::Worker(Server& server, int index, std::unique_ptr<io::EventLoop> loop)
    : server_(server),
      index_(index),
      loop_(std::move(loop)),
      match_caches_(std::make_unique<MatchCache[]>(server.accounts().size())) {
  loop_->SetBatchEndHook([this] { OnBatchEnd(); });
}

Worker::~Worker() { Join(); }

void Worker::StartThread() {
  loop_->AddTimer(kWriteDeadlineSweep, [this] { SweepWriteDeadlines(); });
  thread_ = std::thread([this] { loop_->Run(); });
}

void Worker::SweepWriteDeadlines() {
  const absl::Time now = loop_->Now();
  // Collected first: closing may remove clients from the map.
  std::vector<std::shared_ptr<Client>> stuck;
  for (auto& [cid, c] : clients_) {
    if (c->WriteDeadlineExceeded(now)) stuck.push_back(c);
  }
  for (auto& c : stuck) c->CloseWriteDeadlineExceeded();
  loop_->AddTimer(kWriteDeadlineSweep, [this] { SweepWriteDeadlines(); });
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::PostAdopt(int fd) {
  loop_->Post([this, fd] { Adopt(fd); });
}

void Worker::Adopt(int fd) {
  if (shutting_down_) {
    ::close(fd);
    return;
  }
  const uint64_t cid = server_.NextClientId();
  auto client = std::make_shared<Client>(server_, *this, cid);
  io::Connection* conn = loop_->Adopt(fd, client.get());
  clients_.emplace(cid, client);
  num_clients_.store(clients_.size(), std::memory_order_relaxed);
  client->Start(conn);
}

void Worker::RemoveClient(uint64_t cid) {
  // Keep the client alive until this function returns: the caller is one of
  // its own methods.
  auto it = clients_.find(cid);
  if (it == clients_.end()) return;
  std::shared_ptr<Client> keep = std::move(it->second);
  clients_.erase(it);
  num_clients_.store(clients_.size(), std::memory_order_relaxed);
  if (shutting_down_) MaybeStopAfterShutdown();
  loop_->Post([keep = std::move(keep)] {});
}

void Worker::ScheduleFlush(std::shared_ptr<Client> client) {
  to_flush_.push_back(std::move(client));
}

void Worker::OnBatchEnd() {
  // Flushing may queue more (a closing client's final write), so swap first.
  while (!to_flush_.empty()) {
    std::vector<std::shared_ptr<Client>> batch;
    batch.swap(to_flush_);
    for (std::shared_ptr<Client>& c : batch) {
      Worker& owner = c->worker();
      if (&owner == this) {
        c->Flush();
      } else {
        if (remote_flush_.size() < static_cast<size_t>(server_.num_workers())) {
          remote_flush_.resize(server_.num_workers());
        }
        remote_flush_[owner.index()].push_back(std::move(c));
      }
    }
  }
  for (size_t i = 0; i < remote_flush_.size(); ++i) {
    if (remote_flush_[i].empty()) continue;
    server_.worker(static_cast<int>(i)).PostFlushes(std::move(remote_flush_[i]));
    remote_flush_[i].clear();
  }
}

void Worker::PostFlushes(std::vector<std::shared_ptr<Client>> clients) {
  bool wake;
  {
    absl::MutexLock lock(&inbox_mu_);
    wake = inbox_.empty();
    if (wake) {
      inbox_ = std::move(clients);
    } else {
      for (auto& c : clients) inbox_.push_back(std::move(c));
    }
  }
  // One post per burst: later producers find the inbox non-empty and only
  // append, until this worker drains it.
  if (wake) loop_->Post([this] { DrainInbox(); });
}

void Worker::DrainInbox() {
  std::vector<std::shared_ptr<Client>> batch;
  {
    absl::MutexLock lock(&inbox_mu_);
    batch.swap(inbox_);
  }
  for (std::shared_ptr<Client>& c : batch) c->Flush();
}

void Worker::PostShutdown(absl::Duration grace) {
  loop_->Post([this, grace] {
    shutting_down_ = true;
    for (auto& c : Clients()) c->Close(CloseReason::kServerShutdown, /*flush=*/true);
    loop_->AddTimer(grace, [this] { loop_->Stop(); });
    MaybeStopAfterShutdown();
  });
}

void Worker::PostLameDuckStart(
    absl::AnyInvocable<void(size_t clients) &&> counted) {
  loop_->Post([this, counted = std::move(counted)]() mutable {
    lame_duck_clients_.reserve(clients_.size());
    for (auto& [cid, c] : clients_) {
      c->SendLameDuckInfo();
      lame_duck_clients_.push_back(c);
    }
    std::move(counted)(lame_duck_clients_.size());
  });
}

void Worker::PostLameDuckClose(size_t n) {
  loop_->Post([this, n] {
    // A client that went away by itself still takes its turn, as in the
    // reference: the schedule was computed for all of them.
    for (size_t i = 0; i < n && lame_duck_closed_ < lame_duck_clients_.size(); ++i) {
      if (auto c = lame_duck_clients_[lame_duck_closed_++].lock()) {
        c->Close(CloseReason::kServerShutdown, /*flush=*/true);
      }
    }
  });
}

void Worker::PostReload(std::shared_ptr<const ServerConfig> config, bool auth_changed) {
  loop_->Post([this, config = std::move(config), auth_changed]() mutable {
    const std::shared_ptr<const ServerConfig> before = std::exchange(config_, std::move(config));
    for (auto& c : Clients()) c->ApplyReload(*before, auth_changed);
  });
}

void Worker::PostCloseOverLimit(size_t n) {
  loop_->Post([this, n] {
    for (auto& c : Clients(n)) c->CloseMaxConnectionsExceeded();
  });
}

std::vector<std::shared_ptr<Client>> Worker::Clients(size_t limit) const {
  std::vector<std::shared_ptr<Client>> out;
  out.reserve(std::min(limit, clients_.size()));
  for (const auto& [cid, c] : clients_) {
    if (out.size() == limit) break;
    out.push_back(c);
  }
  return out;
}

void Worker::MaybeStopAfterShutdown() {
  if (clients_.empty()) loop_->Stop();
}

}  // namespace natsd
