// Tests of the client-protocol parser. Expected behaviours marked "ref:" were
// observed on nats-server 2.9.10 (Debian) over a socket; the notes say what
// the reference sent back and whether it closed the connection.
#include "protocol/parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fmt/format.h"

namespace natsd {
namespace {

// Records every callback as one line of text; can refuse at a given event.
class Recorder : public ParserHandler {
 public:
  std::vector<std::string> events;
  int stop_at = -1;            // return false from the event with this index
  Parser* parser = nullptr;    // for OnConnect to lift expect_connect

  bool OnConnect(std::string_view json) override {
    if (parser != nullptr) parser->set_expect_connect(false);
    return Add(fmt::format("CONNECT [{}]", json));
  }
  bool OnPubArgs(const PubArgs& a) override {
    return Add(fmt::format("PUBARGS [{}] [{}] {} {} [{}]", a.subject, a.reply, a.header_size,
                           a.total_size, a.raw));
  }
  bool OnMsg(const PubArgs& a, std::string_view payload) override {
    return Add(fmt::format("MSG [{}] [{}] {} {} [{}]", a.subject, a.reply, a.header_size,
                           a.total_size, payload));
  }
  bool OnSub(std::string_view subject, std::string_view queue, std::string_view sid,
             std::string_view raw) override {
    return Add(fmt::format("SUB [{}] [{}] [{}] [{}]", subject, queue, sid, raw));
  }
  bool OnUnsub(std::string_view sid, std::optional<int64_t> max, std::string_view raw) override {
    return Add(fmt::format("UNSUB [{}] {} [{}]", sid, max ? std::to_string(*max) : "none", raw));
  }
  bool OnPing() override { return Add("PING"); }
  bool OnPong() override { return Add("PONG"); }
  bool OnOk() override { return Add("+OK"); }
  bool OnErr(std::string_view text) override { return Add(fmt::format("-ERR [{}]", text)); }
  bool OnInfo(std::string_view json) override { return Add(fmt::format("INFO [{}]", json)); }

 private:
  bool Add(std::string e) {
    events.push_back(std::move(e));
    return static_cast<int>(events.size()) - 1 != stop_at;
  }
};

struct Result {
  ParseStatus status;
  std::vector<std::string> events;
  std::string detail;
};

Parser::Limits DefaultLimits() { return Parser::Limits{}; }

Result RunChunks(const std::vector<std::string>& chunks, Parser::Limits limits = DefaultLimits()) {
  Parser parser(limits);
  Recorder rec;
  ParseStatus status = ParseStatus::kOk;
  for (const std::string& c : chunks) {
    status = parser.Parse(c, rec);
    if (status != ParseStatus::kOk) break;
  }
  return {status, rec.events, std::string(parser.error_detail())};
}

Result RunOne(const std::string& s, Parser::Limits limits = DefaultLimits()) {
  return RunChunks({s}, limits);
}

using Events = std::vector<std::string>;

TEST(ParserTest, Pub) {
  Result r = RunOne("PUB foo 5\r\nhello\r\n");
  EXPECT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.events, (Events{"PUBARGS [foo] [] -1 5 [foo 5]", "MSG [foo] [] -1 5 [hello]"}));
}

TEST(ParserTest, PubWithReply) {
  Result r = RunOne("PUB foo bar 2\r\nhi\r\n");
  EXPECT_EQ(r.events,
            (Events{"PUBARGS [foo] [bar] -1 2 [foo bar 2]", "MSG [foo] [bar] -1 2 [hi]"}));
}

TEST(ParserTest, PubEmptyPayload) {
  Result r = RunOne("PUB foo 0\r\n\r\nPING\r\n");
  EXPECT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.events, (Events{"PUBARGS [foo] [] -1 0 [foo 0]", "MSG [foo] [] -1 0 []", "PING"}));
}

TEST(ParserTest, PayloadMayContainCrLf) {
  Result r = RunOne("PUB foo 4\r\n\r\n\r\n\r\n");
  EXPECT_EQ(r.events.back(), "MSG [foo] [] -1 4 [\r\n\r\n]");
}

TEST(ParserTest, Hpub) {
  Result r = RunOne("HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n");
  EXPECT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.events, (Events{"PUBARGS [foo] [] 12 14 [foo 12 14]",
                              "MSG [foo] [] 12 14 [NATS/1.0\r\n\r\nhi]"}));
  r = RunOne("HPUB foo rep 0 2\r\nhi\r\n");
  EXPECT_EQ(r.events.back(), "MSG [foo] [rep] 0 2 [hi]");
}

