// The `tls { ... }` block of the config file and the --tls* flags, read into
// TlsOptions as nats-server 2.9.10 reads them (opts.go parseTLS,
// GenTLSConfig, overrideTLS), including loading the files so that a bad
// certificate fails the config check (`-t`) as it does there.
//
//   tls {
//     cert_file: "server-cert.pem"
//     key_file:  "server-key.pem"
//     ca_file:   "ca.pem"
//     verify:    true          # or verify_and_map: true
//     timeout:   2             # seconds, or "2s"
//     cipher_suites: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
//     curve_preferences: ["X25519", "CurveP256"]
//   }
//
// Thread-safety: reentrant functions.
#ifndef NATSD_SERVER_TLS_TLS_CONFIG_H_
#define NATSD_SERVER_TLS_TLS_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/conf_parser.h"
#include "server/tls/tls_options.h"

namespace natsd {

// Reads the block under `entry` (the top-level "tls" key). Errors are the
// reference's, prefixed with "file:line:col: " where it puts one: the
// offending key or array item, or the `tls` key for file errors.
// Settings natsd accepts but does not act on add a line to `warnings`.
absl::StatusOr<TlsOptions> ParseTlsBlock(const ConfEntry& entry,
                                         std::vector<std::string>* warnings);

// overrideTLS: the TLS settings from --tlscert, --tlskey, --tlscacert and
// --tlsverify, which replace the config file's block; the block's timeout
// and verify_and_map survive, as in the reference. Errors as the reference
// ("TLS Server certificate must be present and valid", file errors).
absl::StatusOr<TlsOptions> TlsOptionsFromFlags(const std::string& cert,
                                               const std::string& key,
                                               const std::string& ca, bool verify,
                                               const TlsOptions* from_config);

}  // namespace natsd

#endif  // NATSD_SERVER_TLS_TLS_CONFIG_H_
