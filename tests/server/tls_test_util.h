// Helpers for TLS tests: certificates made at run time with the openssl
// command line (nothing secret is checked in), and a blocking OpenSSL client
// that reads the plaintext INFO and then handshakes, as NATS clients do.
//
//   TestCerts certs;                        // temp dir, removed on destruction
//   ASSERT_TRUE(certs.Generate().ok());
//   auto c = TlsTestClient::Connect(port, certs.ca(), certs.client_cert(), certs.client_key());
//   c->Send("CONNECT {}\r\nPING\r\n"); c->ReadUntil("PONG\r\n");
//
// Thread-safety: one thread per object.
#ifndef NATSD_TESTS_SERVER_TLS_TEST_UTIL_H_
#define NATSD_TESTS_SERVER_TLS_TEST_UTIL_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct ssl_st;
struct ssl_ctx_st;

namespace natsd::testing {

class TestCerts {
 public:
  TestCerts();
  ~TestCerts();  // removes the directory, whatever the test's outcome
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  // A CA; a server certificate for localhost/127.0.0.1 it signed; a client
  // certificate it signed (subject C=US,O=NATS,OU=Test,CN=client, SANs
  // email:alice@example.com and DNS:client.example.com); a second CA and a
  // client certificate that one signed.
  absl::Status Generate();

  const std::string& dir() const { return dir_; }
  std::string ca() const { return dir_ + "/ca.pem"; }
  std::string server_cert() const { return dir_ + "/server-cert.pem"; }
  std::string server_key() const { return dir_ + "/server-key.pem"; }
  std::string client_cert() const { return dir_ + "/client-cert.pem"; }
  std::string client_key() const { return dir_ + "/client-key.pem"; }
  std::string other_ca() const { return dir_ + "/other-ca.pem"; }
  std::string other_client_cert() const { return dir_ + "/other-client-cert.pem"; }
  std::string other_client_key() const { return dir_ + "/other-client-key.pem"; }

 private:
  std::string dir_;
};

class TlsTestClient {
 public:
  // Connects to 127.0.0.1:port, reads the INFO line (kept in info()) unless
  // `read_info` is false (HTTPS), then handshakes trusting `ca`, presenting
  // the client certificate if given.
  static absl::StatusOr<std::unique_ptr<TlsTestClient>> Connect(
      int port, const std::string& ca, const std::string& cert = "",
      const std::string& key = "", bool read_info = true);
  ~TlsTestClient();

  const std::string& info() const { return info_; }
  std::string version() const;  // "TLSv1.3"
  bool Send(std::string_view bytes);
  // Reads until `needle` arrived (returns everything read so far up to and
  // including it), the peer closed, or the timeout passed (errors).
  absl::StatusOr<std::string> ReadUntil(std::string_view needle,
                                        absl::Duration timeout = absl::Seconds(5));
  // Reads until the server closes (true) or the timeout passes.
  bool WaitClosed(absl::Duration timeout = absl::Seconds(5));

 private:
  TlsTestClient(int fd, ssl_ctx_st* ctx, ssl_st* ssl) : fd_(fd), ctx_(ctx), ssl_(ssl) {}

  int fd_;
  ssl_ctx_st* ctx_;
  ssl_st* ssl_;
  std::string info_;
  std::string buf_;
};

}  // namespace natsd::testing

#endif  // NATSD_TESTS_SERVER_TLS_TEST_UTIL_H_
