// Client's authentication and permission hooks: what a connection may
// publish and subscribe to, as nats-server 2.9.10 enforces it. The rules
// themselves live in permissions.h; this file applies them to a connection
// and sends the reference's violations (the connection stays open). It also
// binds the connection to its account and that account's limits.
#include <algorithm>
#include <string>
#include <string_view>

#include "fmt/format.h"
#include "protocol/errors.h"
#include "protocol/subject.h"
#include "server/accounts.h"
#include "server/auth.h"
#include "server/client.h"
#include "server/logger.h"
#include "server/server.h"
#include "server/worker.h"

namespace natsd {
namespace {

// Prefixes the reference reserves for its own routing: clients may not
// publish to the gateway reply prefix, nor use service-import, JetStream
// ack or gateway reply subjects as their reply.
constexpr std::string_view kGatewayReplyPrefix = "_GR_.";
constexpr std::string_view kServiceReplyPrefix = "_R_.";
constexpr std::string_view kJsAckPrefix = "$JS.ACK.";
// The queue group name the reference keeps for its internal subscribers.
constexpr std::string_view kSysQueueGroup = "_sys_";

// Like the reference, a subject that is only the prefix is not reserved.
bool HasReservedPrefix(std::string_view s, std::string_view prefix) {
  return s.size() > prefix.size() && s.starts_with(prefix);
}

bool IsReservedReply(std::string_view reply) {
  // The reference's length checks differ: the service prefix alone is
  // already reserved.
  return reply.starts_with(kServiceReplyPrefix) ||
         HasReservedPrefix(reply, kJsAckPrefix) ||
         HasReservedPrefix(reply, kGatewayReplyPrefix);
}

}  // namespace

std::string Client::AuthUserForLog() const {
  if (!opts_.nkey.empty()) return fmt::format("Nkey \"{}\"", opts_.nkey);
  if (!auth_user_.empty()) return fmt::format("User \"{}\"", auth_user_);
  if (!opts_.user.empty()) return fmt::format("User \"{}\"", opts_.user);
  return "User \"N/A\"";
}

void Client::AuthViolation() {
  // The reference names the client's claimed identity when the server has
  // NKEY users, else users.
  const Authenticator& auth = *worker_.config().auth;
  if (auth.nonce_required()) {
    Logger::Global().Error("{}authentication error - Nkey \"{}\"", LogPrefix(), opts_.nkey);
  } else if (auth.has_users()) {
    Logger::Global().Error("{}authentication error - User \"{}\"", LogPrefix(), opts_.user);
  } else {
    Logger::Global().Error("{}authentication error", LogPrefix());
  }
  SendErrAndClose(kErrAuthViolation, CloseReason::kAuthenticationViolation);
}

namespace {

// The lower of two limits where -1 is none (the reference's minLimit).
int64_t MinLimit(int64_t a, int64_t b) {
  if (a == -1) return b;
  if (b == -1) return a;
  return std::min(a, b);
}

}  // namespace

bool Client::JoinAccount() {
  if (counted_in_ == account_) return true;
  if (counted_in_ != nullptr) counted_in_->RemoveConnection();
  counted_in_ = nullptr;
  if (!account_->AddConnection()) return false;
  counted_in_ = account_;
  // The server's limits use 0 for none.
  const Options& o = options();
  const AccountLimits& l = account_->limits();
  const int64_t server_pay = o.max_payload == 0 ? -1 : o.max_payload;
  const int64_t server_subs = o.max_subscriptions == 0 ? -1 : o.max_subscriptions;
  max_payload_ = MinLimit(l.max_payload, server_pay);
  max_subs_ = MinLimit(l.max_subscriptions, server_subs);
  if (l.max_payload != -1 && max_payload_ != l.max_payload) {
    Logger::Global().Error("{}Max Payload set to {} from server overrides account or user config",
                           LogPrefix(), o.max_payload);
  }
  if (l.max_subscriptions != -1 && max_subs_ != l.max_subscriptions) {
    Logger::Global().Error(
        "{}Max Subscriptions set to {} from server overrides account or user config",
        LogPrefix(), o.max_subscriptions);
  }
  parser_.set_limits(Parser::Limits{o.max_control_line, max_payload_});
  return true;
}

void Client::CloseMaxAccountConnectionsExceeded() {
  Logger::Global().Error("{}{}", LogPrefix(), kErrMaxAccountConnections);
  SendErrAndClose(kErrMaxAccountConnections, CloseReason::kMaxAccountConnectionsExceeded);
}

void Client::MaxSubsExceeded() {
  if (account_->ShouldLogMaxSubs()) Logger::Global().Error("{}{}", LogPrefix(), kErrMaxSubs);
  SendErr(kErrMaxSubs);
}

void Client::ApplyReload(const ServerConfig& before, bool auth_changed) {
  if (state_ != State::kOpen) return;
  // A new server max_payload replaces every connection's, its account's
  // included, as in the reference.
  if (options().max_payload != before.opts.max_payload) max_payload_ = options().max_payload;
  parser_.set_limits(Parser::Limits{options().max_control_line, max_payload_});
  if (!auth_changed) return;
  auth_required_ = worker_.config().auth->auth_required();
  if (!connect_received_) {
    // Not authenticated yet: the CONNECT to come is checked under the new
    // rules, within the auth timeout if they now require credentials.
    parser_.set_expect_connect(auth_required_);
    if (auth_required_ && auth_timer_ == 0) ArmAuthTimer();
    return;
  }
  const Authenticator& was = *before.auth;
  const Authenticator& now = *worker_.config().auth;
  if ((!opts_.nkey.empty() || !opts_.user.empty()) &&
      (was.has_users() || was.nonce_required())) {
    const std::string* account = now.AccountOf(opts_);
    if (account == nullptr || server_.accounts().Find(*account) != account_) {
      Close(CloseReason::kClientClosed, /*flush=*/false);
      return;
    }
  }
  if (!auth_required_) {
    auth_user_.clear();
    SetPermissions(nullptr);
  } else if (!Authenticate(opts_)) {
    AuthViolation();
    return;
  } else if (!JoinAccount()) {
    CloseMaxAccountConnectionsExceeded();
    return;
  }
  ClientPermissions* perms = perms_.load(std::memory_order_relaxed);
  if (perms == nullptr) return;
  // Subscriptions the new permissions no longer allow (a queue
  // subscription survives if either its subject or its queue is allowed,
  // as in the reference).
  std::vector<std::string> removed;
  for (const auto& [sid, sub] : subs_) {
    if (!perms->CanSubscribe(sub->subject, "") &&
        (sub->queue.empty() || !perms->CanSubscribe(sub->subject, sub->queue))) {
      removed.push_back(sid);
    }
  }
  for (const std::string& sid : removed) {
    auto it = subs_.find(sid);
    const std::string subject = it->second->subject;
    Unsubscribe(it->second);
    subs_.erase(it);
    SendErr(fmt::format(kErrPermSubscribeSidFmt, subject, sid));
    Logger::Global().Notice("Removed sub \"{}\" (sid \"{}\") for {} - not authorized",
                            subject, sid, AuthUserForLog());
  }
}

void Client::SetPermissions(const std::shared_ptr<const Permissions>& perms) {
  if (perms == nullptr) {
    perms_.store(nullptr, std::memory_order_release);
    return;
  }
  for (const std::unique_ptr<ClientPermissions>& p : perms_owned_) {
    if (p->permissions() == perms) {
      perms_.store(p.get(), std::memory_order_release);
      return;
    }
  }
  perms_owned_.push_back(std::make_unique<ClientPermissions>(perms));
  perms_.store(perms_owned_.back().get(), std::memory_order_release);
}

bool Client::CheckPublish(const PubArgs& args) {
  ClientPermissions* perms = perms_.load(std::memory_order_relaxed);
  if (HasReservedPrefix(args.subject, kGatewayReplyPrefix) ||
      (perms != nullptr && !perms->PublishAllowed(args.subject))) {
    SendErr(fmt::format(kErrPermPublishFmt, args.subject));
    Logger::Global().Error("{}Publish Violation - {}, Subject \"{}\"", LogPrefix(),
                           AuthUserForLog(), args.subject);
    return false;
  }
  if (!args.reply.empty() && IsReservedReply(args.reply)) {
    SendErr(fmt::format(kErrPermPublishReplyFmt, args.reply));
    Logger::Global().Error("{}Publish Violation - {}, Reply \"{}\"", LogPrefix(),
                           AuthUserForLog(), args.reply);
    return false;
  }
  return true;
}

bool Client::SubscribeAllowed(std::string_view subject, std::string_view queue,
                              std::string_view sid) {
  ClientPermissions* perms = perms_.load(std::memory_order_relaxed);
  if ((perms != nullptr && !perms->CanSubscribe(subject, queue)) ||
      (!queue.empty() && queue == kSysQueueGroup)) {
    if (queue.empty()) {
      SendErr(fmt::format(kErrPermSubscribeFmt, subject));
      Logger::Global().Error("{}Subscription Violation - {}, Subject \"{}\", SID {}",
                             LogPrefix(), AuthUserForLog(), subject, sid);
    } else {
      SendErr(fmt::format(kErrPermSubscribeQueueFmt, subject, queue));
      Logger::Global().Error(
          "{}Subscription Violation - {}, Subject \"{}\", Queue: \"{}\", SID {}",
          LogPrefix(), AuthUserForLog(), subject, queue, sid);
    }
    return false;
  }
  const int max_tokens = options().max_sub_tokens;
  if (max_tokens > 0 && NumTokens(subject) > static_cast<size_t>(max_tokens)) {
    SendErr(fmt::format(kErrPermSubscribeTokensFmt, subject));
    Logger::Global().Error(
        "{}Subscription Violation Too Many Tokens - {}, Subject \"{}\", SID {}",
        LogPrefix(), AuthUserForLog(), subject, sid);
    return false;
  }
  return true;
}

}  // namespace natsd