TEST(ParserTest, HpubRejectedWithoutHeaders) {
  // ref: HPUB before CONNECT{"headers":true} closes silently, args unread.
  Parser parser(DefaultLimits());
  parser.set_headers(false);
  Recorder rec;
  EXPECT_EQ(parser.Parse("HPUB foo 99999999 99999999\r\n", rec), ParseStatus::kBadArgs);
  EXPECT_EQ(parser.error_detail(), "message headers not supported");
  EXPECT_TRUE(rec.events.empty());
}

TEST(ParserTest, Sub) {
  EXPECT_EQ(RunOne("SUB foo 1\r\n").events, (Events{"SUB [foo] [] [1] [foo 1]"}));
  EXPECT_EQ(RunOne("SUB foo q 1\r\n").events, (Events{"SUB [foo] [q] [1] [foo q 1]"}));
  EXPECT_EQ(RunOne("SUB foo\tq\t1\r\n").events, (Events{"SUB [foo] [q] [1] [foo\tq\t1]"}));
}

TEST(ParserTest, Unsub) {
  EXPECT_EQ(RunOne("UNSUB 1\r\n").events, (Events{"UNSUB [1] none [1]"}));
  EXPECT_EQ(RunOne("UNSUB 1 10\r\n").events, (Events{"UNSUB [1] 10 [1 10]"}));
  EXPECT_EQ(RunOne("UNSUB 1 0\r\n").events, (Events{"UNSUB [1] 0 [1 0]"}));
  // ref: "UNSUB 1 x" is accepted (+OK, open): an invalid max means "now".
  EXPECT_EQ(RunOne("UNSUB 1 x\r\n").events, (Events{"UNSUB [1] none [1 x]"}));
  EXPECT_EQ(RunOne("UNSUB 1 1234567890\r\n").events, (Events{"UNSUB [1] none [1 1234567890]"}));
}

TEST(ParserTest, PingPongOkErr) {
  Result r = RunOne("PING\r\nPONG\r\n+OK\r\n-ERR 'Unknown Protocol Operation'\r\n");
  EXPECT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.events, (Events{"PING", "PONG", "+OK", "-ERR ['Unknown Protocol Operation']"}));
}

TEST(ParserTest, PingIgnoresRestOfLine) {
  // ref: "ping xyz\r\n" and "PINGPONG\r\n" each get one PONG.
  EXPECT_EQ(RunOne("ping xyz\r\n").events, (Events{"PING"}));
  EXPECT_EQ(RunOne("PINGPONG\r\n").events, (Events{"PING"}));
  EXPECT_EQ(RunOne("+OKAY\r\n").events, (Events{"+OK"}));
}

TEST(ParserTest, ConnectAndInfo) {
  EXPECT_EQ(RunOne("CONNECT {\"verbose\":false}\r\n").events,
            (Events{"CONNECT [{\"verbose\":false}]"}));
  // ref: no blank is needed after CONNECT/INFO ("CONNECT{}" gets +OK).
  EXPECT_EQ(RunOne("CONNECT{}\r\nINFO{}\r\n").events, (Events{"CONNECT [{}]", "INFO [{}]"}));
  EXPECT_EQ(RunOne("INFO  {\"a\":1}  \r\n").events, (Events{"INFO [{\"a\":1}  ]"}));
}

TEST(ParserTest, CaseInsensitiveOps) {
  Result r = RunOne("pub foo 1\r\nx\r\nPuB foo 1\r\ny\r\nhPuB f 0 0\r\n\r\nsUb a 1\r\nUnSuB 1\r\n"
                  "pInG\r\npOnG\r\n+ok\r\n-eRr x\r\nconnect {}\r\ninfo {}\r\n");
  EXPECT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.events.size(), 14u);
}

TEST(ParserTest, BlanksBetweenArgs) {
  // ref: "PUB\tfoo\t\t2" and "PUB  foo  2  " are accepted.
  EXPECT_EQ(RunOne("PUB\tfoo\t\t2\r\nhi\r\n").events.back(), "MSG [foo] [] -1 2 [hi]");
  Result r = RunOne("PUB  foo  2  \r\nhi\r\n");
  EXPECT_EQ(r.events, (Events{"PUBARGS [foo] [] -1 2 [foo  2  ]", "MSG [foo] [] -1 2 [hi]"}));
  EXPECT_EQ(RunOne("SUB   foo   q   1   \r\n").events.back(), "SUB [foo] [q] [1] [foo   q   1   ]");
}

