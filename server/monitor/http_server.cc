#include "server/monitor/http_server.h"

#define ASIO_STANDALONE
#include <asio.hpp>

#include <chrono>
#include <unordered_set>

#include "absl/strings/ascii.h"
#include "fmt/format.h"
#include "server/tls/tls_session.h"

namespace natsd {
namespace {

using asio::ip::tcp;

std::string_view StatusText(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
  }
  return "Error";
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; `plus_is_space` for query components.
bool Unescape(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

std::string HttpDate() {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::Now(),
                          absl::UTCTimeZone());
}

std::string Serialize(const HttpResponse& r, bool head_only) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", r.status, StatusText(r.status));
  if (!r.content_type.empty()) {
    out += fmt::format("Content-Type: {}\r\n", r.content_type);
  }
  out += fmt::format("Date: {}\r\n", HttpDate());
  for (const std::string& h : r.headers) out += h + "\r\n";
  out += fmt::format("Content-Length: {}\r\nConnection: close\r\n\r\n",
                     r.body.size());
  if (!head_only) out += r.body;
  return out;
}

}  // namespace

std::string HttpRequest::Query(std::string_view key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return v;
  }
  return "";
}

HttpResponse HttpResponse::Text(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
}

HttpResponse HttpResponse::Json(std::string body) {
  return HttpResponse{200, "application/json", std::move(body), {}};
}

absl::StatusOr<HttpRequest> ParseHttpRequest(std::string_view head) {
  const size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) {
    return absl::InvalidArgumentError("no request line");
  }
  const std::string_view line = head.substr(0, eol);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) {
    return absl::InvalidArgumentError("malformed request line");
  }
  HttpRequest req;
  req.method = std::string(line.substr(0, sp1));
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return absl::InvalidArgumentError("unsupported HTTP version");
  }
  if (req.method.empty()) return absl::InvalidArgumentError("no method");
  for (char c : req.method) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("malformed method");
    }
  }
  // Absolute form ("http://host/path") is allowed by HTTP/1.1.
  if (target.starts_with("http://") || target.starts_with("https://")) {
    const size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? "/" : target.substr(slash);
  }
  if (target.empty() || target.front() != '/') {
    return absl::InvalidArgumentError("malformed request target");
  }
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("malformed request target");
    }
  }
  const size_t q = target.find('?');
  if (!Unescape(target.substr(0, q), /*plus_is_space=*/false, &req.path)) {
    return absl::InvalidArgumentError("malformed path escape");
  }
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? "" : rest.substr(amp + 1);
      // Like Go's URL.Query(): a pair that does not decode (or holds a
      // ';') is skipped, not an error.
      if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
      const size_t eq = pair.find('=');
      std::string k, v;
      if (!Unescape(pair.substr(0, eq), true, &k)) continue;
      if (eq != std::string_view::npos && !Unescape(pair.substr(eq + 1), true, &v)) {
        continue;
      }
      req.query.emplace_back(std::move(k), std::move(v));
    }
  }
  // Header lines must at least be "name: value"; their content is unused.
  std::string_view headers = head.substr(eol + 2);
  while (!headers.empty() && !headers.starts_with("\r\n")) {
    const size_t end = headers.find("\r\n");
    if (end == std::string_view::npos) break;
    const std::string_view h = headers.substr(0, end);
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0 || h.front() == ' ' ||
        h.front() == '\t') {
      return absl::InvalidArgumentError("malformed header line");
    }
    headers.remove_prefix(end + 2);
  }
  return req;
}

// The Asio side: an acceptor and sessions on one io_context, all on the
// HTTP thread.
struct HttpServer::Impl {
  class Session;

  asio::io_context io;
  tcp::acceptor acceptor{io};
  Handler handler;
  std::shared_ptr<const TlsContext> tls;  // null: plain HTTP; HTTP thread only
  std::unordered_set<std::shared_ptr<Session>> sessions;
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  std::vector<std::pair<absl::Duration, std::function<void()>>> periodic;

  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(Impl& impl, std::unique_ptr<TlsSession> tls, tcp::socket socket)
        : impl_(impl), tls_(std::move(tls)), socket_(std::move(socket)), deadline_(impl.io) {}

