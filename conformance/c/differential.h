// Differential runner for the nats.c (libnats) conformance cases.
//
// A case is a function of Ctx that drives libnats against Ctx::url() and
// records observations with Note(). RunDifferential() starts the reference
// nats-server and natsd with the same flags/config, runs the case against each,
// and fails the GoogleTest test when the observations differ. A case that fails
// its own Check() against the reference is reported as a harness bug.
//
//   CONFORMANCE_CASE(pub_sub, {.config = "max_payload: 64\n"}) {
//     natsConnection* nc = t.Connect();
//     ...
//     t.Note("got %s", data);
//   }
//
// Results are also recorded as gtest properties (reference, natsd,
// reference_obs, natsd_obs) which conformance/run.py reads back.
#pragma once

#include <nats/nats.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace conformance {

// Flags and config text given to both servers ({dir} expands to the server's temp dir).
struct ServerSpec {
  std::vector<std::string> flags;
  std::string config;
};

// One server process in its own process group, on 127.0.0.1 and a free port.
// Not thread-safe; Stop() is idempotent and runs from the destructor.
class Server {
 public:
  Server(std::string binary, ServerSpec spec);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  bool Start(int port = 0);  // false (and Error() says why) when it did not come up
  void Stop();
  bool Restart();
  int port() const { return port_; }
  const std::string& Error() const { return error_; }

 private:
  bool WaitReady(int port);
  std::string binary_;
  ServerSpec spec_;
  std::string dir_;
  int port_ = 0;
  int pid_ = -1;
  std::string error_;
};

// Raised by Ctx::Check; ends the case on the current side.
struct CheckFailed {
  std::string what;
};

// What a case sees. Owns the connections it opens (closed when the side ends).
class Ctx {
 public:
  explicit Ctx(Server* server) : server_(server) {}
  ~Ctx();

  std::string url() const;
  void Note(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  // Fails the case when `ok` is false (a harness bug if it happens on the reference).
  void Check(bool ok, const std::string& what);
  // Fails the case unless s == NATS_OK.
  void CheckOk(natsStatus s, const std::string& what);
  // Connects with `opts` (may be null); fails the case on error. The URL is set here.
  natsConnection* Connect(natsOptions* opts = nullptr);
  // Tries to connect; returns the status text ("OK" on success, and then closes).
  std::string TryConnect(natsOptions* opts = nullptr);
  // New options owned by the Ctx.
  natsOptions* Options();
  void Own(natsSubscription* sub) { subs_.push_back(sub); }
  bool Restart() { return server_->Restart(); }
  void Stop() { server_->Stop(); }
  bool Start() { return server_->Start(server_->port()); }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  Server* server_;
  std::vector<std::string> lines_;
  std::vector<natsConnection*> conns_;
  std::vector<natsSubscription*> subs_;
  std::vector<natsOptions*> opts_;
};

// The run's TLS certificate directory (conformance/harness/certs.py, passed
// down as NATS_CONF_CERTS); "{certs}" in a spec stands for it.
std::string CertsDir();

using CaseFn = std::function<void(Ctx&)>;

void RunDifferential(const char* name, const ServerSpec& spec, const CaseFn& fn);

// Status text for observations: "OK", "Timeout", "No Responders Available For Request"...
std::string StatusText(natsStatus s);

}  // namespace conformance

#define CONFORMANCE_CASE(name, ...)                                          \
  static void name##_case(::conformance::Ctx& t);                            \
  TEST(C, name) {                                                            \
    ::conformance::RunDifferential(#name, ::conformance::ServerSpec __VA_ARGS__, name##_case); \
  }                                                                          \
  static void name##_case(::conformance::Ctx& t)
