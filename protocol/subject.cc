#include "protocol/subject.h"

namespace natsd {
namespace {

// Walks the tokens of a subject left to right without allocating, splitting
// on every separator (so empty tokens are reported, as strings.Split does).
class TokenCursor {
 public:
  explicit TokenCursor(std::string_view subject) : rest_(subject) {}

  // Sets *token to the next token; false once all tokens were returned.
  bool Next(std::string_view* token) {
    if (done_) return false;
    size_t dot = rest_.find(kTokenSeparator);
    if (dot == std::string_view::npos) {
      *token = rest_;
      done_ = true;
    } else {
      *token = rest_.substr(0, dot);
      rest_.remove_prefix(dot + 1);
    }
    return true;
  }

 private:
  std::string_view rest_;
  bool done_ = false;
};

bool IsWildcard(std::string_view token) {
  return token == kPartialWildcard || token == kFullWildcard;
}

bool HasWhitespace(std::string_view token) {
  return token.find_first_of(" \t\n\r\f") != std::string_view::npos;
}

}  // namespace

bool IsValidSubject(std::string_view subject) {
  if (subject.empty()) return false;
  TokenCursor cursor(subject);
  std::string_view token;
  bool after_full_wildcard = false;
  while (cursor.Next(&token)) {
    if (token.empty() || after_full_wildcard || HasWhitespace(token)) return false;
    after_full_wildcard = token == kFullWildcard;
  }
  return true;
}

bool IsValidPublishSubject(std::string_view subject) {
  return IsValidSubject(subject) && SubjectIsLiteral(subject);
}

bool IsValidLiteralSubject(std::string_view subject) {
  TokenCursor cursor(subject);
  std::string_view token;
  while (cursor.Next(&token)) {
    if (token.empty() || IsWildcard(token)) return false;
  }
  return true;
}

bool SubjectIsLiteral(std::string_view subject) {
  TokenCursor cursor(subject);
  std::string_view token;
  while (cursor.Next(&token)) {
    if (IsWildcard(token)) return false;
  }
  return true;
}

bool SubjectMatches(std::string_view pattern, std::string_view literal) {
  TokenCursor p(pattern), l(literal);
  std::string_view pt, lt;
  while (true) {
    bool has_p = p.Next(&pt);
    bool has_l = l.Next(&lt);
    if (!has_p || !has_l) return has_p == has_l;
    // ">" needs at least one token, which `lt` is.
    if (pt == kFullWildcard) return true;
    if (pt != kPartialWildcard && pt != lt) return false;
  }
}

bool SubjectsCollide(std::string_view a, std::string_view b) {
  if (a == b) return true;
  TokenCursor ca(a), cb(b);
  std::string_view ta, tb;
  while (true) {
    bool has_a = ca.Next(&ta);
    bool has_b = cb.Next(&tb);
    if (!has_a || !has_b) return has_a == has_b;
    if (ta.empty() || tb.empty()) return false;
    // Both still have a token here, so ">" on either side absorbs the rest
    // of the other (one or more tokens, wildcards or not).
    if (ta == kFullWildcard || tb == kFullWildcard) return true;
    if (ta == kPartialWildcard || tb == kPartialWildcard) continue;
    if (ta != tb) return false;
  }
}

bool SubjectIsSubsetOf(std::string_view subject, std::string_view pattern) {
  TokenCursor cs(subject), cp(pattern);
  std::string_view ts, tp;
  while (cp.Next(&tp)) {
    if (!cs.Next(&ts) || tp.empty() || ts.empty()) return false;
    if (tp == kFullWildcard) return true;
    // A wildcard in the subject is only covered by the same wildcard.
    if (ts == kFullWildcard) return false;
    if (ts == kPartialWildcard) {
      if (tp != kPartialWildcard) return false;
      continue;
    }
    if (tp != kPartialWildcard && tp != ts) return false;
  }
  return !cs.Next(&ts);
}

size_t NumTokens(std::string_view subject) {
  if (subject.empty()) return 0;
  size_t n = 1;
  for (char c : subject) n += c == kTokenSeparator;
  return n;
}

std::string_view TokenAt(std::string_view subject, size_t index) {
  TokenCursor cursor(subject);
  std::string_view token;
  for (size_t i = 0; cursor.Next(&token); ++i) {
    if (i == index) return token;
  }
  return {};
}

SubjectTokens TokenizeSubject(std::string_view subject) {
  SubjectTokens tokens;
  TokenCursor cursor(subject);
  std::string_view token;
  while (cursor.Next(&token)) tokens.push_back(token);
  return tokens;
}

}  // namespace natsd
