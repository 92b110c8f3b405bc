// libFuzzer target for the client-protocol parser. Besides crashes and
// sanitizer reports it checks invariants:
//  - feeding the input whole, in two pieces (split at a position taken from
//    the input) and byte by byte gives the same callbacks and final status;
//  - buffered memory stays within max_control_line + 1 and
//    control line + max_payload + 2;
//  - payloads handed out have exactly total_size bytes and header_size fits.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "protocol/parser.h"

namespace {

using natsd::ParserHandler;
using natsd::ParseStatus;
using natsd::PubArgs;

constexpr natsd::Parser::Limits kLimits{.max_control_line = 256, .max_payload = 1024};

void Check(bool ok) {
  if (!ok) std::abort();
}

class Recorder : public ParserHandler {
 public:
  std::string log;
  bool OnConnect(std::string_view j) override { return Add('C', j); }
  bool OnPubArgs(const PubArgs& a) override {
    Check(a.total_size >= 0 && a.total_size <= kLimits.max_payload);
    Check(a.header_size >= -1 && a.header_size <= a.total_size);
    Check(!a.subject.empty());
    return Add('A', a.raw);
  }
  bool OnMsg(const PubArgs& a, std::string_view p) override {
    Check(static_cast<int64_t>(p.size()) == a.total_size);
    Add('S', a.subject);
    Add('R', a.reply);
    return Add('M', p);
  }
  bool OnSub(std::string_view s, std::string_view q, std::string_view sid,
             std::string_view raw) override {
    Check(!s.empty() && !sid.empty());
    Add('s', s);
    Add('q', q);
    return Add('i', sid);
  }
  bool OnUnsub(std::string_view sid, std::optional<int64_t> max, std::string_view) override {
    Check(!sid.empty());
    Check(!max || *max >= 0);
    return Add('u', sid);
  }
  bool OnPing() override { return Add('P', {}); }
  bool OnPong() override { return Add('O', {}); }
  bool OnOk() override { return Add('K', {}); }
  bool OnErr(std::string_view t) override { return Add('E', t); }
  bool OnInfo(std::string_view j) override { return Add('I', j); }

 private:
  bool Add(char tag, std::string_view v) {
    log.push_back(tag);
    log.append(std::to_string(v.size()));
    log.push_back(':');
    log.append(v);
    return true;
  }
};

ParseStatus Feed(const std::vector<std::string_view>& pieces, std::string& log) {
  natsd::Parser parser(kLimits);
  Recorder rec;
  ParseStatus s = ParseStatus::kOk;
  for (std::string_view p : pieces) {
    s = parser.Parse(p, rec);
    Check(parser.buffered_bytes() <=
          static_cast<size_t>(kLimits.max_control_line + kLimits.max_payload + 2) + 64);
    if (s != ParseStatus::kOk) break;
  }
  log = std::move(rec.log);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t cut = data[0] % size;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::string whole_log;
  const ParseStatus whole = Feed({in}, whole_log);

  std::string split_log;
  const size_t at = std::min(cut, in.size());
  Check(Feed({in.substr(0, at), in.substr(at)}, split_log) == whole);
  Check(split_log == whole_log);

  if (in.size() <= 4096) {
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < in.size(); ++i) bytes.push_back(in.substr(i, 1));
    std::string byte_log;
    Check(Feed(bytes, byte_log) == whole);
    Check(byte_log == whole_log);
  }
  return 0;
}
