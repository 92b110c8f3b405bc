#include "protocol/connect.h"

#include "protocol/json_fields.h"

namespace natsd {
namespace {

using json_fields::Decode;

absl::Status ApplyField(std::string_view k, const rapidjson::Value& v, ConnectOptions& o) {
  constexpr std::string_view kWhat = "CONNECT";
  auto is = [k](std::string_view name) { return json_fields::EqualsIgnoreCase(k, name); };
  if (is("verbose")) return Decode(kWhat, k, v, o.verbose);
  if (is("pedantic")) return Decode(kWhat, k, v, o.pedantic);
  if (is("echo")) return Decode(kWhat, k, v, o.echo);
  if (is("headers")) return Decode(kWhat, k, v, o.headers);
  if (is("no_responders")) return Decode(kWhat, k, v, o.no_responders);
  if (is("tls_required")) return Decode(kWhat, k, v, o.tls_required);
  if (is("name")) return Decode(kWhat, k, v, o.name);
  if (is("lang")) return Decode(kWhat, k, v, o.lang);
  if (is("version")) return Decode(kWhat, k, v, o.version);
  if (is("user")) return Decode(kWhat, k, v, o.user);
  if (is("pass")) return Decode(kWhat, k, v, o.pass);
  if (is("auth_token")) return Decode(kWhat, k, v, o.auth_token);
  if (is("nkey")) return Decode(kWhat, k, v, o.nkey);
  if (is("sig")) return Decode(kWhat, k, v, o.sig);
  if (is("jwt")) return Decode(kWhat, k, v, o.jwt);
  if (is("protocol")) return Decode(kWhat, k, v, o.protocol);
  if (is("account")) return Decode(kWhat, k, v, o.account);
  if (is("new_account")) return Decode(kWhat, k, v, o.new_account);
  if (is("import")) return Decode(kWhat, k, v, o.import_permission);
  if (is("export")) return Decode(kWhat, k, v, o.export_permission);
  return absl::OkStatus();  // unknown keys are ignored
}

}  // namespace

absl::StatusOr<ConnectOptions> ParseConnect(std::string_view json, ConnectOptions base) {
  rapidjson::Document doc;
  if (absl::Status s = json_fields::ParseDocument("CONNECT", json, doc); !s.ok()) return s;
  if (doc.IsNull()) return base;  // Go: unmarshalling null into a struct is a no-op
  // Members are applied in order, so a repeated key's last value wins, as in Go.
  for (const auto& m : doc.GetObject()) {
    if (absl::Status s = ApplyField(json_fields::View(m.name), m.value, base); !s.ok()) return s;
  }
  return base;
}

}  // namespace natsd
