// The INFO protocol line: encoding what the server sends, and decoding what
// a peer (a route, or a client that echoes one) sends.
//
//   natsd::ServerInfo info = server.info();  // shared fields
//   info.client_id = cid;
//   info.client_ip = peer_ip;
//   conn.Send(natsd::EncodeInfo(info));      // "INFO {...} \r\n"
#ifndef NATSD_PROTOCOL_INFO_H_
#define NATSD_PROTOCOL_INFO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/connect.h"

namespace natsd {

// The fields of the reference's INFO (server.go `type Info`), in its JSON
// key order. Fields marked "omitted when empty" are left out of the JSON when
// false/0/empty, as Go's omitempty does; the others are always written.
// Gateway and leaf node keys of the reference are not modelled.
struct ServerInfo {
  std::string server_id;                  // always
  std::string server_name;                // always
  std::string version;                    // always
  int64_t proto = 1;                      // always; 1 for clients, 2 for routes
  std::string git_commit;                 // omitted when empty
  std::string go;                         // always ("go" key; the reference's Go version)
  std::string host;                       // always
  int64_t port = 0;                       // always
  bool headers = false;                   // always
  bool auth_required = false;             // omitted when empty
  bool tls_required = false;              // omitted when empty
  bool tls_verify = false;                // omitted when empty
  bool tls_available = false;             // omitted when empty
  int64_t max_payload = 0;                // always
  bool jetstream = false;                 // omitted when empty
  std::string ip;                         // omitted when empty (route gossip URL)
  uint64_t client_id = 0;                 // omitted when empty
  std::string client_ip;                  // omitted when empty
  std::string nonce;                      // omitted when empty
  std::string cluster;                    // omitted when empty
  bool cluster_dynamic = false;           // omitted when empty
  std::string domain;                     // omitted when empty
  std::vector<std::string> connect_urls;  // omitted when empty
  std::vector<std::string> ws_connect_urls;  // omitted when empty; never sent to clients
  bool ldm = false;                       // omitted when empty (lame duck mode)
  // Route specific.
  std::optional<SubjectPermission> import_permission;  // "import", omitted when absent
  std::optional<SubjectPermission> export_permission;  // "export", omitted when absent
  bool lnoc = false;                      // omitted when empty
  bool info_on_connect = false;           // omitted when empty
  bool connect_info = false;              // omitted when empty

  bool operator==(const ServerInfo&) const = default;
};

// Returns the full protocol line, `INFO {json} \r\n` (note the space before
// CRLF), byte for byte as the reference writes it: its key order, omitempty
// rules, and Go's string escaping (<, > and & as \u003c \u003e \u0026,
// U+2028/U+2029 escaped, invalid UTF-8 as \ufffd).
std::string EncodeInfo(const ServerInfo& info);

// Decodes the JSON argument of an INFO line (without "INFO "). Unknown keys
// are ignored, keys match case-insensitively, null keeps the default; a
// syntax error or a wrong type is an error (the reference then closes the
// connection without -ERR).
absl::StatusOr<ServerInfo> ParseInfo(std::string_view json);

}  // namespace natsd

#endif  // NATSD_PROTOCOL_INFO_H_
