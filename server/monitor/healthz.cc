// /healthz: {"status":"ok"} once the server accepts clients. natsd has no
// JetStream, so the JetStream options (js-enabled, js-enabled-only,
// js-server-only) are validated and have nothing further to check, as in the
// reference when JetStream is not configured.
#include "server/monitor/json_util.h"
#include "server/monitor/monitor.h"

namespace natsd {

using namespace monitor;  // NOLINT: the JSON helpers of this folder

HttpResponse Monitor::Healthz(const HttpRequest& req) {
  bool flag = false;
  for (const char* p : {"js-enabled", "js-enabled-only", "js-server-only"}) {
    if (auto e = ParseBoolParam(req, p, &flag)) return e->response;
  }
  // The monitor starts after the client listener, so a server that answers
  // here is ready for connections. Compact JSON, as the reference sends.
  return JsonResponse(req, "{\"status\":\"ok\"}");
}

}  // namespace natsd
