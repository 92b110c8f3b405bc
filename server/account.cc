#include "server/account.h"

#include "absl/time/clock.h"

namespace natsd {
namespace {

// How often a full account logs "maximum subscriptions exceeded"
// (the reference's defaultMaxSubLimitReportThreshold).
constexpr int64_t kMaxSubsLogIntervalNs = 2'000'000'000;

}  // namespace

bool Account::AddConnection() {
  const int32_t max = limits_.max_connections;
  if (max == -1) {
    connections_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  // Compare-and-add, so that connections racing on several threads never
  // take the count past the limit.
  int32_t n = connections_.load(std::memory_order_relaxed);
  do {
    if (n >= max) return false;
  } while (!connections_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

bool Account::ShouldLogMaxSubs() {
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t last = last_max_subs_log_ns_.load(std::memory_order_relaxed);
  return now - last >= kMaxSubsLogIntervalNs &&
         last_max_subs_log_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed);
}

}  // namespace natsd
