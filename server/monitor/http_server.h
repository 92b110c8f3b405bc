// HttpServer: a small HTTP/1.1 server for the monitoring endpoints, on its
// own thread (standalone Asio), off the data path.
//
//   HttpServer http;
//   absl::StatusOr<int> port = http.Start("127.0.0.1", 8222,
//       [](const HttpRequest& req) { return HttpResponse::Json("{}"); });
//   ...
//   http.Stop();
//
// One request per connection (the answer carries "Connection: close"), GET
// and HEAD only (others get 405), request head bounded by kMaxRequestBytes
// (431 past it), malformed requests answered 400, and a connection that does
// not finish its request within kRequestTimeout is dropped (over HTTPS the
// handshake counts against the same deadline). Nothing a peer
// sends can make it throw or crash: every Asio call uses the error_code form.
//
// Thread-safety: Start() and Stop() from one controlling thread; the handler
// and Every() callbacks run on the HTTP thread, one at a time.
#ifndef NATSD_SERVER_MONITOR_HTTP_SERVER_H_
#define NATSD_SERVER_MONITOR_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace natsd {

class TlsContext;

struct HttpRequest {
  std::string method;
  std::string path;  // percent-decoded, without the query
  // Query parameters in order, decoded ('+' is a space).
  std::vector<std::pair<std::string, std::string>> query;

  // The first value of `key`, or "" (Go's URL.Query().Get).
  std::string Query(std::string_view key) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  // Extra header lines, each "Name: value".
  std::vector<std::string> headers;

  static HttpResponse Text(int status, std::string body);
  static HttpResponse Json(std::string body);
};

// Parses a request head (request line and headers, up to and including the
// blank line). InvalidArgument for anything malformed.
absl::StatusOr<HttpRequest> ParseHttpRequest(std::string_view head);

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  static constexpr size_t kMaxRequestBytes = 16 * 1024;
  static constexpr absl::Duration kRequestTimeout = absl::Seconds(10);
  // Connections served at once; more are closed on accept.
  static constexpr int kMaxConnections = 64;

  HttpServer();
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on host:port (0 = any port) and starts the HTTP thread. Returns
  // the bound port. With `tls`, every connection is HTTPS (a TlsSession per
  // connection over the same socket code).
  absl::StatusOr<int> Start(const std::string& host, int port, Handler handler,
                            std::shared_ptr<const TlsContext> tls = nullptr);
  // After Start() with `tls`: new connections use `tls` (a reloaded
  // certificate); connections already open keep their session. Any thread.
  void SetTls(std::shared_ptr<const TlsContext> tls);
  // Closes the listener and every connection, joins the thread. Idempotent.
  void Stop();
  int port() const { return port_; }

  // Before Start(): runs `fn` on the HTTP thread every `period`.
  void Every(absl::Duration period, std::function<void()> fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace natsd

#endif  // NATSD_SERVER_MONITOR_HTTP_SERVER_H_
