#include "server/accounts.h"

#include <string>
#include <utility>

#include "fmt/format.h"
#include "protocol/subject.h"
#include "server/client.h"
#include "server/nkeys.h"

namespace natsd {
namespace {

// The account-key prefix byte ('A' in base32).
constexpr uint8_t kNkeyPrefixAccount = 0;

}  // namespace

absl::StatusOr<std::unique_ptr<Accounts>> Accounts::Create(const Options& opts) {
  std::unique_ptr<Accounts> a(new Accounts());
  a->all_.push_back(std::make_unique<Account>(kGlobalAccountName, 0));
  for (const ConfigAccount& c : opts.accounts) {
    if (!c.nkey.empty() && !DecodeNkeyPublicKey(c.nkey, kNkeyPrefixAccount).ok()) {
      return absl::InvalidArgumentError(
          fmt::format("Not a valid public nkey for an account: \"{}\"", c.nkey));
    }
    a->all_.push_back(std::make_unique<Account>(c.name, a->all_.size()));
    a->all_.back()->limits_ = c.limits;
  }
  // Mappings: the top-level block is the global account's.
  for (size_t i = 0; i < a->all_.size(); ++i) {
    const std::vector<ConfigMapping>& config =
        i == 0 ? opts.mappings : opts.accounts[i - 1].mappings;
    if (config.empty()) continue;
    absl::StatusOr<std::unique_ptr<const SubjectMappings>> m = SubjectMappings::Create(config);
    if (!m.ok()) return m.status();
    a->all_[i]->mappings_ = *std::move(m);
  }
  for (const auto& acc : a->all_) a->by_name_.emplace(acc->name(), acc.get());
  // Every export first: imports look up the export they match.
  for (const ConfigAccount& c : opts.accounts) a->Find(c.name)->exports_ = c.exports;
  for (const ConfigAccount& c : opts.accounts) {
    if (absl::Status s = a->Wire(c); !s.ok()) return s;
  }
  if (!opts.system_account.empty()) {
    a->system_ = a->Find(opts.system_account);
    if (a->system_ == nullptr) {
      return absl::NotFoundError("error resolving system account: account missing");
    }
  }
  return a;
}

Account* Accounts::Find(std::string_view name) const {
  if (name.empty()) return all_[0].get();
  auto it = by_name_.find(absl::string_view(name.data(), name.size()));
  return it == by_name_.end() ? nullptr : it->second;
}

absl::Status Accounts::Wire(const ConfigAccount& config) {
  Account& acc = *Find(config.name);
  bool has_services = false;
  for (const ConfigExport& ex : config.exports) has_services |= ex.service;
  if (has_services) {
    // One subscription carries every response to a request this account's
    // services received through an import.
    auto sub = std::make_shared<ClientSub>();
    sub->kind = ClientSub::Kind::kServiceResponse;
    sub->account = &acc;
    sub->subject = acc.replies().prefix() + ">";
    if (absl::Status s = acc.sublist().Insert(std::move(sub)); !s.ok()) return s;
  }
  for (const ConfigImport& im : config.imports) {
    Account* exporter = Find(im.account);
    if (exporter == nullptr) {
      return absl::NotFoundError(fmt::format("\"{}\" account not defined for {} import",
                                             im.account, im.service ? "service" : "stream"));
    }
    if (!im.service) {
      absl::StatusOr<SubjectMapping> mapping = SubjectMapping::Create(im.subject, im.to);
      if (!mapping.ok()) return mapping.status();
      acc.stream_imports_.push_back(
          StreamImport{exporter, im.subject, im.to, im.prefix, *std::move(mapping)});
      continue;
    }
    absl::StatusOr<SubjectMapping> mapping = SubjectMapping::Create(im.to, im.subject);
    if (!mapping.ok()) return mapping.status();
    auto si = std::make_unique<ServiceImport>();
    si->importer = &acc;
    si->exporter = exporter;
    si->to = im.to;
    si->subject = im.subject;
    si->mapping = *std::move(mapping);
    si->share = im.share;
    // The response behaviour of the export the import matched.
    for (const ConfigExport& ex : exporter->exports_) {
      if (ex.service && SubjectIsSubsetOf(im.subject, ex.subject)) {
        si->response_type = ex.response_type;
        si->response_threshold = ex.response_threshold;
        break;
      }
    }
    auto sub = std::make_shared<ClientSub>();
    sub->kind = ClientSub::Kind::kServiceImport;
    sub->account = &acc;
    sub->subject = im.to;
    sub->service_import = si.get();
    if (absl::Status s = acc.sublist().Insert(std::move(sub)); !s.ok()) return s;
    acc.service_imports_.push_back(std::move(si));
  }
  return absl::OkStatus();
}

}  // namespace natsd
