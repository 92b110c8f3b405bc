#include "server/tls/cert_identity.h"

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"

namespace natsd {
namespace {

// Go's pkix.Name.ToRDNSequence order and attribute names; Go drops every
// other subject attribute from the string form.
struct KnownAttribute {
  int nid;
  const char* name;
};
constexpr KnownAttribute kGoOrder[] = {
    {NID_countryName, "C"},         {NID_stateOrProvinceName, "ST"},
    {NID_localityName, "L"},        {NID_streetAddress, "STREET"},
    {NID_postalCode, "POSTALCODE"}, {NID_organizationName, "O"},
    {NID_organizationalUnitName, "OU"}, {NID_commonName, "CN"},
    {NID_serialNumber, "SERIALNUMBER"},
};

std::string Utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  const int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) return "";
  std::string v(reinterpret_cast<const char*>(out), n);
  OPENSSL_free(out);
  return v;
}

// Go's escaping of one attribute value in RDNSequence.String.
std::string GoEscape(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    bool escape = false;
    switch (c) {
      case ',': case '+': case '"': case '\\': case '<': case '>': case ';':
        escape = true;
        break;
      case ' ':
        escape = i == 0 || i == v.size() - 1;
        break;
      case '#':
        escape = i == 0;
        break;
    }
    if (escape) out += '\\';
    out += c;
  }
  return out;
}

void AddSans(x509_st* cert, CertIdentity* id) {
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    switch (g->type) {
      case GEN_EMAIL: id->emails.push_back(Utf8(g->d.rfc822Name)); break;
      case GEN_DNS: id->dns_names.push_back(Utf8(g->d.dNSName)); break;
      case GEN_URI: id->uris.push_back(Utf8(g->d.uniformResourceIdentifier)); break;
      default: break;
    }
  }
  GENERAL_NAMES_free(names);
}

// A DN as (upper-cased type, value) pairs: "CN=a, O=b" or "CN=a+OU=b".
// Backslash escapes are undone; nullopt when a part has no '='.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseDn(std::string_view dn) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string part;
  auto finish = [&out](std::string p) -> bool {
    const size_t eq = p.find('=');
    if (eq == std::string::npos) return false;
    std::string type = p.substr(0, eq);
    std::string value = p.substr(eq + 1);
    absl::StripAsciiWhitespace(&type);
    absl::StripAsciiWhitespace(&value);
    out.emplace_back(absl::AsciiStrToUpper(type), std::move(value));
    return true;
  };
  for (size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == '\\' && i + 1 < dn.size()) {
      part += dn[++i];
    } else if (dn[i] == ',' || dn[i] == '+') {
      if (!finish(part)) return std::nullopt;
      part.clear();
    } else {
      part += dn[i];
    }
  }
  if (!finish(part)) return std::nullopt;
  return out;
}

}  // namespace

CertIdentity CertIdentityOf(x509_st* cert) {
  CertIdentity id;
  AddSans(cert, &id);
  const X509_NAME* name = X509_get_subject_name(cert);
  const int count = X509_NAME_entry_count(name);
  std::vector<std::string> dcs;
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    std::string value = Utf8(X509_NAME_ENTRY_get_data(e));
    if (nid == NID_domainComponent) dcs.push_back("DC=" + value);
    const char* sn = nid != NID_undef ? OBJ_nid2sn(nid) : "";
    id.attributes.emplace_back(absl::AsciiStrToUpper(sn), std::move(value));
  }
  id.domain_components = absl::StrJoin(dcs, ",");
  // One RDN per known type holding all of its values (Go's appendRDNs), in
  // Go's order, then printed most specific first. Go keeps only the last
  // common name.
  std::vector<std::string> rdns;
  for (const KnownAttribute& a : kGoOrder) {
    std::vector<std::string> values;
    for (int i = 0; i < count; ++i) {
      const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
      if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != a.nid) continue;
      std::string v = std::string(a.name) + "=" + GoEscape(Utf8(X509_NAME_ENTRY_get_data(e)));
      if (a.nid == NID_commonName) values.clear();
      values.push_back(std::move(v));
    }
    if (!values.empty()) rdns.push_back(absl::StrJoin(values, "+"));
  }
  std::reverse(rdns.begin(), rdns.end());
  id.subject = absl::StrJoin(rdns, ",");
  return id;
}

std::optional<std::string> MapCertificateToUser(
    const CertIdentity& id, absl::FunctionRef<bool(std::string_view)> user_exists,
    std::span<const std::string> user_names) {
  for (const auto* list : {&id.emails, &id.dns_names, &id.uris}) {
    for (const std::string& n : *list) {
      if (user_exists(n)) return n;
    }
  }
  // A user named by a distinguished name matches the subject whatever the
  // order of its attributes (the reference's DN and RDNsMatch checks).
  auto sorted = id.attributes;
  std::sort(sorted.begin(), sorted.end());
  for (const std::string& user : user_names) {
    if (user.find('=') == std::string::npos) continue;
    auto dn = ParseDn(user);
    if (!dn.has_value()) continue;
    std::sort(dn->begin(), dn->end());
    if (*dn == sorted && user_exists(user)) return user;
  }
  if (!id.domain_components.empty()) {
    std::string with_dcs = id.subject + "," + id.domain_components;
    if (user_exists(with_dcs)) return with_dcs;
  }
  if (!id.subject.empty() && user_exists(id.subject)) return id.subject;
  return std::nullopt;
}

}  // namespace natsd
