// CertIdentity: the names a client certificate carries, and how
// `verify_and_map` turns them into a configured user, as nats-server 2.9.10
// does (auth.go checkClientTLSCertSubject): e-mail SANs, then DNS SANs, then
// URI SANs, then the subject as a distinguished name (attribute order
// ignored), then the subject's string form with its domain components, then
// without.
//
//   std::optional<CertIdentity> id = session.PeerIdentity();
//   std::optional<std::string> user = MapCertificateToUser(*id, names);
//
// Thread-safety: a plain value type; the functions are reentrant.
#ifndef NATSD_SERVER_TLS_CERT_IDENTITY_H_
#define NATSD_SERVER_TLS_CERT_IDENTITY_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"

struct x509_st;

namespace natsd {

struct CertIdentity {
  std::vector<std::string> emails;     // rfc822Name SANs
  std::vector<std::string> dns_names;  // dNSName SANs
  std::vector<std::string> uris;       // uniformResourceIdentifier SANs
  // Go's pkix RDNSequence string of the subject: its nine known attribute
  // types, most specific first ("CN=client,OU=Test,O=NATS,C=US").
  std::string subject;
  // The subject's domain components in certificate order ("DC=example,DC=com").
  std::string domain_components;
  // Every subject attribute as (short type name, value), for DN matching.
  std::vector<std::pair<std::string, std::string>> attributes;
};

CertIdentity CertIdentityOf(x509_st* cert);

// The name of the user `id` maps to, or nullopt. `user_exists` says whether
// a user of that name may connect; `user_names` lists those users, for the
// distinguished name comparison.
std::optional<std::string> MapCertificateToUser(
    const CertIdentity& id, absl::FunctionRef<bool(std::string_view)> user_exists,
    std::span<const std::string> user_names);

}  // namespace natsd

#endif  // NATSD_SERVER_TLS_CERT_IDENTITY_H_
