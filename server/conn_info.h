// ConnInfo: a plain snapshot of one client connection, for monitoring.
//
// A Client fills one on its own loop thread (Client::Describe); the monitor
// copies it out of the loop and renders it (/connz, closed-connection ring).
// Keeping the snapshot a value type means no Client field is ever read off
// its thread.
//
// Thread-safety: a plain value type.
#ifndef NATSD_SERVER_CONN_INFO_H_
#define NATSD_SERVER_CONN_INFO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace natsd {

// One subscription of a connection (the reference's SubDetail).
struct SubInfo {
  std::string subject;
  std::string queue;  // empty: not a queue subscription
  std::string sid;
  int64_t msgs = 0;  // delivered so far
  int64_t max = 0;   // auto-unsubscribe limit; 0 = none
  uint64_t cid = 0;
};

struct ConnInfo {
  uint64_t cid = 0;
  std::string ip;
  int port = 0;
  absl::Time start;
  absl::Time last_activity;
  // Set for closed connections only.
  std::optional<absl::Time> stop;
  std::string reason;
  // Zero until the first PING/PONG round trip has been measured.
  absl::Duration rtt;
  int64_t pending_bytes = 0;
  uint64_t in_msgs = 0;
  uint64_t out_msgs = 0;
  uint64_t in_bytes = 0;
  uint64_t out_bytes = 0;
  uint32_t num_subs = 0;
  std::string name;
  std::string lang;
  std::string version;
  // What TLS negotiated ("1.3", "TLS_AES_128_GCM_SHA256"); empty without.
  std::string tls_version;
  std::string tls_cipher_suite;
  // The user name the client authenticated with (CONNECT "user").
  std::string user;
  std::string account;
  // Filled only when asked for (subscription lists are not free).
  std::vector<SubInfo> subs;
};

}  // namespace natsd

#endif  // NATSD_SERVER_CONN_INFO_H_
