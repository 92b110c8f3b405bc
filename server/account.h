// Account: an isolated subject space. Every client belongs to exactly one;
// messages published in an account reach only that account's subscribers.
// Until configured accounts exist, all clients share the global account "$G",
// as in nats-server.
//
// Thread-safety: name is immutable; the sublist is internally synchronized.
#ifndef NATSD_SERVER_ACCOUNT_H_
#define NATSD_SERVER_ACCOUNT_H_

#include <string>
#include <utility>

#include "protocol/sublist.h"

namespace natsd {

inline constexpr char kGlobalAccountName[] = "$G";

class Account {
 public:
  explicit Account(std::string name) : name_(std::move(name)) {}
  Account(const Account&) = delete;
  Account& operator=(const Account&) = delete;

  const std::string& name() const { return name_; }
  Sublist& sublist() { return sublist_; }

 private:
  const std::string name_;
  Sublist sublist_;
};

}  // namespace natsd

#endif  // NATSD_SERVER_ACCOUNT_H_
