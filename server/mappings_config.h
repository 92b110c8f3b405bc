// The `mappings` (alias `maps`) block of a config file, shared by the top
// level (the global account's mappings) and each account of `accounts`:
//
//   mappings {
//     "orders.*": "orders.v2.$1"
//     "events.>": [ {destination: "a.>", weight: 40%}, {destination: "b.>", weight: 60%} ]
//   }
//
//   std::vector<ConfigMapping> mappings;
//   std::vector<std::string> errors;   // "file:line:col: message"
//   ReadMappings(entry, &mappings, &errors);
//
// Each mapping is checked as the reference checks it when it adds it
// (weights, transforms), so a bad one is a start-up error, never a runtime
// surprise. Thread-safety: reentrant.
#ifndef NATSD_SERVER_MAPPINGS_CONFIG_H_
#define NATSD_SERVER_MAPPINGS_CONFIG_H_

#include <string>
#include <vector>

#include "server/conf_parser.h"
#include "server/options.h"

namespace natsd {

// Appends the mappings of `e` to `mappings`; errors are nats-server's texts
// with the position they refer to.
void ReadMappings(const ConfEntry& e, std::vector<ConfigMapping>* mappings,
                  std::vector<std::string>* errors);

}  // namespace natsd

#endif  // NATSD_SERVER_MAPPINGS_CONFIG_H_
