// Subject syntax: validation, wildcard matching and token helpers.
//
// A subject is a sequence of tokens separated by '.'. In a subscription a
// token may be a wildcard: "*" matches exactly one token, ">" matches one or
// more tokens and may only be the last token. A '*' or '>' character inside a
// longer token ("foo*", ">bar") is an ordinary character, not a wildcard.
//
//   IsValidSubject("foo.*.bar.>")          // true: a valid subscription subject
//   IsValidPublishSubject("foo.*")         // false: publishing needs a literal
//   SubjectMatches("foo.*.baz", "foo.bar.baz")  // true
//   SubjectsCollide("foo.*", "*.bar")      // true: both match "foo.bar"
//
// The rules are those of nats-server 2.9.10 (sublist.go). All functions are
// pure and thread-safe.
#ifndef NATSD_PROTOCOL_SUBJECT_H_
#define NATSD_PROTOCOL_SUBJECT_H_

#include <cstddef>
#include <string_view>

#include "absl/container/inlined_vector.h"

namespace natsd {

inline constexpr char kTokenSeparator = '.';
inline constexpr std::string_view kPartialWildcard = "*";
inline constexpr std::string_view kFullWildcard = ">";

// True if `subject` is usable in a subscription: not empty, no empty token,
// ">" only as the last token, and no whitespace (space, \t, \n, \r, \f).
bool IsValidSubject(std::string_view subject);

// True if `subject` is valid (IsValidSubject) and has no wildcard token.
bool IsValidPublishSubject(std::string_view subject);

// True if `subject` has no empty token and no wildcard token. Like the
// reference (used for pedantic PUB checks) it does not look for whitespace:
// the parser has already split the subject out on whitespace.
bool IsValidLiteralSubject(std::string_view subject);

// True if no token of `subject` is a wildcard. Does not validate otherwise.
bool SubjectIsLiteral(std::string_view subject);

// True if the subscription subject `pattern` (wildcards allowed) matches the
// subject `literal`, whose tokens are all taken literally ("*" in `literal`
// only matches a "*" or wildcard in `pattern`).
bool SubjectMatches(std::string_view pattern, std::string_view literal);

// True if some literal subject could be matched by both `a` and `b` (either
// may have wildcards). Identical strings always collide; otherwise a subject
// with an empty token collides with nothing.
bool SubjectsCollide(std::string_view a, std::string_view b);

// True if every literal subject `subject` matches is also matched by
// `pattern` (both may have wildcards): "foo.bar" and "foo.*" are subsets of
// "foo.>", "foo.>" is not a subset of "foo.*". The reference's
// subjectIsSubsetMatch, used to authorize imports against exports.
bool SubjectIsSubsetOf(std::string_view subject, std::string_view pattern);

// Number of tokens: 0 for "", otherwise separators + 1.
size_t NumTokens(std::string_view subject);

// The token at 0-based `index`, or "" if there is no such token.
std::string_view TokenAt(std::string_view subject, size_t index);

// The tokens of `subject` as views into it, split on every '.' (so "a..b"
// gives "a", "", "b" and "" gives one empty token). Inline up to 16 tokens:
// subjects on the publish path rarely have more.
using SubjectTokens = absl::InlinedVector<std::string_view, 16>;
SubjectTokens TokenizeSubject(std::string_view subject);

}  // namespace natsd

#endif  // NATSD_PROTOCOL_SUBJECT_H_
