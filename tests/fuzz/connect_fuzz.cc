// libFuzzer target for CONNECT and INFO decoding. Invariants: decoding never
// crashes, and a decoded ServerInfo survives encode/decode: re-encoding is
// stable, and exact unless invalid UTF-8 was replaced by U+FFFD.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/connect.h"
#include "protocol/info.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

// The JSON of an "INFO {...} \r\n" line.
std::string_view Json(const std::string& line) {
  Check(line.size() >= 8 && line.compare(0, 5, "INFO ") == 0 &&
        line.compare(line.size() - 3, 3, " \r\n") == 0);
  return std::string_view(line).substr(5, line.size() - 8);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)natsd::ParseConnect(in, natsd::ConnectOptions{});
  absl::StatusOr<natsd::ServerInfo> info = natsd::ParseInfo(in);
  if (!info.ok()) return 0;
  const std::string line1 = natsd::EncodeInfo(*info);
  absl::StatusOr<natsd::ServerInfo> info2 = natsd::ParseInfo(Json(line1));
  Check(info2.ok());
  const std::string line2 = natsd::EncodeInfo(*info2);
  absl::StatusOr<natsd::ServerInfo> info3 = natsd::ParseInfo(Json(line2));
  Check(info3.ok());
  Check(natsd::EncodeInfo(*info3) == line2);
  if (line1.find("\\ufffd") == std::string::npos) Check(line1 == line2);
  return 0;
}
