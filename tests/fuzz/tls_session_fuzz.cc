// libFuzzer target for TlsSession (server/tls/tls_session.h): ciphertext
// from the network goes in, plaintext comes out. The server certificate is
// an EC key and self-signed certificate made in memory at start; the PEM
// files TlsContext::Create reads are removed as soon as it has read them.
//
// Input: byte 0 is flags, byte 1 picks the chunk sizes reads are cut into
// (0: one piece, 1..127: 1..n bytes, 128..255: up to (n-127)*256 bytes),
// the rest is the payload.
//   flags & 1   the context requires and verifies client certificates
//   flags & 2   client mode (else raw mode)
//   flags & 4   client mode: the client offers at most TLS 1.2
//   flags & 8   on_plaintext returns false on its first call
// Raw mode: the payload is the client's ciphertext, fed as it is.
// Client mode: an in-memory OpenSSL client (with a certificate when verify
// is on) completes a handshake with the session, then the payload is a
// script of operations, each <op> <len> <len bytes>:
//   op % 6 == 0  the client sends the bytes as application data
//   op % 6 == 1  the session encrypts the bytes (cut into iovecs by the
//                chunker) and the client must decrypt exactly them
//   op % 6 == 2  the bytes are injected raw into the session's input
//   op % 6 == 3  the client sends close_notify: the session reports kClosed
//   op % 6 == 4  TLS 1.3: the client requests a key update; TLS 1.2: it
//                tries to renegotiate (refused by the server)
//   op % 6 == 5  an empty Feed
// The plaintext that comes out also goes through the protocol parser.
//
// Invariants (abort on violation):
//  - on_handshake runs at most once, before any plaintext, once
//    handshake_complete() is true; plaintext only after it;
//  - after each Feed that returned kOk the unprocessed input is under one
//    record (buffered_ciphertext(), the bound tls_session.h documents);
//  - kError comes with a non-empty error() and is sticky; error() is empty
//    otherwise; has_output()/TakeOutput agree;
//  - raw mode: the outcome (result, error text) is the same whether the
//    input is fed whole or in chunks, and the "first record does not look
//    like a TLS handshake" rejection happens exactly when the first two
//    bytes of the stream say so;
//  - client mode: the handshake succeeds; the plaintext that comes out is
//    a prefix of what the client sent, and all of it unless raw bytes were
//    injected; what the session encrypts, the client decrypts unchanged.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/parser.h"
#include "server/tls/tls_context.h"
#include "server/tls/tls_session.h"

namespace {

using natsd::TlsContext;
using natsd::TlsSession;
using FeedResult = TlsSession::FeedResult;

constexpr std::string_view kFirstRecordError =
    "tls: first record does not look like a TLS handshake";
// One record: header, 16 KB of plaintext and the most expansion allowed.
constexpr size_t kMaxRecord = SSL3_RT_HEADER_LENGTH + SSL3_RT_MAX_ENCRYPTED_LENGTH;

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Env {
  std::shared_ptr<const TlsContext> server[2];  // [verify]
  SSL_CTX* client = nullptr;
};
Env* env = nullptr;

// A P-256 key and a self-signed certificate for it, made in memory.
void MakeIdentity(EVP_PKEY** key, X509** cert) {
  *key = EVP_EC_gen("P-256");
  Check(*key != nullptr);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, *key);
  Check(X509_sign(x, *key, EVP_sha256()) > 0);
  *cert = x;
}

// Writes `pem_writer`'s output to a new temporary file; returns its path.
template <typename F>
std::string TempPem(F pem_writer) {
  char path[] = "/tmp/tls_session_fuzz.XXXXXX";
  const int fd = mkstemp(path);
  Check(fd >= 0);
  FILE* f = fdopen(fd, "w");
  Check(f != nullptr && pem_writer(f));
  fclose(f);
  return path;
}

