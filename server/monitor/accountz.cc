// /accountz: the accounts, and with ?acc=<name> one account's detail — its
// connections, subscriptions, mappings, exports and imports — in the reference's
// shape. natsd has no internal system account: "system_account" appears
// only when the configuration names one, and no "$SYS" imports are listed.
#include <algorithm>

#include "server/account.h"
#include "server/monitor/json_util.h"
#include "server/monitor/monitor.h"
#include "server/server.h"

namespace natsd {

using namespace monitor;  // NOLINT: the JSON helpers of this folder

namespace {

// "mappings": source -> destinations (cumulative weights), sources in
// sorted order as Go writes a map.
void WriteMappings(JsonWriter& w, const Account& a) {
  if (a.mappings() == nullptr) return;
  auto mappings = a.mappings()->Describe();
  std::sort(mappings.begin(), mappings.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  Key(w, "mappings");
  w.StartObject();
  for (const auto& [src, dests] : mappings) {
    Key(w, src);
    w.StartArray();
    for (const SubjectMappings::Dest& d : dests) {
      w.StartObject();
      KeyString(w, "subject", d.subject);
      KeyInt(w, "weight", d.weight);
      if (!d.cluster.empty()) KeyString(w, "cluster", d.cluster);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

void WriteExports(JsonWriter& w, const Account& a) {
  if (a.exports().empty()) return;
  Key(w, "exports");
  w.StartArray();
  // The reference lists services, then streams.
  for (bool service : {true, false}) {
    for (const ConfigExport& ex : a.exports()) {
      if (ex.service != service) continue;
      w.StartObject();
      KeyString(w, "subject", ex.subject);
      KeyString(w, "type", service ? "service" : "stream");
      if (service) KeyString(w, "response_type", ServiceResponseTypeName(ex.response_type));
      if (ex.accounts.has_value() && !ex.accounts->empty()) {
        Key(w, "approved_accounts");
        w.StartArray();
        for (const std::string& name : *ex.accounts) String(w, name);
        w.EndArray();
      } else if (ex.accounts.has_value()) {
        KeyBool(w, "token_req", true);
      }
      w.EndObject();
    }
  }
  w.EndArray();
}

void WriteImportFlags(JsonWriter& w, bool share) {
  KeyBool(w, "invalid", false);
  KeyBool(w, "share", share);
  KeyBool(w, "tracking", false);
}

void WriteImports(JsonWriter& w, const Account& a) {
  if (a.stream_imports().empty() && a.service_imports().empty()) return;
  Key(w, "imports");
  w.StartArray();
  for (const StreamImport& im : a.stream_imports()) {
    w.StartObject();
    KeyString(w, "subject", im.subject);
    KeyString(w, "account", im.exporter->name());
    KeyString(w, "local_subject", im.to);
    KeyString(w, "type", "stream");
    WriteImportFlags(w, false);
    w.EndObject();
  }
  for (const auto& im : a.service_imports()) {
    w.StartObject();
    KeyString(w, "subject", im->to);
    KeyString(w, "account", im->exporter->name());
    KeyString(w, "to", im->subject);
    KeyString(w, "type", "service");
    WriteImportFlags(w, im->share);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

HttpResponse Monitor::Accountz(const HttpRequest& req) {
  const std::string acc = req.Query("acc");
  Accounts& accounts = server_.accounts();
  Account* account = acc.empty() ? nullptr : accounts.Find(acc);
  if (!acc.empty() && account == nullptr) {
    return HttpResponse::Text(400, fmt::format("Account {} does not exist", acc));
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  IndentLikeGo(w);
  w.StartObject();
  KeyString(w, "server_id", server_.server_id());
  KeyTime(w, "now", absl::Now());
  if (accounts.system_account() != nullptr) {
    KeyString(w, "system_account", accounts.system_account()->name());
  }
  if (account == nullptr) {
    Key(w, "accounts");
    w.StartArray();
    for (const auto& a : accounts.all()) String(w, a->name());
    w.EndArray();
  } else {
    absl::StatusOr<std::vector<ConnInfo>> conns = CollectConnections(/*with_subs=*/false);
    if (!conns.ok()) return HttpResponse::Text(503, std::string(conns.status().message()));
    size_t clients = 0;
    for (const ConnInfo& c : *conns) clients += c.account == account->name();
    const Sublist::Stats st = account->sublist().stats();
    Key(w, "account_detail");
    w.StartObject();
    KeyString(w, "account_name", account->name());
    KeyTime(w, "update_time", account->update_time());
    if (account == accounts.system_account()) KeyBool(w, "is_system", true);
    KeyBool(w, "expired", false);
    KeyBool(w, "complete", true);
    KeyBool(w, "jetstream_enabled", false);
    KeyInt(w, "leafnode_connections", 0);
    KeyUint(w, "client_connections", clients);
    KeyUint(w, "subscriptions", st.subs);
    WriteMappings(w, *account);
    WriteExports(w, *account);
    WriteImports(w, *account);
    Key(w, "sublist_stats");
    w.StartObject();
    WriteSublistStats(w, st);
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
  return JsonResponse(req, std::string(buf.GetString(), buf.GetSize()));
}

}  // namespace natsd
