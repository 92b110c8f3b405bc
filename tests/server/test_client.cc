#include "tests/server/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "fmt/format.h"

namespace natsd::testing {

absl::StatusOr<TestClient> TestClient::Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return absl::UnavailableError(fmt::format("connect: errno {}", errno));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return TestClient(fd);
}

absl::StatusOr<TestClient> TestClient::ConnectAndHandshake(
    int port, std::string_view connect) {
  absl::StatusOr<TestClient> c = Connect(port);
  if (!c.ok()) return c.status();
  if (absl::StatusOr<std::string> info = c->ReadUntil("\r\n"); !info.ok()) {
    return info.status();
  }
  c->Send(fmt::format("{}PING\r\n", connect));
  if (absl::StatusOr<std::string> pong = c->ReadUntil("PONG\r\n"); !pong.ok()) {
    return pong.status();
  }
  return c;
}

TestClient::TestClient(TestClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      eof_(other.eof_),
      buf_(std::move(other.buf_)) {}

TestClient& TestClient::operator=(TestClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    eof_ = other.eof_;
    buf_ = std::move(other.buf_);
  }
  return *this;
}

TestClient::~TestClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool TestClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool TestClient::Fill(absl::Time deadline) {
  if (eof_) return false;
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return false;
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
  if (r <= 0) return false;
  char tmp[64 * 1024];
  ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buf_.append(tmp, static_cast<size_t>(n));
  return true;
}

absl::StatusOr<std::string> TestClient::ReadUntil(std::string_view needle,
                                                  absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (size_t pos = buf_.find(needle); pos != std::string::npos) {
      std::string out = buf_.substr(0, pos + needle.size());
      buf_.erase(0, pos + needle.size());
      return out;
    }
    if (!Fill(deadline)) {
      return absl::DeadlineExceededError(
          fmt::format("waiting for '{}', got '{}'{}", needle, buf_,
                      eof_ ? " (closed)" : ""));
    }
  }
}

std::string TestClient::ReadFor(absl::Duration d) {
  const absl::Time deadline = absl::Now() + d;
  while (Fill(deadline)) {
  }
  return std::exchange(buf_, {});
}

bool TestClient::WaitClosed(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!eof_ && absl::Now() < deadline) {
    if (!Fill(deadline)) {
      if (eof_) break;
    }
  }
  return eof_;
}

}  // namespace natsd::testing
