#include "server/accounts_config.h"

#include <optional>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "fmt/format.h"
#include "protocol/subject.h"
#include "server/config_users.h"
#include "server/mappings_config.h"
#include "server/subject_mapping.h"

namespace natsd {
namespace {

// Reads one account definition and then resolves exports and imports
// across all of them, collecting errors as the reference does.
class AccountsReader {
 public:
  AccountsReader(Options* opts, std::vector<std::string>* errors)
      : opts_(opts), errors_(errors) {}

  void Read(const ConfEntry& e);

 private:
  void Error(const SourcePos& pos, std::string_view msg) {
    errors_->push_back(fmt::format("{}: {}", pos.ToString(), msg));
  }
  void Unknown(const ConfEntry& f) {
    if (!f.used_as_variable) Error(f.key_pos, fmt::format("unknown field \"{}\"", f.key));
  }
  const std::string* String(const ConfEntry& f, std::string_view what) {
    const std::string* s = f.value.get_if<std::string>();
    if (s == nullptr) {
      Error(f.key_pos, fmt::format("Expected {} to be string, got {}", what, f.value.GoTypeName()));
    }
    return s;
  }

  void ReadNames(const ConfValue::Array& names);
  void ReadAccount(const ConfEntry& e);
  void ReadLimits(const ConfEntry& e, AccountLimits* limits);
  void ReadExports(const ConfEntry& e, ConfigAccount* acc);
  void ReadExport(const ConfValue& item, ConfigAccount* acc);
  void ReadImports(const ConfEntry& e, ConfigAccount* acc);
  std::optional<ConfigImport> ReadImport(const ConfValue& item);
  // {account: A, subject: "foo"}; false (and an error) without both.
  bool ReadImportSource(const ConfEntry& f, ConfigImport* im);
  void AddUsers(const ConfEntry& users_key, std::vector<ConfigUser> users,
                const std::optional<ConfValue>& default_permissions, const std::string& account);
  // Once every account is known: exports' account lists, then imports.
  void Resolve(const SourcePos& pos);
  bool ImportAuthorized(const ConfigAccount& exporter, const ConfigImport& im,
                        const std::string& importer) const;
  // Whether importing `subject` from `exporter` into `importer` would let
  // messages flow back around to `importer` (the reference's cycle check).
  bool FormsCycle(const std::string& importer, const std::string& exporter,
                  std::string subject, bool service, absl::flat_hash_set<std::string>* visited) const;
  ConfigAccount* Find(std::string_view name);

