// Incremental parser for the NATS client protocol (what a client sends to the
// server): CONNECT, PUB, HPUB, SUB, UNSUB, PING, PONG, INFO, +OK, -ERR.
//
// The parser is a byte-at-a-time state machine that hands out views sliced
// directly out of the caller's buffer; it copies only an op split across two
// Parse() calls, and never holds more than max_control_line + 1 bytes of a
// control line or max_payload + 2 bytes of a message plus its control line.
//
//   natsd::Parser parser({.max_control_line = 4096, .max_payload = 1 << 20});
//   switch (parser.Parse(bytes_read, client)) {
//     case natsd::ParseStatus::kOk: break;                 // read more
//     case natsd::ParseStatus::kUnknownOp: SendErr(kErrUnknownOp); Close(); ...
//   }
#ifndef NATSD_PROTOCOL_PARSER_H_
#define NATSD_PROTOCOL_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace natsd {

// Arguments of a PUB or HPUB; views are valid only during the callback.
struct PubArgs {
  std::string_view subject;
  std::string_view reply;    // empty if none
  int64_t header_size = -1;  // -1 for PUB; for HPUB the header part length
  int64_t total_size = 0;    // payload bytes (HPUB: headers + body)
  std::string_view raw;      // the argument text after the op name, for tracing
};

// Receives parsed ops. Every method returns false to stop parsing at once
// (e.g. the connection is being closed); Parse() then returns
// ParseStatus::kStopped. Views are valid only during the call.
class ParserHandler {
 public:
  virtual ~ParserHandler() = default;
  // The text after "CONNECT" and its blanks (JSON expected, unvalidated).
  virtual bool OnConnect(std::string_view json) = 0;
  // After a valid PUB/HPUB control line, before its payload. Sizes are
  // already checked against each other and against max_payload; the subject
  // is not validated (the reference's pedantic check belongs here).
  virtual bool OnPubArgs(const PubArgs& args) = 0;
  // payload = headers + body, without the trailing CRLF.
  virtual bool OnMsg(const PubArgs& args, std::string_view payload) = 0;
  // queue is empty when absent. Subject and sid are not validated.
  virtual bool OnSub(std::string_view subject, std::string_view queue, std::string_view sid,
                     std::string_view raw) = 0;
  // max is nullopt when absent or not a valid size: the reference treats
  // both like 0, i.e. unsubscribe at once.
  virtual bool OnUnsub(std::string_view sid, std::optional<int64_t> max, std::string_view raw) = 0;
  virtual bool OnPing() = 0;
  virtual bool OnPong() = 0;
  virtual bool OnOk() = 0;                          // "+OK" sent by a peer
  virtual bool OnErr(std::string_view text) = 0;    // "-ERR ..." sent by a peer, text verbatim
  virtual bool OnInfo(std::string_view json) = 0;   // INFO from a peer (unvalidated)
};

// Outcome of Parse(), and what nats-server 2.9.10 does for each (verified
// against the binary):
//   kUnknownOp       sends -ERR 'Unknown Protocol Operation', closes. Any byte
//                    that cannot continue an op name, an empty line, MSG/HMSG/
//                    RS+/A+ from a client, "PUB\r\n" (no blank after the op
//                    name), a payload not followed by exactly CRLF.
//   kMaxControlLine  sends -ERR 'maximum control line exceeded', closes. The
//                    argument text of any op with arguments (PUB, HPUB, SUB,
//                    UNSUB, CONNECT, INFO, -ERR) longer than max_control_line,
//                    checked when the line ends and at the end of every Parse()
//                    call while a line is open. PING/PONG/+OK are never
//                    checked: their trailing junk is skipped without buffering.
//   kMaxPayload      sends -ERR 'Maximum Payload Violation', closes. Checked
//                    on the control line, before any payload byte is read.
//   kBadArgs         closes WITHOUT an -ERR (the reference only logs
//                    error_detail()): wrong argument count of PUB/HPUB/SUB/
//                    UNSUB, a size that is not 1-9 decimal digits, HPUB header
//                    size > total size, HPUB when set_headers(false).
//   kAuthViolation   sends -ERR 'Authorization Violation', closes.
// After any status but kOk the parser is finished: further Parse() calls
// return the same status and call nothing.
enum class ParseStatus {
  kOk,              // all input consumed, parser may hold a partial op
  kStopped,         // a handler method returned false
  kUnknownOp,
  kMaxControlLine,
  kMaxPayload,
  kBadArgs,
  kAuthViolation,   // op other than CONNECT while a CONNECT is required
};

