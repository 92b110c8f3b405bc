// Authenticator: who may connect, and as whom — nats-server 2.9.10's client
// authentication, built once from Options.
//
// Methods, in the order the reference tries them for a CONNECT:
//   1. NKEY users (`users = [{nkey: "U..."}]`): the client signs the nonce
//      the server sent in INFO; CONNECT carries `nkey` and `sig`.
//   2. Users (`users = [{user, password}]`), with `no_auth_user` standing in
//      for a client that sends no user, password or token.
//   3. A token (`--auth`, `authorization { token }`).
//   4. A single user (`--user/--pass`, `authorization { user, password }`).
// Passwords and tokens may be bcrypt hashes ("$2a$", "$2b$", ...). Users
// carry their compiled permissions (their own, else `default_permissions`).
//
//   absl::StatusOr<std::unique_ptr<Authenticator>> auth = Authenticator::Create(opts);
//   std::string nonce = (*auth)->nonce_required() ? NewNonce() : "";
//   std::optional<AuthenticatedUser> user = (*auth)->Authenticate(connect, nonce);
//   if (!user) ... -ERR 'Authorization Violation', close
//
// Thread-safety: immutable after Create; Authenticate may be called from any
// thread concurrently. Note that a bcrypt check costs tens of milliseconds
// of the calling thread.
#ifndef NATSD_SERVER_AUTH_H_
#define NATSD_SERVER_AUTH_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "protocol/connect.h"
#include "server/options.h"
#include "server/permissions.h"
#include "server/tls/cert_identity.h"

namespace natsd {

struct AuthenticatedUser {
  std::string name;  // the user name or public nkey; empty for token/no auth
  // Null: everything is allowed.
  std::shared_ptr<const Permissions> permissions;
  // The account the user belongs to; empty: the global account.
  std::string account;
};

class Authenticator {
 public:
  // Validates and compiles the authorization options. Errors are the
  // reference's start-up errors (bad permissions, a non-user nkey, an
  // unknown no_auth_user or connection type).
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(const Options& opts);

  // The checks of Create that nats-server makes while it reads the config
  // file, which are what `natsd -t` runs: everything except no_auth_user,
  // which the reference only verifies when the server starts (its `-t`
  // accepts an unknown no_auth_user).
  static absl::Status CheckConfig(const Options& opts);

  // Whether clients must authenticate (INFO auth_required).
  bool auth_required() const { return auth_required_; }
  // What INFO says: like the reference, a no_auth_user makes credentials
  // optional, so INFO does not ask for them (CONNECT is still required).
  bool advertise_auth_required() const { return auth_required_ && no_auth_user_.empty(); }
  // Whether INFO carries a nonce: only when NKEY users are configured.
  bool nonce_required() const { return !nkeys_.empty(); }
  // Whether a users list is configured (it names the user in the
  // reference's authentication error log).
  bool has_users() const { return !users_.empty(); }
  // The account of the configured NKEY user (if `connect` has an NKEY) or
  // else users-list entry `connect` names ("" for the global account), or
  // nullptr when there is none. A reload closes a client whose user is gone
  // or now belongs to another account, as the reference does (no error).
  const std::string* AccountOf(const ConnectOptions& connect) const;
  // Whether plain-text passwords are configured (the reference warns).
  bool has_plaintext_passwords() const { return plaintext_passwords_; }

  // Whether users come from client certificates (tls verify_and_map).
  bool maps_certificates() const { return tls_map_ && !users_.empty(); }

  // Checks a client's CONNECT; `nonce` is what its INFO carried, `cert` the
  // names in its TLS client certificate (needed when maps_certificates()).
  // nullopt: Authorization Violation.
  std::optional<AuthenticatedUser> Authenticate(const ConnectOptions& connect,
                                                std::string_view nonce,
                                                const CertIdentity* cert = nullptr) const;

 private:
  struct User {
    std::string password;  // plain or bcrypt
    std::shared_ptr<const Permissions> permissions;
    // Upper-cased; empty: any. Clients are "STANDARD".
    absl::flat_hash_set<std::string> connection_types;
    std::string account;  // empty: the global account
  };

  Authenticator() = default;
  static bool ConnectionTypeAllowed(const User& user);

  // Users named by a certificate rather than CONNECT.
  std::optional<AuthenticatedUser> AuthenticateByCertificate(const ConnectOptions& connect,
                                                             const CertIdentity* cert) const;

  bool auth_required_ = false;
  bool plaintext_passwords_ = false;
  bool tls_map_ = false;
  std::string token_;
  std::string username_;
  std::string password_;
  std::string no_auth_user_;
  absl::flat_hash_map<std::string, User> users_;  // by user name
  absl::flat_hash_map<std::string, User> nkeys_;  // by public key
};

// Whether `stored` is a bcrypt hash ("$2a$10$...", as the reference tests:
// $2 then a, b, x or y, $, two digits, $).
bool IsBcrypt(std::string_view stored);
// The reference's comparePasswords: a bcrypt check when `stored` is a
// bcrypt hash, else a constant-time comparison.
bool ComparePasswords(std::string_view stored, std::string_view given);

}  // namespace natsd

#endif  // NATSD_SERVER_AUTH_H_
