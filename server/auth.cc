#include "server/auth.h"

#include <crypt.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "fmt/format.h"
#include "server/logger.h"
#include "server/nkeys.h"

namespace natsd {
namespace {

// Constant-time comparison, so that the response time does not tell how
// much of a secret matched.
bool SecureEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i]) ^
            static_cast<unsigned char>(i < b.size() ? b[i] : 0);
  }
  return diff == 0;
}

// Connection types the reference knows (jwt.ConnectionType*).
bool KnownConnectionType(std::string_view t) {
  return t == "STANDARD" || t == "WEBSOCKET" || t == "LEAFNODE" ||
         t == "LEAFNODE_WS" || t == "MQTT" || t == "MQTT_WS";
}

absl::StatusOr<std::shared_ptr<const Permissions>> CompilePermissions(
    const std::optional<ConfValue>& value) {
  if (!value.has_value()) return std::shared_ptr<const Permissions>();
  absl::StatusOr<PermissionsConfig> cfg = ParsePermissionsConfig(*value);
  if (!cfg.ok()) return cfg.status();
  return Permissions::Compile(*cfg);
}

}  // namespace

bool IsBcrypt(std::string_view s) {
  return s.size() >= 7 && s[0] == '$' && s[1] == '2' &&
         (s[2] == 'a' || s[2] == 'b' || s[2] == 'x' || s[2] == 'y') && s[3] == '$' &&
         absl::ascii_isdigit(static_cast<unsigned char>(s[4])) &&
         absl::ascii_isdigit(static_cast<unsigned char>(s[5])) && s[6] == '$';
}

bool ComparePasswords(std::string_view stored, std::string_view given) {
  if (!IsBcrypt(stored)) return SecureEquals(stored, given);
  // crypt_r needs NUL-terminated strings; a password with a NUL in it can
  // never match a hash of the configured one.
  if (given.find('\0') != std::string_view::npos) return false;
  const std::string setting(stored);
  const std::string phrase(given);
  auto data = std::make_unique<crypt_data>();  // ~32 KB: not on the stack
  const char* hashed = crypt_r(phrase.c_str(), setting.c_str(), data.get());
  // On failure crypt_r returns null or a string starting with '*'.
  if (hashed == nullptr || hashed[0] != '$') return false;
  return SecureEquals(hashed, stored);
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(const Options& opts) {
  std::unique_ptr<Authenticator> a(new Authenticator());
  a->token_ = opts.authorization;
  a->username_ = opts.username;
  a->password_ = opts.password;
  a->no_auth_user_ = opts.no_auth_user;
  a->tls_map_ = opts.tls_config && opts.tls_config->map;

  absl::StatusOr<std::shared_ptr<const Permissions>> defaults =
      CompilePermissions(opts.default_permissions);
  if (!defaults.ok()) return defaults.status();

  for (const ConfigUser& u : opts.users) {
    User user;
    user.password = u.password;
    absl::StatusOr<std::shared_ptr<const Permissions>> perms =
        CompilePermissions(u.permissions);
    if (!perms.ok()) return perms.status();
    // The authorization block's default_permissions are for its own users;
    // account users got their account's defaults when parsed.
    user.permissions = *perms != nullptr || !u.account.empty() ? *perms : *defaults;
    user.account = u.account;
    if (u.allowed_connection_types.has_value()) {
      const ConfValue& v = *u.allowed_connection_types;
      std::vector<const ConfValue*> items;
      if (const auto* arr = v.get_if<ConfValue::Array>()) {
        for (const ConfValue& item : *arr) items.push_back(&item);
      } else {
        items.push_back(&v);
      }
      for (const ConfValue* item : items) {
        const auto* s = item->get_if<std::string>();
        if (s == nullptr) {
          return absl::InvalidArgumentError(fmt::format(
              "{}: error parsing allowed connection types: unsupported type {}",
              item->pos().ToString(), item->TypeName()));
        }
        std::string upper = absl::AsciiStrToUpper(*s);
        if (!KnownConnectionType(upper)) {
          return absl::InvalidArgumentError(
              fmt::format("unknown connection type \"{}\"", *s));
        }
        user.connection_types.insert(std::move(upper));
      }
    }
    if (!u.nkey.empty()) {
      if (!IsValidPublicUserKey(u.nkey)) {
        return absl::InvalidArgumentError("Not a valid public nkey for a user");
      }
      a->nkeys_.insert_or_assign(u.nkey, std::move(user));
    } else {
      // As the reference: no warning for certificate-mapped users without
      // a password.
      if (!IsBcrypt(user.password) && !(a->tls_map_ && user.password.empty())) {
        a->plaintext_passwords_ = true;
      }
      a->users_.insert_or_assign(u.username, std::move(user));
    }
  }
  if (!a->password_.empty() && !IsBcrypt(a->password_)) a->plaintext_passwords_ = true;

  if (!a->no_auth_user_.empty()) {
    if (opts.users.empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "no_auth_user: \"{}\" present, but users are not defined", a->no_auth_user_));
    }
    if (!a->users_.contains(a->no_auth_user_)) {
      return absl::InvalidArgumentError(
          fmt::format("no_auth_user: \"{}\" not present as user in authorization block "
                      "or account configuration",
                      a->no_auth_user_));
    }
  }
  a->auth_required_ = !a->users_.empty() || !a->nkeys_.empty() ||
                      !a->username_.empty() || !a->token_.empty();
  return a;
}

