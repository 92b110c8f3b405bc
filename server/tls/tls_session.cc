#include "server/tls/tls_session.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "fmt/format.h"

namespace natsd {
namespace {

// TLS record content types and the largest plaintext record.
constexpr unsigned char kRecordAlert = 0x15;
constexpr unsigned char kRecordHandshake = 0x16;
constexpr size_t kMaxRecordPlaintext = 16 * 1024;

// Go's texts for the alerts a client may send during the handshake
// (crypto/tls alert.go), reported as "remote error: tls: <text>".
std::string_view GoAlertText(int alert) {
  switch (alert) {
    case SSL_AD_CLOSE_NOTIFY: return "close notify";
    case SSL_AD_UNEXPECTED_MESSAGE: return "unexpected message";
    case SSL_AD_BAD_RECORD_MAC: return "bad record MAC";
    case SSL_AD_HANDSHAKE_FAILURE: return "handshake failure";
    case SSL_AD_BAD_CERTIFICATE: return "bad certificate";
    case SSL_AD_UNSUPPORTED_CERTIFICATE: return "unsupported certificate";
    case SSL_AD_CERTIFICATE_REVOKED: return "revoked certificate";
    case SSL_AD_CERTIFICATE_EXPIRED: return "expired certificate";
    case SSL_AD_CERTIFICATE_UNKNOWN: return "unknown certificate";
    case SSL_AD_ILLEGAL_PARAMETER: return "illegal parameter";
    case SSL_AD_UNKNOWN_CA: return "unknown certificate authority";
    case SSL_AD_ACCESS_DENIED: return "access denied";
    case SSL_AD_DECODE_ERROR: return "error decoding message";
    case SSL_AD_DECRYPT_ERROR: return "error decrypting message";
    case SSL_AD_PROTOCOL_VERSION: return "protocol version not supported";
    case SSL_AD_INSUFFICIENT_SECURITY: return "insufficient security level";
    case SSL_AD_INTERNAL_ERROR: return "internal error";
    case SSL_AD_USER_CANCELLED: return "user canceled";
    case SSL_AD_NO_RENEGOTIATION: return "no renegotiation";
    case SSL_AD_CERTIFICATE_REQUIRED: return "certificate required";
  }
  return "alert";
}

// Go's x509 texts for the verification failures a client certificate meets.
std::string GoVerifyText(long result) {
  switch (result) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return "x509: certificate signed by unknown authority";
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "x509: certificate has expired or is not yet valid";
    case X509_V_ERR_INVALID_PURPOSE:
      return "x509: certificate specifies an incompatible key usage";
  }
  return fmt::format("x509: {}", X509_verify_cert_error_string(result));
}

// Where a session keeps why its client's certificate failed verification.
int VerifyErrorIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Go answers every rejected client certificate with a bad_certificate
// alert, which clients report ("remote error: tls: bad certificate");
// OpenSSL would pick one per reason (unknown_ca, ...). The real reason is
// kept for the server's log.
int VerifyCallback(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok == 1) return 1;
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl != nullptr && SSL_get_ex_data(ssl, VerifyErrorIndex()) == nullptr) {
    const intptr_t err = X509_STORE_CTX_get_error(store);
    SSL_set_ex_data(ssl, VerifyErrorIndex(), reinterpret_cast<void*>(err));
  }
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsSession>> TlsSession::Create(
    std::shared_ptr<const TlsContext> ctx) {
  SSL* ssl = SSL_new(ctx->native());
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (ssl == nullptr || in == nullptr || out == nullptr) {
    SSL_free(ssl);
    BIO_free(in);
    BIO_free(out);
    ERR_clear_error();
    return absl::ResourceExhaustedError("cannot create a TLS session");
  }
  // An empty memory BIO reports "retry later", not end of file.
  BIO_set_mem_eof_return(in, -1);
  SSL_set_bio(ssl, in, out);  // the SSL owns both
  SSL_set_accept_state(ssl);
  SSL_set_verify(ssl, SSL_get_verify_mode(ssl), &VerifyCallback);
  return std::unique_ptr<TlsSession>(new TlsSession(std::move(ctx), ssl));
}