TEST(ParserTest, BareLfEndsControlLines) {
  // ref: "PING\n" gets PONG; "PUB foo 2\nhi\r\n" is published.
  Result r = RunOne("PING\nPUB foo 2\nhi\r\nSUB a 1\n");
  EXPECT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(r.events,
            (Events{"PING", "PUBARGS [foo] [] -1 2 [foo 2]", "MSG [foo] [] -1 2 [hi]",
                    "SUB [a] [] [1] [a 1]"}));
}

TEST(ParserTest, FirstArgByteIsNeverALineEnd) {
  // ref: "PUB \nfoo 2\r\nhi\r\n" is published (subject "\nfoo", pedantic
  // would flag it) and "CONNECT\n{}\r\n" gets +OK: the byte after the blanks
  // starts the arguments even when it is LF.
  EXPECT_EQ(RunOne("PUB \nfoo 2\r\nhi\r\n").events.back(), "MSG [\nfoo] [] -1 2 [hi]");
  EXPECT_EQ(RunOne("CONNECT\n{}\r\n").events, (Events{"CONNECT [\n{}]"}));
  // A lone CR as the argument is kept (the reference's arg is "\r").
  EXPECT_EQ(RunOne("CONNECT \r\n").events, (Events{"CONNECT [\r]"}));
}

TEST(ParserTest, UnknownOp) {
  // ref: all of these get -ERR 'Unknown Protocol Operation' and a close.
  for (const char* in : {"\r\n", "X\r\n", "PUB\r\n", "PUX foo 1\r\n", "MSG foo 1 2\r\nhi\r\n",
                         "HMSG foo 1 2 2\r\nhi\r\n", "UNSUB\r\n", "SUB\r\n", "-ERR\r\n",
                         "RS+ a b\r\n", "A+ x\r\n", "LS+ x\r\n", "PUB foo 2\r\nhiX\r\n",
                         "PUB foo 2\r\nhi\nPING\r\n", "PUB foo 2\r\nhi\rX", " PING\r\n"}) {
    Result r = RunOne(in);
    EXPECT_EQ(r.status, ParseStatus::kUnknownOp) << in;
    EXPECT_NE(r.detail.find("parser ERROR"), std::string::npos) << in;
  }
}

TEST(ParserTest, BadPayloadTerminatorDetectedWhenSplit) {
  // ref: "PUB foo 2\r\nhi" then "\rX" is an Unknown Protocol Operation.
  EXPECT_EQ(RunChunks({"PUB foo 2\r\nhi", "\rX"}).status, ParseStatus::kUnknownOp);
  EXPECT_EQ(RunChunks({"PUB foo 2\r\nhi", "X"}).status, ParseStatus::kUnknownOp);
  EXPECT_EQ(RunChunks({"PUB foo 2\r\nh", "iX"}).status, ParseStatus::kUnknownOp);
  EXPECT_EQ(RunChunks({"PUB foo 2\r\nhi\r", "X"}).status, ParseStatus::kUnknownOp);
}

TEST(ParserTest, BadArgsCloseSilently) {
  // ref: each closes the connection without any -ERR.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"PUB foo\r\n", "processPub Parse Error: \"foo\""},
      {"PUB \r\n", "processPub Parse Error: \"\\x0d\""},
      {"PUB a b c 1\r\n", "processPub Parse Error: \"a b c 1\""},
      {"PUB foo -1\r\n", "processPub Bad or Missing Size: \"foo -1\""},
      {"PUB foo 1234567890\r\n", "processPub Bad or Missing Size: \"foo 1234567890\""},
      {"PUB foo 1x\r\n", "processPub Bad or Missing Size: \"foo 1x\""},
      {"PUB foo 2\rx\n", "processPub Bad or Missing Size: \"foo 2\\x0dx\""},
      {"HPUB foo 2\r\n", "processHeaderPub Parse Error: \"foo 2\""},
      {"HPUB a b c 1 2\r\n", "processHeaderPub Parse Error: \"a b c 1 2\""},
      {"HPUB foo x 2\r\n", "processHeaderPub Bad or Missing Header Size: \"foo x 2\""},
      {"HPUB foo 2 x\r\n", "processHeaderPub Bad or Missing Total Size: \"foo 2 x\""},
      {"HPUB foo 5 2\r\n", "processHeaderPub Header Size larger then TotalSize: \"foo 5 2\""},
      {"SUB foo\r\n", "processSub Parse Error: \"foo\""},
      {"SUB foo bar baz qux\r\n", "processSub Parse Error: \"foo bar baz qux\""},
      {"UNSUB 1 2 3\r\n", "processUnsub Parse Error: \"1 2 3\""},
  };
  for (const auto& [in, detail] : cases) {
    Result r = RunOne(in);
    EXPECT_EQ(r.status, ParseStatus::kBadArgs) << in;
    EXPECT_EQ(r.detail, detail) << in;
    EXPECT_TRUE(r.events.empty()) << in;
  }
}

