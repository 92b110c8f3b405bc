// Client: the TLS side of a connection (see client.h). nats-server 2.9.10
// sends INFO in plaintext, then performs the server handshake within the TLS
// timeout; from then on every byte is encrypted. The TlsSession keeps the
// cryptography above the I/O layer, so nothing here depends on the backend.
#include <sys/socket.h>
#include <arpa/inet.h>

#include "fmt/format.h"
#include "protocol/errors.h"
#include "server/client.h"
#include "server/logger.h"
#include "server/server.h"
#include "server/tls/tls_session.h"
#include "server/worker.h"

namespace natsd {
namespace {

// Ciphertext buffer capacity kept between writes; a larger one (after a
// burst) is released so that idle connections hold nothing big.
constexpr size_t kTlsOutKeep = 64 * 1024;

// "ip:port" of the local end of `fd`, for the reference's timeout message.
std::string LocalAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  char host[INET6_ADDRSTRLEN] = {};
  int port = 0;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    port = ntohs(a->sin_port);
    return fmt::format("{}:{}", host, port);
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
  return fmt::format("[{}]:{}", host, ntohs(a->sin6_port));
}

}  // namespace

void Client::StartTls() {
  // The INFO goes out in plaintext: written now, before the session exists.
  Flush();
  absl::StatusOr<std::unique_ptr<TlsSession>> session =
      TlsSession::Create(worker_.config().tls);
  if (!session.ok()) {
    Logger::Global().Error("{}TLS handshake error: {}", LogPrefix(),
                           std::string(session.status().message()));
    Close(CloseReason::kTlsHandshakeError, /*flush=*/false);
    return;
  }
  tls_ = *std::move(session);
  Logger::Global().Debug("{}Starting TLS client connection handshake", LogPrefix());
  std::weak_ptr<Client> weak = weak_from_this();
  tls_timer_ = worker_.loop().AddTimer(worker_.config().tls->options().timeout, [weak] {
    if (auto self = weak.lock()) self->OnTlsTimeout();
  });
}

void Client::OnTlsRead(std::string_view ciphertext) {
  const TlsSession::FeedResult r = tls_->Feed(
      ciphertext, [this] { OnTlsHandshakeComplete(); },
      [this](std::string_view plain) { return Parse(plain); });
  switch (r) {
    case TlsSession::FeedResult::kOk:
      // Handshake messages or a key update to answer.
      if (state_ == State::kOpen && tls_->has_output()) Flush();
      return;
    case TlsSession::FeedResult::kClosed:
      Close(CloseReason::kClientClosed, /*flush=*/false);
      return;
    case TlsSession::FeedResult::kError:
      if (!tls_->handshake_complete()) {
        Logger::Global().Error("{}TLS handshake error: {}", LogPrefix(), tls_->error());
        // Flushed: the alert telling the client why goes out first.
        Close(CloseReason::kTlsHandshakeError, /*flush=*/true);
      } else {
        Logger::Global().Debug("{}Error reading from client: {}", LogPrefix(), tls_->error());
        Close(CloseReason::kReadError, /*flush=*/false);
      }
      return;
  }
}

void Client::OnTlsHandshakeComplete() {
  if (tls_timer_ != 0) {
    worker_.loop().CancelTimer(tls_timer_);
    tls_timer_ = 0;
  }
  if (Logger::Global().debug_enabled()) {
    Logger::Global().Debug("{}TLS handshake complete", LogPrefix());
    Logger::Global().Debug("{}TLS version {}, cipher suite {}", LogPrefix(),
                           tls_->version_name(), tls_->cipher_suite_name());
  }
  ArmAuthTimer();
}

void Client::OnTlsTimeout() {
  tls_timer_ = 0;
  if (state_ != State::kOpen || tls_->handshake_complete()) return;
  // The reference's words; its -ERR is queued behind the unfinished
  // handshake and never reaches the client, so natsd only traces it.
  Logger::Global().Error("{}TLS handshake timeout", LogPrefix());
  if (Logger::Global().trace_enabled()) {
    Trace("->>", "", fmt::format("-ERR {}", kErrSecureConnRequired));
  }
  const std::string local = LocalAddress(conn_->fd());
  Close(CloseReason::kTlsHandshakeError, /*flush=*/false);
  Logger::Global().Error("{}TLS handshake error: read tcp {}->{}: i/o timeout", LogPrefix(),
                         local, peer_address_);
}

void Client::FlushTls() {
  Outbound::Taken taken;
  if (tls_->handshake_complete() && out_.TakeForWrite(&iov_, &taken)) {
    CountWritten(taken);
    tls_->Encrypt(iov_);
  }
  if (!tls_->TakeOutput(&tls_out_)) {
    if (tls_out_.capacity() > kTlsOutKeep) std::string().swap(tls_out_);
    // Everything that was queued before closing has been written.
    if (state_ == State::kClosing) conn_->Close(absl::OkStatus());
    return;
  }
  write_started_ = worker_.loop().Now();
  const iovec v{tls_out_.data(), tls_out_.size()};
  conn_->Write(std::span<const iovec>(&v, 1));
}

void Client::NoteTlsClosed() {
  // A client that hangs up mid-handshake failed it, as the reference logs.
  if (state_ == State::kOpen && !tls_->handshake_complete()) {
    Logger::Global().Error("{}TLS handshake error: EOF", LogPrefix());
    close_reason_ = CloseReason::kTlsHandshakeError;
  }
}

}  // namespace natsd
