// Account: an isolated subject space. Every client belongs to exactly one;
// a message published in an account reaches only that account's
// subscribers, except through an import:
//
//   * a stream import copies the exporter's messages on a subject to the
//     importer's subscribers, renamed (`prefix`, `to`);
//   * a service import forwards the importer's requests on its local
//     subject to the exporter's responders, and their responses back
//     (reply subjects "_R_.<prefix>.<id>", tracked in ServiceReplies).
//
// Clients outside configured accounts share the global account "$G", as in
// nats-server. Accounts are built once at start (accounts.h) and live as
// long as the server.
//
// An account's `limits` (options.h AccountLimits) are enforced by its
// clients: the connection count here, the per-connection limits by each
// Client (client.h), as nats-server does. Its `mappings` rewrite what its
// clients publish before anything else looks at the subject.
//
// Thread-safety: everything but the sublist, replies() and the connection
// count is immutable after Accounts::Create; the sublist is internally
// synchronized, ServiceReplies has its own lock and the counters are
// atomic (clients of one account live on several I/O threads).
#ifndef NATSD_SERVER_ACCOUNT_H_
#define NATSD_SERVER_ACCOUNT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "protocol/sublist.h"
#include "server/options.h"
#include "server/service_replies.h"
#include "server/subject_mapping.h"
#include "server/subject_mappings.h"

namespace natsd {

inline constexpr char kGlobalAccountName[] = "$G";

class Account;

// This account receives `exporter`'s messages on `subject`, renamed by
// `mapping` to `to` (a prefix, a `to` subject, or unchanged).
struct StreamImport {
  Account* exporter = nullptr;
  std::string subject;  // in the exporter
  std::string to;       // here
  std::string prefix;   // as configured ("" with `to`)
  SubjectMapping mapping;  // subject -> to
};

// Requests published here on `to` go to `exporter` on `subject` (renamed by
// `mapping`); responses come back on the requester's reply subject.
struct ServiceImport {
  Account* importer = nullptr;
  Account* exporter = nullptr;
  std::string to;       // here
  std::string subject;  // in the exporter
  SubjectMapping mapping;  // to -> subject
  ServiceResponseType response_type = ServiceResponseType::kSingleton;
  absl::Duration response_threshold = kDefaultServiceResponseThreshold;
  bool share = false;
};

class Account {
 public:
  // `index` numbers accounts 0..N-1 ("$G" is 0) for per-thread tables.
  Account(std::string name, size_t index) : name_(std::move(name)), index_(index) {}
  Account(const Account&) = delete;
  Account& operator=(const Account&) = delete;

  const std::string& name() const { return name_; }
  size_t index() const { return index_; }
  Sublist& sublist() { return sublist_; }
  // When the account was set up (/accountz update_time).
  absl::Time update_time() const { return update_time_; }

  const std::vector<ConfigExport>& exports() const { return exports_; }
  const std::vector<StreamImport>& stream_imports() const { return stream_imports_; }
  const std::vector<std::unique_ptr<ServiceImport>>& service_imports() const {
    return service_imports_;
  }
  // Reply mappings of requests that reached this account's services.
  ServiceReplies& replies() { return replies_; }

  // The configured limits; none for "$G".
  const AccountLimits& limits() const { return limits_; }
  // The account's subject mappings; nullptr when it has none, so the
  // publish path pays one compare.
  const SubjectMappings* mappings() const { return mappings_.get(); }
  // Counts one more connection of the account; false (and nothing counted)
  // when it already has max_connections. Each true is paired with a
  // RemoveConnection when that connection leaves the account.
  bool AddConnection();
  void RemoveConnection() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  int32_t num_connections() const { return connections_.load(std::memory_order_relaxed); }
  // Whether a "maximum subscriptions exceeded" may be logged now: once per
  // 2 s per account, as the reference (the -ERR is sent every time).
  bool ShouldLogMaxSubs();

 private:
  friend class Accounts;  // fills in exports and imports at start

  const std::string name_;
  const size_t index_;
  const absl::Time update_time_ = absl::Now();
  Sublist sublist_;
  AccountLimits limits_;
  std::unique_ptr<const SubjectMappings> mappings_;
  std::atomic<int32_t> connections_{0};
  std::atomic<int64_t> last_max_subs_log_ns_{0};
  std::vector<ConfigExport> exports_;
  std::vector<StreamImport> stream_imports_;
  // Pointers stay valid: subscriptions in the sublist refer to them.
  std::vector<std::unique_ptr<ServiceImport>> service_imports_;
  ServiceReplies replies_;
};

}  // namespace natsd

#endif  // NATSD_SERVER_ACCOUNT_H_
