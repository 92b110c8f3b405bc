// TlsSession: the server side of one TLS connection, kept above the I/O layer
// with OpenSSL memory BIOs so that it works the same over io_uring and epoll.
//
// Ciphertext the socket delivered is fed in and plaintext comes out; the
// plaintext to send is encrypted into a ciphertext buffer that the caller
// hands to io::Connection::Write. The session never touches the socket.
//
//   auto session = TlsSession::Create(ctx);
//   // on every read:
//   TlsSession::FeedResult r = session->Feed(bytes, on_handshake, [&](std::string_view plain) {
//     return parser.Parse(plain) == ok;   // false: stop decrypting
//   });
//   if (r == kError) log("TLS handshake error: " + session->error());
//   // to write (at most one write in flight):
//   session->Encrypt(plaintext_iov);
//   std::string out; if (session->TakeOutput(&out)) conn->Write(out);
//
// Bounded by construction: each Feed decrypts everything it can, so the
// session holds at most one incomplete TLS record (16 KB + overhead) beyond
// the bytes of the current read, and the ciphertext it produces is the size
// of the plaintext given (plus per-record overhead). A first record that is
// not TLS is rejected as the reference does, before any OpenSSL parsing.
//
// Thread-safety: none; one connection's loop thread.
#ifndef NATSD_SERVER_TLS_TLS_SESSION_H_
#define NATSD_SERVER_TLS_TLS_SESSION_H_

#include <sys/uio.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "server/tls/cert_identity.h"
#include "server/tls/tls_context.h"

struct ssl_st;

namespace natsd {

class TlsSession {
 public:
  static absl::StatusOr<std::unique_ptr<TlsSession>> Create(
      std::shared_ptr<const TlsContext> ctx);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  enum class FeedResult {
    kOk,      // everything fed was consumed; check has_output()
    kClosed,  // the peer sent close_notify
    kError,   // handshake or record failure; see error()
  };
  // Consumes `ciphertext`, advancing the handshake: `on_handshake` runs once,
  // when it completes, before any plaintext. Passes the plaintext it
  // decrypts to `on_plaintext` in order (borrowed, valid during the call).
  // When on_plaintext returns false, decryption stops and the rest is
  // dropped (the connection is closing).
  FeedResult Feed(std::string_view ciphertext, absl::FunctionRef<void()> on_handshake,
                  absl::FunctionRef<bool(std::string_view)> on_plaintext);

  // Encrypts `plaintext` into the pending output. Only after the handshake.
  void Encrypt(std::span<const iovec> plaintext);
  // Appends the pending ciphertext (handshake messages, alerts, records) to
  // `out`; false when there is none.
  bool TakeOutput(std::string* out);
  bool has_output() const;
  // Ciphertext fed but not yet taken in by OpenSSL. After a Feed that
  // returned kOk (and whose on_plaintext never returned false) this is less
  // than one TLS record: header + 16 KB + 2 KB of expansion at most.
  size_t buffered_ciphertext() const;

  bool handshake_complete() const { return handshake_complete_; }
  // Why the last Feed failed, in the reference's words where it has them
  // ("tls: client didn't provide a certificate").
  const std::string& error() const { return error_; }
  // What was negotiated, by the reference's names ("1.3",
  // "TLS_AES_128_GCM_SHA256"). Empty before the handshake completes.
  std::string version_name() const;
  std::string cipher_suite_name() const;
  // The names in the client's certificate (verify_and_map); nullopt when
  // the client sent none.
  std::optional<CertIdentity> PeerIdentity() const;

 private:
  TlsSession(std::shared_ptr<const TlsContext> ctx, ssl_st* ssl);
  FeedResult Fail(int ssl_result);

  std::shared_ptr<const TlsContext> ctx_;
  ssl_st* const ssl_;
  bool handshake_complete_ = false;
  int first_bytes_checked_ = 0;  // of the first record's type and version major
  std::string error_;
};

}  // namespace natsd

#endif  // NATSD_SERVER_TLS_TLS_SESSION_H_
