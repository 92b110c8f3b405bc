// Options from config-file text, as natsd builds them from a config file
// (defaults, then the file), for tests that state their setup as config.
#ifndef NATSD_TESTS_SERVER_CONFIG_TEXT_H_
#define NATSD_TESTS_SERVER_CONFIG_TEXT_H_

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/conf_parser.h"
#include "server/config.h"
#include "server/options.h"

namespace natsd::testing {

// Applies `text` over `*opts`; a parse or config error fails the test.
inline void ApplyConfigText(const std::string& text, Options* opts) {
  absl::StatusOr<ConfValue> root = ParseConfString(text, "test.conf");
  ASSERT_TRUE(root.ok()) << root.status();
  std::vector<std::string> warnings;
  absl::Status s = ApplyConfig(*root, opts, &warnings);
  EXPECT_TRUE(s.ok()) << s;
}

inline Options FromConfig(const std::string& text) {
  Options o;
  ApplyConfigText(text, &o);
  return o;
}

}  // namespace natsd::testing

#endif  // NATSD_TESTS_SERVER_CONFIG_TEXT_H_
