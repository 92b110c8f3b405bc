// Decoding of the JSON argument of a client's CONNECT.
//
// The decoder applies the JSON over the options the client already has, as
// the reference unmarshals into its existing client state: fields that are
// absent or null keep their value from `base`.
//
//   absl::StatusOr<natsd::ConnectOptions> opts = natsd::ParseConnect(json, client.opts);
//   if (!opts.ok()) { Log(opts.status()); Close(); }  // no -ERR: the reference closes silently
#ifndef NATSD_PROTOCOL_CONNECT_H_
#define NATSD_PROTOCOL_CONNECT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace natsd {

// Subjects a route or leaf node may import or export ("import"/"export" in
// CONNECT and INFO).
struct SubjectPermission {
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  bool operator==(const SubjectPermission&) const = default;
};

// A client's CONNECT options. The defaults are the reference's before any
// CONNECT: verbose, pedantic and echo true, so "CONNECT {}" still gets +OK.
struct ConnectOptions {
  bool verbose = true;
  bool pedantic = true;
  bool echo = true;
  bool headers = false;
  bool no_responders = false;
  bool tls_required = false;
  std::string name;
  std::string lang;
  std::string version;
  std::string user;
  std::string pass;
  std::string auth_token;  // JSON key "auth_token"
  std::string nkey;
  std::string sig;
  std::string jwt;
  // 0 (original) or 1 (async INFO); any other value is rejected after
  // decoding with -ERR 'invalid client protocol' by the caller.
  int64_t protocol = 0;
  // Account designation is refused by the reference (Authorization
  // Violation) when either is set.
  std::string account;
  bool new_account = false;
  // Routes and leaf nodes only.
  std::optional<SubjectPermission> import_permission;  // JSON key "import"
  std::optional<SubjectPermission> export_permission;  // JSON key "export"

  bool operator==(const ConnectOptions&) const = default;
};

// Decodes `json` over `base`. Like Go's encoding/json in the reference:
// unknown keys are ignored, keys match case-insensitively ("VERBOSE" sets
// verbose), null leaves a field unchanged, a top-level `null` changes
// nothing, and any syntax error, trailing garbage, non-object top level or
// wrong type (e.g. "verbose":"yes", "protocol":1.0, "name":5) is an error.
// The reference closes the connection on an error without sending -ERR.
absl::StatusOr<ConnectOptions> ParseConnect(std::string_view json, ConnectOptions base);

}  // namespace natsd

#endif  // NATSD_PROTOCOL_CONNECT_H_
