#include "server/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "fmt/format.h"

namespace natsd {
namespace {

// nats-server's cipher names (ciphersuites.go), their IANA ids, and
// OpenSSL's names for the TLS 1.2 ones. TLS 1.3 suites are not configurable
// in the reference (Go picks them), so they have no OpenSSL name here.
struct CipherSuite {
  std::string_view go_name;
  uint16_t id;
  std::string_view openssl_name;
};
constexpr CipherSuite kCipherSuites[] = {
    {"TLS_RSA_WITH_RC4_128_SHA", 0x0005, "RC4-SHA"},
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", 0x000a, "DES-CBC3-SHA"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", 0x002f, "AES128-SHA"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", 0x003c, "AES128-SHA256"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", 0x0035, "AES256-SHA"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", 0x009d, "AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", 0xc007, "ECDHE-ECDSA-RC4-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xc009, "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0xc00a, "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", 0xc011, "ECDHE-RSA-RC4-SHA"},
    {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", 0xc012, "ECDHE-RSA-DES-CBC3-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xc013, "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 0xc027, "ECDHE-RSA-AES128-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 0xc023, "ECDHE-ECDSA-AES128-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xc014, "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc02f, "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xc030, "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", 0xcca8, "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", 0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_AES_128_GCM_SHA256", 0x1301, ""},
    {"TLS_AES_256_GCM_SHA384", 0x1302, ""},
    {"TLS_CHACHA20_POLY1305_SHA256", 0x1303, ""},
};

// The reference's defaultCipherSuites(), in its order.
constexpr std::string_view kDefaultCipherSuites[] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
};

// Go's server preference among the TLS 1.3 suites (AES-GCM first on
// hardware with AES instructions, which is what the reference runs on).
constexpr char kTls13Suites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

struct Curve {
  std::string_view go_name;
  std::string_view openssl_name;
};
constexpr Curve kCurves[] = {
    {"X25519", "X25519"}, {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"}};

const CipherSuite* FindCipher(std::string_view go_name) {
  for (const CipherSuite& c : kCipherSuites) {
    if (c.go_name == go_name) return &c;
  }
  return nullptr;
}

// Reads a whole file; the error in Go's os.ReadFile words
// ("open x.pem: no such file or directory").
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::string why = std::strerror(errno);
    if (!why.empty()) why[0] = absl::ascii_tolower(static_cast<unsigned char>(why[0]));
    return absl::InvalidArgumentError(fmt::format("open {}: {}", path, why));
  }
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// SHA-256 over the files a context was built from, each length-prefixed so
// that moving bytes between files changes it.
class FilesDigest {
 public:
  FilesDigest() : md_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(md_, EVP_sha256(), nullptr); }
  ~FilesDigest() { EVP_MD_CTX_free(md_); }
  FilesDigest(const FilesDigest&) = delete;
  FilesDigest& operator=(const FilesDigest&) = delete;

  void Add(std::string_view data) {
    const uint64_t n = data.size();
    EVP_DigestUpdate(md_, &n, sizeof(n));
    EVP_DigestUpdate(md_, data.data(), data.size());
  }
  std::string Finish() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md_, out, &len);
    return std::string(reinterpret_cast<const char*>(out), len);
  }

 private:
  EVP_MD_CTX* const md_;
};

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
}

// Every certificate in a PEM text, in order.
std::vector<X509Ptr> ReadCertificates(const std::string& pem) {
  std::vector<X509Ptr> certs;
  BioPtr bio = MemoryBio(pem);
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(c, &X509_free);
  }
  ERR_clear_error();  // the end of the input reads as an error
  return certs;
}

// tls.LoadX509KeyPair, in the reference's words.
absl::Status LoadKeyPair(SSL_CTX* ctx, const TlsOptions& o, FilesDigest* digest) {
  auto fail = [](std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("error parsing X509 certificate/key pair: {}", why));
  };
  absl::StatusOr<std::string> cert_pem = ReadFile(o.cert_file);
  if (!cert_pem.ok()) return fail(std::string(cert_pem.status().message()));
  absl::StatusOr<std::string> key_pem = ReadFile(o.key_file);
  if (!key_pem.ok()) return fail(std::string(key_pem.status().message()));
  digest->Add(*cert_pem);
  digest->Add(*key_pem);
  std::vector<X509Ptr> chain = ReadCertificates(*cert_pem);
  if (chain.empty()) return fail("tls: failed to find any PEM data in certificate input");
  BioPtr key_bio = MemoryBio(*key_pem);
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr),
             &EVP_PKEY_free);
  ERR_clear_error();
  if (key == nullptr) return fail("tls: failed to find any PEM data in key input");
  if (SSL_CTX_use_certificate(ctx, chain[0].get()) != 1) {
    ERR_clear_error();
    return fail("tls: failed to parse certificate");
  }
  for (size_t i = 1; i < chain.size(); ++i) SSL_CTX_add1_chain_cert(ctx, chain[i].get());
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return fail("tls: private key does not match public key");
  }
  return absl::OkStatus();
}

