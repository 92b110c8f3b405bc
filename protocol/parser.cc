#include "protocol/parser.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <utility>

#include "fmt/format.h"

namespace natsd {
namespace {

// Bytes of the input quoted in an kUnknownOp detail, as the reference logs.
constexpr size_t kProtoSnippetSize = 32;

// Quotes untrusted bytes for a log line: printable ASCII as is, the rest as
// \xHH (the reference uses Go's %q).
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(c);
    } else {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", static_cast<unsigned char>(c));
    }
  }
  out.push_back('"');
  return out;
}

// The reference's parseSize: 1 to 9 decimal digits (so no overflow is
// possible), anything else is -1.
int64_t ParseSize(std::string_view s) {
  if (s.empty() || s.size() > 9) return -1;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

// Splits `arg` into fields separated by runs of separator bytes. Stores at
// most N fields; returns how many there are, capped at N + 1 ("too many").
// PUB/HPUB separate on space and tab only; SUB/UNSUB also on CR and LF.
template <bool kCrLfSeparates, size_t N>
size_t SplitFields(std::string_view arg, std::array<std::string_view, N>& out) {
  size_t n = 0;
  size_t start = 0;
  bool in_field = false;
  for (size_t i = 0; i < arg.size(); ++i) {
    const char c = arg[i];
    const bool sep = c == ' ' || c == '\t' || (kCrLfSeparates && (c == '\r' || c == '\n'));
    if (sep) {
      if (in_field) {
        if (n == N) return N + 1;
        out[n++] = arg.substr(start, i - start);
        in_field = false;
      }
    } else if (!in_field) {
      in_field = true;
      start = i;
    }
  }
  if (in_field) {
    if (n == N) return N + 1;
    out[n++] = arg.substr(start);
  }
  return n;
}

}  // namespace

Parser::Parser(Limits limits) : limits_(limits) {}

ParseStatus Parser::Fail(ParseStatus status, std::string detail) {
  final_ = status;
  error_detail_ = std::move(detail);
  ReleaseBuffer();
  return status;
}

ParseStatus Parser::UnknownOp(State at, std::string_view data, size_t offset) {
  return Fail(ParseStatus::kUnknownOp,
              fmt::format("parser ERROR, state={}, i={}: proto={}...", static_cast<int>(at), offset,
                          Quote(data.substr(std::min(offset, data.size()), kProtoSnippetSize))));
}

void Parser::ReleaseBuffer() {
  // Swapping with an empty string frees the heap block: an idle parser holds
  // no memory, which matters with many mostly-idle connections.
  std::string().swap(buf_);
  arg_len_ = 0;
}

void Parser::StartOp(Op op, const char* keyword) {
  op_ = op;
  keyword_ = keyword;
  state_ = State::kOpName;
}

PubArgs Parser::MakePubArgs(std::string_view arg) const {
  PubArgs a;
  a.subject = arg.substr(pub_.subject_off, pub_.subject_len);
  a.reply = arg.substr(pub_.reply_off, pub_.reply_len);
  a.header_size = pub_.header_size;
  a.total_size = pub_.total_size;
  a.raw = arg;
  return a;
}

