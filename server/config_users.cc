#include "server/config_users.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "fmt/format.h"

namespace natsd {
namespace {

void Error(std::vector<std::string>* errors, const SourcePos& pos, std::string_view msg) {
  errors->push_back(fmt::format("{}: {}", pos.ToString(), msg));
}

void String(const ConfEntry& f, std::string* out, std::vector<std::string>* errors) {
  if (const std::string* s = f.value.get_if<std::string>()) {
    *out = *s;
    return;
  }
  Error(errors, f.key_pos,
        fmt::format("{}: expected a string, got {}", f.key, f.value.TypeName()));
}

}  // namespace

void ParseConfigUsers(const ConfEntry& e, std::vector<ConfigUser>* users,
                      std::vector<std::string>* errors) {
  const ConfValue::Array* array = e.value.get_if<ConfValue::Array>();
  if (array == nullptr) {
    Error(errors, e.key_pos,
          fmt::format("Expected users field to be an array, got {}", e.value.TypeName()));
    return;
  }
  for (const ConfValue& item : *array) {
    const ConfValue::Map* map = item.get_if<ConfValue::Map>();
    if (map == nullptr) {
      Error(errors, item.pos(),
            fmt::format("Expected user entry to be a map/struct, got {}", item.TypeName()));
      continue;
    }
    ConfigUser user;
    for (const ConfEntry& f : *map) {
      std::string key = absl::AsciiStrToLower(f.key);
      if (key == "nkey") {
        String(f, &user.nkey, errors);
      } else if (key == "user" || key == "username") {
        String(f, &user.username, errors);
      } else if (key == "pass" || key == "password") {
        String(f, &user.password, errors);
      } else if (key == "permission" || key == "permissions" || key == "authorization") {
        user.permissions = f.value;
      } else if (key == "allowed_connection_types" || key == "connection_types" ||
                 key == "clients") {
        user.allowed_connection_types = f.value;
      } else if (!f.used_as_variable) {
        Error(errors, f.key_pos, fmt::format("unknown field \"{}\"", f.key));
      }
    }
    if (user.nkey.empty() && user.username.empty()) {
      Error(errors, item.pos(), "User entry requires a user");
      continue;
    }
    if (!user.nkey.empty() && (!user.username.empty() || !user.password.empty())) {
      Error(errors, item.pos(), "Nkey users do not take usernames or passwords");
      continue;
    }
    users->push_back(std::move(user));
  }
}

}  // namespace natsd
