#include "server/permissions.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "fmt/format.h"
#include "protocol/subject.h"
#include "server/options.h"

namespace natsd {
namespace {

absl::Status ConfError(const SourcePos& pos, std::string_view msg) {
  return absl::InvalidArgumentError(fmt::format("{}: {}", pos.ToString(), msg));
}

// An entry is a subject, or "subject queue" (subscribe queue permissions).
absl::Status CheckPermSubject(const ConfValue& at, const std::string& s) {
  if (IsValidSubject(s)) return absl::OkStatus();
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && absl::ascii_isspace(static_cast<unsigned char>(s[i]))) ++i;
    const size_t start = i;
    while (i < s.size() && !absl::ascii_isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) fields.push_back(std::string_view(s).substr(start, i - start));
  }
  if (fields.size() != 2) {
    return ConfError(at.pos(), fmt::format("subject \"{}\" is not a valid subject", s));
  }
  if (!IsValidSubject(fields[0])) {
    return ConfError(at.pos(),
                     fmt::format("subject \"{}\" is not a valid subject", fields[0]));
  }
  return absl::OkStatus();
}

// A subject or an array of subjects. An empty array gives no list at all,
// as in the reference (a nil slice).
absl::StatusOr<std::optional<std::vector<std::string>>> ParsePermSubjects(
    const ConfValue& v) {
  std::vector<std::string> subjects;
  if (const auto* s = v.get_if<std::string>()) {
    subjects.push_back(*s);
  } else if (const auto* a = v.get_if<ConfValue::Array>()) {
    for (const ConfValue& item : *a) {
      const auto* s = item.get_if<std::string>();
      if (s == nullptr) {
        return ConfError(item.pos(), "Subject in permissions array cannot be cast to string");
      }
      subjects.push_back(*s);
    }
  } else {
    return ConfError(v.pos(), fmt::format("Expected subject permissions to be a subject, "
                                          "or array of subjects, got {}",
                                          v.GoTypeName()));
  }
  for (const std::string& s : subjects) {
    if (absl::Status st = CheckPermSubject(v, s); !st.ok()) return st;
  }
  if (subjects.empty()) return std::optional<std::vector<std::string>>();
  return std::optional<std::vector<std::string>>(std::move(subjects));
}

// The list form (allow only) or { allow, deny }. An empty map is no
// permission at all.
absl::StatusOr<std::optional<SubjectPermissionConfig>> ParseVariablePermissions(
    const ConfValue& v) {
  SubjectPermissionConfig p;
  if (const auto* m = v.get_if<ConfValue::Map>()) {
    if (m->empty()) return std::optional<SubjectPermissionConfig>();
    for (const ConfEntry& e : *m) {
      const std::string key = absl::AsciiStrToLower(e.key);
      if (key == "allow" || key == "deny") {
        absl::StatusOr<std::optional<std::vector<std::string>>> subjects =
            ParsePermSubjects(e.value);
        if (!subjects.ok()) return subjects.status();
        if (key == "allow") {
          p.allow = *std::move(subjects);
        } else {
          p.deny = subjects->value_or(std::vector<std::string>());
        }
      } else if (!e.used_as_variable) {
        return ConfError(e.key_pos,
                         fmt::format("Unknown field name \"{}\" parsing subject "
                                     "permissions, only 'allow' or 'deny' are permitted",
                                     e.key));
      }
    }
    return std::optional<SubjectPermissionConfig>(std::move(p));
  }
  absl::StatusOr<std::optional<std::vector<std::string>>> subjects = ParsePermSubjects(v);
  if (!subjects.ok()) return subjects.status();
  p.allow = *std::move(subjects);
  return std::optional<SubjectPermissionConfig>(std::move(p));
}

absl::StatusOr<ResponsePermission> ParseAllowResponses(const ConfValue& v) {
  const auto* m = v.get_if<ConfValue::Map>();
  if (m == nullptr) {
    return ConfError(v.pos(), "error parsing response permissions, expected a boolean or a map");
  }
  ResponsePermission rp;
  for (const ConfEntry& e : *m) {
    const std::string key = absl::AsciiStrToLower(e.key);
    if (key == "max" || key == "max_msgs" || key == "max_messages" ||
        key == "max_responses") {
      const auto* n = e.value.get_if<int64_t>();
      if (n == nullptr) {
        return ConfError(e.value.pos(), fmt::format("interface conversion: interface {{}} "
                                                    "is {}, not int64",
                                                    e.value.GoTypeName()));
      }
      // Negative means unlimited; 0 keeps the default.
      if (*n != 0) rp.max_msgs = *n;
    } else if (key == "expires" || key == "expiration" || key == "ttl") {
      const auto* s = e.value.get_if<std::string>();
      if (s == nullptr) {
        return ConfError(e.value.pos(), "error parsing expires, not a duration string");
      }
      absl::StatusOr<absl::Duration> ttl = ParseGoDuration(*s);
      if (!ttl.ok()) {
        return ConfError(e.value.pos(), fmt::format("error parsing expires: {}",
                                                    std::string(ttl.status().message())));
      }
      // Negative means never; 0 keeps the default.
      if (*ttl != absl::ZeroDuration()) rp.expires = *ttl;
    } else if (!e.used_as_variable) {
      return ConfError(e.key_pos,
                       fmt::format("Unknown field \"{}\" parsing permissions", e.key));
    }
  }
  return rp;
}

