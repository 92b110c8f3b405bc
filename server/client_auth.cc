// Client's authentication and permission hooks: what a connection may
// publish and subscribe to, as nats-server 2.9.10 enforces it. The rules
// themselves live in permissions.h; this file applies them to a connection
// and sends the reference's violations (the connection stays open).
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

void Client::ApplyReload(const ServerConfig& before, bool auth_changed) {
  if (state_ != State::kOpen) return;
  parser_.set_limits(Parser::Limits{options().max_control_line, options().max_payload});
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
