#include "server/subject_transform.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <limits>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "fmt/format.h"

namespace natsd {
namespace {

// The reference's error values (errors.go). A mappingDestinationErr prints
// as "<error> in <token>".
constexpr std::string_view kBadSubject = "invalid subject";
constexpr std::string_view kBadDestSubject = "invalid mapping destination: invalid subject";
constexpr std::string_view kNotUsingAllWildcards =
    "invalid mapping destination: not using all of the token wildcard(s)";
constexpr std::string_view kUnknownFunction = "invalid mapping destination: unknown function";
constexpr std::string_view kIndexOutOfRange =
    "invalid mapping destination: wildcard index out of range";
constexpr std::string_view kNotEnoughArguments =
    "invalid mapping destination: not enough arguments passed to the function";
constexpr std::string_view kInvalidArgument =
    "invalid mapping destination: function argument is invalid or in the wrong format";
constexpr std::string_view kTooManyArguments =
    "invalid mapping destination: too many arguments passed to the function";

absl::Status DestinationError(std::string_view error, std::string_view where) {
  return absl::InvalidArgumentError(fmt::format("{} in {}", error, where));
}

// The reference's regexes use Go's \s: no \v.
bool IsGoSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

size_t SkipGoSpace(std::string_view s, size_t i) {
  while (i < s.size() && IsGoSpace(s[i])) ++i;
  return i;
}

// strings.Trim(s, " "): spaces only, tabs stay (and then fail to parse).
std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// strconv.Atoi on 64-bit: an optional sign, then decimal digits only, in
// int64 range.
std::optional<int64_t> ParseGoInt(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  const uint64_t limit = negative ? uint64_t{1} << 63 : uint64_t{std::numeric_limits<int64_t>::max()};
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (limit - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  // Two's complement wrap turns 2^63 into INT64_MIN.
  return negative ? static_cast<int64_t>(0 - value) : static_cast<int64_t>(value);
}

// Go's int32(x) conversion: keeps the low 32 bits.
int64_t GoInt32(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }

// "{{...}}" with something inside: only such tokens are function calls.
bool IsMustache(std::string_view token) {
  return token.size() > 4 && token.starts_with("{{") && token.ends_with("}}");
}

// Whether `name` is at s[i...]. An upper-case letter of `name` matches
// either case, the rest only themselves: "SplitFromLeft" stands for the
// reference's [sS]plit[fF]rom[lL]eft.
bool NameAt(std::string_view s, size_t i, std::string_view name) {
  if (s.size() - i < name.size()) return false;
  for (size_t k = 0; k < name.size(); ++k) {
    const char want = name[k];
    const char got = s[i + k];
    if (absl::ascii_isupper(static_cast<unsigned char>(want))
            ? absl::ascii_tolower(static_cast<unsigned char>(got)) !=
                  absl::ascii_tolower(static_cast<unsigned char>(want))
            : got != want) {
      return false;
    }
  }
  return true;
}

// Whether a call closes at s[i]: ")", optional \s, "}}".
bool ClosesAt(std::string_view s, size_t i) {
  if (s[i] != ')') return false;
  return s.substr(SkipGoSpace(s, i + 1)).starts_with("}}");
}

// The argument text of a call to `name` in `token`, as the reference's
// unanchored {{\s*name\s*\((.*)\)\s*}} captures it: the leftmost "{{" that
// starts a call, and its arguments up to the last ")" on that line (Go's
// "." does not match "\n") that is followed by \s* "}}". A token may hold
// several calls; the reference takes what this finds.
std::optional<std::string_view> FindCall(std::string_view token, std::string_view name) {
  // The last ")" closing a call on the line searched, found once per line:
  // every later "(" on that line has the same best close, so the search
  // stays linear in the token.
  size_t line_end = 0;
  size_t last_close = std::string_view::npos;
  for (size_t start = token.find("{{"); start != std::string_view::npos;
       start = token.find("{{", start + 1)) {
    size_t i = SkipGoSpace(token, start + 2);
    if (!NameAt(token, i, name)) continue;
    i = SkipGoSpace(token, i + name.size());
    if (i >= token.size() || token[i] != '(') continue;
    const size_t open = i;
    if (open >= line_end) {
      line_end = std::min(token.find('\n', open), token.size());
      last_close = std::string_view::npos;
      for (size_t j = line_end; j-- > open + 1;) {
        if (ClosesAt(token, j)) {
          last_close = j;
          break;
        }
      }
    }
    if (last_close != std::string_view::npos && last_close > open) {
      return token.substr(open + 1, last_close - open - 1);
    }
  }
  return std::nullopt;
}

// The arguments split as the reference's regexp `,\s*` splits them: the
// spaces after a comma go, those before stay. "" is one empty argument.
using Args = absl::InlinedVector<std::string_view, 4>;
Args SplitArgs(std::string_view text) {
  Args args;
  size_t begin = 0;
  for (size_t comma = text.find(','); comma != std::string_view::npos;
       comma = text.find(',', begin)) {
    args.push_back(text.substr(begin, comma - begin));
    begin = SkipGoSpace(text, comma + 1);
  }
  args.push_back(text.substr(begin));
  return args;
}

// The functions, in the order the reference tries them: it matters, since
// a token may hold calls to several.
enum class Function { kWildcard, kPartition, kSplitFromLeft, kSplitFromRight, kSliceFromLeft,
                      kSliceFromRight, kSplit };
struct FunctionName {
  std::string_view name;
  Function function;
};
constexpr std::array<FunctionName, 7> kFunctions = {{
    {"Wildcard", Function::kWildcard},
    {"Partition", Function::kPartition},
    {"SplitFromLeft", Function::kSplitFromLeft},
    {"SplitFromRight", Function::kSplitFromRight},
    {"SliceFromLeft", Function::kSliceFromLeft},
    {"SliceFromRight", Function::kSliceFromRight},
    {"Split", Function::kSplit},
}};

bool CallsSomeFunction(std::string_view token) {
  return std::any_of(kFunctions.begin(), kFunctions.end(),
                     [&](const FunctionName& f) { return FindCall(token, f.name).has_value(); });
}

// The reference's ValidateMappingDestination, which nats-server runs on a
// mapping's destination before building the transform.
absl::Status ValidateDestination(std::string_view dest) {
  bool after_rest = false;
  for (std::string_view token : TokenizeSubject(dest)) {
    if (token.empty() || after_rest) return DestinationError(kBadDestSubject, token);
    if (IsMustache(token)) {
      if (!CallsSomeFunction(token)) return DestinationError(kUnknownFunction, token);
      continue;
    }
    if (token == kFullWildcard) {
      after_rest = true;
    } else if (token.find_first_of(" \t\n\r\f") != std::string_view::npos) {
      return absl::InvalidArgumentError(std::string(kBadDestSubject));
    }
  }
  return absl::OkStatus();
}

// A destination token as the reference reads it (indexPlaceHolders).
struct Placeholder {
  bool literal = true;
  Function function = Function::kWildcard;
  // Wildcard numbers as written: 1 is the source's first "*".
  std::vector<int64_t> wildcards;
  int64_t arg = 0;
  std::string_view delimiter;
};

absl::StatusOr<int64_t> IntArg(std::string_view arg, std::string_view token) {
  std::optional<int64_t> v = ParseGoInt(TrimSpaces(arg));
  if (!v) return DestinationError(kInvalidArgument, token);
  return *v;
}

// Functions of (wildcard, integer): splitFrom*, sliceFrom*, and split,
// whose second argument is a delimiter.
absl::StatusOr<Placeholder> TwoArgCall(Function function, const Args& args,
                                       std::string_view token) {
  if (args.size() < 2) return DestinationError(kNotEnoughArguments, token);
  if (args.size() > 2) return DestinationError(kTooManyArguments, token);
  absl::StatusOr<int64_t> wildcard = IntArg(args[0], token);
  if (!wildcard.ok()) return wildcard.status();
  Placeholder p{.literal = false, .function = function, .wildcards = {*wildcard}};
  if (function == Function::kSplit) {
    // Untrimmed, unlike every other argument.
    if (args[1].find_first_of(" .") != std::string_view::npos) {
      return DestinationError(kInvalidArgument, token);
    }
    p.delimiter = args[1];
    return p;
  }
  absl::StatusOr<int64_t> n = IntArg(args[1], token);
  if (!n.ok()) return n.status();
  p.arg = GoInt32(*n);
  return p;
}

absl::StatusOr<Placeholder> ParseCall(Function function, const Args& args,
                                      std::string_view token) {
  switch (function) {
    case Function::kWildcard: {
      if (args.size() == 1 && args[0].empty()) return DestinationError(kNotEnoughArguments, token);
      if (args.size() > 1) return DestinationError(kTooManyArguments, token);
      absl::StatusOr<int64_t> wildcard = IntArg(args[0], token);
      if (!wildcard.ok()) return wildcard.status();
      return Placeholder{.literal = false, .function = function, .wildcards = {*wildcard}};
    }
    case Function::kPartition: {
      if (args.size() < 2) return DestinationError(kNotEnoughArguments, token);
      absl::StatusOr<int64_t> count = IntArg(args[0], token);
      if (!count.ok()) return count.status();
      Placeholder p{.literal = false, .function = function};
      // The reference takes the count modulo 2^32 (int32, then uint32). 0
      // is refused by Create, once every check of the reference passed.
      p.arg = static_cast<uint32_t>(*count);
      for (size_t i = 1; i < args.size(); ++i) {
        absl::StatusOr<int64_t> wildcard = IntArg(args[i], token);
        if (!wildcard.ok()) return wildcard.status();
        p.wildcards.push_back(*wildcard);
      }
      return p;
    }
    default:
      return TwoArgCall(function, args, token);
  }
}

absl::StatusOr<Placeholder> ParsePlaceholder(std::string_view token) {
  if (token.size() > 1 && token[0] == '$') {
    // "$N" is the legacy wildcard(N); anything else after '$' is literal.
    std::optional<int64_t> wildcard = ParseGoInt(token.substr(1));
    if (!wildcard) return Placeholder{};
    return Placeholder{.literal = false, .function = Function::kWildcard, .wildcards = {*wildcard}};
  }
  if (!IsMustache(token)) return Placeholder{};
  for (const FunctionName& f : kFunctions) {
    std::optional<std::string_view> args = FindCall(token, f.name);
    if (args) return ParseCall(f.function, SplitArgs(*args), token);
  }
  return DestinationError(kUnknownFunction, token);
}

constexpr uint32_t kFnvOffset = 2166136261u;
constexpr uint32_t kFnvPrime = 16777619u;

uint32_t Fnv1a32(uint32_t hash, std::string_view bytes) {
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;
  }
  return hash;
}

// The length of the UTF-8 sequence s starts with, as Go decodes it: 1 for
// an invalid byte (bad lead, bad continuation, overlong, surrogate, past
// U+10FFFF, or cut short).
size_t Utf8SequenceLength(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = b(0);
  size_t size = 1;
  unsigned char lo = 0x80, hi = 0xBF;  // accepted range of the second byte
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    size = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    size = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    size = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return 1;
  }
  if (s.size() < size || b(1) < lo || b(1) > hi) return 1;
  for (size_t i = 2; i < size; ++i) {
    if (b(i) < 0x80 || b(i) > 0xBF) return 1;
  }
  return size;
}

// Go's strings.Split(s, delim), one piece at a time. An empty delimiter
// splits into UTF-8 sequences, where Go turns each invalid byte into
// U+FFFD, except in the last piece, which it keeps as is.
class Pieces {
 public:
  Pieces(std::string_view s, std::string_view delim) : rest_(s), delim_(delim) {}

