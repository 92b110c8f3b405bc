// Internal to protocol/: decoding JSON object members into C++ fields with
// the semantics of Go's encoding/json, which the reference uses for CONNECT
// and INFO. Include only from connect.cc and info.cc.
//
// Go's rules mirrored here: keys match field names case-insensitively; null
// leaves a scalar unchanged but resets a slice or pointer; a value of the
// wrong JSON type is an error; 1.0 and 1e0 are not integers.
#ifndef NATSD_PROTOCOL_JSON_FIELDS_H_
#define NATSD_PROTOCOL_JSON_FIELDS_H_

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "protocol/connect.h"

namespace natsd::json_fields {

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x += 'a' - 'A';
    if (y >= 'A' && y <= 'Z') y += 'a' - 'A';
    if (x != y) return false;
  }
  return true;
}

inline std::string_view View(const rapidjson::Value& v) {
  return {v.GetString(), v.GetStringLength()};
}

// `what` names the protocol ("CONNECT", "INFO") in error messages.
inline absl::Status TypeError(std::string_view what, std::string_view key, std::string_view want) {
  return absl::InvalidArgumentError(fmt::format("{} field \"{}\" must be {}", what, key, want));
}

inline absl::Status Decode(std::string_view what, std::string_view key, const rapidjson::Value& v,
                           bool& out) {
  if (v.IsNull()) return absl::OkStatus();
  if (!v.IsBool()) return TypeError(what, key, "a boolean");
  out = v.GetBool();
  return absl::OkStatus();
}

inline absl::Status Decode(std::string_view what, std::string_view key, const rapidjson::Value& v,
                           std::string& out) {
  if (v.IsNull()) return absl::OkStatus();
  if (!v.IsString()) return TypeError(what, key, "a string");
  out.assign(v.GetString(), v.GetStringLength());
  return absl::OkStatus();
}

inline absl::Status Decode(std::string_view what, std::string_view key, const rapidjson::Value& v,
                           int64_t& out) {
  if (v.IsNull()) return absl::OkStatus();
  // RapidJSON reads 1.0 and 1e0 as doubles, which Go refuses for an int.
  if (!v.IsInt64()) return TypeError(what, key, "an integer");
  out = v.GetInt64();
  return absl::OkStatus();
}

inline absl::Status Decode(std::string_view what, std::string_view key, const rapidjson::Value& v,
                           uint64_t& out) {
  if (v.IsNull()) return absl::OkStatus();
  if (!v.IsUint64()) return TypeError(what, key, "an unsigned integer");
  out = v.GetUint64();
  return absl::OkStatus();
}

inline absl::Status Decode(std::string_view what, std::string_view key, const rapidjson::Value& v,
                           std::vector<std::string>& out) {
  out.clear();  // Go resets a slice for null and before filling it
  if (v.IsNull()) return absl::OkStatus();
  if (!v.IsArray()) return TypeError(what, key, "an array of strings");
  for (const rapidjson::Value& s : v.GetArray()) {
    if (!s.IsString()) return TypeError(what, key, "an array of strings");
    out.emplace_back(s.GetString(), s.GetStringLength());
  }
  return absl::OkStatus();
}

// A *SubjectPermission in Go: null resets it, an object fills it in place.
inline absl::Status Decode(std::string_view what, std::string_view key, const rapidjson::Value& v,
                           std::optional<SubjectPermission>& out) {
  if (v.IsNull()) {
    out.reset();
    return absl::OkStatus();
  }
  if (!v.IsObject()) return TypeError(what, key, "an object");
  if (!out) out.emplace();
  for (const auto& m : v.GetObject()) {
    const std::string_view k = View(m.name);
    absl::Status s;
    if (EqualsIgnoreCase(k, "allow")) {
      s = Decode(what, k, m.value, out->allow);
    } else if (EqualsIgnoreCase(k, "deny")) {
      s = Decode(what, k, m.value, out->deny);
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// Parses `json` as one JSON value followed only by whitespace (RapidJSON's
// default flags are as strict as Go: no comments, NaN or trailing commas).
inline absl::Status ParseDocument(std::string_view what, std::string_view json,
                                  rapidjson::Document& doc) {
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(fmt::format("invalid {} JSON at offset {}: {}", what,
                                                  doc.GetErrorOffset(),
                                                  rapidjson::GetParseError_En(doc.GetParseError())));
  }
  if (!doc.IsNull() && !doc.IsObject()) {
    return absl::InvalidArgumentError(fmt::format("{} argument is not a JSON object", what));
  }
  return absl::OkStatus();
}

}  // namespace natsd::json_fields

#endif  // NATSD_PROTOCOL_JSON_FIELDS_H_