TlsSession::TlsSession(std::shared_ptr<const TlsContext> ctx, ssl_st* ssl)
    : ctx_(std::move(ctx)), ssl_(ssl) {}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsSession::FeedResult TlsSession::Feed(
    std::string_view ciphertext, absl::FunctionRef<void()> on_handshake,
    absl::FunctionRef<bool(std::string_view)> on_plaintext) {
  if (!error_.empty()) return FeedResult::kError;
  // The reference's first check on a new connection: a client that does
  // not speak TLS is told so before anything is parsed. The record type and
  // the version's major byte may arrive in separate reads.
  for (size_t i = 0; first_bytes_checked_ < 2 && i < ciphertext.size(); ++i) {
    const auto b = static_cast<unsigned char>(ciphertext[i]);
    const bool ok = first_bytes_checked_ == 0 ? b == kRecordHandshake || b == kRecordAlert
                                              : b < 0x10;
    if (!ok) {
      error_ = "tls: first record does not look like a TLS handshake";
      return FeedResult::kError;
    }
    ++first_bytes_checked_;
  }
  BIO* in = SSL_get_rbio(ssl_);
  while (!ciphertext.empty()) {
    const int chunk = static_cast<int>(std::min<size_t>(ciphertext.size(), 1 << 30));
    const int n = BIO_write(in, ciphertext.data(), chunk);
    if (n <= 0) {
      ERR_clear_error();
      error_ = "out of memory buffering TLS input";
      return FeedResult::kError;
    }
    ciphertext.remove_prefix(n);
  }
  if (!handshake_complete_) {
    const int r = SSL_do_handshake(ssl_);
    if (r != 1) {
      const int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_WANT_READ) return FeedResult::kOk;
      return Fail(r);
    }
    handshake_complete_ = true;
    on_handshake();
  }
  // One buffer per thread: the plaintext is handed on before the next read.
  thread_local std::array<char, kMaxRecordPlaintext> buf;
  while (true) {
    const int n = SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
    if (n > 0) {
      if (!on_plaintext(std::string_view(buf.data(), n))) return FeedResult::kOk;
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ) return FeedResult::kOk;
    if (err == SSL_ERROR_ZERO_RETURN) return FeedResult::kClosed;
    return Fail(n);
  }
}

TlsSession::FeedResult TlsSession::Fail(int ssl_result) {
  const int err = SSL_get_error(ssl_, ssl_result);
  const unsigned long e = ERR_peek_last_error();
  const int reason = ERR_GET_REASON(e);
  const auto verify = reinterpret_cast<intptr_t>(SSL_get_ex_data(ssl_, VerifyErrorIndex()));
  if (err == SSL_ERROR_SSL && verify != X509_V_OK) {
    error_ = fmt::format("tls: failed to verify client certificate: {}", GoVerifyText(verify));
  } else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    error_ = "tls: client didn't provide a certificate";
  } else if (reason == SSL_R_NO_SHARED_CIPHER) {
    error_ = "tls: no cipher suite supported by both client and server";
  } else if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_VERSION_TOO_LOW) {
    error_ = "tls: client offered only unsupported versions";
  } else if (reason > SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
    error_ = fmt::format("remote error: tls: {}", GoAlertText(reason - SSL_AD_REASON_OFFSET));
  } else if (e != 0) {
    const char* text = ERR_reason_error_string(e);
    error_ = fmt::format("tls: {}", text != nullptr ? text : "handshake failure");
  } else {
    error_ = "tls: handshake failure";
  }
  ERR_clear_error();
  return FeedResult::kError;
}

void TlsSession::Encrypt(std::span<const iovec> plaintext) {
  // Small pieces are gathered into full records: one AEAD operation and 22
  // bytes of framing per 16 KB instead of per piece.
  thread_local std::array<char, kMaxRecordPlaintext> staging;
  size_t staged = 0;
  auto write = [this](const char* p, size_t n) {
    while (n > 0) {
      const int chunk = static_cast<int>(std::min(n, kMaxRecordPlaintext));
      // The write BIO is a growing memory buffer: SSL_write cannot block.
      const int w = SSL_write(ssl_, p, chunk);
      if (w <= 0) {
        ERR_clear_error();
        return;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
  };
  for (const iovec& v : plaintext) {
    const char* p = static_cast<const char*>(v.iov_base);
    size_t n = v.iov_len;
    if (staged == 0 && n >= kMaxRecordPlaintext) {
      write(p, n);
      continue;
    }
    while (n > 0) {
      const size_t take = std::min(n, staging.size() - staged);
      std::copy_n(p, take, staging.data() + staged);
      staged += take;
      p += take;
      n -= take;
      if (staged == staging.size()) {
        write(staging.data(), staged);
        staged = 0;
      }
    }
  }
  if (staged > 0) write(staging.data(), staged);
}

bool TlsSession::has_output() const { return BIO_ctrl_pending(SSL_get_wbio(ssl_)) > 0; }

size_t TlsSession::buffered_ciphertext() const {
  return BIO_ctrl_pending(SSL_get_rbio(ssl_));
}

bool TlsSession::TakeOutput(std::string* out) {
  BIO* wbio = SSL_get_wbio(ssl_);
  const size_t pending = BIO_ctrl_pending(wbio);
  if (pending == 0) return false;
  const size_t old = out->size();
  out->resize(old + pending);
  const int n = BIO_read(wbio, out->data() + old, static_cast<int>(pending));
  out->resize(old + static_cast<size_t>(std::max(n, 0)));
  return n > 0;
}

std::string TlsSession::version_name() const {
  if (!handshake_complete_) return "";
  return TlsVersionName(SSL_version(ssl_));
}

std::string TlsSession::cipher_suite_name() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  if (!handshake_complete_ || c == nullptr) return "";
  return TlsCipherSuiteName(SSL_CIPHER_get_protocol_id(c));
}

std::optional<CertIdentity> TlsSession::PeerIdentity() const {
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr) return std::nullopt;
  return CertIdentityOf(peer);
}

}  // namespace natsd