  bool Next(std::string_view* piece) {
    if (done_) return false;
    if (delim_.empty()) {
      if (rest_.empty()) return false;
      const size_t size = Utf8SequenceLength(rest_);
      const bool invalid = size == 1 && static_cast<unsigned char>(rest_[0]) >= 0x80;
      *piece = invalid && rest_.size() > 1 ? kReplacement : rest_.substr(0, size);
      rest_.remove_prefix(size);
      return true;
    }
    const size_t at = rest_.find(delim_);
    *piece = rest_.substr(0, at);
    if (at == std::string_view::npos) {
      done_ = true;
    } else {
      rest_.remove_prefix(at + delim_.size());
    }
    return true;
  }

 private:
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

  std::string_view rest_;
  std::string_view delim_;
  bool done_ = false;
};

// split(): the pieces joined by '.', skipping empty pieces the way the
// reference does, which is not quite "drop empty tokens": "--a" split on
// "-" gives ".a".
void AppendSplit(std::string_view token, std::string_view delim, std::string* out) {
  Pieces pieces(token, delim);
  std::string_view piece, next;
  bool more = pieces.Next(&piece);
  for (bool first = true; more; first = false) {
    const bool has_next = pieces.Next(&next);
    out->append(piece);
    if (has_next && !next.empty() && !(first && piece.empty())) out->push_back(kTokenSeparator);
    piece = next;
    more = has_next;
  }
}

// sliceFromLeft / sliceFromRight: pieces of `size` bytes, the short one
// (if any) last or first. `size` is in (0, token.size()).
void AppendSlices(std::string_view token, size_t size, bool from_right, std::string* out) {
  size_t at = from_right && token.size() % size != 0 ? token.size() % size : size;
  out->append(token.substr(0, at));
  for (; at < token.size(); at += size) {
    out->push_back(kTokenSeparator);
    out->append(token.substr(at, size));
  }
}

}  // namespace

