#include "protocol/info.h"

#include <iterator>

#include "fmt/format.h"
#include "protocol/json_fields.h"

namespace natsd {
namespace {

using json_fields::Decode;

// Length of the valid UTF-8 sequence starting at s[i], or 0 if the byte
// there does not start one (same acceptance as Go's utf8.DecodeRune: no
// overlongs, no surrogates, nothing above U+10FFFF).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) -> unsigned { return i + k < s.size() ? uint8_t(s[i + k]) : 0; };
  auto cont = [&](size_t k) { return (byte(k) & 0xC0) == 0x80; };
  const unsigned b0 = byte(0);
  const unsigned b1 = byte(1);
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const bool ok1 = b0 == 0xE0 ? (b1 >= 0xA0 && b1 <= 0xBF)
                     : b0 == 0xED ? (b1 >= 0x80 && b1 <= 0x9F)
                                  : cont(1);
    return ok1 && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const bool ok1 = b0 == 0xF0 ? (b1 >= 0x90 && b1 <= 0xBF)
                     : b0 == 0xF4 ? (b1 >= 0x80 && b1 <= 0x8F)
                                  : cont(1);
    return ok1 && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// Appends `s` as a JSON string the way Go's encoding/json does (HTML-safe).
void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        case '<': case '>': case '&':
          out.append("\\u00").push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
          break;
        default:
          if (c < 0x20) {
            out.append("\\u00").push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out.append("\\ufffd");
      ++i;
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8/A9) break JavaScript parsers; Go escapes them.
    if (n == 3 && c == 0xE2 && uint8_t(s[i + 1]) == 0x80 &&
        (uint8_t(s[i + 2]) == 0xA8 || uint8_t(s[i + 2]) == 0xA9)) {
      out.append(uint8_t(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  out.push_back('"');
}

// Writes the members of one JSON object, with Go's omitempty where asked.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  void Close() { out_.push_back('}'); }

  void String(std::string_view key, std::string_view v, bool omitempty = false) {
    if (omitempty && v.empty()) return;
    Key(key);
    AppendJsonString(out_, v);
  }
  void Bool(std::string_view key, bool v, bool omitempty = false) {
    if (omitempty && !v) return;
    Key(key);
    out_.append(v ? "true" : "false");
  }
  template <typename Int>
  void Number(std::string_view key, Int v, bool omitempty = false) {
    if (omitempty && v == 0) return;
    Key(key);
    fmt::format_to(std::back_inserter(out_), "{}", v);
  }
  // Always omitempty: Go omits nil and empty slices alike.
  void Strings(std::string_view key, const std::vector<std::string>& v) {
    if (v.empty()) return;
    Key(key);
    out_.push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out_.push_back(',');
      AppendJsonString(out_, v[i]);
    }
    out_.push_back(']');
  }
  // A *SubjectPermission with omitempty: omitted only when nil.
  void Permission(std::string_view key, const std::optional<SubjectPermission>& p) {
    if (!p) return;
    Key(key);
    ObjectWriter inner(out_);
    inner.Strings("allow", p->allow);
    inner.Strings("deny", p->deny);
    inner.Close();
  }

 private:
  void Key(std::string_view key) {
    if (!first_) out_.push_back(',');
    first_ = false;
    AppendJsonString(out_, key);
    out_.push_back(':');
  }

  std::string& out_;
  bool first_ = true;
};

absl::Status DecodeField(std::string_view k, const rapidjson::Value& v, ServerInfo& i) {
  constexpr std::string_view kWhat = "INFO";
  auto is = [k](std::string_view name) { return json_fields::EqualsIgnoreCase(k, name); };
  if (is("server_id")) return Decode(kWhat, k, v, i.server_id);
  if (is("server_name")) return Decode(kWhat, k, v, i.server_name);
  if (is("version")) return Decode(kWhat, k, v, i.version);
  if (is("proto")) return Decode(kWhat, k, v, i.proto);
  if (is("git_commit")) return Decode(kWhat, k, v, i.git_commit);
  if (is("go")) return Decode(kWhat, k, v, i.go);
  if (is("host")) return Decode(kWhat, k, v, i.host);
  if (is("port")) return Decode(kWhat, k, v, i.port);
  if (is("headers")) return Decode(kWhat, k, v, i.headers);
  if (is("auth_required")) return Decode(kWhat, k, v, i.auth_required);
  if (is("tls_required")) return Decode(kWhat, k, v, i.tls_required);
  if (is("tls_verify")) return Decode(kWhat, k, v, i.tls_verify);
  if (is("tls_available")) return Decode(kWhat, k, v, i.tls_available);
  if (is("max_payload")) return Decode(kWhat, k, v, i.max_payload);
  if (is("jetstream")) return Decode(kWhat, k, v, i.jetstream);
  if (is("ip")) return Decode(kWhat, k, v, i.ip);
  if (is("client_id")) return Decode(kWhat, k, v, i.client_id);
  if (is("client_ip")) return Decode(kWhat, k, v, i.client_ip);
  if (is("nonce")) return Decode(kWhat, k, v, i.nonce);
  if (is("cluster")) return Decode(kWhat, k, v, i.cluster);
  if (is("cluster_dynamic")) return Decode(kWhat, k, v, i.cluster_dynamic);
  if (is("domain")) return Decode(kWhat, k, v, i.domain);
  if (is("connect_urls")) return Decode(kWhat, k, v, i.connect_urls);
  if (is("ws_connect_urls")) return Decode(kWhat, k, v, i.ws_connect_urls);
  if (is("ldm")) return Decode(kWhat, k, v, i.ldm);
  if (is("import")) return Decode(kWhat, k, v, i.import_permission);
  if (is("export")) return Decode(kWhat, k, v, i.export_permission);
  if (is("lnoc")) return Decode(kWhat, k, v, i.lnoc);
  if (is("info_on_connect")) return Decode(kWhat, k, v, i.info_on_connect);
  if (is("connect_info")) return Decode(kWhat, k, v, i.connect_info);
  return absl::OkStatus();
}

}  // namespace

std::string EncodeInfo(const ServerInfo& info) {
  std::string out;
  out.reserve(512);
  out.append("INFO ");
  ObjectWriter w(out);
  w.String("server_id", info.server_id);
  w.String("server_name", info.server_name);
  w.String("version", info.version);
  w.Number("proto", info.proto);
  w.String("git_commit", info.git_commit, /*omitempty=*/true);
  w.String("go", info.go);
  w.String("host", info.host);
  w.Number("port", info.port);
  w.Bool("headers", info.headers);
  w.Bool("auth_required", info.auth_required, true);
  w.Bool("tls_required", info.tls_required, true);
  w.Bool("tls_verify", info.tls_verify, true);
  w.Bool("tls_available", info.tls_available, true);
  w.Number("max_payload", info.max_payload);
  w.Bool("jetstream", info.jetstream, true);
  w.String("ip", info.ip, true);
  w.Number("client_id", info.client_id, true);
  w.String("client_ip", info.client_ip, true);
  w.String("nonce", info.nonce, true);
  w.String("cluster", info.cluster, true);
  w.Bool("cluster_dynamic", info.cluster_dynamic, true);
  w.String("domain", info.domain, true);
  w.Strings("connect_urls", info.connect_urls);
  w.Strings("ws_connect_urls", info.ws_connect_urls);
  w.Bool("ldm", info.ldm, true);
  w.Permission("import", info.import_permission);
  w.Permission("export", info.export_permission);
  w.Bool("lnoc", info.lnoc, true);
  w.Bool("info_on_connect", info.info_on_connect, true);
  w.Bool("connect_info", info.connect_info, true);
  w.Close();
  out.append(" \r\n");
  return out;
}

absl::StatusOr<ServerInfo> ParseInfo(std::string_view json) {
  rapidjson::Document doc;
  if (absl::Status s = json_fields::ParseDocument("INFO", json, doc); !s.ok()) return s;
  ServerInfo info;
  info.proto = 0;  // Go decodes into a zero Info: an absent proto is 0
  if (doc.IsNull()) return info;
  for (const auto& m : doc.GetObject()) {
    if (absl::Status s = DecodeField(json_fields::View(m.name), m.value, info); !s.ok()) return s;
  }
  return info;
}

}  // namespace natsd
