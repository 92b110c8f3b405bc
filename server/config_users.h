// The `users` array of a config file, shared by `authorization { users }`
// and each account of `accounts { A { users } }`.
//
//   std::vector<ConfigUser> users;
//   std::vector<std::string> errors;   // "file:line:col: message"
//   ParseConfigUsers(entry, &users, &errors);
//
// Thread-safety: reentrant.
#ifndef NATSD_SERVER_CONFIG_USERS_H_
#define NATSD_SERVER_CONFIG_USERS_H_

#include <string>
#include <vector>

#include "server/conf_parser.h"
#include "server/options.h"

namespace natsd {

// Appends the users of `e` (an array of user maps) to `users`; errors are
// nats-server's texts with the position they refer to.
void ParseConfigUsers(const ConfEntry& e, std::vector<ConfigUser>* users,
                      std::vector<std::string>* errors);

}  // namespace natsd

#endif  // NATSD_SERVER_CONFIG_USERS_H_
