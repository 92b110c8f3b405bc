// Publish/subscribe permissions of a user, as nats-server 2.9.10 configures
// and enforces them.
//
// Configuration (a user's `permissions`, or `default_permissions`):
//
//   permissions: {
//     publish: ["orders.>", "audit"]                  # list form: allow only these
//     subscribe: { allow: ["orders.*", "work.> workers"],   # "subject queue": that
//                  deny: ["orders.secret"] }          #   queue group only
//     allow_responses: true                           # or { max: 5, expires: "1m" }
//   }
//
// Semantics (the reference's): a missing allow list allows everything, deny
// wins over allow; allow_responses turns the publish allow list into an
// explicit one (empty unless given) and lets the client publish to the reply
// subjects of messages it received, at most `max` times within `expires`.
// A deny clause also filters deliveries to a wider wildcard subscription
// ("foo.>" allowed, "foo.secret" denied: messages on foo.secret are not
// delivered).
//
//   absl::StatusOr<PermissionsConfig> cfg = ParsePermissionsConfig(value);
//   auto perms = Permissions::Compile(*cfg);       // shared by the user's clients
//   ClientPermissions conn_perms(perms);           // one per connection
//   if (!conn_perms.PublishAllowed("orders.new")) SendErr(...);
//
// Thread-safety: Permissions is immutable (its sublists are internally
// synchronized) and shared by every connection of the user. ClientPermissions
// is used from its connection's loop thread, except AllowDelivery, which
// publishers on any thread call.
#ifndef NATSD_SERVER_PERMISSIONS_H_
#define NATSD_SERVER_PERMISSIONS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "protocol/sublist.h"
#include "server/conf_parser.h"

namespace natsd {

// The reference's DEFAULT_ALLOW_RESPONSE_MAX_MSGS / _EXPIRATION.
inline constexpr int64_t kDefaultAllowResponseMaxMsgs = 1;
inline constexpr absl::Duration kDefaultAllowResponseExpiration = absl::Minutes(2);
// Reply subjects tracked per connection before expired ones are pruned (the
// reference's replyPermLimit).
inline constexpr size_t kReplyPermLimit = 4096;

struct SubjectPermissionConfig {
  // nullopt: no allow list (everything allowed). Subscribe entries may be
  // "subject queue".
  std::optional<std::vector<std::string>> allow;
  std::vector<std::string> deny;
};

struct ResponsePermission {
  int64_t max_msgs = kDefaultAllowResponseMaxMsgs;  // <= 0: unlimited
  absl::Duration expires = kDefaultAllowResponseExpiration;  // <= 0: never
};

struct PermissionsConfig {
  std::optional<SubjectPermissionConfig> publish;
  std::optional<SubjectPermissionConfig> subscribe;
  std::optional<ResponsePermission> response;
};

// Interprets a `permissions` value. Errors are InvalidArgument with the
// reference's texts, prefixed with "file:line:col: ".
absl::StatusOr<PermissionsConfig> ParsePermissionsConfig(const ConfValue& value);

// Whether `subject` (which may have wildcards) is within `test`: every
// subject `subject` matches is matched by `test` ("foo.*" is within "foo.>"
// and "*.*", not within "foo.bar").
bool SubjectIsSubsetMatch(std::string_view subject, std::string_view test);

// A user's compiled permissions. Immutable.
class Permissions {
 public:
  static std::shared_ptr<const Permissions> Compile(const PermissionsConfig& config);

  // Whether there is any publish list to check.
  bool has_publish_lists() const { return pub_allow_ != nullptr || pub_deny_ != nullptr; }
  // The publish allow/deny verdict, not counting response permissions.
  bool PublishListsAllow(std::string_view subject) const;
  // The subscribe verdict. Sets *wildcard_in_deny_scope when the subject is
  // a wildcard overlapping a deny clause: deliveries must then be filtered.
  bool CanSubscribe(std::string_view subject, std::string_view queue,
                    bool* wildcard_in_deny_scope) const;
  // Whether a delivery on the literal `subject` hits a subscribe deny clause.
  bool DeliveryDenied(std::string_view subject) const;
  const std::optional<ResponsePermission>& response() const { return response_; }

 private:
  Permissions() = default;

  // Each null when the list is absent. The Sublists are internally
  // synchronized, so const methods may match on them from any thread.
  std::unique_ptr<Sublist> pub_allow_;
  std::unique_ptr<Sublist> pub_deny_;
  std::unique_ptr<Sublist> sub_allow_;
  std::unique_ptr<Sublist> sub_deny_;
  // The subscribe deny entries as written, and the same entries as plain
  // subjects for filtering deliveries.
  std::vector<std::string> sub_deny_entries_;
  std::unique_ptr<Sublist> delivery_deny_;
  std::optional<ResponsePermission> response_;
};

// One connection's view of its user's permissions: the shared rules plus
// the state they need per connection (the reply subjects it may answer, and
// whether deliveries are filtered by deny clauses).
class ClientPermissions {
 public:
  explicit ClientPermissions(std::shared_ptr<const Permissions> perms)
      : perms_(std::move(perms)) {}
  ClientPermissions(const ClientPermissions&) = delete;
  ClientPermissions& operator=(const ClientPermissions&) = delete;

  const std::shared_ptr<const Permissions>& permissions() const { return perms_; }

  // Loop thread. Whether the client may publish to `subject`; counts a use
  // of a granted reply subject.
  bool PublishAllowed(std::string_view subject);
  // Loop thread.
  bool CanSubscribe(std::string_view subject, std::string_view queue);
  // Any thread, before a message is delivered to this connection. False
  // when a deny clause excludes `subject`; otherwise records `reply` as a
  // subject this connection may respond to (with allow_responses).
  bool AllowDelivery(std::string_view subject, std::string_view reply);

 private:
  struct Reply {
    absl::Time received;
    int64_t responses = 0;
  };
  void PruneRepliesLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<const Permissions> perms_;
  std::atomic<bool> filter_deliveries_{false};
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Reply> replies_ ABSL_GUARDED_BY(mu_);
};

}  // namespace natsd

#endif  // NATSD_SERVER_PERMISSIONS_H_