// The client CAs (GenTLSConfig's ClientCAs pool).
absl::Status LoadClientCas(SSL_CTX* ctx, const std::string& ca_file, FilesDigest* digest) {
  absl::StatusOr<std::string> pem = ReadFile(ca_file);
  if (!pem.ok()) return pem.status();
  digest->Add(*pem);
  std::vector<X509Ptr> cas = ReadCertificates(*pem);
  if (cas.empty()) return absl::InvalidArgumentError("failed to parse root ca certificate");
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const X509Ptr& ca : cas) {
    X509_STORE_add_cert(store, ca.get());
    // Named in the certificate request, as Go does with its ClientCAs.
    SSL_CTX_add_client_CA(ctx, ca.get());
  }
  ERR_clear_error();
  return absl::OkStatus();
}

absl::Status ConfigureProtocol(SSL_CTX* ctx, const TlsOptions& o) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Go never renegotiates as a server and keeps no compression; resumption
  // tickets are not issued (the reference's clients do not resume).
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx, 0);
  // An idle connection keeps no record buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

  std::vector<std::string> tls12;
  auto add = [&tls12](std::string_view go_name) {
    const CipherSuite* c = FindCipher(go_name);
    if (c != nullptr && !c->openssl_name.empty()) tls12.emplace_back(c->openssl_name);
  };
  if (o.cipher_suites.empty()) {
    for (std::string_view n : kDefaultCipherSuites) add(n);
  } else {
    for (const std::string& n : o.cipher_suites) add(n);
  }
  // Suites this OpenSSL build no longer has (RC4) are simply unavailable,
  // as an unsupported suite is to Go; only a list with none left fails.
  if (tls12.empty()) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  } else if (SSL_CTX_set_cipher_list(ctx, absl::StrJoin(tls12, ":").c_str()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "none of the configured 'cipher_suites' is supported");
  }
  SSL_CTX_set_ciphersuites(ctx, kTls13Suites);

  std::vector<std::string> groups;
  if (o.curve_preferences.empty()) {
    for (const Curve& c : kCurves) groups.emplace_back(c.openssl_name);
  } else {
    for (const std::string& n : o.curve_preferences) {
      for (const Curve& c : kCurves) {
        if (c.go_name == n) groups.emplace_back(c.openssl_name);
      }
    }
  }
  if (SSL_CTX_set1_groups_list(ctx, absl::StrJoin(groups, ":").c_str()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("none of the configured 'curve_preferences' is supported");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const TlsContext>> ClientTlsContext(
    const std::optional<TlsOptions>& options) {
  if (!options.has_value()) return std::shared_ptr<const TlsContext>();
  return TlsContext::Create(*options, TlsContext::ClientCerts::kAsConfigured);
}

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::Create(
    const TlsOptions& options, ClientCerts client_certs) {
  if (!options.cert_file.empty() && options.key_file.empty()) {
    return absl::InvalidArgumentError("missing 'key_file' in TLS configuration");
  }
  if (options.cert_file.empty() && !options.key_file.empty()) {
    return absl::InvalidArgumentError("missing 'cert_file' in TLS configuration");
  }
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) {
    ERR_clear_error();
    return absl::InternalError("cannot create a TLS context");
  }
  const bool verify = client_certs == ClientCerts::kAsConfigured && options.verify;
  auto* made = new TlsContext(raw, options, verify);
  std::shared_ptr<const TlsContext> ctx(made);  // frees `raw` on every return
  if (absl::Status s = ConfigureProtocol(raw, options); !s.ok()) return s;
  FilesDigest digest;
  // Without a certificate every handshake fails, as with the reference,
  // which accepts such a block too.
  if (!options.cert_file.empty()) {
    if (absl::Status s = LoadKeyPair(raw, options, &digest); !s.ok()) return s;
  } else {
    digest.Add("");
    digest.Add("");
  }
  if (!options.ca_file.empty()) {
    if (absl::Status s = LoadClientCas(raw, options.ca_file, &digest); !s.ok()) return s;
  } else if (verify) {
    // Go verifies against the system roots when no ClientCAs are given.
    SSL_CTX_set_default_verify_paths(raw);
  }
  SSL_CTX_set_verify(raw, verify ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                 : SSL_VERIFY_NONE,
                     nullptr);
  if (options.ca_file.empty()) digest.Add("");
  made->files_digest_ = digest.Finish();
  return ctx;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

bool IsKnownTlsCipherSuite(std::string_view go_name) { return FindCipher(go_name) != nullptr; }

bool IsKnownTlsCurve(std::string_view go_name) {
  for (const Curve& c : kCurves) {
    if (c.go_name == go_name) return true;
  }
  return false;
}

std::string TlsVersionName(int version) {
  switch (version) {
    case TLS1_VERSION: return "1.0";
    case TLS1_1_VERSION: return "1.1";
    case TLS1_2_VERSION: return "1.2";
    case TLS1_3_VERSION: return "1.3";
  }
  return fmt::format("Unknown [0x{:x}]", version);
}

std::string TlsCipherSuiteName(uint16_t iana_id) {
  for (const CipherSuite& c : kCipherSuites) {
    if (c.id == iana_id) return std::string(c.go_name);
  }
  return fmt::format("Unknown [0x{:x}]", iana_id);
}

}  // namespace natsd
