// TlsOptions: the TLS settings of the client listener, as nats-server 2.9.10
// takes them from a `tls { ... }` block (tls_config.h) or from the --tls*
// flags. A plain description: the files are loaded, and the OpenSSL objects
// made, by TlsContext (tls_context.h).
//
// Thread-safety: a plain value type.
#ifndef NATSD_SERVER_TLS_TLS_OPTIONS_H_
#define NATSD_SERVER_TLS_TLS_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace natsd {

// The reference's TLS_TIMEOUT: how long a client has to finish the handshake.
inline constexpr absl::Duration kDefaultTlsTimeout = absl::Seconds(2);

struct TlsOptions {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;  // CAs that client certificates must chain to
  bool verify = false;  // require and verify a client certificate
  bool map = false;     // verify_and_map: the certificate names the user
  // The handshake timeout. Also, unless authorization sets its own timeout,
  // the auth timeout becomes this plus one second, as in the reference.
  absl::Duration timeout = kDefaultTlsTimeout;
  // TLS 1.2 cipher suites by their Go/IANA names ("TLS_ECDHE_RSA_WITH_..."),
  // in preference order; empty: the reference's defaults.
  std::vector<std::string> cipher_suites;
  // Key exchange groups by their Go names ("X25519", "CurveP256", ...);
  // empty: the reference's defaults.
  std::vector<std::string> curve_preferences;
};

}  // namespace natsd

#endif  // NATSD_SERVER_TLS_TLS_OPTIONS_H_
