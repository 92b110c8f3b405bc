// The endpoints of subsystems natsd does not have yet, answered exactly as
// the reference answers without them: /routez (no routes) and /jsz
// (JetStream disabled); and the index page.
#include "absl/strings/ascii.h"
#include "server/monitor/json_util.h"
#include "server/monitor/monitor.h"
#include "server/server.h"
#include "server/worker.h"

namespace natsd {

using namespace monitor;  // NOLINT: the JSON helpers of this folder

namespace {

std::string Finish(rapidjson::StringBuffer& buf) {
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

HttpResponse Monitor::Root() {
  // The reference's index: a link per endpoint, relative to the base path.
  std::string links;
  for (const auto& [path, title] : std::initializer_list<std::pair<const char*, const char*>>{
           {"varz", "General"},
           {"jsz", "JetStream"},
           {"connz", "Connections"},
           {"accountz", "Accounts"},
           {"subsz", "Subscriptions"},
           {"routez", "Routes"},
           {"metrics", "Prometheus Metrics"}}) {
    links += fmt::format("\t<a href=./{}>{}</a>\n", path, title);
  }
  std::string body = fmt::format(
      "<html lang=\"en\">\n"
      "\t<head>\n"
      "\t<title>natsd</title>\n"
      "\t<style type=\"text/css\">\n"
      "\t\tbody {{ font-family: ui-sans-serif,system-ui,sans-serif; font-size: 18; "
      "margin-left: 32px }}\n"
      "\t\ta {{ display:block; margin-left: 7px; padding-bottom: 6px; color: rgb(72 72 92); "
      "text-decoration: none }}\n"
      "\t\ta:hover {{ font-weight: 600; color: rgb(59 50 202) }}\n"
      "\t\ta.last {{ padding-bottom: 16px }}\n"
      "\t</style>\n"
      "\t</head>\n"
      "\t<body>\n"
      "\t<h1>natsd</h1>\n"
      "\t<p>v{} (nats-server {} compatible)</p>\n"
      "{}"
      "\t<a href=./healthz class=last>Health Probe</a>\n"
      "\t<a href=https://docs.nats.io/running-a-nats-service/nats_admin/monitoring>Help</a>\n"
      "  </body>\n"
      "</html>\n",
      kNatsdVersion, kCompatibleNatsVersion, links);
  return HttpResponse{200, "text/html; charset=utf-8", std::move(body), {}};
}

HttpResponse Monitor::Routez(const HttpRequest& req) {
  bool subs = false;
  if (absl::AsciiStrToLower(req.Query("subs")) != "detail") {
    if (auto e = ParseBoolParam(req, "subs", &subs)) return e->response;
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  IndentLikeGo(w);
  w.StartObject();
  KeyString(w, "server_id", server_.server_id());
  KeyTime(w, "now", absl::Now());
  KeyInt(w, "num_routes", 0);
  Key(w, "routes");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  return JsonResponse(req, Finish(buf));
}

HttpResponse Monitor::Jsz(const HttpRequest& req) {
  bool flag = false;
  int64_t n = 0;
  for (const char* p : {"accounts", "streams", "consumers", "config"}) {
    if (auto e = ParseBoolParam(req, p, &flag)) return e->response;
  }
  if (auto e = ParseIntParam(req, "offset", &n)) return e->response;
  if (auto e = ParseIntParam(req, "limit", &n)) return e->response;
  if (auto e = ParseBoolParam(req, "leader-only", &flag)) return e->response;
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  IndentLikeGo(w);
  w.StartObject();
  KeyString(w, "server_id", server_.server_id());
  KeyTime(w, "now", absl::Now());
  KeyBool(w, "disabled", true);
  Key(w, "config");
  w.StartObject();
  KeyInt(w, "max_memory", 0);
  KeyInt(w, "max_storage", 0);
  w.EndObject();
  for (const char* k : {"memory", "storage", "reserved_memory", "reserved_storage",
                        "accounts", "ha_assets"}) {
    KeyInt(w, k, 0);
  }
  Key(w, "api");
  w.StartObject();
  KeyInt(w, "total", 0);
  KeyInt(w, "errors", 0);
  w.EndObject();
  for (const char* k : {"streams", "consumers", "messages", "bytes"}) KeyInt(w, k, 0);
  w.EndObject();
  return JsonResponse(req, Finish(buf));
}

}  // namespace natsd
