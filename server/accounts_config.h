// The `accounts` block of a config file, read as nats-server 2.9 reads it
// (opts.go parseAccounts) and checked as its start-up checks it:
//
//   accounts {
//     A: {
//       users: [ {user: a, password: a}, {nkey: "U..."} ]
//       exports: [ {stream: "foo.>"}, {service: "req.*", accounts: [B]} ]
//     }
//     B: {
//       users: [ {user: b, password: b} ]
//       imports: [ {stream: {account: A, subject: "foo.>"}, prefix: x}
//                  {service: {account: A, subject: "req.a"}, to: "local.req"} ]
//     }
//   }
//   # or only names: accounts: [A, B]
//
// Each account becomes an Options::accounts entry; its users join
// Options::users with ConfigUser::account set. Exports are resolved before
// imports, and an import must name a defined account and a subject that
// account exports to it, with the reference's errors ("\"Z\" account not
// defined for stream import", "Error adding service import \"req.a\":
// service import not authorized", ...).
//
// Thread-safety: reentrant; the caller owns `opts`.
#ifndef NATSD_SERVER_ACCOUNTS_CONFIG_H_
#define NATSD_SERVER_ACCOUNTS_CONFIG_H_

#include <string>
#include <vector>

#include "server/conf_parser.h"
#include "server/options.h"

namespace natsd {

// Applies the `accounts` entry `e` to `opts` (after every other top-level
// key, so that the authorization block is known). Errors, each
// "file:line:col: message", are appended to `errors`.
void ApplyAccountsConfig(const ConfEntry& e, Options* opts, std::vector<std::string>* errors);

}  // namespace natsd

#endif  // NATSD_SERVER_ACCOUNTS_CONFIG_H_
