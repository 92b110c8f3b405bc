#include "server/monitor/json_util.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace natsd::monitor {
namespace {

HttpResponse DecodeError(std::string_view kind, std::string_view name,
                         std::string_view func, std::string_view value,
                         bool out_of_range) {
  return HttpResponse::Text(
      400, fmt::format("Error decoding {} for '{}': strconv.{}: parsing \"{}\": {}",
                       kind, name, func, value,
                       out_of_range ? "value out of range" : "invalid syntax"));
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

void Float(JsonWriter& w, double v) {
  if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 1e15) {
    w.Int64(static_cast<int64_t>(v));
  } else {
    w.Double(v);
  }
}

std::string GoTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

std::string FormatUptime(absl::Duration d) {
  const int64_t secs = std::max<int64_t>(0, absl::ToInt64Seconds(d));
  const int64_t mins = secs / 60, hrs = mins / 60, days = hrs / 24,
                yrs = days / 365;
  if (yrs > 0) {
    return fmt::format("{}y{}d{}h{}m{}s", yrs, days % 365, hrs % 24, mins % 60,
                       secs % 60);
  }
  if (days > 0) {
    return fmt::format("{}d{}h{}m{}s", days, hrs % 24, mins % 60, secs % 60);
  }
  if (hrs > 0) return fmt::format("{}h{}m{}s", hrs, mins % 60, secs % 60);
  if (mins > 0) return fmt::format("{}m{}s", mins, secs % 60);
  return fmt::format("{}s", secs);
}

std::optional<ParamError> ParseBoolParam(const HttpRequest& req,
                                         std::string_view name, bool* out) {
  const std::string v = req.Query(name);
  if (v.empty()) return std::nullopt;
  // strconv.ParseBool's spellings.
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" ||
      v == "True") {
    *out = true;
  } else if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" ||
             v == "False") {
    *out = false;
  } else {
    return ParamError{DecodeError("boolean", name, "ParseBool", v, false)};
  }
  return std::nullopt;
}

std::optional<ParamError> ParseIntParam(const HttpRequest& req,
                                        std::string_view name, int64_t* out) {
  const std::string v = req.Query(name);
  if (v.empty()) return std::nullopt;
  std::string_view digits = v;
  if (digits.front() == '+' || digits.front() == '-') digits.remove_prefix(1);
  if (!AllDigits(digits)) {
    return ParamError{DecodeError("int", name, "Atoi", v, false)};
  }
  errno = 0;
  const long long n = std::strtoll(v.c_str(), nullptr, 10);
  if (errno == ERANGE) return ParamError{DecodeError("int", name, "Atoi", v, true)};
  *out = n;
  return std::nullopt;
}

std::optional<ParamError> ParseUintParam(const HttpRequest& req,
                                         std::string_view name, uint64_t* out) {
  const std::string v = req.Query(name);
  if (v.empty()) return std::nullopt;
  if (!AllDigits(v)) {
    return ParamError{DecodeError("uint64", name, "ParseUint", v, false)};
  }
  errno = 0;
  const unsigned long long n = std::strtoull(v.c_str(), nullptr, 10);
  if (errno == ERANGE) {
    return ParamError{DecodeError("uint64", name, "ParseUint", v, true)};
  }
  *out = n;
  return std::nullopt;
}

HttpResponse JsonResponse(const HttpRequest& req, std::string body) {
  const std::string callback = req.Query("callback");
  if (callback.empty()) return HttpResponse::Json(std::move(body));
  return HttpResponse{200, "application/javascript",
                      fmt::format("{}({})", callback, body), {}};
}

void WriteSub(JsonWriter& w, const SubInfo& s, const std::string* account) {
  w.StartObject();
  if (account != nullptr) KeyString(w, "account", *account);
  KeyString(w, "subject", s.subject);
  if (!s.queue.empty()) KeyString(w, "qgroup", s.queue);
  KeyString(w, "sid", s.sid);
  KeyInt(w, "msgs", s.msgs);
  if (s.max != 0) KeyInt(w, "max", s.max);
  KeyUint(w, "cid", s.cid);
  w.EndObject();
}

void WriteSublistStats(JsonWriter& w, const Sublist::Stats& st) {
  KeyUint(w, "num_subscriptions", st.subs);
  KeyUint(w, "num_cache", st.cache_entries);
  KeyUint(w, "num_inserts", st.inserts);
  KeyUint(w, "num_removes", st.removes);
  KeyUint(w, "num_matches", st.matches);
  KeyFloat(w, "cache_hit_rate",
           st.matches > 0 ? static_cast<double>(st.cache_hits) / st.matches : 0);
  KeyUint(w, "max_fanout", st.max_fanout);
  KeyFloat(w, "avg_fanout",
           st.total_fanout > 0
               ? static_cast<double>(st.total_fanout) / st.cache_entries
               : 0);
}

}  // namespace natsd::monitor