absl::StatusOr<SubjectTransform> SubjectTransform::Create(std::string_view src,
                                                          std::string_view dest) {
  if (!IsValidSubject(src)) return absl::InvalidArgumentError(std::string(kBadSubject));
  if (absl::Status st = ValidateDestination(dest); !st.ok()) return st;

  const SubjectTokens src_tokens = TokenizeSubject(src);
  const SubjectTokens dest_tokens = TokenizeSubject(dest);
  // Where each "*" of src is: wildcard N reads the subject's token there.
  std::vector<size_t> partial_at;
  for (size_t i = 0; i < src_tokens.size(); ++i) {
    if (src_tokens[i] == kPartialWildcard) partial_at.push_back(i);
  }
  const bool src_rest = src_tokens.back() == kFullWildcard;
  const bool dest_rest = dest_tokens.back() == kFullWildcard;
  if (src_rest != dest_rest ||
      std::find(dest_tokens.begin(), dest_tokens.end(), kPartialWildcard) != dest_tokens.end()) {
    return absl::InvalidArgumentError(std::string(kBadSubject));
  }

  SubjectTransform t;
  t.src_ = std::string(src);
  t.dest_ = std::string(dest);
  t.passthrough_ = src == kFullWildcard && dest == kFullWildcard;
  if (src_rest) t.rest_from_ = src_tokens.size() - 1;
  t.fixed_ = partial_at.empty() && !src_rest;
  // Like the reference, a source without wildcards does not look into its
  // destination: "{{wildcard(1)}}" there is a literal subject.
  if (t.fixed_) return t;

  size_t placeholders = 0;
  // The first partition() with 0 partitions.
  std::optional<std::string_view> zero_partition;
  for (std::string_view token : dest_tokens) {
    Part part;
    part.text_pos = static_cast<size_t>(token.data() - dest.data());
    part.text_size = token.size();
    absl::StatusOr<Placeholder> p = ParsePlaceholder(token);
    if (!p.ok()) return p.status();
    if (p->literal) {
      part.op = token == kFullWildcard ? Op::kRest : Op::kLiteral;
      t.parts_.push_back(part);
      continue;
    }
    ++placeholders;
    part.first_source = t.sources_.size();
    part.source_count = p->wildcards.size();
    for (int64_t n : p->wildcards) {
      if (n > static_cast<int64_t>(partial_at.size())) {
        return DestinationError(kIndexOutOfRange, fmt::format("{}: [{}]", token, n));
      }
      // The reference looks N up in a map from 1; any N below 1 misses
      // and reads the subject's first token.
      t.sources_.push_back(n >= 1 ? partial_at[static_cast<size_t>(n - 1)] : 0);
    }
    part.arg = p->arg;
    switch (p->function) {
      case Function::kWildcard: part.op = Op::kWildcard; break;
      case Function::kPartition:
        part.op = Op::kPartition;
        if (part.arg == 0 && !zero_partition) zero_partition = token;
        break;
      case Function::kSplitFromLeft: part.op = Op::kSplitFromLeft; break;
      case Function::kSplitFromRight: part.op = Op::kSplitFromRight; break;
      case Function::kSliceFromLeft: part.op = Op::kSliceFromLeft; break;
      case Function::kSliceFromRight: part.op = Op::kSliceFromRight; break;
      case Function::kSplit:
        part.op = Op::kSplit;
        part.text_pos = static_cast<size_t>(p->delimiter.data() - dest.data());
        part.text_size = p->delimiter.size();
        break;
    }
    t.parts_.push_back(part);
  }
  // The reference counts placeholder tokens, not distinct wildcards: "$1.$1"
  // passes for a source with two.
  if (placeholders < partial_at.size()) return DestinationError(kNotUsingAllWildcards, dest);
  // nats-server accepts this and panics dividing by zero at the first
  // matching message; refusing it is the one place natsd is stricter.
  if (zero_partition) return DestinationError(kInvalidArgument, *zero_partition);
  return t;
}

