#include "server/service_replies.h"

#include <utility>

namespace natsd {
namespace {

// The reference's base-62 digits and token lengths (accounts.go).
constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr int kTokenLen = 6;

std::string RandomToken(absl::BitGen& rng) {
  std::string out(kTokenLen, '0');
  uint64_t n = absl::Uniform<uint64_t>(rng);
  for (char& c : out) {
    c = kDigits[n % 62];
    n /= 62;
  }
  return out;
}

std::string NewPrefix() {
  absl::BitGen rng;
  return "_R_." + RandomToken(rng) + ".";
}

}  // namespace

ServiceReplies::ServiceReplies() : prefix_(NewPrefix()) {}

std::string ServiceReplies::Track(Account* importer, std::string_view reply,
                                  ServiceResponseType type, absl::Duration threshold,
                                  absl::Time now) {
  absl::MutexLock lock(&mu_);
  SweepLocked(now);
  std::string subject;
  do {
    subject = prefix_ + RandomToken(rng_);
  } while (pending_.contains(subject));
  pending_.emplace(subject, Pending{Target{importer, std::string(reply)}, type, threshold,
                                    now + threshold});
  return subject;
}

std::optional<ServiceReplies::Target> ServiceReplies::Resolve(std::string_view subject,
                                                              absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(absl::string_view(subject.data(), subject.size()));
  if (it == pending_.end()) return std::nullopt;
  if (it->second.expires < now) {
    pending_.erase(it);
    return std::nullopt;
  }
  if (it->second.type == ServiceResponseType::kSingleton) {
    Target t = std::move(it->second.target);
    pending_.erase(it);
    return t;
  }
  // Streamed and chunked responses keep the mapping alive while they flow.
  it->second.expires = now + it->second.threshold;
  return it->second.target;
}

void ServiceReplies::Forget(std::string_view subject) {
  absl::MutexLock lock(&mu_);
  pending_.erase(absl::string_view(subject.data(), subject.size()));
}

size_t ServiceReplies::size() const {
  absl::MutexLock lock(&mu_);
  return pending_.size();
}

void ServiceReplies::SweepLocked(absl::Time now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + absl::Seconds(1);
  absl::erase_if(pending_, [now](const auto& kv) { return kv.second.expires < now; });
}

}  // namespace natsd