TEST(ParserTest, MaxPayloadCheckedOnControlLine) {
  // ref: "PUB foo 2000000\r\n" gets -ERR 'Maximum Payload Violation' before
  // any payload arrives; exactly max_payload is fine.
  Result r = RunOne("PUB foo 1048577\r\n");
  EXPECT_EQ(r.status, ParseStatus::kMaxPayload);
  EXPECT_EQ(r.detail, "maximum payload exceeded: 1048577 vs 1048576");
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(RunOne("HPUB foo 2 2000000\r\n").status, ParseStatus::kMaxPayload);
  EXPECT_EQ(RunOne("PUB foo 1048576\r\n").status, ParseStatus::kOk);
  EXPECT_EQ(RunOne("PUB foo 11\r\n", {.max_control_line = 4096, .max_payload = 10}).status,
            ParseStatus::kMaxPayload);
  EXPECT_EQ(RunOne("PUB foo 999999999\r\n", {.max_control_line = 4096, .max_payload = -1}).status,
            ParseStatus::kOk);
}

TEST(ParserTest, MaxControlLineCountsArgumentsOnly) {
  // ref: "PUB foo <4090 x> 2" (arguments exactly 4096 bytes) is published;
  // one more byte gets -ERR 'maximum control line exceeded'.
  const std::string ok_line = "PUB foo " + std::string(4090, 'x') + " 2\r\nhi\r\n";
  EXPECT_EQ(RunOne(ok_line).status, ParseStatus::kOk);
  const std::string long_line = "PUB foo " + std::string(4091, 'x') + " 2\r\nhi\r\n";
  EXPECT_EQ(RunOne(long_line).status, ParseStatus::kMaxControlLine);
  // Same when split anywhere.
  for (size_t cut = 1; cut < long_line.size(); cut += 97) {
    EXPECT_EQ(RunChunks({long_line.substr(0, cut), long_line.substr(cut)}).status,
              ParseStatus::kMaxControlLine)
        << cut;
  }
  for (size_t cut = 1; cut < ok_line.size(); cut += 97) {
    EXPECT_EQ(RunChunks({ok_line.substr(0, cut), ok_line.substr(cut)}).status, ParseStatus::kOk) << cut;
  }
}

TEST(ParserTest, MaxControlLineAppliesToEveryOpWithArguments) {
  // ref: CONNECT, INFO, -ERR and SUB with 5000-byte arguments all get
  // -ERR 'maximum control line exceeded'.
  const std::string big(5000, 'x');
  for (const std::string& in : {"CONNECT {\"name\":\"" + big + "\"}\r\n", "INFO " + big + "\r\n",
                                "-ERR " + big + "\r\n", "SUB " + big + " 1\r\n",
                                "UNSUB " + big + "\r\n", "HPUB " + big + " 0 0\r\n"}) {
    EXPECT_EQ(RunOne(in).status, ParseStatus::kMaxControlLine) << in.substr(0, 10);
  }
}

TEST(ParserTest, MaxControlLineWithoutLineEnd) {
  // ref: "PUB foo <5000 x>" with no LF is refused at the end of the read.
  EXPECT_EQ(RunOne("PUB foo " + std::string(5000, 'x')).status, ParseStatus::kMaxControlLine);
  // ...and over two reads of 3000.
  EXPECT_EQ(RunChunks({"PUB foo " + std::string(3000, 'x'), std::string(3000, 'y')}).status,
            ParseStatus::kMaxControlLine);
}

TEST(ParserTest, PingJunkIsNotLimitedNorBuffered) {
  // ref: "PING<10000 x>\r\n" gets PONG.
  Parser parser(DefaultLimits());
  Recorder rec;
  const std::string junk(1 << 20, 'x');
  EXPECT_EQ(parser.Parse("PING", rec), ParseStatus::kOk);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(parser.Parse(junk, rec), ParseStatus::kOk);
    EXPECT_EQ(parser.buffered_bytes(), 0u);
  }
  EXPECT_EQ(parser.Parse("\r\n", rec), ParseStatus::kOk);
  EXPECT_EQ(rec.events, (Events{"PING"}));
}

