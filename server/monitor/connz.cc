// /connz: open and closed client connections, sorted and paged like the
// reference (sort, limit, offset, subs, subs=detail, auth, state, cid).
#include <algorithm>
#include <functional>

#include "absl/strings/ascii.h"
#include "server/account.h"
#include "server/monitor/json_util.h"
#include "server/monitor/monitor.h"
#include "server/options.h"
#include "server/server.h"

namespace natsd {

using namespace monitor;  // NOLINT: the JSON helpers of this folder

namespace {

// The reference's DefaultConnListSize.
constexpr int64_t kDefaultConnListSize = 1024;

enum class ConnState { kOpen, kClosed, kAll };

using Less = std::function<bool(const ConnInfo*, const ConnInfo*)>;

// The reference's sort options: ascending by cid/start and reason, otherwise
// the largest (most recent, most idle...) first.
std::optional<Less> SortBy(std::string_view opt, absl::Time now) {
  if (opt.empty() || opt == "cid" || opt == "start") {
    return Less([](auto* a, auto* b) { return a->cid < b->cid; });
  }
  if (opt == "subs") return Less([](auto* a, auto* b) { return a->num_subs > b->num_subs; });
  if (opt == "pending") {
    return Less([](auto* a, auto* b) { return a->pending_bytes > b->pending_bytes; });
  }
  if (opt == "msgs_to") return Less([](auto* a, auto* b) { return a->out_msgs > b->out_msgs; });
  if (opt == "msgs_from") return Less([](auto* a, auto* b) { return a->in_msgs > b->in_msgs; });
  if (opt == "bytes_to") return Less([](auto* a, auto* b) { return a->out_bytes > b->out_bytes; });
  if (opt == "bytes_from") return Less([](auto* a, auto* b) { return a->in_bytes > b->in_bytes; });
  if (opt == "last") {
    return Less([](auto* a, auto* b) { return a->last_activity > b->last_activity; });
  }
  if (opt == "idle") {
    return Less([now](auto* a, auto* b) {
      return now - a->last_activity > now - b->last_activity;
    });
  }
  if (opt == "uptime") {
    // Longest-lived first; a closed connection's uptime ends at its stop.
    return Less([now](auto* a, auto* b) {
      return a->stop.value_or(now) - a->start > b->stop.value_or(now) - b->start;
    });
  }
  if (opt == "stop") {
    return Less([](auto* a, auto* b) {
      return a->stop.value_or(absl::InfinitePast()) > b->stop.value_or(absl::InfinitePast());
    });
  }
  if (opt == "reason") return Less([](auto* a, auto* b) { return a->reason < b->reason; });
  return std::nullopt;
}

void WriteConn(JsonWriter& w, const ConnInfo& c, absl::Time now, bool subs,
               bool subs_detail, bool auth) {
  // A closed connection's uptime and idle time stop with it.
  const absl::Time end = c.stop.value_or(now);
  w.StartObject();
  KeyUint(w, "cid", c.cid);
  KeyString(w, "kind", "Client");
  KeyString(w, "type", "nats");
  KeyString(w, "ip", c.ip);
  KeyInt(w, "port", c.port);
  KeyTime(w, "start", c.start);
  KeyTime(w, "last_activity", c.last_activity);
  if (c.stop.has_value()) {
    KeyTime(w, "stop", *c.stop);
    KeyString(w, "reason", c.reason);
  }
  KeyString(w, "rtt", FormatGoDuration(c.rtt));
  KeyString(w, "uptime", FormatUptime(end - c.start));
  KeyString(w, "idle", FormatUptime(end - c.last_activity));
  KeyInt(w, "pending_bytes", c.pending_bytes);
  KeyUint(w, "in_msgs", c.in_msgs);
  KeyUint(w, "out_msgs", c.out_msgs);
  KeyUint(w, "in_bytes", c.in_bytes);
  KeyUint(w, "out_bytes", c.out_bytes);
  KeyUint(w, "subscriptions", c.num_subs);
  if (!c.name.empty()) KeyString(w, "name", c.name);
  if (!c.lang.empty()) KeyString(w, "lang", c.lang);
  if (!c.version.empty()) KeyString(w, "version", c.version);
  if (!c.tls_version.empty()) KeyString(w, "tls_version", c.tls_version);
  if (!c.tls_cipher_suite.empty()) KeyString(w, "tls_cipher_suite", c.tls_cipher_suite);
  if (auth) {
    if (!c.user.empty()) KeyString(w, "authorized_user", c.user);
    if (!c.account.empty() && c.account != kGlobalAccountName) {
      KeyString(w, "account", c.account);
    }
  }
  if (!c.subs.empty()) {
    if (subs_detail) {
      Key(w, "subscriptions_list_detail");
      w.StartArray();
      for (const SubInfo& s : c.subs) WriteSub(w, s, nullptr);
      w.EndArray();
    } else if (subs) {
      Key(w, "subscriptions_list");
      w.StartArray();
      for (const SubInfo& s : c.subs) String(w, s.subject);
      w.EndArray();
    }
  }
  w.EndObject();
}

}  // namespace

HttpResponse Monitor::Connz(const HttpRequest& req) {
  const std::string sort = req.Query("sort");
  bool auth = false, subs = false;
  const bool subs_detail = absl::AsciiStrToLower(req.Query("subs")) == "detail";
  int64_t offset = 0, limit = 0;
  uint64_t cid = 0;
  if (auto e = ParseBoolParam(req, "auth", &auth)) return e->response;
  if (!subs_detail) {
    if (auto e = ParseBoolParam(req, "subs", &subs)) return e->response;
  }
  if (auto e = ParseIntParam(req, "offset", &offset)) return e->response;
  if (auto e = ParseIntParam(req, "limit", &limit)) return e->response;
  if (auto e = ParseUintParam(req, "cid", &cid)) return e->response;
  ConnState state = ConnState::kOpen;
  if (const std::string s = req.Query("state"); !s.empty()) {
    const std::string lower = absl::AsciiStrToLower(s);
    if (lower == "open") {
      state = ConnState::kOpen;
    } else if (lower == "closed") {
      state = ConnState::kClosed;
    } else if (lower == "any" || lower == "all") {
      state = ConnState::kAll;
    } else {
      return HttpResponse::Text(400, fmt::format("Error decoding state for {}", s));
    }
  }

  const absl::Time now = absl::Now();
  std::optional<Less> less = SortBy(sort, now);
  if (!less.has_value()) {
    return HttpResponse::Text(400, fmt::format("invalid sorting option: {}", sort));
  }
  if ((sort == "stop" || sort == "reason") && state != ConnState::kClosed) {
    return HttpResponse::Text(
        400, fmt::format("sort by {} only valid on closed connections", sort));
  }
  offset = std::max<int64_t>(offset, 0);
  if (limit <= 0) limit = kDefaultConnListSize;
  if (cid > 0) limit = 1;

  std::vector<ConnInfo> open;
  if (state != ConnState::kClosed) {
    absl::StatusOr<std::vector<ConnInfo>> got =
        CollectConnections(subs || subs_detail);
    if (!got.ok()) return HttpResponse::Text(503, std::string(got.status().message()));
    open = *std::move(got);
  }
  std::vector<ConnInfo> closed;
  if (state != ConnState::kOpen) closed = ClosedConnections();
  // As the reference: "total" counts every candidate, even when one cid is
  // asked for.
  const size_t total = open.size() + closed.size();

  std::vector<const ConnInfo*> list;
  if (cid > 0) {
    // The reference looks a cid up among the closed connections when they
    // were asked for (state=closed or all), else among the open ones.
    const std::vector<ConnInfo>& pool = state == ConnState::kOpen ? open : closed;
    for (const ConnInfo& c : pool) {
      if (c.cid == cid) {
        list.push_back(&c);
        break;
      }
    }
  } else {
    for (const ConnInfo& c : open) list.push_back(&c);
    for (const ConnInfo& c : closed) list.push_back(&c);
  }
  std::stable_sort(list.begin(), list.end(), *less);

  const size_t first = std::min<size_t>(static_cast<size_t>(offset), list.size());
  const size_t last = std::min<size_t>(first + static_cast<size_t>(limit), list.size());

  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  IndentLikeGo(w);
  w.StartObject();
  KeyString(w, "server_id", server_.server_id());
  KeyTime(w, "now", now);
  KeyUint(w, "num_connections", last - first);
  KeyUint(w, "total", total);
  KeyInt(w, "offset", offset);
  KeyInt(w, "limit", limit);
  Key(w, "connections");
  w.StartArray();
  for (size_t i = first; i < last; ++i) {
    WriteConn(w, *list[i], now, subs, subs_detail, auth);
  }
  w.EndArray();
  w.EndObject();
  return JsonResponse(req, std::string(buf.GetString(), buf.GetSize()));
}

}  // namespace natsd