void Init() {
  env = new Env;
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  MakeIdentity(&key, &cert);
  const std::string cert_file = TempPem([&](FILE* f) { return PEM_write_X509(f, cert) == 1; });
  const std::string key_file = TempPem([&](FILE* f) {
    return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
  for (int verify = 0; verify < 2; ++verify) {
    natsd::TlsOptions o;
    o.cert_file = cert_file;
    o.key_file = key_file;
    o.verify = verify == 1;
    if (o.verify) o.ca_file = cert_file;  // the client presents the same certificate
    auto ctx = TlsContext::Create(o, TlsContext::ClientCerts::kAsConfigured);
    Check(ctx.ok());
    env->server[verify] = *ctx;
  }
  unlink(cert_file.c_str());
  unlink(key_file.c_str());

  env->client = SSL_CTX_new(TLS_client_method());
  Check(env->client != nullptr);
  SSL_CTX_set_verify(env->client, SSL_VERIFY_NONE, nullptr);
  Check(SSL_CTX_use_certificate(env->client, cert) == 1);
  Check(SSL_CTX_use_PrivateKey(env->client, key) == 1);
  X509_free(cert);
  EVP_PKEY_free(key);
}

// Cuts reads into sizes derived from one byte of the input.
class Chunker {
 public:
  explicit Chunker(uint8_t selector) : selector_(selector), state_(selector * 2654435761u + 1) {}
  size_t Next(size_t left) {
    if (selector_ == 0) return left;
    state_ = state_ * 1103515245u + 12345u;
    const size_t max = selector_ < 128 ? selector_ : (selector_ - 127u) * 256u;
    return std::min(left, 1 + (state_ >> 8) % max);
  }

 private:
  uint8_t selector_;
  uint32_t state_;
};

struct NullHandler : natsd::ParserHandler {
  bool OnConnect(std::string_view) override { return true; }
  bool OnPubArgs(const natsd::PubArgs&) override { return true; }
  bool OnMsg(const natsd::PubArgs&, std::string_view) override { return true; }
  bool OnSub(std::string_view, std::string_view, std::string_view, std::string_view) override {
    return true;
  }
  bool OnUnsub(std::string_view, std::optional<int64_t>, std::string_view) override {
    return true;
  }
  bool OnPing() override { return true; }
  bool OnPong() override { return true; }
  bool OnOk() override { return true; }
  bool OnErr(std::string_view) override { return true; }
  bool OnInfo(std::string_view) override { return true; }
};

// One session with the invariant checks around every Feed.
class Checked {
 public:
  Checked(bool verify, bool stop_on_plaintext)
      : stop_on_plaintext_(stop_on_plaintext),
        parser_(natsd::Parser::Limits{.max_control_line = 1024, .max_payload = 4096}) {
    auto s = TlsSession::Create(env->server[verify ? 1 : 0]);
    Check(s.ok());
    session_ = std::move(*s);
  }

  TlsSession& session() { return *session_; }
  const std::string& plaintext() const { return plaintext_; }
  bool stopped() const { return stopped_; }
  FeedResult last() const { return last_; }
  bool done() const { return last_ != FeedResult::kOk || stopped_; }

  FeedResult Feed(std::string_view bytes) {
    const bool was_error = last_ == FeedResult::kError;
    const FeedResult r = session_->Feed(
        bytes,
        [&] {
          Check(!handshake_seen_ && session_->handshake_complete());
          handshake_seen_ = true;
        },
        [&](std::string_view plain) {
          Check(handshake_seen_ && session_->handshake_complete());
          Check(!plain.empty() && !stopped_);
          plaintext_.append(plain);
          if (parse_status_ == natsd::ParseStatus::kOk) {
            parse_status_ = parser_.Parse(plain, parser_handler_);
          }
          if (stop_on_plaintext_) stopped_ = true;
          return !stop_on_plaintext_;
        });
    Check(session_->handshake_complete() == handshake_seen_);
    if (was_error) Check(r == FeedResult::kError);
    Check((r == FeedResult::kError) == !session_->error().empty());
    if (r == FeedResult::kOk && !stopped_) Check(session_->buffered_ciphertext() < kMaxRecord);
    last_ = r;
    return r;
  }

  std::string TakeOutput() {
    std::string out;
    const bool had = session_->has_output();
    Check(session_->TakeOutput(&out) == had);
    Check(had == !out.empty());
    Check(!session_->has_output());
    return out;
  }

 private:
  std::unique_ptr<TlsSession> session_;
  bool stop_on_plaintext_;
  bool handshake_seen_ = false;
  bool stopped_ = false;
  FeedResult last_ = FeedResult::kOk;
  std::string plaintext_;
  natsd::Parser parser_;
  NullHandler parser_handler_;
  natsd::ParseStatus parse_status_ = natsd::ParseStatus::kOk;
};

// Feeds `bytes` in chunks, draining the output after each; stops at the
// first result other than kOk.
void FeedChunked(Checked& c, std::string_view bytes, Chunker& chunker, std::string* out) {
  while (!bytes.empty() && !c.done()) {
    const size_t n = chunker.Next(bytes.size());
    c.Feed(bytes.substr(0, n));
    bytes.remove_prefix(n);
    const std::string o = c.TakeOutput();
    if (out != nullptr) out->append(o);
  }
}

void RawMode(bool verify, bool stop, uint8_t selector, std::string_view in) {
  Checked whole(verify, stop);
  whole.Feed(in);
  whole.TakeOutput();
  Checked chunked(verify, stop);
  Chunker chunker(selector);
  FeedChunked(chunked, in, chunker, nullptr);
  if (chunked.last() == FeedResult::kError) {
    // Sticky, with or without more input.
    Check(chunked.Feed("") == FeedResult::kError);
    Check(chunked.Feed("\x16\x03\x01") == FeedResult::kError);
  }
  // A client cannot finish a handshake without the server's messages.
  Check(!whole.session().handshake_complete() && !chunked.session().handshake_complete());
  Check(whole.plaintext().empty() && chunked.plaintext().empty());

  Check(whole.last() == chunked.last());
  Check(whole.session().error() == chunked.session().error());
  if (!in.empty()) {
    const auto b0 = static_cast<unsigned char>(in[0]);
    const bool not_tls = (b0 != 0x16 && b0 != 0x15) ||
                         (in.size() > 1 && static_cast<unsigned char>(in[1]) >= 0x10);
    Check((chunked.session().error() == kFirstRecordError) == not_tls);
  }
}

// Moves the client's pending ciphertext to a string.
std::string Drain(BIO* bio) {
  std::string s(BIO_ctrl_pending(bio), '\0');
  if (s.empty()) return s;
  const int n = BIO_read(bio, s.data(), static_cast<int>(s.size()));
  s.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return s;
}

void ClientMode(bool verify, bool tls12, bool stop, uint8_t selector, std::string_view script) {
  Checked c(verify, stop);
  Chunker chunker(selector);
  SSL* client = SSL_new(env->client);
  BIO* to_server = BIO_new(BIO_s_mem());
  BIO* from_server = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(from_server, -1);
  SSL_set_bio(client, from_server, to_server);
  SSL_set_connect_state(client);
  if (tls12) SSL_set_max_proto_version(client, TLS1_2_VERSION);

  // The handshake, whole messages each way.
  bool client_done = false;
  for (int round = 0; round < 8 && !(client_done && c.session().handshake_complete()); ++round) {
    const int r = SSL_do_handshake(client);
    if (r == 1) {
      client_done = true;
    } else {
      Check(SSL_get_error(client, r) == SSL_ERROR_WANT_READ);
    }
    const std::string hello = Drain(to_server);
    Check(c.Feed(hello) == FeedResult::kOk);
    const std::string reply = c.TakeOutput();
    BIO_write(from_server, reply.data(), static_cast<int>(reply.size()));
  }
  Check(client_done && c.session().handshake_complete());
  Check(c.session().version_name() == (tls12 ? "1.2" : "1.3"));
  Check(!c.session().cipher_suite_name().empty());
  Check(c.session().PeerIdentity().has_value() == verify);

  std::string sent;       // application data the client sent
  bool injected = false;  // raw bytes went in: the record stream is broken
  bool client_ok = true;  // the client can still read the server's records
  auto deliver = [&] {
    std::string reply;
    FeedChunked(c, Drain(to_server), chunker, &reply);
    if (client_ok) BIO_write(from_server, reply.data(), static_cast<int>(reply.size()));
  };
  while (script.size() >= 2 && !c.done()) {
    const uint8_t op = static_cast<uint8_t>(script[0]);
    const size_t len = std::min<size_t>(static_cast<uint8_t>(script[1]) * 64u, script.size() - 2);
    const std::string_view bytes = script.substr(2, len);
    script.remove_prefix(2 + len);
    switch (op % 6) {
      case 0:
        if (!bytes.empty() && !injected && client_ok) {
          Check(SSL_write(client, bytes.data(), static_cast<int>(bytes.size())) ==
                static_cast<int>(bytes.size()));
          sent.append(bytes);
        }
        deliver();
        break;
      case 1: {
        if (!client_ok) break;
        std::vector<iovec> iov;
        std::string_view rest = bytes;
        while (!rest.empty()) {
          const size_t n = chunker.Next(rest.size());
          iov.push_back({const_cast<char*>(rest.data()), n});
          rest.remove_prefix(n);
        }
        c.session().Encrypt(iov);
        const std::string out = c.TakeOutput();
        Check(out.size() >= bytes.size());
        BIO_write(from_server, out.data(), static_cast<int>(out.size()));
        std::string got(bytes.size() + 1, '\0');
        size_t have = 0;
        while (have < got.size()) {
          const int n = SSL_read(client, got.data() + have, static_cast<int>(got.size() - have));
          if (n <= 0) break;
          have += static_cast<size_t>(n);
        }
        Check(std::string_view(got.data(), have) == bytes);
        break;
      }
      case 2:
        c.Feed(Drain(to_server));  // what the client sent before stays in order
        c.TakeOutput();
        if (!c.done()) c.Feed(bytes);
        c.TakeOutput();
        injected = injected || !bytes.empty();
        break;
      case 3:
        if (injected || !client_ok) break;
        SSL_shutdown(client);
        deliver();
        Check(c.last() == FeedResult::kClosed || c.stopped());
        break;
      case 4:
        if (injected || !client_ok) break;
        if (tls12) {
          SSL_renegotiate(client);
          SSL_do_handshake(client);
          client_ok = false;  // the refusal leaves the client's state behind
        } else {
          Check(SSL_key_update(client, SSL_KEY_UPDATE_REQUESTED) == 1);
          SSL_do_handshake(client);
        }
        deliver();
        break;
      case 5:
        c.Feed("");
        c.TakeOutput();
        break;
    }
    // Never more plaintext than was sent, and never other bytes.
    Check(sent.compare(0, c.plaintext().size(), c.plaintext()) == 0);
    Check(c.plaintext().size() <= sent.size());
    if (!injected && !c.done() && !(tls12 && !client_ok)) Check(c.plaintext() == sent);
  }
  SSL_free(client);
  ERR_clear_error();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  const uint8_t selector = data[1];
  const std::string_view payload(reinterpret_cast<const char*>(data) + 2, size - 2);
  const bool verify = (flags & 1) != 0;
  const bool stop = (flags & 8) != 0;
  if ((flags & 2) == 0) {
    RawMode(verify, stop, selector, payload);
  } else {
    ClientMode(verify, (flags & 4) != 0, stop, selector, payload);
  }
  ERR_clear_error();
  return 0;
}