ParseStatus Parser::ParsePubArgs(std::string_view arg) {
  const bool hpub = op_ == Op::kHpub;
  const char* const who = hpub ? "processHeaderPub" : "processPub";
  if (hpub && !headers_) return Fail(ParseStatus::kBadArgs, "message headers not supported");

  std::array<std::string_view, 4> f;
  const size_t n = SplitFields<false>(arg, f);
  std::string_view subject, reply, hdr, size;
  if (n == (hpub ? 3u : 2u)) {
    subject = f[0];
    if (hpub) hdr = f[1];
    size = f[n - 1];
  } else if (n == (hpub ? 4u : 3u)) {
    subject = f[0];
    reply = f[1];
    if (hpub) hdr = f[2];
    size = f[n - 1];
  } else {
    return Fail(ParseStatus::kBadArgs, fmt::format("{} Parse Error: {}", who, Quote(arg)));
  }
  pub_.subject_off = subject.data() - arg.data();
  pub_.subject_len = subject.size();
  pub_.reply_off = reply.empty() ? 0 : reply.data() - arg.data();
  pub_.reply_len = reply.size();
  pub_.header_size = -1;
  if (hpub) {
    pub_.header_size = ParseSize(hdr);
    if (pub_.header_size < 0) {
      return Fail(ParseStatus::kBadArgs,
                  fmt::format("processHeaderPub Bad or Missing Header Size: {}", Quote(arg)));
    }
  }
  pub_.total_size = ParseSize(size);
  if (pub_.total_size < 0) {
    return Fail(ParseStatus::kBadArgs,
                fmt::format("{} Bad or Missing {}Size: {}", who, hpub ? "Total " : "", Quote(arg)));
  }
  if (pub_.header_size > pub_.total_size) {
    return Fail(ParseStatus::kBadArgs,
                fmt::format("processHeaderPub Header Size larger then TotalSize: {}", Quote(arg)));
  }
  if (limits_.max_payload >= 0 && pub_.total_size > limits_.max_payload) {
    return Fail(ParseStatus::kMaxPayload, fmt::format("maximum payload exceeded: {} vs {}",
                                                      pub_.total_size, limits_.max_payload));
  }
  return ParseStatus::kOk;
}

ParseStatus Parser::OnArg(std::string_view arg, ParserHandler& handler) {
  if (static_cast<int64_t>(arg.size()) > limits_.max_control_line) {
    return Fail(ParseStatus::kMaxControlLine,
                fmt::format("max_control_line {}, line len {} (snip: {}...)",
                            limits_.max_control_line, arg.size(),
                            Quote(arg.substr(0, kProtoSnippetSize))));
  }
  bool ok = true;
  switch (op_) {
    case Op::kPub:
    case Op::kHpub: {
      if (ParseStatus s = ParsePubArgs(arg); s != ParseStatus::kOk) return s;
      state_ = State::kPayload;
      // buf_ keeps the argument text (if it was split) until the payload is in.
      return handler.OnPubArgs(MakePubArgs(arg)) ? ParseStatus::kOk
                                                 : Fail(ParseStatus::kStopped, {});
    }
    case Op::kSub: {
      std::array<std::string_view, 3> f;
      const size_t n = SplitFields<true>(arg, f);
      if (n == 2) {
        ok = handler.OnSub(f[0], {}, f[1], arg);
      } else if (n == 3) {
        ok = handler.OnSub(f[0], f[1], f[2], arg);
      } else {
        return Fail(ParseStatus::kBadArgs, fmt::format("processSub Parse Error: {}", Quote(arg)));
      }
      break;
    }
    case Op::kUnsub: {
      std::array<std::string_view, 2> f;
      const size_t n = SplitFields<true>(arg, f);
      if (n == 1) {
        ok = handler.OnUnsub(f[0], std::nullopt, arg);
      } else if (n == 2) {
        const int64_t max = ParseSize(f[1]);
        ok = handler.OnUnsub(f[0], max < 0 ? std::nullopt : std::optional<int64_t>(max), arg);
      } else {
        return Fail(ParseStatus::kBadArgs,
                    fmt::format("processUnsub Parse Error: {}", Quote(arg)));
      }
      break;
    }
    case Op::kConnect:
      ok = handler.OnConnect(arg);
      break;
    case Op::kInfo:
      ok = handler.OnInfo(arg);
      break;
    case Op::kErr:
      ok = handler.OnErr(arg);
      break;
    case Op::kPing:
    case Op::kPong:
    case Op::kOk:
      break;  // no arguments: handled in kSkipLine
  }
  state_ = State::kOpStart;
  ReleaseBuffer();  // after the handler: its views may point into buf_
  return ok ? ParseStatus::kOk : Fail(ParseStatus::kStopped, {});
}

