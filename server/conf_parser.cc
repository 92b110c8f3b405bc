#include "server/conf_parser.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "fmt/format.h"

namespace natsd {

std::string SourcePos::ToString() const {
  // nats-server's lexer counts a line's columns from the newline before it,
  // so its columns are 0-based on the first line and 1-based after; operators
  // comparing messages (and tools matching them) see the same numbers.
  return fmt::format("{}:{}:{}", file ? *file : std::string("<unknown>"), line,
                     line == 1 ? column - 1 : column);
}

ConfValue::ConfValue() = default;
ConfValue::ConfValue(Data data, SourcePos pos) : data_(std::move(data)), pos_(std::move(pos)) {}
ConfValue::ConfValue(const ConfValue&) = default;
ConfValue::ConfValue(ConfValue&&) noexcept = default;
ConfValue& ConfValue::operator=(const ConfValue&) = default;
ConfValue& ConfValue::operator=(ConfValue&&) noexcept = default;
ConfValue::~ConfValue() = default;

std::string_view ConfValue::TypeName() const {
  static constexpr std::string_view kNames[] = {
      "string", "integer", "float", "bool", "datetime", "array", "map"};
  return kNames[data_.index()];
}

std::string_view ConfValue::GoTypeName() const {
  static constexpr std::string_view kNames[] = {
      "string", "int64", "float64", "bool", "time.Time", "[]interface {}",
      "map[string]interface {}"};
  return kNames[data_.index()];
}

std::string ConfValue::GoValue() const {
  if (const auto* s = get_if<std::string>()) return *s;
  if (const auto* n = get_if<int64_t>()) return fmt::format("{}", *n);
  if (const auto* d = get_if<double>()) return fmt::format("{}", *d);
  if (const auto* b = get_if<bool>()) return *b ? "true" : "false";
  return std::string(GoTypeName());
}

const ConfValue* ConfValue::Find(std::string_view key) const {
  const Map* map = get_if<Map>();
  if (map == nullptr) return nullptr;
  for (const ConfEntry& e : *map) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

namespace {

// Environment values are parsed as config text themselves and may reference
// further variables; this bounds that recursion (A="$B", B="$A").
constexpr int kMaxEnvDepth = 8;

constexpr int kEof = -1;

bool IsBlank(int c) { return c == ' ' || c == '\t'; }
bool IsNewline(int c) { return c == '\n' || c == '\r'; }
bool IsSpace(int c) {
  return IsBlank(c) || IsNewline(c) || c == '\v' || c == '\f';
}
bool IsDigit(int c) { return c >= '0' && c <= '9'; }
bool IsNumberSuffix(int c) {
  return c > 0 && std::strchr("kKmMgGtTpPeE", c) != nullptr;
}
// Characters that end an unquoted string (and a number).
bool EndsBareValue(int c) {
  return c == kEof || IsNewline(c) || IsBlank(c) || c == ';' || c == ',' ||
         c == ']' || c == '}';
}

// How a character is shown inside error messages.
std::string Shown(int c) {
  if (c == kEof) return "EOF";
  if (c == '\n') return "\\n";
  return std::string(1, static_cast<char>(c));
}

// Multipliers for integer suffixes, as nats-server's parser defines them:
// decimal for the bare letter, binary with "b", "i" or "ib".
std::optional<int64_t> SuffixMultiplier(std::string_view suffix) {
  static constexpr std::string_view kLetters = "kmgtpe";
  std::string lower = absl::AsciiStrToLower(std::string(suffix));
  if (lower.empty()) return 1;
  size_t exp = kLetters.find(lower[0]);
  if (exp == std::string_view::npos) return std::nullopt;
  std::string_view rest = std::string_view(lower).substr(1);
  int64_t base;
  if (rest.empty()) {
    base = 1000;
  } else if (rest == "b" || rest == "i" || rest == "ib") {
    base = 1024;
  } else {
    return std::nullopt;
  }
  int64_t m = 1;
  for (size_t i = 0; i <= exp; ++i) m *= base;
  return m;
}

// A failed file operation in Go's words ("open x.conf: no such file or
// directory"), which is how nats-server reports a config file it cannot read.
absl::Status FileError(std::string_view op, const std::string& path, int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = absl::ascii_tolower(static_cast<unsigned char>(text[0]));
  return absl::Status(absl::ErrnoToStatusCode(err), fmt::format("{} {}: {}", op, path, text));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileError("open", path, errno);
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return out;
    if (n < 0) {
      if (errno == EINTR) continue;
      return FileError("read", path, errno);
    }
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxConfFileBytes) {
      return absl::InvalidArgumentError(
          fmt::format("config file {} is larger than {} bytes", path, kMaxConfFileBytes));
    }
  }
}

// State shared by a file and the files it includes.
struct IncludeChain {
  ConfParseOptions options;
  std::vector<std::string> files;  // canonical paths, outermost first
};

// A recursive-descent parser over one file's text. Recursion depth is bounded
// by kMaxConfNesting; each open map is a variable scope.
class Parser {
 public:
  Parser(std::string_view text, std::shared_ptr<const std::string> file,
         IncludeChain* chain, int env_depth)
      : in_(text), file_(std::move(file)), chain_(chain), env_depth_(env_depth) {}

