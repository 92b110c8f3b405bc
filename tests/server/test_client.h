// TestClient: a blocking raw-protocol client for server tests. It speaks
// bytes, not NATS: tests write exact protocol text and check exact replies.
//
// Thread-safety: one thread per TestClient.
#ifndef NATSD_TESTS_SERVER_TEST_CLIENT_H_
#define NATSD_TESTS_SERVER_TEST_CLIENT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace natsd::testing {

class TestClient {
 public:
  // Connects to 127.0.0.1:port.
  static absl::StatusOr<TestClient> Connect(int port);
  TestClient(TestClient&& other) noexcept;
  TestClient& operator=(TestClient&& other) noexcept;
  ~TestClient();

  // Connects, reads INFO, sends `connect` (a CONNECT line; default is a
  // non-verbose client with headers) followed by PING and waits for PONG.
  static absl::StatusOr<TestClient> ConnectAndHandshake(
      int port, std::string_view connect =
                    "CONNECT {\"verbose\":false,\"pedantic\":false,"
                    "\"headers\":true,\"no_responders\":true}\r\n");

  bool Send(std::string_view bytes);
  // Reads until the accumulated unread input contains `needle` (returns
  // everything up to and including it) or the timeout passes (returns an
  // error with what was read).
  absl::StatusOr<std::string> ReadUntil(std::string_view needle,
                                        absl::Duration timeout = absl::Seconds(5));
  // Reads whatever arrives within `d`.
  std::string ReadFor(absl::Duration d);
  // True if the server closed the connection within `timeout`.
  bool WaitClosed(absl::Duration timeout = absl::Seconds(5));

 private:
  explicit TestClient(int fd) : fd_(fd) {}
  // Reads once, waiting at most until `deadline`; false on EOF/error/timeout.
  bool Fill(absl::Time deadline);

  int fd_ = -1;
  bool eof_ = false;
  std::string buf_;
};

}  // namespace natsd::testing

#endif  // NATSD_TESTS_SERVER_TEST_CLIENT_H_
