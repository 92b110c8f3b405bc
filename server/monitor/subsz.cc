// /subsz (alias /subscriptionsz): the subject trie's statistics and, with
// subs=1, its subscriptions (paged, optionally only those matching `test`).
#include "protocol/subject.h"
#include "server/account.h"
#include "server/client.h"
#include "server/monitor/json_util.h"
#include "server/monitor/monitor.h"
#include "server/server.h"

namespace natsd {

using namespace monitor;  // NOLINT: the JSON helpers of this folder

namespace {

// The reference's DefaultSubListSize.
constexpr int64_t kDefaultSubListSize = 1024;

}  // namespace

HttpResponse Monitor::Subsz(const HttpRequest& req) {
  bool detail = false;
  int64_t offset = 0, limit = 0;
  if (auto e = ParseBoolParam(req, "subs", &detail)) return e->response;
  if (auto e = ParseIntParam(req, "offset", &offset)) return e->response;
  if (auto e = ParseIntParam(req, "limit", &limit)) return e->response;
  offset = std::max<int64_t>(offset, 0);
  if (limit <= 0) limit = kDefaultSubListSize;
  const std::string test = req.Query("test");
  if (!test.empty() && !IsValidLiteralSubject(test)) {
    return HttpResponse::Text(
        400, fmt::format("invalid test subject, must be valid publish subject: {}", test));
  }
  // Like the reference: every account's statistics added up, or only those
  // of `acc`.
  const std::string acc = req.Query("acc");
  Sublist::Stats stats{};
  std::vector<SubInfo> subs;
  std::vector<const std::string*> sub_accounts;  // parallel to subs
  for (const auto& account : server_.accounts().all()) {
    if (!acc.empty() && acc != account->name()) continue;
    stats.Add(account->sublist().stats());
    if (!detail) continue;
    account->sublist().ForEach([&](const SubscriptionPtr& p) {
      const auto& sub = static_cast<const ClientSub&>(*p);
      if (!test.empty() && !SubjectMatches(sub.subject, test)) return;
      // Subscriptions in the trie still hold their client (the link is cut
      // only after removal); a stream import's shadow has none.
      if (sub.client == nullptr) return;
      SubInfo& s = subs.emplace_back();
      s.subject = sub.subject;
      s.queue = sub.queue;
      s.sid = sub.sid;
      s.msgs = sub.delivered.load(std::memory_order_relaxed);
      s.max = sub.max.load(std::memory_order_relaxed);
      s.cid = sub.client->cid();
      sub_accounts.push_back(&account->name());
    });
  }
  const size_t first = std::min<size_t>(static_cast<size_t>(offset), subs.size());
  const size_t last = std::min<size_t>(first + static_cast<size_t>(limit), subs.size());

  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  IndentLikeGo(w);
  w.StartObject();
  if (first == last) {
    // Like the reference: without a subscription list, only the statistics.
    WriteSublistStats(w, stats);
  } else {
    KeyString(w, "server_id", server_.server_id());
    KeyTime(w, "now", absl::Now());
    WriteSublistStats(w, stats);
    KeyUint(w, "total", last - first);
    KeyInt(w, "offset", offset);
    KeyInt(w, "limit", limit);
    Key(w, "subscriptions_list");
    w.StartArray();
    for (size_t i = first; i < last; ++i) {
      WriteSub(w, subs[i], sub_accounts[i]);
    }
    w.EndArray();
  }
  w.EndObject();
  return JsonResponse(req, std::string(buf.GetString(), buf.GetSize()));
}

}  // namespace natsd
