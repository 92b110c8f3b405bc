// Feeds arbitrary bytes to the config parser and, when they parse, applies
// the tree to Options. Includes and the environment are disabled so the
// input cannot reach the file system or depend on the fuzzing host.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/conf_parser.h"
#include "server/config.h"
#include "server/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<natsd::ConfValue> root = natsd::ParseConfString(
      text, "fuzz.conf", {.allow_includes = false, .allow_env = false});
  if (!root.ok()) return 0;
  natsd::Options opts;
  std::vector<std::string> warnings;
  (void)natsd::ApplyConfig(*root, &opts, &warnings);
  return 0;
}