TEST(ParserTest, ControlLineBufferIsBounded) {
  Parser parser({.max_control_line = 100, .max_payload = 1000});
  Recorder rec;
  ASSERT_EQ(parser.Parse("SUB ", rec), ParseStatus::kOk);
  ParseStatus s = ParseStatus::kOk;
  for (int i = 0; i < 1000 && s == ParseStatus::kOk; ++i) {
    s = parser.Parse("x", rec);
    EXPECT_LE(parser.buffered_bytes(), 128u);
  }
  EXPECT_EQ(s, ParseStatus::kMaxControlLine);
}

TEST(ParserTest, AuthViolationBeforeConnect) {
  // ref (server with --user/--pass): PING, SUB, +OK and an empty line before
  // CONNECT get -ERR 'Authorization Violation'; "CXYZ" gets Unknown Protocol
  // Operation (only the first byte is checked); lower-case "connect" works.
  for (const char* in : {"PING\r\n", "SUB foo 1\r\n", "+OK\r\n", "\r\n", "PUB a 1\r\nx\r\n"}) {
    Parser parser(DefaultLimits());
    parser.set_expect_connect(true);
    Recorder rec;
    EXPECT_EQ(parser.Parse(in, rec), ParseStatus::kAuthViolation) << in;
    EXPECT_TRUE(rec.events.empty());
  }
  Parser parser(DefaultLimits());
  parser.set_expect_connect(true);
  Recorder rec;
  EXPECT_EQ(parser.Parse("CXYZ\r\n", rec), ParseStatus::kUnknownOp);
}

TEST(ParserTest, ExpectConnectLiftedInsideOnConnect) {
  Parser parser(DefaultLimits());
  parser.set_expect_connect(true);
  Recorder rec;
  rec.parser = &parser;
  EXPECT_EQ(parser.Parse("connect {\"user\":\"a\"}\r\nPING\r\n", rec), ParseStatus::kOk);
  EXPECT_EQ(rec.events, (Events{"CONNECT [{\"user\":\"a\"}]", "PING"}));
}

TEST(ParserTest, HandlerStopsParsing) {
  const std::string in = "PING\r\nPUB a 1\r\nx\r\nSUB a 1\r\nPONG\r\n";
  for (int stop = 0; stop < 5; ++stop) {
    Parser parser(DefaultLimits());
    Recorder rec;
    rec.stop_at = stop;
    EXPECT_EQ(parser.Parse(in, rec), ParseStatus::kStopped) << stop;
    EXPECT_EQ(rec.events.size(), static_cast<size_t>(stop + 1));
    // Finished: later calls return the same status and call nothing.
    EXPECT_EQ(parser.Parse("PING\r\n", rec), ParseStatus::kStopped);
    EXPECT_EQ(rec.events.size(), static_cast<size_t>(stop + 1));
    EXPECT_EQ(parser.buffered_bytes(), 0u);
  }
}

TEST(ParserTest, ErrorsAreSticky) {
  Parser parser(DefaultLimits());
  Recorder rec;
  EXPECT_EQ(parser.Parse("BAD\r\n", rec), ParseStatus::kUnknownOp);
  EXPECT_EQ(parser.Parse("PING\r\n", rec), ParseStatus::kUnknownOp);
  EXPECT_TRUE(rec.events.empty());
}

TEST(ParserTest, CrInsideArgumentsIsKept) {
  // ref: "PUB foo\r 2\r\nhi\r\n" is published; natsd keeps the CR in the
  // subject (the pedantic check then flags it).
  EXPECT_EQ(RunOne("PUB foo\r 2\r\nhi\r\n").events.back(), "MSG [foo\r] [] -1 2 [hi]");
  // SUB/UNSUB split on CR too, like the reference's splitArg.
  EXPECT_EQ(RunOne("SUB foo\r1\r\n").events.back(), "SUB [foo] [] [1] [foo\r1]");
}

