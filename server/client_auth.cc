// Client's authentication and permission hooks: what a connection may
// publish and subscribe to, as nats-server 2.9.10 enforces it. The rules
// themselves live in permissions.h; this file applies them to a connection
// and sends the reference's violations (the connection stays open).
#include <string>
#include <string_view>

#include "fmt/format.h"
#include "protocol/errors.h"
#include "protocol/subject.h"
#include "server/client.h"
#include "server/logger.h"
#include "server/server.h"

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
  const int max_tokens = server_.options().max_sub_tokens;
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