  Options* opts_;
  std::vector<std::string>* errors_;
  // Imports accepted so far, by account (Resolve adds them one by one so
  // that the cycle check sees only earlier ones, as the reference does).
  absl::flat_hash_map<std::string, std::vector<ConfigImport>> resolved_;
};

ConfigAccount* AccountsReader::Find(std::string_view name) {
  for (ConfigAccount& a : opts_->accounts) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

void AccountsReader::Read(const ConfEntry& e) {
  if (const auto* names = e.value.get_if<ConfValue::Array>()) {
    ReadNames(*names);
    return;
  }
  const auto* map = e.value.get_if<ConfValue::Map>();
  if (map == nullptr) return;  // the reference ignores other types
  for (const ConfEntry& a : *map) ReadAccount(a);
  if (errors_->empty()) Resolve(e.key_pos);
}

void AccountsReader::ReadNames(const ConfValue::Array& names) {
  for (const ConfValue& n : names) {
    const std::string* name = n.get_if<std::string>();
    if (name == nullptr) continue;
    if (*name == "$G") {
      Error(n.pos(), fmt::format("\"{}\" is a Reserved Account", *name));
    } else if (Find(*name) != nullptr) {
      Error(n.pos(), fmt::format("Duplicate Account Entry: {}", *name));
    } else {
      opts_->accounts.push_back(ConfigAccount{.name = *name});
    }
  }
}

void AccountsReader::ReadAccount(const ConfEntry& e) {
  if (e.used_as_variable) return;
  const auto* map = e.value.get_if<ConfValue::Map>();
  if (map == nullptr) {
    Error(e.key_pos, "Expected map entries for accounts");
    return;
  }
  if (e.key == "$G") {
    Error(e.key_pos, fmt::format("\"{}\" is a Reserved Account", e.key));
    return;
  }
  ConfigAccount account;
  account.name = e.key;
  std::vector<ConfigUser> users;
  const ConfEntry* users_key = nullptr;
  std::optional<ConfValue> default_permissions;
  for (const ConfEntry& f : *map) {
    const std::string k = absl::AsciiStrToLower(f.key);
    if (k == "nkey") {
      if (const std::string* s = f.value.get_if<std::string>()) account.nkey = *s;
    } else if (k == "users") {
      users_key = &f;
      ParseConfigUsers(f, &users, errors_);
    } else if (k == "exports") {
      ReadExports(f, &account);
    } else if (k == "imports") {
      ReadImports(f, &account);
    } else if (k == "default_permissions") {
      default_permissions = f.value;
    } else if (k == "limits") {
      ReadLimits(f, &account.limits);
    } else if (k == "mappings" || k == "maps") {
      ReadMappings(f, &account.mappings, errors_);
    } else if (k == "jetstream") {
      account.other_config.emplace_back(k, f.value);
    } else {
      Unknown(f);
    }
  }
  opts_->accounts.push_back(std::move(account));
  if (users_key != nullptr && !users.empty()) {
    AddUsers(*users_key, std::move(users), default_permissions, e.key);
  }
}

void AccountsReader::ReadLimits(const ConfEntry& e, AccountLimits* limits) {
  const auto* map = e.value.get_if<ConfValue::Map>();
  if (map == nullptr) {
    Error(e.key_pos, fmt::format("Expected account limits to be a map/struct, got {}",
                                 e.value.GoValue()));
    return;
  }
  for (const ConfEntry& f : *map) {
    const std::string k = absl::AsciiStrToLower(f.key);
    int32_t* field = nullptr;
    if (k == "max_connections" || k == "max_conn") {
      field = &limits->max_connections;
    } else if (k == "max_subscriptions" || k == "max_subs") {
      field = &limits->max_subscriptions;
    } else if (k == "max_payload" || k == "max_pay") {
      field = &limits->max_payload;
    } else if (k == "max_leafnodes" || k == "max_leafs") {
      field = &limits->max_leafnodes;
    } else {
      if (!f.used_as_variable) {
        Error(f.key_pos, fmt::format("Unknown field \"{}\" parsing account limits", f.key));
      }
      continue;
    }
    const auto* n = f.value.get_if<int64_t>();
    if (n == nullptr) {
      // The reference's failed type assertion; it stops reading the block.
      Error(f.key_pos, fmt::format("interface conversion: interface {{}} is {}, not int64",
                                   f.value.GoTypeName()));
      return;
    }
    // Truncated to 32 bits, as the reference stores it.
    *field = static_cast<int32_t>(*n);
  }
}

void AccountsReader::AddUsers(const ConfEntry& users_key, std::vector<ConfigUser> users,
                              const std::optional<ConfValue>& default_permissions,
                              const std::string& account) {
  if (!opts_->username.empty()) {
    Error(users_key.key_pos, "Can not have a single user/pass and accounts");
    return;
  }
  if (!opts_->authorization.empty()) {
    Error(users_key.key_pos, "Can not have a token and accounts");
    return;
  }
  // User names and nkeys are unique across the authorization block and
  // every account.
  absl::flat_hash_set<std::string> seen;
  for (const ConfigUser& u : opts_->users) seen.insert(u.nkey.empty() ? u.username : u.nkey);
  for (ConfigUser& u : users) {
    const bool nkey = !u.nkey.empty();
    const std::string& id = nkey ? u.nkey : u.username;
    if (!seen.insert(id).second) {
      Error(users_key.key_pos,
            fmt::format("Duplicate {} \"{}\" detected", nkey ? "nkey" : "user", id));
      continue;
    }
    if (!u.permissions.has_value()) u.permissions = default_permissions;
    u.account = account;
    opts_->users.push_back(std::move(u));
  }
}

void AccountsReader::ReadExports(const ConfEntry& e, ConfigAccount* acc) {
  const auto* items = e.value.get_if<ConfValue::Array>();
  if (items == nullptr) {
    Error(e.key_pos, fmt::format("Exports should be an array, got {}", e.value.GoTypeName()));
    return;
  }
  for (const ConfValue& item : *items) ReadExport(item, acc);
}

void AccountsReader::ReadExport(const ConfValue& item, ConfigAccount* acc) {
  const auto* map = item.get_if<ConfValue::Map>();
  if (map == nullptr) {
    Error(item.pos(), fmt::format("Export Items should be a map with type entry, got {}",
                                  item.GoTypeName()));
    return;
  }
  ConfigExport ex;
  bool stream = false;
  const ConfEntry* response = nullptr;
  bool threshold_seen = false;
  for (const ConfEntry& f : *map) {
    const std::string k = absl::AsciiStrToLower(f.key);
    if (k == "stream" || k == "service") {
      const bool service = k == "service";
      if ((service && stream) || (!service && ex.service)) {
        Error(f.key_pos, fmt::format("Detected {} {} but already saw a {}", k,
                                     f.value.get_if<std::string>() != nullptr
                                         ? fmt::format("\"{}\"", *f.value.get_if<std::string>())
                                         : std::string(f.value.GoTypeName()),
                                     service ? "stream" : "service"));
        continue;
      }
      const std::string* s = String(f, service ? "service name" : "stream name");
      if (s == nullptr) continue;
      ex.subject = *s;
      ex.service = service;
      stream = !service;
    } else if (k == "response" || k == "response_type") {
      if (response != nullptr) {
        Error(f.key_pos, "Duplicate response type definition");
        continue;
      }
      response = &f;
      const std::string* s = String(f, "response type");
      if (s == nullptr) continue;
      const std::string t = absl::AsciiStrToLower(*s);
      if (t == "single" || t == "singleton") {
        ex.response_type = ServiceResponseType::kSingleton;
      } else if (t == "stream") {
        ex.response_type = ServiceResponseType::kStreamed;
      } else if (t == "chunk" || t == "chunked") {
        ex.response_type = ServiceResponseType::kChunked;
      } else {
        Error(f.key_pos, fmt::format("Unknown response type: \"{}\"", *s));
      }
    } else if (k == "threshold" || k == "response_threshold" || k == "response_max_time" ||
               k == "response_time") {
      if (threshold_seen) {
        Error(f.key_pos, "Duplicate response threshold detected");
        continue;
      }
      threshold_seen = true;
      response = response != nullptr ? response : &f;
      const std::string* s = f.value.get_if<std::string>();
      absl::StatusOr<absl::Duration> d =
          s != nullptr ? ParseGoDuration(*s) : absl::InvalidArgumentError("");
      if (s == nullptr) {
        Error(f.key_pos, fmt::format("Expected response threshold to be a parseable time "
                                     "duration, got {}", f.value.GoTypeName()));
      } else if (!d.ok()) {
        Error(f.key_pos, fmt::format("Expected response threshold to be a parseable time "
                                     "duration, got \"{}\"", *s));
      } else {
        ex.response_threshold = *d;
      }
    } else if (k == "accounts") {
      ex.accounts.emplace();
      if (const auto* names = f.value.get_if<ConfValue::Array>()) {
        for (const ConfValue& n : *names) {
          if (const std::string* s = n.get_if<std::string>()) ex.accounts->push_back(*s);
        }
      }
    } else {
      Unknown(f);
    }
  }
  if (stream && response != nullptr) {
    Error(response->key_pos, "Detected response directive on non-service");
    return;
  }
  if (!ex.subject.empty()) acc->exports.push_back(std::move(ex));
}

void AccountsReader::ReadImports(const ConfEntry& e, ConfigAccount* acc) {
  const auto* items = e.value.get_if<ConfValue::Array>();
  if (items == nullptr) {
    Error(e.key_pos, fmt::format("Imports should be an array, got {}", e.value.GoTypeName()));
    return;
  }
  // A local service subject may be imported once.
  absl::flat_hash_map<std::string, const ConfigImport*> services;
  for (const ConfValue& item : *items) {
    std::optional<ConfigImport> im = ReadImport(item);
    if (!im.has_value()) continue;
    if (im->service) {
      if (auto it = services.find(im->to); it != services.end()) {
        Error(item.pos(),
              fmt::format("Duplicate service import subject \"{}\", previously used in "
                          "import for account \"{}\", subject \"{}\"",
                          im->to, it->second->account, it->second->subject));
        continue;
      }
    }
    acc->imports.push_back(*std::move(im));
    // Pointers into acc->imports move on growth: index by value instead.
    services.clear();
    for (const ConfigImport& i : acc->imports) {
      if (i.service) services.emplace(i.to, &i);
    }
  }
}

bool AccountsReader::ReadImportSource(const ConfEntry& f, ConfigImport* im) {
  const auto* map = f.value.get_if<ConfValue::Map>();
  if (map == nullptr) {
    Error(f.key_pos, fmt::format("{} entry should be an account map, got {}",
                                 im->service ? "Service" : "Stream", f.value.GoTypeName()));
    return false;
  }
  for (const ConfEntry& g : *map) {
    const std::string k = absl::AsciiStrToLower(g.key);
    const std::string* s = g.value.get_if<std::string>();
    if (k == "account" && s != nullptr) {
      im->account = *s;
    } else if (k == "subject" && s != nullptr) {
      im->subject = *s;
    } else if (k != "account" && k != "subject") {
      Unknown(g);
    }
  }
  if (im->account.empty() || im->subject.empty()) {
    Error(f.key_pos, "Expect an account name and a subject");
    return false;
  }
  return true;
}

std::optional<ConfigImport> AccountsReader::ReadImport(const ConfValue& item) {
  const auto* map = item.get_if<ConfValue::Map>();
  if (map == nullptr) {
    Error(item.pos(), fmt::format("Import Items should be a map with type entry, got {}",
                                  item.GoTypeName()));
    return std::nullopt;
  }
  ConfigImport im;
  bool stream = false, service = false;
  std::string to;
  const ConfEntry* to_key = nullptr;
  for (const ConfEntry& f : *map) {
    const std::string k = absl::AsciiStrToLower(f.key);
    if (k == "stream" || k == "service") {
      const bool is_service = k == "service";
      if (is_service ? stream : service) {
        Error(f.key_pos, fmt::format("Detected {} but already saw a {}", k,
                                     is_service ? "stream" : "service"));
        continue;
      }
      im.service = is_service;
      if (!ReadImportSource(f, &im)) continue;
      stream = !is_service;
      service = is_service;
    } else if (k == "prefix") {
      if (const std::string* s = f.value.get_if<std::string>()) im.prefix = *s;
    } else if (k == "to") {
      if (const std::string* s = f.value.get_if<std::string>()) to = *s;
      to_key = &f;
    } else if (k == "share") {
      if (const bool* b = f.value.get_if<bool>()) im.share = *b;
    } else {
      Unknown(f);
    }
  }
  if (!stream && !service) return std::nullopt;
  if (stream && !im.prefix.empty() && to_key != nullptr) {
    Error(to_key->key_pos, "Stream import can not have a 'prefix' and a 'to' property");
    return std::nullopt;
  }
  im.to = to.empty() ? im.subject : to;
  return im;
}

bool AccountsReader::ImportAuthorized(const ConfigAccount& exporter, const ConfigImport& im,
                                      const std::string& importer) const {
  if (!IsValidSubject(im.subject)) return false;
  // An exact export first, then any export the subject is a subset of.
  const ConfigExport* found = nullptr;
  for (const ConfigExport& ex : exporter.exports) {
    if (ex.service == im.service && ex.subject == im.subject) found = &ex;
  }
  auto allows = [&](const ConfigExport& ex) {
    if (!ex.accounts.has_value()) return true;  // public
    for (const std::string& a : *ex.accounts) {
      if (a == importer) return true;
    }
    return false;  // listed accounts only; [] needs an activation token
  };
  if (found != nullptr) return allows(*found);
  for (const ConfigExport& ex : exporter.exports) {
    if (ex.service == im.service && SubjectIsSubsetOf(im.subject, ex.subject) && allows(ex)) {
      return true;
    }
  }
  return false;
}

bool AccountsReader::FormsCycle(const std::string& importer, const std::string& exporter,
                                std::string subject, bool service,
                                absl::flat_hash_set<std::string>* visited) const {
  // Messages on `subject` in `exporter` would reach `importer`. They loop
  // if `exporter` itself imports `subject` (as its local subject) from an
  // account already on the path.
  visited->insert(importer);
  auto it = resolved_.find(exporter);
  if (it == resolved_.end()) return false;
  for (const ConfigImport& im : it->second) {
    if (im.service != service || !SubjectsCollide(subject, im.to)) continue;
    if (visited->contains(im.account)) return true;
    std::string next = SubjectIsSubsetOf(im.subject, subject) ? im.subject : subject;
    if (FormsCycle(exporter, im.account, next, service, visited)) return true;
  }
  return false;
}

void AccountsReader::Resolve(const SourcePos& pos) {
  for (const ConfigAccount& acc : opts_->accounts) {
    for (const ConfigExport& ex : acc.exports) {
      if (!ex.accounts.has_value()) continue;
      for (const std::string& name : *ex.accounts) {
        if (Find(name) == nullptr) {
          Error(pos, fmt::format("\"{}\" account not defined for {} export", name,
                                 ex.service ? "service" : "stream"));
        }
      }
    }
  }
  for (ConfigAccount& acc : opts_->accounts) {
    std::vector<ConfigImport> kept;
    for (ConfigImport& im : acc.imports) {
      const std::string_view kind = im.service ? "service" : "stream";
      const ConfigAccount* exporter = Find(im.account);
      if (exporter == nullptr) {
        Error(pos, fmt::format("\"{}\" account not defined for {} import", im.account, kind));
        continue;
      }
      auto fail = [&](std::string_view why) {
        Error(pos, fmt::format("Error adding {} import \"{}\": {}", kind, im.subject, why));
      };
      if (im.service && (!IsValidSubject(im.subject) || !IsValidSubject(im.to))) {
        fail("invalid subject");
        continue;
      }
      if (!ImportAuthorized(*exporter, im, acc.name)) {
        fail(fmt::format("{} import not authorized", kind));
        continue;
      }
      if (!im.service && !im.prefix.empty()) {
        if (!SubjectIsLiteral(im.prefix)) {
          fail("stream import prefix can not contain wildcard tokens");
          continue;
        }
        im.to = im.prefix.back() == '.' ? im.prefix + im.subject
                                        : fmt::format("{}.{}", im.prefix, im.subject);
      }
      absl::flat_hash_set<std::string> visited;
      if (FormsCycle(acc.name, im.account, im.service ? im.subject : im.to, im.service,
                     &visited)) {
        fail("import forms a cycle");
        continue;
      }
      bool duplicate = false;
      for (const ConfigImport& k : kept) {
        duplicate |= !im.service && !k.service && k.account == im.account &&
                     k.subject == im.subject;
      }
      if (duplicate) {
        fail("stream import already exists");
        continue;
      }
      // Wildcards in the renamed subject must come from the original.
      absl::StatusOr<SubjectMapping> mapping =
          im.service ? SubjectMapping::Create(im.to, im.subject)
                     : SubjectMapping::Create(im.subject, im.to);
      if (!mapping.ok()) {
        fail(fmt::format("failed to create mapping transform for {} import subject \"{}\" "
                         "to \"{}\": {}", kind, im.service ? im.to : im.subject,
                         im.service ? im.subject : im.to, std::string(mapping.status().message())));
        continue;
      }
      kept.push_back(im);
      resolved_[acc.name].push_back(im);
    }
    acc.imports = std::move(kept);
  }
}

}  // namespace

void ApplyAccountsConfig(const ConfEntry& e, Options* opts, std::vector<std::string>* errors) {
  AccountsReader(opts, errors).Read(e);
}

}  // namespace natsd
