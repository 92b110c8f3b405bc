// ServerConfig: one generation of the server's configuration — the options
// and what the server built from them (the authenticator, the TLS context,
// the INFO template).
//
// Start() builds the first generation and every successful reload (SIGHUP,
// reload.h) a new one; a generation never changes once built. Each Worker
// holds the generation its clients use and swaps it, on its own thread, when
// a reload reaches it; the monitor takes a snapshot from the Server. So no
// client ever reads an option another thread is rewriting, and no hot path
// takes a lock to read one.
//
//   std::shared_ptr<const ServerConfig> cfg = server.config();
//   if (cfg->opts.max_payload < n) ...
//
// Thread-safety: immutable; share it through shared_ptr<const ServerConfig>.
#ifndef NATSD_SERVER_SERVER_CONFIG_H_
#define NATSD_SERVER_SERVER_CONFIG_H_

#include <cstdint>
#include <memory>
#include <string>

#include "protocol/info.h"
#include "server/options.h"

namespace natsd {

class Authenticator;
class TlsContext;

struct ServerConfig {
  Options opts;
  std::shared_ptr<const Authenticator> auth;
  // What new clients handshake with; null without TLS.
  std::shared_ptr<const TlsContext> tls;
  // The INFO every client is greeted with, without the client's own fields.
  ServerInfo info;

  // The INFO line for a new client; `nonce` only when NKEY users exist.
  std::string ClientInfo(uint64_t cid, const std::string& client_ip,
                         const std::string& nonce) const;
  // The INFO sent to a connected client (the reference's async INFO): the
  // template with the client's id and address and its own max_payload
  // (its account's may be lower than the server's), without a nonce.
  std::string AsyncInfo(uint64_t cid, const std::string& client_ip, int64_t max_payload) const;
  // The async INFO telling a client that the server is in lame duck mode
  // ("ldm":true), as the reference sends it.
  std::string LameDuckInfo(uint64_t cid, const std::string& client_ip, int64_t max_payload) const;
};

}  // namespace natsd

#endif  // NATSD_SERVER_SERVER_CONFIG_H_
