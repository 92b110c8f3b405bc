// ServiceReplies: the reply subjects a service-exporting account hands its
// responders in place of the requesters' own, and where each response goes.
//
// A request crossing a service import gets a reply "_R_.<prefix>.<id>"
// (the reference's shape: a 6-character prefix per account, a 6-character
// id per request); the exporting account has one subscription on
// "_R_.<prefix>.>" that routes each response back to the importer on the
// original reply. A singleton service's mapping is forgotten after its
// first response; streamed and chunked ones when the response threshold
// passes without a response.
//
//   std::string r = exporter.replies().Track(&importer, "_INBOX.x", type, threshold, now);
//   ... responder publishes to r ...
//   std::optional<ServiceReplies::Target> t = exporter.replies().Resolve(r, now);
//
// Thread-safety: safe from any thread (one mutex; only requests and
// responses that cross accounts take it).
#ifndef NATSD_SERVER_SERVICE_REPLIES_H_
#define NATSD_SERVER_SERVICE_REPLIES_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/options.h"

namespace natsd {

class Account;

class ServiceReplies {
 public:
  ServiceReplies();

  // "_R_.<prefix>.": every reply this account hands out starts with it.
  const std::string& prefix() const { return prefix_; }

  // A fresh reply subject for a request from `importer` whose requester
  // waits on `reply`.
  std::string Track(Account* importer, std::string_view reply, ServiceResponseType type,
                    absl::Duration threshold, absl::Time now);

  struct Target {
    Account* importer;
    std::string reply;
  };
  // Where a response published on `subject` goes; nullopt when unknown or
  // expired. Forgets a singleton's mapping.
  std::optional<Target> Resolve(std::string_view subject, absl::Time now);
  // Drops the mapping of a request no responder received.
  void Forget(std::string_view subject);

  size_t size() const;

 private:
  struct Pending {
    Target target;
    ServiceResponseType type;
    absl::Duration threshold;
    absl::Time expires;
  };
  // Drops expired mappings, at most once a second.
  void SweepLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string prefix_;
  mutable absl::Mutex mu_;
  absl::BitGen rng_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Pending> pending_ ABSL_GUARDED_BY(mu_);
  absl::Time next_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace natsd

#endif  // NATSD_SERVER_SERVICE_REPLIES_H_
