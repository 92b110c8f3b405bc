#include "tests/server/tls_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fmt/format.h"

namespace natsd::testing {

TestCerts::TestCerts() {
  char tmpl[] = "/tmp/natsd-tls-test-XXXXXX";
  if (mkdtemp(tmpl) != nullptr) dir_ = tmpl;
}

TestCerts::~TestCerts() {
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

absl::Status TestCerts::Generate() {
  if (dir_.empty()) return absl::InternalError("mkdtemp failed");
  // EC keys: an order of magnitude faster to make than RSA ones.
  const std::string script = fmt::format(R"(set -e
cd '{}'
key() {{ openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }}
ca() {{ key "$1-key.pem"; openssl req -x509 -new -key "$1-key.pem" -out "$1.pem" -days 2 -subj "/CN=$2"; }}
leaf() {{ key "$1-key.pem"; openssl req -new -key "$1-key.pem" -out "$1.csr" -subj "$2"
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3-key.pem" -CAcreateserial -out "$1-cert.pem" -days 2 -extfile "$1.ext"; }}
ca ca "natsd test CA"
ca other-ca "untrusted CA"
leaf server /CN=localhost ca "subjectAltName=DNS:localhost,IP:127.0.0.1"
leaf client "/C=US/O=NATS/OU=Test/CN=client" ca "subjectAltName=email:alice@example.com,DNS:client.example.com"
leaf other-client /CN=other other-ca "subjectAltName=DNS:other.example.com"
)",
                                         dir_);
  const std::string path = dir_ + "/gen.sh";
  std::ofstream(path) << script;
  const int rc = std::system(fmt::format("sh '{}' >'{}/gen.log' 2>&1", path, dir_).c_str());
  if (rc != 0) return absl::InternalError("openssl failed: see " + dir_ + "/gen.log");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TlsTestClient>> TlsTestClient::Connect(
    int port, const std::string& ca, const std::string& cert, const std::string& key,
    bool read_info) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::UnavailableError("connect failed");
  }
  // The INFO line, byte by byte so that nothing of the handshake is eaten.
  std::string info;
  char ch;
  while (read_info && !info.ends_with("\r\n")) {
    if (read(fd, &ch, 1) != 1) {
      close(fd);
      return absl::UnavailableError("no INFO");
    }
    info += ch;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!cert.empty()) {
    SSL_CTX_use_certificate_chain_file(ctx, cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  std::unique_ptr<TlsTestClient> c(new TlsTestClient(fd, ctx, ssl));
  c->info_ = std::move(info);
  if (SSL_connect(ssl) != 1) {
    char why[256];
    ERR_error_string_n(ERR_get_error(), why, sizeof(why));
    ERR_clear_error();
    return absl::UnavailableError(fmt::format("handshake failed: {}", why));
  }
  return c;
}

TlsTestClient::~TlsTestClient() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
  close(fd_);
}

std::string TlsTestClient::version() const { return SSL_get_version(ssl_); }

bool TlsTestClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    bytes.remove_prefix(n);
  }
  return true;
}

absl::StatusOr<std::string> TlsTestClient::ReadUntil(std::string_view needle,
                                                     absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  char chunk[16384];
  while (true) {
    if (const size_t at = buf_.find(needle); at != std::string::npos) {
      std::string out = buf_.substr(0, at + needle.size());
      buf_.erase(0, at + needle.size());
      return out;
    }
    if (absl::Now() > deadline) return absl::DeadlineExceededError("timeout: " + buf_);
    const int n = SSL_read(ssl_, chunk, sizeof(chunk));
    if (n <= 0) {
      char why[256];
      ERR_error_string_n(ERR_get_error(), why, sizeof(why));
      ERR_clear_error();
      return absl::UnavailableError(fmt::format("read failed: {} after: {}", why, buf_));
    }
    buf_.append(chunk, n);
  }
}

bool TlsTestClient::WaitClosed(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  char chunk[4096];
  while (absl::Now() < deadline) {
    const int n = SSL_read(ssl_, chunk, sizeof(chunk));
    if (n > 0) continue;
    const int err = SSL_get_error(ssl_, n);
    ERR_clear_error();
    // SO_RCVTIMEO expiring reads as a syscall error with EAGAIN.
    if (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    return true;
  }
  return false;
}

}  // namespace natsd::testing