  absl::StatusOr<ConfValue> ParseDocument() {
    ConfValue::Map root;
    SourcePos pos = Here();
    if (absl::Status s = ParseMapBody(root, /*top=*/true, 0); !s.ok()) return s;
    return ConfValue(std::move(root), std::move(pos));
  }

 private:
  int Peek(size_t ahead = 0) const {
    size_t i = i_ + ahead;
    return i < in_.size() ? static_cast<unsigned char>(in_[i]) : kEof;
  }
  void Advance() {
    if (i_ >= in_.size()) return;
    if (in_[i_] == '\n') {
      ++line_;
      line_start_ = i_ + 1;
    }
    ++i_;
  }
  SourcePos Here() const {
    return SourcePos{file_, line_, static_cast<int>(i_ - line_start_) + 1};
  }
  // The reference's three shapes of parse error: syntax errors name the
  // line, value errors (out-of-range numbers, bad dates) stand alone, and
  // variable errors name the variable's line.
  absl::Status Error(std::string_view msg) const {
    return absl::InvalidArgumentError(fmt::format("Parse error on line {}: '{}'", line_, msg));
  }
  static absl::Status ValueError(const std::string& msg) {
    return absl::InvalidArgumentError(msg);
  }
  static absl::Status IncludeError(std::string_view name, std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("error parsing include file '{}', {}", name, why));
  }
  static absl::Status VariableError(const SourcePos& pos, std::string_view name,
                                    std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("variable reference for '{}' on line {} {}", name, pos.line, why));
  }

  // Maps and arrays are positioned just after their opening bracket, where
  // the reference's lexer emits them, so errors about them name its column.
  static SourcePos AfterBracket(SourcePos pos) {
    ++pos.column;
    return pos;
  }

  void SkipBlanks() {
    while (IsBlank(Peek())) Advance();
  }
  bool AtComment() const {
    return Peek() == '#' || (Peek() == '/' && Peek(1) == '/');
  }
  void SkipToEndOfLine() {
    while (Peek() != kEof && !IsNewline(Peek())) Advance();
  }
  // Skips whitespace, newlines and comments (and, at the top level, braces
  // around the whole file, which nats-server tolerates).
  void SkipToKey(bool top) {
    for (;;) {
      int c = Peek();
      if (IsSpace(c) || (top && (c == '{' || c == '}'))) {
        Advance();
      } else if (AtComment()) {
        SkipToEndOfLine();
      } else {
        return;
      }
    }
  }

  absl::Status ParseMapBody(ConfValue::Map& map, bool top, int depth) {
    scopes_.push_back(&map);
    absl::Status s = ParseEntries(map, top, depth);
    scopes_.pop_back();
    return s;
  }

  absl::Status ParseEntries(ConfValue::Map& map, bool top, int depth) {
    for (;;) {
      SkipToKey(top);
      int c = Peek();
      if (c == kEof) {
        return top ? absl::OkStatus() : Error("Unexpected EOF processing map.");
      }
      if (!top && c == '}') {
        Advance();
        return absl::OkStatus();
      }
      if (!top && c == ']') {
        return Error("Unexpected array end ']' processing map.");
      }
      if (c == ':' || c == '=') {
        return Error(fmt::format("Unexpected key separator '{}'", Shown(c)));
      }
      SourcePos key_pos = Here();
      std::string key;
      bool quoted = c == '"' || c == '\'';
      if (quoted) {
        Advance();
        key_pos = Here();  // the reference positions a quoted key at its text
        while (Peek() != c) {
          if (Peek() == kEof) {
            return Error("Unexpected EOF processing quoted map key.");
          }
          key.push_back(static_cast<char>(Peek()));
          Advance();
        }
        Advance();
      } else {
        while (Peek() != kEof && !IsSpace(Peek()) && Peek() != ':' &&
               Peek() != '=') {
          key.push_back(static_cast<char>(Peek()));
          Advance();
        }
        if (IsBlank(Peek()) && absl::EqualsIgnoreCase(key, "include")) {
          if (absl::Status s = ParseInclude(map); !s.ok()) return s;
          bool done = false;
          if (absl::Status s = ParseValueEnd(top, &done); !s.ok()) return s;
          if (done) return absl::OkStatus();
          continue;
        }
      }
      while (IsSpace(Peek())) Advance();
      if (Peek() == kEof) {
        // nats-server ignores a trailing key without a value.
        return top ? absl::OkStatus() : Error("Unexpected EOF processing map.");
      }
      if (Peek() == ':' || Peek() == '=') {
        Advance();
        SkipBlanks();
      }
      absl::StatusOr<ConfValue> value = ParseValue(depth);
      if (!value.ok()) return value.status();
      Set(map, ConfEntry{std::move(key), std::move(key_pos), *std::move(value)});
      bool done = false;
      if (absl::Status s = ParseValueEnd(top, &done); !s.ok()) return s;
      if (done) return absl::OkStatus();
    }
  }

  // A repeated key replaces the earlier value, keeping its place.
  static void Set(ConfValue::Map& map, ConfEntry entry) {
    for (ConfEntry& e : map) {
      if (e.key == entry.key) {
        e = std::move(entry);
        return;
      }
    }
    map.push_back(std::move(entry));
  }

  // After a map entry: blanks, an optional comment, then a terminator.
  // Sets *done when the map's closing brace was consumed.
  absl::Status ParseValueEnd(bool top, bool* done) {
    SkipBlanks();
    if (AtComment()) SkipToEndOfLine();
    int c = Peek();
    if (c == kEof) {
      if (top) return absl::OkStatus();
      return Error("Unexpected EOF processing map.");
    }
    if (IsNewline(c) || c == ';' || c == ',') {
      Advance();
      return absl::OkStatus();
    }
    if (c == '}') {
      Advance();
      *done = !top;
      return absl::OkStatus();
    }
    if (top) {
      return Error(fmt::format(
          "Expected a top-level value to end with a new line, comment or EOF, "
          "but got '{}' instead.",
          Shown(c)));
    }
    return Error(fmt::format(
        "Expected a map value terminator \",\" or a map terminator \"}}\", but "
        "got '{}' instead.",
        Shown(c)));
  }

  absl::StatusOr<ConfValue> ParseValue(int depth) {
    SourcePos pos = Here();
    int c = Peek();
    switch (c) {
      case kEof:
        return Error("Unexpected EOF.");
      case '\n':
      case '\r':
        // The reference reports this on the line after, having read the newline.
        if (c == '\n') Advance();
        return Error("Expected value but found new line");
      case '[':
        return ParseArray(depth + 1);
      case '{': {
        if (depth + 1 > kMaxConfNesting) return NestingError();
        Advance();
        ConfValue::Map map;
        if (absl::Status s = ParseMapBody(map, false, depth + 1); !s.ok()) return s;
        // Like the reference, a map is positioned just after its brace.
        return ConfValue(std::move(map), AfterBracket(pos));
      }
      case '\'':
        return ParseRawString();
      case '"':
        return ParseQuotedString();
      case '(':
        return ParseBlockString();
      case '.':
        return Error("Floats must start with a digit");
      case '-':
        if (!IsDigit(Peek(1))) {
          Advance();
          if (Peek() == '.') return Error("Floats must start with a digit, not '.'.");
          return Error(fmt::format("Expected a digit but got '{}'.", Shown(Peek())));
        }
        return ParseNumber();
      default:
        if (IsDigit(c)) return ParseNumber();
        return ParseBareString(pos);
    }
  }

  absl::Status NestingError() const {
    return Error(fmt::format("maps and arrays nested deeper than {} levels",
                             kMaxConfNesting));
  }

  absl::StatusOr<ConfValue> ParseArray(int depth) {
    if (depth > kMaxConfNesting) return NestingError();
    SourcePos pos = Here();
    Advance();  // '['
    ConfValue::Array array;
    for (;;) {
      SkipToKey(false);
      int c = Peek();
      // nats-server reports this as "... but got '<NUL byte>' instead.";
      // natsd says what happened.
      if (c == kEof) return Error("Unexpected EOF processing array.");
      if (c == ']') {
        Advance();
        return ConfValue(std::move(array), AfterBracket(pos));
      }
      if (c == ',') return Error("Unexpected array value terminator ','.");
      absl::StatusOr<ConfValue> value = ParseValue(depth);
      if (!value.ok()) return value.status();
      array.push_back(*std::move(value));
      SkipBlanks();
      if (AtComment()) SkipToEndOfLine();
      c = Peek();
      if (c == ',' || IsNewline(c)) {
        Advance();
      } else if (c == ']') {
        Advance();
        return ConfValue(std::move(array), AfterBracket(pos));
      } else if (c == kEof) {
        return Error("Unexpected EOF processing array.");
      } else {
        return Error(fmt::format(
            "Expected an array value terminator \",\" or an array terminator "
            "\"]\", but got '{}' instead.",
            Shown(c)));
      }
    }
  }

  absl::StatusOr<ConfValue> ParseRawString() {
    SourcePos pos = Here();
    Advance();
    std::string out;
    while (Peek() != '\'') {
      if (Peek() == kEof) return Error("Unexpected EOF.");
      out.push_back(static_cast<char>(Peek()));
      Advance();
    }
    Advance();
    return ConfValue(std::move(out), pos);
  }

  absl::StatusOr<ConfValue> ParseQuotedString() {
    SourcePos pos = Here();
    Advance();
    std::string out;
    while (Peek() != '"') {
      if (Peek() == kEof) return Error("Unexpected EOF.");
      if (Peek() == '\\') {
        if (absl::Status s = ParseEscape(out); !s.ok()) return s;
        continue;
      }
      out.push_back(static_cast<char>(Peek()));
      Advance();
    }
    Advance();
    return ConfValue(std::move(out), pos);
  }

  // At a backslash: appends the escaped character to `out`.
  absl::Status ParseEscape(std::string& out) {
    Advance();
    int c = Peek();
    Advance();
    switch (c) {
      case 't': out.push_back('\t'); return absl::OkStatus();
      case 'n': out.push_back('\n'); return absl::OkStatus();
      case 'r': out.push_back('\r'); return absl::OkStatus();
      case '"': out.push_back('"'); return absl::OkStatus();
      case '\\': out.push_back('\\'); return absl::OkStatus();
      case 'x': break;
      default:
        return Error(fmt::format(
            "Invalid escape character '{}'. Only the following escape "
            "characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.",
            Shown(c)));
    }
    std::string hex;
    for (int n = 0; n < 2; ++n) {
      if (Peek() == kEof || IsNewline(Peek())) {
        return Error("Expected two hexadecimal digits after '\\x', but hit end of line");
      }
      hex.push_back(static_cast<char>(Peek()));
      Advance();
    }
    int value = 0;
    for (char h : hex) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(h))) {
        return Error(fmt::format(
            "Expected two hexadecimal digits after '\\x', but got '{}'", hex));
      }
      value = value * 16 + (IsDigit(h) ? h - '0' : absl::ascii_tolower(h) - 'a' + 10);
    }
    out.push_back(static_cast<char>(value));
    return absl::OkStatus();
  }

  // `( ... )`: raw text up to a line holding only the closing parenthesis.
  absl::StatusOr<ConfValue> ParseBlockString() {
    SourcePos pos = Here();
    Advance();
    size_t start = i_;
    for (;;) {
      if (Peek() == kEof) return Error("Unexpected EOF processing block.");
      if (Peek() == '\n' && Peek(1) == ')' &&
          (Peek(2) == kEof || IsNewline(Peek(2)))) {
        std::string text(in_.substr(start, i_ - start));
        Advance();
        Advance();
        return ConfValue(std::move(text), pos);
      }
      Advance();
    }
  }

  absl::StatusOr<ConfValue> ParseNumber() {
    SourcePos pos = Here();
    size_t start = i_;
    bool negative = Peek() == '-';
    if (negative) Advance();
    while (IsDigit(Peek())) Advance();
    int c = Peek();
    if (c == '-' && !negative) return ParseDatetime(pos, start);
    if (c == '.') {
      Advance();
      if (!IsDigit(Peek())) {
        return Error(fmt::format(
            "Floats must have a digit after the '.', but got '{}' instead.",
            Shown(Peek())));
      }
      while (IsDigit(Peek())) Advance();
      if (Peek() == '.') {
        // Dotted quads, optionally with a port: an address, kept as text.
        while (IsDigit(Peek()) || Peek() == '.' || Peek() == ':' || Peek() == '-') {
          Advance();
        }
        return ConfValue(std::string(in_.substr(start, i_ - start)), pos);
      }
      std::string text(in_.substr(start, i_ - start));
      double d;
      if (!absl::SimpleAtod(text, &d)) {
        return ValueError(fmt::format("float '{}' is out of the range", text));
      }
      return ConfValue(d, pos);
    }
    size_t digits_end = i_;
    if (IsNumberSuffix(c)) {
      Advance();
      while (Peek() == 'b' || Peek() == 'B' || Peek() == 'i' || Peek() == 'I') Advance();
    }
    if (!EndsBareValue(Peek())) {
      if (negative) return IntegerValue(pos, in_.substr(start, digits_end - start), "");
      // "10s", "4222abc": not a number after all.
      i_ = start;
      return ParseBareString(pos);
    }
    return IntegerValue(pos, in_.substr(start, digits_end - start),
                        in_.substr(digits_end, i_ - digits_end));
  }

  absl::StatusOr<ConfValue> IntegerValue(const SourcePos& pos,
                                         std::string_view digits,
                                         std::string_view suffix) {
    std::string text = fmt::format("{}{}", digits, suffix);
    int64_t n;
    if (!absl::SimpleAtoi(std::string(digits), &n)) {
      return ValueError(fmt::format("integer '{}' is out of the range", text));
    }
    std::optional<int64_t> mult = SuffixMultiplier(suffix);
    if (!mult) {
      return ValueError(fmt::format("invalid integer suffix in '{}'", text));
    }
    if (__builtin_mul_overflow(n, *mult, &n)) {
      return ValueError(fmt::format("integer '{}' is out of the range", text));
    }
    return ConfValue(n, pos);
  }

  // YYYY-MM-DDTHH:MM:SSZ, the only date form the format has.
  absl::StatusOr<ConfValue> ParseDatetime(const SourcePos& pos, size_t start) {
    if (i_ - start != 4) return Error("All ISO8601 dates must be in full Zulu form.");
    static constexpr std::string_view kShape = "-00-00T00:00:00Z";
    for (char f : kShape) {
      int c = Peek();
      if (f == '0' && !IsDigit(c)) {
        return Error(fmt::format(
            "Expected digit in ISO8601 datetime, but found '{}' instead.", Shown(c)));
      }
      if (f != '0' && c != f) {
        return Error(fmt::format(
            "Expected '{}' in ISO8601 datetime, but found '{}' instead.", f, Shown(c)));
      }
      Advance();
    }
    std::string_view text = in_.substr(start, i_ - start);
    auto num = [&](size_t at, size_t len) {
      int v = 0;
      for (char ch : text.substr(at, len)) v = v * 10 + (ch - '0');
      return v;
    };
    absl::CivilSecond cs(num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2),
                         num(17, 2));
    // CivilSecond normalizes out-of-range fields; a real date round-trips.
    if (cs.month() != num(5, 2) || cs.day() != num(8, 2) ||
        cs.hour() != num(11, 2) || cs.minute() != num(14, 2) ||
        cs.second() != num(17, 2)) {
      return ValueError(fmt::format("expected Zulu formatted DateTime, but got '{}'", text));
    }
    return ConfValue(absl::FromCivil(cs, absl::UTCTimeZone()), pos);
  }

  absl::StatusOr<ConfValue> ParseBareString(const SourcePos& pos) {
    std::string out;
    bool escaped = false;
    while (!EndsBareValue(Peek())) {
      if (Peek() == '\\') {
        if (absl::Status s = ParseEscape(out); !s.ok()) return s;
        escaped = true;
        continue;
      }
      out.push_back(static_cast<char>(Peek()));
      Advance();
    }
    if (!escaped) {
      std::string lower = absl::AsciiStrToLower(out);
      if (lower == "true" || lower == "yes" || lower == "on") return ConfValue(true, pos);
      if (lower == "false" || lower == "no" || lower == "off") return ConfValue(false, pos);
      if (!out.empty() && out[0] == '$') return ResolveVariable(pos, out.substr(1));
    }
    return ConfValue(std::move(out), pos);
  }

  absl::StatusOr<ConfValue> ResolveVariable(const SourcePos& pos,
                                            const std::string& name) {
    // A bcrypt hash ("$2a$11$...") looks like a variable but is a password.
    if (absl::StartsWith(name, "2a$")) return ConfValue("$" + name, pos);
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      for (ConfEntry& e : **it) {
        if (e.key == name) {
          e.used_as_variable = true;
          return ConfValue(e.value.data(), pos);
        }
      }
    }
    const char* env = chain_->options.allow_env ? std::getenv(name.c_str()) : nullptr;
    if (env == nullptr) {
      return VariableError(pos, name, "can not be found");
    }
    if (env_depth_ + 1 > kMaxEnvDepth) {
      return VariableError(pos, name,
                           fmt::format("could not be parsed: environment variables "
                                       "nested deeper than {} levels", kMaxEnvDepth));
    }
    // The environment value is config text itself, so "4222" is an integer.
    std::string text = fmt::format("pk={}", env);
    IncludeChain env_chain{ConfParseOptions{.allow_includes = false, .allow_env = true}, {}};
    Parser sub(text, std::make_shared<const std::string>("$" + name), &env_chain,
               env_depth_ + 1);
    absl::StatusOr<ConfValue> parsed = sub.ParseDocument();
    if (!parsed.ok()) {
      return VariableError(pos, name, fmt::format("could not be parsed: {}",
                                                  std::string(parsed.status().message())));
    }
    const ConfValue* v = parsed->Find("pk");
    if (v == nullptr) {
      return VariableError(pos, name, "can not be found");
    }
    return ConfValue(v->data(), pos);
  }

  // After the `include` keyword: reads the file name, parses that file on its
  // own (it does not see our variables) and merges its keys into `map`.
  absl::Status ParseInclude(ConfValue::Map& map) {
    SkipBlanks();
    std::string name;
    int c = Peek();
    if (c == '"' || c == '\'') {
      Advance();
      while (Peek() != c) {
        if (Peek() == kEof) {
          return Error(c == '"' ? "Unexpected EOF in double quoted include"
                                : "Unexpected EOF in quoted include");
        }
        name.push_back(static_cast<char>(Peek()));
        Advance();
      }
      Advance();
    } else {
      if (c == '[') return Error("Expected include value but found start of an array");
      if (c == '{') return Error("Expected include value but found start of a map");
      if (c == '(') return Error("Expected include value but found start of a block");
      if (IsDigit(c) || c == '-') {
        return Error("Expected include value but found start of a number");
      }
      if (c == '\\') return Error("Expected include value but found escape sequence");
      if (c == kEof || IsNewline(c)) return Error("Expected include value but found new line");
      while (Peek() != kEof && !IsSpace(Peek()) && Peek() != ';' && Peek() != '}') {
        name.push_back(static_cast<char>(Peek()));
        Advance();
      }
    }
    if (!chain_->options.allow_includes) {
      return Error(fmt::format("include '{}' is not allowed here", name));
    }
    if (static_cast<int>(chain_->files.size()) >= kMaxConfIncludeDepth) {
      return IncludeError(name, fmt::format("includes nested deeper than {} levels",
                                            kMaxConfIncludeDepth));
    }
    namespace fs = std::filesystem;
    fs::path path(name);
    if (path.is_relative()) path = fs::path(*file_).parent_path() / path;
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(path, ec);
    std::string key = ec ? path.lexically_normal().string() : canonical.string();
    for (const std::string& f : chain_->files) {
      if (f == key) {
        return IncludeError(name, fmt::format("include cycle through {}", key));
      }
    }
    absl::StatusOr<std::string> text = ReadFile(path.string());
    if (!text.ok()) {
      return IncludeError(name, std::string(text.status().message()));
    }
    chain_->files.push_back(key);
    Parser sub(*text, std::make_shared<const std::string>(path.string()), chain_, env_depth_);
    absl::StatusOr<ConfValue> root = sub.ParseDocument();
    chain_->files.pop_back();
    if (!root.ok()) {
      return IncludeError(name, std::string(root.status().message()));
    }
    for (ConfEntry& e : *root->get_if<ConfValue::Map>()) Set(map, std::move(e));
    return absl::OkStatus();
  }

  std::string_view in_;
  size_t i_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  std::shared_ptr<const std::string> file_;
  IncludeChain* chain_;
  int env_depth_;
  std::vector<ConfValue::Map*> scopes_;  // open maps, outermost first
};

absl::StatusOr<ConfValue> ParseWithChain(std::string_view text, std::string name,
                                         const ConfParseOptions& options) {
  IncludeChain chain{options, {}};
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(name, ec);
  chain.files.push_back(ec ? name : canonical.string());
  Parser parser(text, std::make_shared<const std::string>(std::move(name)), &chain, 0);
  return parser.ParseDocument();
}

}  // namespace

absl::StatusOr<ConfValue> ParseConfFile(const std::string& path,
                                        const ConfParseOptions& options) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseWithChain(*text, path, options);
}

absl::StatusOr<ConfValue> ParseConfString(std::string_view text,
                                          std::string_view source_name,
                                          const ConfParseOptions& options) {
  return ParseWithChain(text, std::string(source_name), options);
}

}  // namespace natsd