bool SubjectTransform::SourceMatches(const SubjectTokens& tokens) const {
  std::string_view rest = src_;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const size_t dot = rest.find(kTokenSeparator);
    const std::string_view s = rest.substr(0, dot);
    if (s == kFullWildcard) return true;
    // As in the reference (isSubsetMatch), any source token starting with
    // '*' matches every token: "a.*b" matches "a.x".
    if (s[0] != '*' && s != tokens[i]) return false;
    if (dot == std::string_view::npos) return i + 1 == tokens.size();
    rest.remove_prefix(dot + 1);
  }
  return false;  // the subject is shorter than src_
}

std::optional<std::string> SubjectTransform::Match(std::string_view subject) const {
  if (passthrough_) return std::string(subject);
  const SubjectTokens tokens = TokenizeSubject(subject);
  for (std::string_view t : tokens) {
    if (t.empty() || t == kPartialWildcard || t == kFullWildcard) return std::nullopt;
  }
  if (!SourceMatches(tokens)) return std::nullopt;
  if (fixed_) return dest_;

  std::string out;
  // Most outputs are the destination's literals plus the subject's tokens.
  out.reserve(dest_.size() + subject.size());
  for (size_t i = 0; i < parts_.size(); ++i) {
    if (i != 0) out.push_back(kTokenSeparator);
    AppendPart(parts_[i], tokens, subject, &out);
  }
  return out;
}

