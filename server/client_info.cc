// What monitoring needs from a Client: its snapshot (Describe) and the
// bookkeeping done once when it closes (ReportClosed). Kept out of client.cc,
// which holds the protocol and delivery paths.
#include <string>

#include "absl/strings/numbers.h"
#include "server/account.h"
#include "server/client.h"
#include "server/conn_info.h"
#include "server/monitor/monitor.h"
#include "server/server.h"
#include "server/tls/tls_session.h"
#include "server/worker.h"

namespace natsd {
namespace {

// "ip:port" or "[v6]:port", as the I/O layer formats peer addresses.
void SplitPeerAddress(const std::string& address, std::string* ip, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    *ip = address;
    return;
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  *ip = std::move(host);
  if (!absl::SimpleAtoi(address.substr(colon + 1), port)) *port = 0;
}

bool IsSlowConsumer(CloseReason reason) {
  return reason == CloseReason::kSlowConsumerPendingBytes ||
         reason == CloseReason::kSlowConsumerWriteDeadline;
}

}  // namespace

void Client::Describe(ConnInfo* info, bool with_subs) const {
  info->cid = cid_;
  SplitPeerAddress(peer_address_, &info->ip, &info->port);
  info->start = start_;
  info->last_activity = last_activity_;
  info->rtt = rtt_;
  info->pending_bytes = out_.pending_bytes();
  info->in_msgs = in_msgs_;
  info->in_bytes = in_bytes_;
  info->out_msgs = out_msgs_.load(std::memory_order_relaxed);
  info->out_bytes = out_bytes_.load(std::memory_order_relaxed);
  info->num_subs = static_cast<uint32_t>(subs_.size());
  info->name = opts_.name;
  info->lang = opts_.lang;
  info->version = opts_.version;
  if (tls_ != nullptr) {
    info->tls_version = tls_->version_name();
    info->tls_cipher_suite = tls_->cipher_suite_name();
  }
  info->user = opts_.user;
  info->account = account_->name();
  info->subs.clear();
  if (!with_subs) return;
  info->subs.reserve(subs_.size());
  for (const auto& [sid, sub] : subs_) {
    SubInfo& s = info->subs.emplace_back();
    s.subject = sub->subject;
    s.queue = sub->queue;
    s.sid = sub->sid;
    s.msgs = sub->delivered.load(std::memory_order_relaxed);
    s.max = sub->max.load(std::memory_order_relaxed);
    s.cid = cid_;
  }
}

void Client::ReportClosed(const absl::Status& status) {
  // A connection closed by the peer or the socket never went through
  // Close(): the loop's status tells which.
  const CloseReason reason = close_reason_.value_or(
      status.ok() ? CloseReason::kClientClosed : CloseReason::kReadError);
  Worker::ClosedTotals& totals = worker_.closed_totals();
  totals.in_msgs += in_msgs_;
  totals.in_bytes += in_bytes_;
  totals.out_msgs += out_msgs_.load(std::memory_order_relaxed);
  totals.out_bytes += out_bytes_.load(std::memory_order_relaxed);
  if (IsSlowConsumer(reason)) ++totals.slow_consumers;

  Monitor* monitor = server_.monitor();
  if (monitor == nullptr) return;
  ConnInfo info;
  Describe(&info, /*with_subs=*/true);
  info.stop = absl::Now();
  info.reason = std::string(CloseReasonName(reason));
  monitor->RecordClosed(std::move(info));
}

}  // namespace natsd
