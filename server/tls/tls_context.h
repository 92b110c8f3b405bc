// TlsContext: the server side of TLS for one listener — the certificate, the
// CAs client certificates must chain to, and the protocol choices of
// nats-server 2.9.10 (TLS 1.2 minimum, its cipher suites and curve order) —
// as one OpenSSL SSL_CTX.
//
//   absl::StatusOr<std::shared_ptr<const TlsContext>> ctx =
//       TlsContext::Create(*opts.tls_config, TlsContext::ClientCerts::kAsConfigured);
//   if (!ctx.ok()) ... // the reference's words: "missing 'key_file' in TLS
//                      // configuration", "error parsing X509 certificate/key
//                      // pair: open x.pem: no such file or directory", ...
//   std::unique_ptr<TlsSession> s = TlsSession::Create(*ctx);  // tls_session.h
//
// Thread-safety: immutable once created; shared by every connection of every
// I/O thread (OpenSSL's SSL_CTX is safe to use concurrently for SSL_new).
#ifndef NATSD_SERVER_TLS_TLS_CONTEXT_H_
#define NATSD_SERVER_TLS_TLS_CONTEXT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "server/tls/tls_options.h"

struct ssl_ctx_st;

namespace natsd {

class TlsContext {
 public:
  enum class ClientCerts {
    kAsConfigured,  // required and verified when options.verify
    kNone,          // never asked for (the HTTPS monitor, as the reference)
  };

  // Loads the files and builds the context. Errors are nats-server's texts
  // (without the config file position, which the caller adds).
  static absl::StatusOr<std::shared_ptr<const TlsContext>> Create(
      const TlsOptions& options, ClientCerts client_certs);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* native() const { return ctx_; }
  const TlsOptions& options() const { return options_; }
  bool verify_clients() const { return verify_clients_; }
  // A digest (SHA-256) of the certificate, key and CA files as loaded, so
  // that a reload notices a certificate rotated in place under the same
  // names.
  const std::string& files_digest() const { return files_digest_; }

 private:
  TlsContext(ssl_ctx_st* ctx, TlsOptions options, bool verify_clients)
      : ctx_(ctx), options_(std::move(options)), verify_clients_(verify_clients) {}

  ssl_ctx_st* const ctx_;
  const TlsOptions options_;
  const bool verify_clients_;
  std::string files_digest_;  // set by Create, then immutable
};

// The client listener's context for `options` (client certificates as
// configured), or null when TLS is off.
absl::StatusOr<std::shared_ptr<const TlsContext>> ClientTlsContext(
    const std::optional<TlsOptions>& options);

// Whether nats-server knows the cipher suite / curve (its ciphersuites.go
// names: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "CurveP256", ...).
bool IsKnownTlsCipherSuite(std::string_view go_name);
bool IsKnownTlsCurve(std::string_view go_name);

// The reference's names for what a connection negotiated, as /connz and the
// debug log show them: "1.2", "1.3"; "TLS_AES_128_GCM_SHA256". Unknown
// values read "Unknown [0x...]" as there.
std::string TlsVersionName(int version);
std::string TlsCipherSuiteName(uint16_t iana_id);

}  // namespace natsd

#endif  // NATSD_SERVER_TLS_TLS_CONTEXT_H_