void SubjectTransform::AppendPart(const Part& part, const SubjectTokens& tokens,
                                  std::string_view subject, std::string* out) const {
  const std::string_view text = std::string_view(dest_).substr(part.text_pos, part.text_size);
  const auto source = [&](size_t k) { return tokens[sources_[part.first_source + k]]; };
  // splitFrom* and sliceFrom* leave the token whole unless arg is in (0, size).
  const auto cuts = [&](std::string_view token) {
    return part.arg > 0 && part.arg < static_cast<int64_t>(token.size());
  };
  switch (part.op) {
    case Op::kLiteral:
      out->append(text);
      break;
    case Op::kRest:
      // The subject from the token src_'s ">" matched on.
      out->append(subject.substr(static_cast<size_t>(tokens[*rest_from_].data() - subject.data())));
      break;
    case Op::kWildcard:
      out->append(source(0));
      break;
    case Op::kPartition: {
      uint32_t hash = kFnvOffset;
      for (size_t k = 0; k < part.source_count; ++k) hash = Fnv1a32(hash, source(k));
      fmt::format_to(std::back_inserter(*out), "{}", hash % static_cast<uint32_t>(part.arg));
      break;
    }
    case Op::kSplitFromLeft:
    case Op::kSplitFromRight: {
      const std::string_view token = source(0);
      if (!cuts(token)) {
        out->append(token);
        break;
      }
      const size_t n = static_cast<size_t>(part.arg);
      const size_t at = part.op == Op::kSplitFromLeft ? n : token.size() - n;
      out->append(token.substr(0, at));
      out->push_back(kTokenSeparator);
      out->append(token.substr(at));
      break;
    }
    case Op::kSliceFromLeft:
    case Op::kSliceFromRight: {
      const std::string_view token = source(0);
      if (cuts(token)) {
        AppendSlices(token, static_cast<size_t>(part.arg), part.op == Op::kSliceFromRight, out);
      } else {
        out->append(token);
      }
      break;
    }
    case Op::kSplit:
      AppendSplit(source(0), text, out);
      break;
  }
}

}  // namespace natsd
