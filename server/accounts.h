// Accounts: every account of the server, built once at start from Options
// (accounts_config.h has already checked the configuration): "$G" first,
// then the configured accounts in file order, with their exports and
// imports wired up — each service import's subscription in the importing
// account, each service exporter's response subscription.
//
//   absl::StatusOr<std::unique_ptr<Accounts>> accounts = Accounts::Create(opts);
//   Account* a = (*accounts)->Find("A");     // nullptr if unknown
//
// Thread-safety: immutable after Create; any thread may read it. Accounts
// (and the imports they hold) live as long as this object.
#ifndef NATSD_SERVER_ACCOUNTS_H_
#define NATSD_SERVER_ACCOUNTS_H_

#include <memory>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "server/account.h"
#include "server/options.h"

namespace natsd {

class Accounts {
 public:
  // Errors are the reference's: an account nkey that is not one, a
  // system_account that names no account.
  static absl::StatusOr<std::unique_ptr<Accounts>> Create(const Options& opts);

  Account& global() { return *all_[0]; }
  // By name; "" is the global account. nullptr when unknown.
  Account* Find(std::string_view name) const;
  // "$G" first, then the configured accounts in file order.
  const std::vector<std::unique_ptr<Account>>& all() const { return all_; }
  size_t size() const { return all_.size(); }
  // The configured system_account, or nullptr.
  Account* system_account() const { return system_; }

 private:
  Accounts() = default;
  absl::Status Wire(const ConfigAccount& config);

  std::vector<std::unique_ptr<Account>> all_;
  absl::flat_hash_map<std::string, Account*> by_name_;
  Account* system_ = nullptr;
};

}  // namespace natsd

#endif  // NATSD_SERVER_ACCOUNTS_H_