std::optional<size_t> Parser::BufferPayload(std::string_view in) {
  const size_t want = arg_len_ + static_cast<size_t>(pub_.total_size) + 2;
  const size_t have = buf_.size();
  const size_t take = std::min(want - have, in.size());
  buf_.append(in.data(), take);
  // Check the CRLF as soon as its bytes arrive, as the reference does.
  const size_t cr = want - 2;
  if (have <= cr && cr < have + take && buf_[cr] != '\r') return std::nullopt;
  if (have <= cr + 1 && cr + 1 < have + take && buf_[cr + 1] != '\n') return std::nullopt;
  return take;
}

ParseStatus Parser::Parse(std::string_view data, ParserHandler& handler) {
  if (final_ != ParseStatus::kOk) return final_;
  const char* const begin = data.data();
  const char* const end = begin + data.size();
  const char* p = begin;
  // Start of the current argument text when it began in `data`.
  const char* arg_start = nullptr;
  // Argument text of the current PUB/HPUB while its payload is read, when
  // that text is in `data` (otherwise it is the first arg_len_ bytes of buf_).
  std::string_view pub_arg;

  while (p < end) {
    switch (state_) {
      case State::kOpStart: {
        const char c = *p;
        if (expect_connect_ && c != 'C' && c != 'c') {
          return Fail(ParseStatus::kAuthViolation, "op before CONNECT while auth is required");
        }
        switch (c) {
          case 'P': case 'p': state_ = State::kOpP; break;
          case 'H': case 'h': StartOp(Op::kHpub, "pub"); break;
          case 'S': case 's': StartOp(Op::kSub, "ub"); break;
          case 'U': case 'u': StartOp(Op::kUnsub, "nsub"); break;
          case 'C': case 'c': StartOp(Op::kConnect, "onnect"); break;
          case 'I': case 'i': StartOp(Op::kInfo, "nfo"); break;
          case '+': StartOp(Op::kOk, "ok"); break;
          case '-': StartOp(Op::kErr, "err"); break;
          default: return UnknownOp(state_, data, p - begin);
        }
        ++p;
        break;
      }
      case State::kOpP:
        // OR-ing 0x20 lower-cases letters; a non-letter never maps onto one.
        switch (*p | 0x20) {
          case 'u': StartOp(Op::kPub, "b"); break;
          case 'i': StartOp(Op::kPing, "ng"); break;
          case 'o': StartOp(Op::kPong, "ng"); break;
          default: return UnknownOp(state_, data, p - begin);
        }
        ++p;
        break;
      case State::kOpName:
        if ((*p | 0x20) != *keyword_) return UnknownOp(state_, data, p - begin);
        ++p;
        if (*++keyword_ == '\0') {
          switch (op_) {
            case Op::kConnect:
            case Op::kInfo: state_ = State::kSkipBlank; break;
            case Op::kPing:
            case Op::kPong:
            case Op::kOk: state_ = State::kSkipLine; break;
            default: state_ = State::kNeedBlank; break;
          }
        }
        break;
      case State::kNeedBlank:
        if (*p != ' ' && *p != '\t') return UnknownOp(state_, data, p - begin);
        state_ = State::kSkipBlank;
        ++p;
        break;
      case State::kSkipBlank:
        if (*p == ' ' || *p == '\t') {
          ++p;
          break;
        }
        // The first other byte starts the arguments even if it is CR or LF,
        // so it can never end the line (the reference frames lines this way).
        arg_start = p++;
        state_ = State::kArg;
        break;
      case State::kArg: {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
        if (nl == nullptr) {
          p = end;  // the partial line is stashed after the loop
          break;
        }
        std::string_view line;
        if (buf_.empty()) {
          line = std::string_view(arg_start, nl - arg_start);
        } else {
          // Completing a line split across calls; p == begin here. Bound the
          // copy before making it.
          if (static_cast<int64_t>(buf_.size() + (nl - p)) > limits_.max_control_line + 1) {
            return Fail(ParseStatus::kMaxControlLine,
                        fmt::format("max_control_line {}, line len > {}",
                                    limits_.max_control_line, buf_.size() + (nl - p) - 1));
          }
          buf_.append(p, nl);
          line = buf_;
        }
        if (line.size() >= 2 && line.back() == '\r') line.remove_suffix(1);
        if (!buf_.empty()) {
          buf_.resize(line.size());
          arg_len_ = buf_.size();
        }
        p = nl + 1;
        pub_arg = line;
        if (ParseStatus s = OnArg(line, handler); s != ParseStatus::kOk) return s;
        break;
      }
      case State::kSkipLine: {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
        if (nl == nullptr) {
          p = end;
          break;
        }
        p = nl + 1;
        state_ = State::kOpStart;
        const bool ok = op_ == Op::kPing   ? handler.OnPing()
                        : op_ == Op::kPong ? handler.OnPong()
                                           : handler.OnOk();
        if (!ok) return Fail(ParseStatus::kStopped, {});
        break;
      }
      case State::kPayload: {
        const size_t size = static_cast<size_t>(pub_.total_size);
        const size_t avail = end - p;
        if (buf_.size() == arg_len_ && avail >= size + 2) {
          // Whole payload in `data`: no copy.
          if (p[size] != '\r') return UnknownOp(state_, data, p + size - begin);
          if (p[size + 1] != '\n') return UnknownOp(state_, data, p + size + 1 - begin);
          const std::string_view arg =
              buf_.empty() ? pub_arg : std::string_view(buf_.data(), arg_len_);
          const std::string_view payload(p, size);
          p += size + 2;
          state_ = State::kOpStart;
          const bool ok = handler.OnMsg(MakePubArgs(arg), payload);
          ReleaseBuffer();
          if (!ok) return Fail(ParseStatus::kStopped, {});
          break;
        }
        // Split payload: gather it, with its argument text, in buf_. One
        // allocation of the final size keeps the copy bounded by max_payload.
        if (buf_.empty()) {
          buf_.reserve(pub_arg.size() + size + 2);
          buf_.assign(pub_arg);
          arg_len_ = buf_.size();
        } else {
          buf_.reserve(arg_len_ + size + 2);
        }
        const std::optional<size_t> took = BufferPayload(std::string_view(p, avail));
        if (!took) return UnknownOp(state_, data, p - begin);
        p += *took;
        if (buf_.size() == arg_len_ + size + 2) {
          state_ = State::kOpStart;
          const std::string_view all = buf_;
          const bool ok = handler.OnMsg(MakePubArgs(all.substr(0, arg_len_)),
                                        all.substr(arg_len_, size));
          ReleaseBuffer();
          if (!ok) return Fail(ParseStatus::kStopped, {});
        }
        break;
      }
    }
  }

  // Keep what an op split at the end of `data` needs for the next call.
  if (state_ == State::kArg) {
    // The unread part of the line: from its start if it began in this call,
    // else all of `data` (a resumed line that is still open).
    const char* from = arg_start != nullptr && buf_.empty() ? arg_start : begin;
    const size_t total = buf_.size() + (end - from);
    const char last = end > from ? end[-1] : buf_.back();
    // A trailing CR is probably the line's end: do not count it yet.
    const size_t counted = total - (total >= 2 && last == '\r' ? 1 : 0);
    if (static_cast<int64_t>(counted) > limits_.max_control_line) {
      return Fail(ParseStatus::kMaxControlLine,
                  fmt::format("max_control_line {}, pending line len {}",
                              limits_.max_control_line, counted));
    }
    buf_.append(from, end);
  } else if (state_ == State::kPayload && buf_.empty()) {
    // The control line ended exactly at the end of `data`.
    buf_.reserve(pub_arg.size() + static_cast<size_t>(pub_.total_size) + 2);
    buf_.assign(pub_arg);
    arg_len_ = buf_.size();
  }
  return ParseStatus::kOk;
}

}  // namespace natsd