    void Begin() {
      deadline_.expires_after(std::chrono::milliseconds(
          absl::ToInt64Milliseconds(kRequestTimeout)));
      deadline_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
        if (!ec) self->Finish();
      });
      Read();
    }

    void Finish() {
      asio::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
      deadline_.cancel();
      impl_.sessions.erase(shared_from_this());
    }

   private:
    void Read() {
      socket_.async_read_some(
          asio::buffer(chunk_),
          [self = shared_from_this()](const asio::error_code& ec, size_t n) {
            self->OnRead(ec, n);
          });
    }

    void OnRead(const asio::error_code& ec, size_t n) {
      if (ec) {
        Finish();
        return;
      }
      const std::string_view data(chunk_.data(), n);
      if (tls_ == nullptr) {
        buf_.append(data);
        Process();
        return;
      }
      const TlsSession::FeedResult r = tls_->Feed(
          data, [] {}, [this](std::string_view plain) {
            buf_.append(plain);
            return true;  // at most one read's worth: bounded by chunk_
          });
      if (r != TlsSession::FeedResult::kOk) {
        Finish();
        return;
      }
      if (!tls_->has_output()) {
        Process();
        return;
      }
      // Handshake messages to answer before reading on.
      out_.clear();
      tls_->TakeOutput(&out_);
      asio::async_write(socket_, asio::buffer(out_),
                        [self = shared_from_this()](const asio::error_code& ec, size_t) {
                          if (ec) {
                            self->Finish();
                          } else {
                            self->Process();
                          }
                        });
    }

    // Acts on the request bytes received so far: answers a complete
    // request, else reads more.
    void Process() {
      const size_t end = buf_.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (buf_.size() > kMaxRequestBytes) {
          Respond(HttpResponse::Text(431, "431 Request Header Fields Too Large"),
                  false);
        } else {
          Read();
        }
        return;
      }
      if (end + 4 > kMaxRequestBytes) {
        Respond(HttpResponse::Text(431, "431 Request Header Fields Too Large"),
                false);
        return;
      }
      absl::StatusOr<HttpRequest> req =
          ParseHttpRequest(std::string_view(buf_).substr(0, end + 4));
      if (!req.ok()) {
        Respond(HttpResponse::Text(400, "400 Bad Request"), false);
        return;
      }
      if (req->method != "GET" && req->method != "HEAD") {
        HttpResponse r = HttpResponse::Text(405, "405 Method Not Allowed");
        r.headers.push_back("Allow: GET, HEAD");
        Respond(r, false);
        return;
      }
      Respond(impl_.handler(*req), req->method == "HEAD");
    }

    void Respond(const HttpResponse& response, bool head_only) {
      out_ = Serialize(response, head_only);
      if (tls_ != nullptr) {
        const std::string plain = std::move(out_);
        const iovec v{const_cast<char*>(plain.data()), plain.size()};
        out_.clear();
        tls_->Encrypt(std::span<const iovec>(&v, 1));
        tls_->TakeOutput(&out_);
      }
      asio::async_write(socket_, asio::buffer(out_),
                        [self = shared_from_this()](const asio::error_code&, size_t) {
                          self->Finish();
                        });
    }

    Impl& impl_;
    std::unique_ptr<TlsSession> tls_;  // HTTPS only
    tcp::socket socket_;
    asio::steady_timer deadline_;
    std::array<char, 4096> chunk_;
    std::string buf_;
    std::string out_;
  };

  void Accept() {
    acceptor.async_accept([this](const asio::error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;  // stopping
      if (!ec) {
        if (sessions.size() >= static_cast<size_t>(kMaxConnections)) {
          asio::error_code ignored;
          socket.close(ignored);
        } else {
          std::unique_ptr<TlsSession> session;
          if (tls != nullptr) {
            absl::StatusOr<std::unique_ptr<TlsSession>> made = TlsSession::Create(tls);
            if (made.ok()) session = *std::move(made);
          }
          if (tls != nullptr && session == nullptr) {
            asio::error_code ignored;
            socket.close(ignored);
          } else {
            auto s = std::make_shared<Session>(*this, std::move(session), std::move(socket));
            sessions.insert(s);
            s->Begin();
          }
        }
      }
      Accept();
    });
  }

  void Schedule(asio::steady_timer& timer, absl::Duration period,
                const std::function<void()>& fn) {
    timer.expires_after(std::chrono::milliseconds(absl::ToInt64Milliseconds(period)));
    timer.async_wait([this, &timer, period, &fn](const asio::error_code& ec) {
      if (ec) return;
      fn();
      Schedule(timer, period, fn);
    });
  }
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Every(absl::Duration period, std::function<void()> fn) {
  impl_->periodic.emplace_back(period, std::move(fn));
}

absl::StatusOr<int> HttpServer::Start(const std::string& host, int port,
                                      Handler handler,
                                      std::shared_ptr<const TlsContext> tls) {
  impl_->handler = std::move(handler);
  impl_->tls = std::move(tls);
  asio::error_code ec;
  const asio::ip::address addr = asio::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        fmt::format("invalid monitoring host \"{}\": {}", host, ec.message()));
  }
  const tcp::endpoint endpoint(addr, static_cast<unsigned short>(port));
  tcp::acceptor& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    asio::error_code ignored;
    a.close(ignored);
    return absl::UnavailableError(ec.message());
  }
  port_ = a.local_endpoint(ec).port();
  impl_->Accept();
  for (auto& [period, fn] : impl_->periodic) {
    impl_->timers.push_back(std::make_unique<asio::steady_timer>(impl_->io));
    impl_->Schedule(*impl_->timers.back(), period, fn);
  }
  thread_ = std::thread([this] {
    asio::error_code ignored;
    impl_->io.run(ignored);
  });
  return port_;
}

void HttpServer::SetTls(std::shared_ptr<const TlsContext> tls) {
  // Swapped on the HTTP thread, where Accept reads it: no lock.
  asio::post(impl_->io, [impl = impl_.get(), tls = std::move(tls)]() mutable {
    impl->tls = std::move(tls);
  });
}

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  asio::post(impl_->io, [impl = impl_.get()] {
    asio::error_code ignored;
    impl->acceptor.close(ignored);
    for (auto& t : impl->timers) t->cancel();
    // Finish() erases from the set: iterate over a copy.
    auto sessions = impl->sessions;
    for (auto& s : sessions) s->Finish();
  });
  thread_.join();
}

}  // namespace natsd
