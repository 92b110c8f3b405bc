// Helpers shared by the monitoring endpoints: JSON in the reference's shape
// (Go's json.MarshalIndent with two spaces), its time, duration and number
// formats, and its query-parameter parsing (strconv.ParseBool / Atoi with the
// same error texts, since they are the 400 bodies).
//
// Thread-safety: stateless functions.
#ifndef NATSD_SERVER_MONITOR_JSON_UTIL_H_
#define NATSD_SERVER_MONITOR_JSON_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "fmt/format.h"
#include "protocol/sublist.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
#include "server/conn_info.h"
#include "server/monitor/http_server.h"

namespace natsd::monitor {

using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

// A writer indenting like Go's MarshalIndent(v, "", "  ").
inline void IndentLikeGo(JsonWriter& w) { w.SetIndent(' ', 2); }

inline void Key(JsonWriter& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}
inline void String(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void KeyString(JsonWriter& w, std::string_view k, std::string_view v) {
  Key(w, k);
  String(w, v);
}
inline void KeyInt(JsonWriter& w, std::string_view k, int64_t v) {
  Key(w, k);
  w.Int64(v);
}
inline void KeyUint(JsonWriter& w, std::string_view k, uint64_t v) {
  Key(w, k);
  w.Uint64(v);
}
inline void KeyBool(JsonWriter& w, std::string_view k, bool v) {
  Key(w, k);
  w.Bool(v);
}
// Go prints a float64 without a fraction when it has none ("2", not "2.0").
void Float(JsonWriter& w, double v);
inline void KeyFloat(JsonWriter& w, std::string_view k, double v) {
  Key(w, k);
  Float(w, v);
}

// RFC 3339 with nanoseconds, trailing zeros trimmed, UTC (Go's time.Time).
std::string GoTime(absl::Time t);
inline void KeyTime(JsonWriter& w, std::string_view k, absl::Time t) {
  KeyString(w, k, GoTime(t));
}
// The reference's uptime/idle format: "1y2d3h4m5s", whole seconds.
std::string FormatUptime(absl::Duration d);

// Query parameters, as the reference decodes them. An absent or empty
// parameter is the default; a bad one yields the 400 answer to send.
struct ParamError {
  HttpResponse response;
};
std::optional<ParamError> ParseBoolParam(const HttpRequest& req,
                                         std::string_view name, bool* out);
std::optional<ParamError> ParseIntParam(const HttpRequest& req,
                                        std::string_view name, int64_t* out);
std::optional<ParamError> ParseUintParam(const HttpRequest& req,
                                         std::string_view name, uint64_t* out);

// The process's resident set size in bytes (/proc/self/statm).
int64_t ResidentMemoryBytes();

// The body as JSON, or as JSONP when the request has `callback`.
HttpResponse JsonResponse(const HttpRequest& req, std::string body);

// One entry of a subscriptions_list, as /connz and /subsz write it; the
// account name only where the reference includes it (/subsz).
void WriteSub(JsonWriter& w, const SubInfo& s, const std::string* account);

// A sublist's statistics (num_subscriptions ... avg_fanout), as /subsz and
// /accountz's sublist_stats write them.
void WriteSublistStats(JsonWriter& w, const Sublist::Stats& st);

}  // namespace natsd::monitor

#endif  // NATSD_SERVER_MONITOR_JSON_UTIL_H_