std::unique_ptr<Sublist> BuildSublist(const std::vector<std::string>& entries,
                                      bool split_queue) {
  auto sl = std::make_unique<Sublist>();
  for (const std::string& entry : entries) {
    auto sub = std::make_shared<Subscription>();
    std::string_view s = entry;
    // "subject queue": a queue group permission (subscribe lists only).
    const size_t space = s.find_first_of(" \t");
    if (split_queue && space != std::string_view::npos) {
      sub->subject = std::string(s.substr(0, space));
      std::string_view q = s.substr(space);
      while (!q.empty() && (q.front() == ' ' || q.front() == '\t')) q.remove_prefix(1);
      while (!q.empty() && (q.back() == ' ' || q.back() == '\t')) q.remove_suffix(1);
      sub->queue = std::string(q);
    } else {
      sub->subject = entry;
    }
    // Entries were validated when the configuration was read; a duplicate
    // entry is simply another subscription object.
    (void)sl->Insert(std::move(sub));
  }
  return sl;
}

// The reference's queueMatches: whether `queue` is one of the queue groups
// of a permission match (a wildcard queue name covers matching names).
bool QueueMatches(std::string_view queue, const SublistResult& r) {
  if (r.qsubs.empty()) return true;
  for (const std::vector<SubscriptionPtr>& group : r.qsubs) {
    const std::string& name = group.front()->queue;
    if (queue == name || (!SubjectIsLiteral(name) && SubjectIsSubsetMatch(queue, name))) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<PermissionsConfig> ParsePermissionsConfig(const ConfValue& value) {
  const auto* m = value.get_if<ConfValue::Map>();
  if (m == nullptr) {
    return ConfError(value.pos(), fmt::format("Expected permissions to be a map/struct, got {}",
                                              value.GoValue()));
  }
  PermissionsConfig p;
  for (const ConfEntry& e : *m) {
    const std::string key = absl::AsciiStrToLower(e.key);
    if (key == "pub" || key == "publish" || key == "import" || key == "sub" ||
        key == "subscribe" || key == "export") {
      absl::StatusOr<std::optional<SubjectPermissionConfig>> sp =
          ParseVariablePermissions(e.value);
      if (!sp.ok()) return sp.status();
      const bool publish = key == "pub" || key == "publish" || key == "import";
      (publish ? p.publish : p.subscribe) = *std::move(sp);
    } else if (key == "publish_allow_responses" || key == "allow_responses") {
      if (const bool* b = e.value.get_if<bool>()) {
        if (*b) p.response = ResponsePermission();
      } else {
        absl::StatusOr<ResponsePermission> rp = ParseAllowResponses(e.value);
        if (!rp.ok()) return rp.status();
        p.response = *rp;
      }
    } else if (!e.used_as_variable) {
      return ConfError(e.key_pos,
                       fmt::format("Unknown field \"{}\" parsing permissions", e.key));
    }
  }
  if (p.response.has_value()) {
    // Responses are the exception to an explicit publish allow list: without
    // one, the user may publish nothing else.
    if (!p.publish.has_value()) p.publish.emplace();
    if (!p.publish->allow.has_value()) p.publish->allow.emplace();
  }
  return p;
}

bool SubjectIsSubsetMatch(std::string_view subject, std::string_view test) {
  const SubjectTokens tokens = TokenizeSubject(subject);
  const SubjectTokens tests = TokenizeSubject(test);
  for (size_t i = 0; i < tests.size(); ++i) {
    const std::string_view t2 = tests[i];
    if (i >= tokens.size() || t2.empty()) return false;
    if (t2 == kFullWildcard) return true;
    const std::string_view t1 = tokens[i];
    if (t1.empty() || t1 == kFullWildcard) return false;
    if (t1 == kPartialWildcard) {
      if (t2 != kPartialWildcard) return false;
      continue;
    }
    if (t2 != kPartialWildcard && t1 != t2) return false;
  }
  return tokens.size() == tests.size();
}

std::shared_ptr<const Permissions> Permissions::Compile(const PermissionsConfig& config) {
  std::shared_ptr<Permissions> p(new Permissions());
  if (config.publish.has_value()) {
    // An explicit allow list, even empty, restricts publishing; deny only
    // when it has entries.
    if (config.publish->allow.has_value()) {
      p->pub_allow_ = BuildSublist(*config.publish->allow, /*split_queue=*/false);
    }
    if (!config.publish->deny.empty()) {
      p->pub_deny_ = BuildSublist(config.publish->deny, /*split_queue=*/false);
    }
  }
  if (config.subscribe.has_value()) {
    // Unlike publish, an empty subscribe allow list allows everything.
    if (config.subscribe->allow.has_value() && !config.subscribe->allow->empty()) {
      p->sub_allow_ = BuildSublist(*config.subscribe->allow, /*split_queue=*/true);
    }
    if (!config.subscribe->deny.empty()) {
      p->sub_deny_ = BuildSublist(config.subscribe->deny, /*split_queue=*/true);
      p->sub_deny_entries_ = config.subscribe->deny;
      // As the reference, the entries as written: a "subject queue" entry
      // never matches a published subject.
      p->delivery_deny_ = BuildSublist(config.subscribe->deny, /*split_queue=*/false);
    }
  }
  p->response_ = config.response;
  return p;
}

bool Permissions::PublishListsAllow(std::string_view subject) const {
  bool allowed = true;
  if (pub_allow_ != nullptr) allowed = !pub_allow_->Match(subject)->psubs.empty();
  if (allowed && pub_deny_ != nullptr) allowed = pub_deny_->Match(subject)->psubs.empty();
  return allowed;
}

bool Permissions::CanSubscribe(std::string_view subject, std::string_view queue,
                               bool* wildcard_in_deny_scope) const {
  bool allowed = true;
  if (sub_allow_ != nullptr) {
    SublistResultPtr r = sub_allow_->Match(subject);
    allowed = !r->psubs.empty();
    // A queue named in the allow list is what decides for queue subscribers.
    if (!queue.empty() && !r->qsubs.empty()) allowed = QueueMatches(queue, *r);
  }
  if (allowed && sub_deny_ != nullptr) {
    SublistResultPtr r = sub_deny_->Match(subject);
    allowed = r->psubs.empty();
    // The reference lets a queue not named by the deny list's queue entries
    // through, even when the plain subject is denied too.
    if (!queue.empty() && !r->qsubs.empty()) allowed = !QueueMatches(queue, *r);
    if (allowed && !SubjectIsLiteral(subject)) {
      for (const std::string& deny : sub_deny_entries_) {
        if (SubjectIsSubsetMatch(deny, subject)) {
          *wildcard_in_deny_scope = true;
          break;
        }
      }
    }
  }
  return allowed;
}

bool Permissions::DeliveryDenied(std::string_view subject) const {
  return delivery_deny_ != nullptr && !delivery_deny_->Match(subject)->psubs.empty();
}

bool ClientPermissions::PublishAllowed(std::string_view subject) {
  if (!perms_->has_publish_lists()) return true;
  if (perms_->PublishListsAllow(subject)) return true;
  const std::optional<ResponsePermission>& rp = perms_->response();
  if (!rp.has_value()) return false;
  absl::MutexLock lock(&mu_);
  auto it = replies_.find(absl::string_view(subject.data(), subject.size()));
  if (it == replies_.end()) return false;
  Reply& r = it->second;
  ++r.responses;
  if ((rp->max_msgs > 0 && r.responses > rp->max_msgs) ||
      (rp->expires > absl::ZeroDuration() && absl::Now() - r.received > rp->expires)) {
    replies_.erase(it);
    return false;
  }
  return true;
}

bool ClientPermissions::CanSubscribe(std::string_view subject, std::string_view queue) {
  bool in_deny_scope = false;
  const bool allowed = perms_->CanSubscribe(subject, queue, &in_deny_scope);
  // Deny clauses do not refuse a wider wildcard subscription; from now on
  // every delivery to this connection is checked against them instead.
  if (in_deny_scope) filter_deliveries_.store(true, std::memory_order_release);
  return allowed;
}

bool ClientPermissions::AllowDelivery(std::string_view subject, std::string_view reply) {
  if (filter_deliveries_.load(std::memory_order_acquire) &&
      perms_->DeliveryDenied(subject)) {
    return false;
  }
  if (!reply.empty() && perms_->response().has_value()) {
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    replies_.insert_or_assign(std::string(reply), Reply{now, 0});
    if (replies_.size() > kReplyPermLimit) PruneRepliesLocked(now);
  }
  return true;
}

void ClientPermissions::PruneRepliesLocked(absl::Time now) {
  const ResponsePermission& rp = *perms_->response();
  absl::erase_if(replies_, [&](const auto& kv) {
    const Reply& r = kv.second;
    return (rp.max_msgs > 0 && r.responses >= rp.max_msgs) ||
           (rp.expires > absl::ZeroDuration() && now - r.received > rp.expires);
  });
}

}  // namespace natsd
