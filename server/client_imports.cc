// Client's cross-account routing: how a message crosses from one account
// into another, and only through an import (account.h).
//
// Stream imports work by shadow subscriptions. When a client subscribes in
// an account that imports streams, each import whose local subject the
// subscription overlaps gets a shadow in the exporting account's sublist:
// a ClientSub of kind kStreamImport on the exporter's subject, with the
// same queue group, pointing at the client's own subscription. A message
// published in the exporter that matches the shadow is renamed to the
// local subject and delivered to the client as if it had matched there.
//
// Service imports work by one subscription per import in the importing
// account (kServiceImport, made at start by Accounts) on the local subject.
// A request that matches it is renamed to the exporter's subject, gets a
// "_R_." reply tracked by the exporter's ServiceReplies and the
// Nats-Request-Info header, and is routed in the exporter. The exporter's
// "_R_.<prefix>.>" subscription (kServiceResponse) sends each response
// back to the importer on the requester's reply.
//
// All of it runs on the publisher's loop thread, like RouteMessage. Routing
// into another account matches its sublist directly (shared cache, shard
// reader lock) rather than the worker's per-account cache: a nested route
// must not invalidate a result an outer one is still iterating.
#include <optional>
#include <string>
#include <string_view>

#include "fmt/format.h"
#include "protocol/subject.h"
#include "server/account.h"
#include "server/client.h"

namespace natsd {
namespace {

// Imports a message may cross before it is dropped: the configuration
// refuses cycles, this bounds what it cannot see (responses that meet
// another import).
constexpr int kMaxImportHops = 8;

constexpr std::string_view kRequestInfoHeader = "Nats-Request-Info";

// The subject of `sub`'s shadow for `im`, in the exporter: narrowed to what
// the subscription can receive where the renaming can be undone, else the
// whole imported subject (deliveries are filtered by the subscription's
// subject anyway).
std::string ShadowSubject(std::string_view subject, const StreamImport& im) {
  if (!SubjectIsSubsetOf(subject, im.to)) return im.subject;
  if (im.to == im.subject) return std::string(subject);
  if (!im.prefix.empty()) {
    // to = prefix.subject: drop the prefix's tokens.
    const size_t skip = NumTokens(im.to) - NumTokens(im.subject);
    std::string_view rest = subject;
    for (size_t i = 0; i < skip; ++i) rest.remove_prefix(rest.find('.') + 1);
    return std::string(rest);
  }
  return im.subject;
}

}  // namespace

void Client::AddShadows(const std::shared_ptr<ClientSub>& sub) {
  for (const StreamImport& im : account_->stream_imports()) {
    if (!SubjectsCollide(sub->subject, im.to)) continue;
    auto shadow = std::make_shared<ClientSub>();
    shadow->kind = ClientSub::Kind::kStreamImport;
    shadow->account = im.exporter;
    shadow->subject = ShadowSubject(sub->subject, im);
    shadow->queue = sub->queue;
    shadow->sid = sub->sid;
    shadow->origin = sub;
    shadow->stream_import = &im;
    if (im.exporter->sublist().Insert(shadow).ok()) sub->shadows.push_back(std::move(shadow));
  }
}

void Client::RemoveShadows(ClientSub& sub) {
  for (std::shared_ptr<ClientSub>& shadow : sub.shadows) {
    (void)shadow->account->sublist().Remove(shadow);
  }
  // Breaks the origin -> shadow -> origin cycle without touching the
  // shadows, which publishers may still be reading: each keeps its origin
  // (closed by now, so it delivers nothing) until the last result holding
  // it is dropped.
  sub.shadows.clear();
}

bool Client::RouteImport(ClientSub& sub, const Message& msg, int hops) {
  switch (sub.kind) {
    case ClientSub::Kind::kStreamImport: {
      // A publisher may still hold a result with a removed shadow: its
      // origin is then closed, and Deliver refuses it.
      ClientSub* origin = sub.origin.get();
      if (origin->closed.load(std::memory_order_relaxed)) return false;
      const std::string subject = sub.stream_import->mapping.Apply(msg.subject);
      if (!SubjectMatches(origin->subject, subject)) return false;
      Message renamed = msg;
      renamed.subject = subject;
      return origin->client->Deliver(*origin, renamed, *this);
    }
    case ClientSub::Kind::kServiceImport:
      return ForwardRequest(*sub.service_import, msg, hops);
    case ClientSub::Kind::kServiceResponse:
      return ForwardResponse(*sub.account, msg, hops);
    case ClientSub::Kind::kClient:
      break;
  }
  return sub.client->Deliver(sub, msg, *this);
}

bool Client::ForwardRequest(const ServiceImport& si, const Message& msg, int hops) {
  if (hops >= kMaxImportHops) return false;
  Account& exporter = *si.exporter;
  const absl::Time now = absl::Now();
  std::string reply;
  if (!msg.reply.empty()) {
    reply = exporter.replies().Track(si.importer, msg.reply, si.response_type,
                                     si.response_threshold, now);
  }
  std::string subject = si.mapping.Apply(msg.subject);
  // The exporter's own mappings apply to what reaches it, as in the reference.
  if (const SubjectMappings* m = exporter.mappings(); m != nullptr) {
    if (std::optional<std::string> to = m->Select(subject)) subject = *std::move(to);
  }

  // The reference tells the responder who asks: the requesting account and
  // the requester's round-trip time, in a header added to the request (kept
  // as it is when the request already crossed an import).
  std::string payload;
  std::string header_size, total_size;
  Message forwarded = msg;
  forwarded.subject = subject;
  forwarded.reply = reply;
  if (hops == 0) {
    const int64_t rtt = absl::ToInt64Nanoseconds(rtt_);
    const std::string info =
        rtt > 0 ? fmt::format("{}: {{\"acc\":\"{}\",\"rtt\":{}}}\r\n", kRequestInfoHeader,
                              si.importer->name(), rtt)
                : fmt::format("{}: {{\"acc\":\"{}\"}}\r\n", kRequestInfoHeader,
                              si.importer->name());
    std::string_view headers = "NATS/1.0\r\n\r\n";
    std::string_view body = msg.payload;
    if (msg.header_len > 0) {
      headers = msg.payload.substr(0, msg.header_len);
      body.remove_prefix(msg.header_len);
    }
    // The new header goes before the blank line that ends the block.
    payload = fmt::format("{}{}\r\n{}", headers.substr(0, headers.size() - 2), info, body);
    forwarded.header_len = static_cast<int64_t>(payload.size() - body.size());
    header_size = fmt::format("{}", forwarded.header_len);
    total_size = fmt::format("{}", payload.size());
    forwarded.payload = payload;
    forwarded.header_size = header_size;
    forwarded.total_size = total_size;
  }
  SublistResultPtr result = exporter.sublist().Match(subject);
  if (!DeliverResult(*result, forwarded, hops + 1) && !reply.empty()) {
    exporter.replies().Forget(reply);
  }
  // As in the reference, the import itself counts as interest: the
  // requester gets no "no responders" status from here.
  return true;
}

bool Client::ForwardResponse(Account& exporter, const Message& msg, int hops) {
  if (hops >= kMaxImportHops) return false;
  std::optional<ServiceReplies::Target> target =
      exporter.replies().Resolve(msg.subject, absl::Now());
  if (!target.has_value()) return false;
  Message response = msg;
  response.subject = target->reply;
  // A reply subject of the exporter means nothing in the importer.
  response.reply = {};
  SublistResultPtr result = target->importer->sublist().Match(target->reply);
  return DeliverResult(*result, response, hops + 1);
}

}  // namespace natsd