absl::Status Authenticator::CheckConfig(const Options& opts) {
  Options checked = opts;
  checked.no_auth_user.clear();
  return Create(checked).status();
}

bool Authenticator::ConnectionTypeAllowed(const User& user) {
  return user.connection_types.empty() || user.connection_types.contains("STANDARD");
}

const std::string* Authenticator::AccountOf(const ConnectOptions& connect) const {
  const auto& users = connect.nkey.empty() ? users_ : nkeys_;
  auto it = users.find(connect.nkey.empty() ? connect.user : connect.nkey);
  return it == users.end() ? nullptr : &it->second.account;
}

std::optional<AuthenticatedUser> Authenticator::Authenticate(
    const ConnectOptions& connect, std::string_view nonce, const CertIdentity* cert) const {
  if (!auth_required_) return AuthenticatedUser{};

  if (!nkeys_.empty() && !connect.nkey.empty()) {
    auto it = nkeys_.find(connect.nkey);
    if (it == nkeys_.end() || !ConnectionTypeAllowed(it->second)) return std::nullopt;
    if (connect.sig.empty()) return std::nullopt;
    std::optional<std::string> sig = DecodeBase64RawUrl(connect.sig);
    if (!sig.has_value()) sig = DecodeBase64Std(connect.sig);
    if (!sig.has_value()) return std::nullopt;
    absl::StatusOr<NkeyPublicKey> key = DecodeNkeyPublicKey(connect.nkey, kNkeyPrefixUser);
    if (!key.ok() || !VerifyNkeySignature(*key, nonce, *sig)) return std::nullopt;
    return AuthenticatedUser{connect.nkey, it->second.permissions, it->second.account};
  }

  if (maps_certificates()) return AuthenticateByCertificate(connect, cert);

  if (!users_.empty()) {
    std::string_view username = connect.user;
    std::string_view password = connect.pass;
    // A client without credentials is the no_auth_user, if there is one. As
    // in the reference, it then "sends" that user's configured password, so
    // a bcrypt-hashed no_auth_user can never log in.
    if (!no_auth_user_.empty() && connect.user.empty() && connect.pass.empty() &&
        connect.auth_token.empty()) {
      if (auto it = users_.find(no_auth_user_); it != users_.end()) {
        username = it->first;
        password = it->second.password;
      }
    }
    if (!username.empty()) {
      auto it = users_.find(std::string(username));
      if (it == users_.end() || !ConnectionTypeAllowed(it->second)) return std::nullopt;
      if (!ComparePasswords(it->second.password, password)) return std::nullopt;
      return AuthenticatedUser{it->first, it->second.permissions, it->second.account};
    }
  }

  if (!token_.empty()) {
    if (!ComparePasswords(token_, connect.auth_token)) return std::nullopt;
    return AuthenticatedUser{};
  }
  if (!username_.empty()) {
    if (!SecureEquals(username_, connect.user) ||
        !ComparePasswords(password_, connect.pass)) {
      return std::nullopt;
    }
    return AuthenticatedUser{username_, nullptr};
  }
  return std::nullopt;
}

std::optional<AuthenticatedUser> Authenticator::AuthenticateByCertificate(
    const ConnectOptions& connect, const CertIdentity* cert) const {
  if (cert == nullptr) return std::nullopt;
  std::vector<std::string> names;
  for (const auto& [name, user] : users_) {
    if (ConnectionTypeAllowed(user)) names.push_back(name);
  }
  std::optional<std::string> name = MapCertificateToUser(
      *cert,
      [this](std::string_view n) {
        auto it = users_.find(absl::string_view(n.data(), n.size()));
        return it != users_.end() && ConnectionTypeAllowed(it->second);
      },
      names);
  if (!name.has_value()) return std::nullopt;
  if (!connect.user.empty()) {
    Logger::Global().Warn("User \"{}\" found in connect proto, but user required from cert",
                          connect.user);
  }
  const User& user = users_.find(*name)->second;
  return AuthenticatedUser{*name, user.permissions};
}

}  // namespace natsd
