// Throughput of the client-protocol parser on streams of PUB, HPUB and
// (route-sized) large PUB ops, parsed from one buffer the way a read loop
// hands them over, and from 64 KB reads that split ops at the boundaries.
#include <benchmark/benchmark.h>

#include <string>

#include "protocol/parser.h"

namespace natsd {
namespace {

// Counts callbacks; does the minimum a client must (touch the payload size).
class CountingHandler : public ParserHandler {
 public:
  int64_t msgs = 0;
  int64_t bytes = 0;
  bool OnConnect(std::string_view) override { return true; }
  bool OnPubArgs(const PubArgs&) override { return true; }
  bool OnMsg(const PubArgs& a, std::string_view payload) override {
    ++msgs;
    bytes += static_cast<int64_t>(payload.size() + a.subject.size());
    return true;
  }
  bool OnSub(std::string_view, std::string_view, std::string_view, std::string_view) override {
    return true;
  }
  bool OnUnsub(std::string_view, std::optional<int64_t>, std::string_view) override { return true; }
  bool OnPing() override { return true; }
  bool OnPong() override { return true; }
  bool OnOk() override { return true; }
  bool OnErr(std::string_view) override { return true; }
  bool OnInfo(std::string_view) override { return true; }
};

constexpr int kOpsPerStream = 4096;

std::string PubStream(size_t payload, bool headers, bool reply) {
  const std::string body(payload, 'x');
  std::string op;
  if (headers) {
    const std::string hdr = "NATS/1.0\r\nk: v\r\n\r\n";
    op = std::string("HPUB foo.bar.baz ") + (reply ? "_INBOX.abc " : "") +
         std::to_string(hdr.size()) + " " + std::to_string(hdr.size() + body.size()) + "\r\n" +
         hdr + body + "\r\n";
  } else {
    op = std::string("PUB foo.bar.baz ") + (reply ? "_INBOX.abc " : "") +
         std::to_string(body.size()) + "\r\n" + body + "\r\n";
  }
  std::string s;
  s.reserve(op.size() * kOpsPerStream);
  for (int i = 0; i < kOpsPerStream; ++i) s += op;
  return s;
}

// args: payload size, headers (0/1), reply (0/1), read size (0 = whole stream)
void BM_Parse(benchmark::State& state) {
  const std::string stream = PubStream(state.range(0), state.range(1) != 0, state.range(2) != 0);
  const size_t read = state.range(3) == 0 ? stream.size() : static_cast<size_t>(state.range(3));
  Parser parser({.max_control_line = 4096, .max_payload = 1 << 20});
  CountingHandler h;
  for (auto _ : state) {
    for (size_t off = 0; off < stream.size(); off += read) {
      const ParseStatus s = parser.Parse(std::string_view(stream).substr(off, read), h);
      if (s != ParseStatus::kOk) state.SkipWithError("parse failed");
    }
  }
  benchmark::DoNotOptimize(h.bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * stream.size());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kOpsPerStream);
}

BENCHMARK(BM_Parse)
    ->ArgNames({"payload", "hdr", "reply", "read"})
    ->Args({16, 0, 0, 0})
    ->Args({16, 0, 1, 0})
    ->Args({16, 1, 0, 0})
    ->Args({1024, 0, 0, 0})
    ->Args({1024, 1, 1, 0})
    ->Args({16, 0, 0, 65536})
    ->Args({1024, 0, 0, 65536})
    ->Args({65536, 0, 0, 65536});

}  // namespace
}  // namespace natsd

BENCHMARK_MAIN();
