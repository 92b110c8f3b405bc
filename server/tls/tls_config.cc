#include "server/tls/tls_config.h"

#include "absl/strings/ascii.h"
#include "fmt/format.h"
#include "server/options.h"
#include "server/tls/tls_context.h"

namespace natsd {
namespace {

absl::Status ErrorAt(const SourcePos& pos, std::string_view msg) {
  return absl::InvalidArgumentError(fmt::format("{}: {}", pos.ToString(), msg));
}

absl::Status ReadString(const ConfEntry& e, std::string_view key, std::string* out) {
  const std::string* s = e.value.get_if<std::string>();
  if (s == nullptr) {
    return ErrorAt(e.key_pos,
                   fmt::format("error parsing tls config, expected '{}' to be filename", key));
  }
  *out = *s;
  return absl::OkStatus();
}

absl::StatusOr<bool> ReadBool(const ConfEntry& e, std::string_view key) {
  const bool* b = e.value.get_if<bool>();
  if (b == nullptr) {
    return ErrorAt(e.key_pos,
                   fmt::format("error parsing tls config, expected '{}' to be a boolean", key));
  }
  return *b;
}

// cipher_suites / curve_preferences: a non-empty array of known names.
absl::Status ReadNames(const ConfEntry& e, std::string_view key, std::string_view what,
                       bool (*known)(std::string_view), std::vector<std::string>* out) {
  const auto* arr = e.value.get_if<ConfValue::Array>();
  if (arr == nullptr || arr->empty()) {
    return ErrorAt(e.key_pos, fmt::format("error parsing tls config, '{}' cannot be empty", key));
  }
  for (const ConfValue& item : *arr) {
    const std::string* s = item.get_if<std::string>();
    if (s == nullptr || !known(*s)) {
      return ErrorAt(item.pos(), fmt::format("unrecognized {} {}", what,
                                             s != nullptr ? *s : item.TypeName()));
    }
    out->push_back(*s);
  }
  return absl::OkStatus();
}

absl::Status ReadTimeout(const ConfEntry& e, absl::Duration* out) {
  if (const int64_t* n = e.value.get_if<int64_t>()) {
    *out = absl::Seconds(*n);
  } else if (const double* d = e.value.get_if<double>()) {
    *out = absl::Seconds(*d);
  } else if (const std::string* s = e.value.get_if<std::string>()) {
    absl::StatusOr<absl::Duration> d = ParseGoDuration(*s);
    if (!d.ok()) {
      return ErrorAt(e.key_pos, fmt::format("error parsing tls config, 'timeout' {}",
                                            std::string(d.status().message())));
    }
    *out = *d;
  } else {
    return ErrorAt(e.key_pos, "error parsing tls config, 'timeout' wrong type");
  }
  return absl::OkStatus();
}

absl::Status ApplyEntry(const ConfEntry& e, TlsOptions* t, std::vector<std::string>* warnings) {
  const std::string k = absl::AsciiStrToLower(e.key);
  if (k == "cert_file") return ReadString(e, k, &t->cert_file);
  if (k == "key_file") return ReadString(e, k, &t->key_file);
  if (k == "ca_file") return ReadString(e, k, &t->ca_file);
  if (k == "timeout") return ReadTimeout(e, &t->timeout);
  if (k == "cipher_suites") {
    return ReadNames(e, k, "cipher", &IsKnownTlsCipherSuite, &t->cipher_suites);
  }
  if (k == "curve_preferences") {
    return ReadNames(e, k, "curve preference", &IsKnownTlsCurve, &t->curve_preferences);
  }
  if (k == "verify" || k == "verify_and_map" || k == "insecure" ||
      k == "verify_cert_and_check_known_urls") {
    absl::StatusOr<bool> b = ReadBool(e, k);
    if (!b.ok()) return b.status();
    if (k == "verify") {
      t->verify = *b;
    } else if (k == "verify_and_map") {
      t->verify = t->verify || *b;
      t->map = *b;
    } else if (k == "verify_cert_and_check_known_urls" && *b) {
      return ErrorAt(e.key_pos, "verify_cert_and_check_known_urls not supported in this context");
    }
    // `insecure` only concerns connections the server makes; the reference
    // ignores it here too.
    return absl::OkStatus();
  }
  if (k == "connection_rate_limit") {
    if (e.value.get_if<int64_t>() == nullptr) {
      return ErrorAt(e.key_pos, "error parsing tls config, 'connection_rate_limit' wrong type");
    }
    warnings->push_back(fmt::format(
        "{}: natsd does not support tls 'connection_rate_limit': connections are not throttled",
        e.key_pos.ToString()));
    return absl::OkStatus();
  }
  if (k == "pinned_certs") {
    // Refused rather than ignored: accepting any certificate the CA signed
    // where the operator expected a pinned set would weaken security.
    return ErrorAt(e.key_pos, "natsd does not support tls 'pinned_certs'");
  }
  return ErrorAt(e.key_pos,
                 fmt::format("error parsing tls config, unknown field [\"{}\"]", e.key));
}

// GenTLSConfig's checks: the key pair and CA file must load.
absl::Status CheckLoadable(const TlsOptions& t) {
  return TlsContext::Create(t, TlsContext::ClientCerts::kAsConfigured).status();
}

}  // namespace

absl::StatusOr<TlsOptions> ParseTlsBlock(const ConfEntry& entry,
                                         std::vector<std::string>* warnings) {
  const auto* map = entry.value.get_if<ConfValue::Map>();
  if (map == nullptr) {
    return ErrorAt(entry.key_pos, fmt::format("tls: expected a map, got {}",
                                              entry.value.TypeName()));
  }
  TlsOptions t;
  for (const ConfEntry& e : *map) {
    if (absl::Status s = ApplyEntry(e, &t, warnings); !s.ok()) return s;
  }
  if (absl::Status s = CheckLoadable(t); !s.ok()) {
    return ErrorAt(entry.key_pos, std::string(s.message()));
  }
  return t;
}

absl::StatusOr<TlsOptions> TlsOptionsFromFlags(const std::string& cert,
                                               const std::string& key,
                                               const std::string& ca, bool verify,
                                               const TlsOptions* from_config) {
  if (cert.empty()) {
    return absl::InvalidArgumentError("TLS Server certificate must be present and valid");
  }
  if (key.empty()) {
    return absl::InvalidArgumentError("TLS Server private key must be present and valid");
  }
  TlsOptions t;
  if (from_config != nullptr) {
    t.timeout = from_config->timeout;
    t.map = from_config->map;
  }
  t.cert_file = cert;
  t.key_file = key;
  t.ca_file = ca;
  t.verify = verify;
  if (absl::Status s = CheckLoadable(t); !s.ok()) return s;
  return t;
}

}  // namespace natsd