TEST(ParserTest, SplitPayloadIsCopiedOnceAndReleased) {
  Parser parser(DefaultLimits());
  Recorder rec;
  const std::string payload(100000, 'p');
  ASSERT_EQ(parser.Parse("PUB big 100000\r\n" + payload.substr(0, 10), rec), ParseStatus::kOk);
  EXPECT_GE(parser.buffered_bytes(), 100000u);
  EXPECT_LE(parser.buffered_bytes(), 100000u + 64);
  ASSERT_EQ(parser.Parse(payload.substr(10) + "\r\n", rec), ParseStatus::kOk);
  EXPECT_EQ(parser.buffered_bytes(), 0u);
  ASSERT_EQ(rec.events.size(), 2u);
  EXPECT_EQ(rec.events[1], "MSG [big] [] -1 100000 [" + payload + "]");
}

TEST(ParserTest, LargestPayloadByteByByte) {
  const std::string payload(1 << 20, 'z');
  const std::string in = "PUB s r 1048576\r\n" + payload + "\r\nPING\r\n";
  Parser parser(DefaultLimits());
  Recorder rec;
  for (size_t i = 0; i < in.size(); i += 4093) {
    ASSERT_EQ(parser.Parse(std::string_view(in).substr(i, 4093), rec), ParseStatus::kOk);
    EXPECT_LE(parser.buffered_bytes(), (1u << 20) + 64);
  }
  ASSERT_EQ(rec.events.size(), 3u);
  EXPECT_EQ(rec.events[1].size(), payload.size() + 25);
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(ParserTest, IdleParserHoldsNothing) {
  Parser parser(DefaultLimits());
  Recorder rec;
  EXPECT_EQ(parser.buffered_bytes(), 0u);
  ASSERT_EQ(parser.Parse("SUB foo.bar.baz.qux.quux ", rec), ParseStatus::kOk);
  EXPECT_GT(parser.buffered_bytes(), 0u);
  ASSERT_EQ(parser.Parse("1\r\n", rec), ParseStatus::kOk);
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(ParserTest, LimitsChangeTakesEffect) {
  Parser parser({.max_control_line = 4096, .max_payload = 100});
  Recorder rec;
  EXPECT_EQ(parser.Parse("PUB a 50\r\n" + std::string(50, 'x') + "\r\n", rec), ParseStatus::kOk);
  parser.set_limits({.max_control_line = 4096, .max_payload = 10});
  EXPECT_EQ(parser.Parse("PUB a 50\r\n", rec), ParseStatus::kMaxPayload);
}

// A transcript fed in one piece, in two pieces split at every position, and
// one byte at a time must produce the same callbacks and status.
void ExpectSplitInvariant(const std::string& in) {
  const Result whole = RunOne(in);
  for (size_t cut = 0; cut <= in.size(); ++cut) {
    const Result two = RunChunks({in.substr(0, cut), in.substr(cut)});
    ASSERT_EQ(two.status, whole.status) << "cut at " << cut;
    ASSERT_EQ(two.events, whole.events) << "cut at " << cut;
  }
  std::vector<std::string> bytes;
  for (char c : in) bytes.emplace_back(1, c);
  const Result single = RunChunks(bytes);
  EXPECT_EQ(single.status, whole.status);
  EXPECT_EQ(single.events, whole.events);
}

TEST(ParserTest, SplitAtEveryByte) {
  ExpectSplitInvariant(
      "CONNECT {\"verbose\":false,\"headers\":true}\r\nPING\r\nSUB foo 1\r\nSUB bar q 2\r\n"
      "PUB foo 5\r\nhello\r\nPUB foo reply 0\r\n\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
      "HPUB bar r 12 12\r\nNATS/1.0\r\n\r\n\r\nUNSUB 1\r\nUNSUB 2 5\r\nPONG\r\n+OK\r\n"
      "-ERR 'x'\r\nINFO {}\r\nping\npub a 1\nx\r\n");
  ExpectSplitInvariant("PUB \nfoo 2\r\nhi\r\nCONNECT\n{}\r\nCONNECT \r\nPING junk\r\n");
  ExpectSplitInvariant("pub\tfoo\t\t3  \r\n\r\n\n\r\nsub a\r1\r\n");
}

TEST(ParserTest, SplitAtEveryByteWithErrors) {
  ExpectSplitInvariant("PING\r\nPUB foo 2\r\nhiX\r\n");
  ExpectSplitInvariant("SUB a 1\r\nPUB foo\r\n");
  ExpectSplitInvariant("PING\r\nPUB foo 2000000\r\n");
  ExpectSplitInvariant("PING\r\nXPING\r\n");
  ExpectSplitInvariant("SUB a 1\r\nSUB " + std::string(4200, 'y') + " 1\r\n");
}

}  // namespace
}  // namespace natsd