// Incremental client-protocol parser. Not thread-safe: one per connection,
// used on its loop thread.
//
// Framing, as the reference does it: op names are case-insensitive; PUB, HPUB,
// SUB, UNSUB and -ERR need a space or tab after the name, CONNECT and INFO do
// not ("CONNECT{}" is fine); blanks (spaces/tabs, any number) before the
// arguments are skipped and the first other byte starts them, even CR or LF;
// a line ends at LF, a CR right before it is dropped (bare LF is accepted);
// anything after PING/PONG/+OK up to LF is ignored; a payload must be
// followed by exactly CRLF.
// Deliberate difference: a CR inside an argument line (not right before LF)
// stays in the arguments; the reference then drops the byte before LF, and
// differently depending on where reads split, so such lines fail either way.
class Parser {
 public:
  struct Limits {
    int64_t max_control_line = 4096;
    int64_t max_payload = 1 << 20;  // negative: no limit
  };

  explicit Parser(Limits limits);
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Takes effect from the next op.
  void set_limits(Limits l) { limits_ = l; }

  // When true, an op that does not start with 'C'/'c' yields kAuthViolation
  // (the reference checks only the first byte: "CXYZ" is kUnknownOp). Set it
  // while auth is required and CONNECT has not been accepted; it may be
  // changed from inside OnConnect and applies to the very next op. Without
  // auth the reference accepts every op before CONNECT (PUB, SUB, PING...).
  void set_expect_connect(bool v) { expect_connect_ = v; }

  // Whether HPUB is allowed (the client's CONNECT had headers:true and the
  // server supports them). The reference rejects HPUB otherwise before even
  // looking at its arguments (kBadArgs, silent close). Defaults to true so a
  // caller that checks headers in OnPubArgs works too; set it false until
  // CONNECT to match the reference exactly.
  void set_headers(bool v) { headers_ = v; }

  // Parses `data`, calling `handler` for each complete op. Bytes of an
  // incomplete trailing op are kept for the next call.
  ParseStatus Parse(std::string_view data, ParserHandler& handler);

  // For logging: the detail of the last error status, e.g.
  // `processPub Parse Error: "foo"`. Empty when there is none.
  std::string_view error_detail() const { return error_detail_; }

  // Heap bytes held across calls (for memory accounting); 0 when idle.
  size_t buffered_bytes() const { return buf_.empty() ? 0 : buf_.capacity(); }

 private:
  enum class State : uint8_t {
    kOpStart,    // expecting the first byte of an op name
    kOpP,        // after 'P': PUB, PING or PONG
    kOpName,     // matching the rest of an op name (keyword_)
    kNeedBlank,  // op name done, a space or tab must follow
    kSkipBlank,  // skipping blanks before the arguments
    kArg,        // in the argument text, up to LF
    kSkipLine,   // PING/PONG/+OK: ignoring bytes up to LF
    kPayload,    // reading total_size payload bytes and CRLF
  };
  enum class Op : uint8_t { kPub, kHpub, kSub, kUnsub, kConnect, kInfo, kErr, kPing, kPong, kOk };

  // Offsets of a PUB/HPUB's fields within its argument text, so the text can
  // move (into buf_) without invalidating them.
  struct PubLayout {
    uint32_t subject_off = 0, subject_len = 0;
    uint32_t reply_off = 0, reply_len = 0;
    int64_t header_size = -1;
    int64_t total_size = 0;
  };

  ParseStatus Fail(ParseStatus status, std::string detail);
  ParseStatus UnknownOp(State at, std::string_view data, size_t offset);
  void StartOp(Op op, const char* keyword);
  // The control line of the current op is complete: validates and dispatches.
  ParseStatus OnArg(std::string_view arg, ParserHandler& handler);
  ParseStatus ParsePubArgs(std::string_view arg);
  PubArgs MakePubArgs(std::string_view arg) const;
  // Appends payload bytes to buf_, checking the CRLF bytes as they arrive.
  // Returns the number of bytes consumed from `in`, or nullopt on a bad CRLF.
  std::optional<size_t> BufferPayload(std::string_view in);
  void ReleaseBuffer();

  Limits limits_;
  bool expect_connect_ = false;
  bool headers_ = true;
  ParseStatus final_ = ParseStatus::kOk;

  State state_ = State::kOpStart;
  Op op_ = Op::kPing;
  const char* keyword_ = "";  // lower-case rest of the op name in kOpName
  PubLayout pub_;

  // Empty unless an op is split across calls. While in kArg: the argument
  // bytes seen so far. While in kPayload: the argument text (arg_len_ bytes)
  // followed by the payload bytes and CRLF received so far.
  std::string buf_;
  size_t arg_len_ = 0;

  std::string error_detail_;
};

}  // namespace natsd

#endif  // NATSD_PROTOCOL_PARSER_H_
