#include "server/subject_transform.h"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "fmt/format.h"
#include "gtest/gtest.h"

// Every expected subject and error text here was produced by nats-server
// 2.9.10 itself: a throwaway Go program (kept out of the tree) linking the
// Debian-packaged server package ran IsValidSubject(src),
// ValidateMappingDestination(dest), NewSubjectTransformer(src, dest) and
// Match(subject), as Account.AddWeightedMappings and Match do, on the same
// inputs. Partition numbers were also recomputed independently as FNV-1a 32
// of the concatenated tokens in Python, e.g. fnv1a32(b"42") = 2279835011,
// 2279835011 % 4 = 3.

namespace natsd {
namespace {

SubjectTransform MustCreate(std::string_view src, std::string_view dest) {
  absl::StatusOr<SubjectTransform> t = SubjectTransform::Create(src, dest);
  EXPECT_TRUE(t.ok()) << src << " -> " << dest << ": " << t.status();
  return t.ok() ? *std::move(t) : *SubjectTransform::Create("never", "used");
}

// A subject and what Match gives for it (nullopt: no match).
struct MatchCase {
  std::string_view subject;
  std::optional<std::string_view> want;
};

void ExpectMatches(std::string_view src, std::string_view dest,
                   std::initializer_list<MatchCase> cases) {
  SubjectTransform t = MustCreate(src, dest);
  for (const MatchCase& c : cases) {
    std::optional<std::string> got = t.Match(c.subject);
    EXPECT_EQ(got, c.want) << src << " -> " << dest << " on " << c.subject;
  }
}

std::string CreateError(std::string_view src, std::string_view dest) {
  absl::StatusOr<SubjectTransform> t = SubjectTransform::Create(src, dest);
  if (t.ok()) return "created";
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(t.status().message());
}

TEST(SubjectTransformTest, LiteralSourceGivesDestinationAsWritten) {
  SubjectTransform t = MustCreate("foo", "bar.baz");
  EXPECT_EQ(t.src(), "foo");
  EXPECT_EQ(t.dest(), "bar.baz");
  ExpectMatches("foo", "bar.baz", {{"foo", "bar.baz"}, {"foo.x", {}}, {"fo", {}}, {"foo.", {}}});
  // Without wildcards in the source, the destination is not parsed.
  ExpectMatches("foo", "{{wildcard(1)}}.$1", {{"foo", "{{wildcard(1)}}.$1"}});
}

TEST(SubjectTransformTest, LegacyDollarWildcards) {
  ExpectMatches("foo.*.*", "bar.$2.$1",
                {{"foo.a.b", "bar.b.a"}, {"foo.a", {}}, {"foo.a.b.c", {}}, {"baz.a.b", {}}});
  ExpectMatches("*.*.*", "$3.$2.$1", {{"a.b.c", "c.b.a"}});
  ExpectMatches("foo.*", "$+1", {{"foo.abc", "abc"}});
  // "$" not followed by a number is literal.
  ExpectMatches("foo.*", "$1x.$1", {{"foo.abc", "$1x.abc"}});
  // A wildcard number below 1 reads the subject's first token, as the
  // reference's map lookup does.
  ExpectMatches("foo.*", "{{wildcard(0)}}.$0.$1", {{"foo.a", "foo.foo.a"}});
  // Placeholder tokens are counted, not distinct wildcards.
  ExpectMatches("*.*", "$1.$1", {{"a.b", "a.a"}});
}

TEST(SubjectTransformTest, WildcardFunctionSpellings) {
  for (std::string_view dest : {"x.{{wildcard(1)}}", "x.{{ Wildcard ( 1 ) }}",
                                "x.{{\nwildcard\n(1)\n}}",
                                // The reference's regexes are unanchored:
                                // text around a call is ignored.
                                "x.{{x}}{{wildcard(1)}}", "x.{{wildcard(1)}}x}}"}) {
    ExpectMatches("foo.*", dest, {{"foo.a", "x.a"}});
  }
}

TEST(SubjectTransformTest, FullWildcard) {
  ExpectMatches("foo.>", "bar.>", {{"foo.a.b", "bar.a.b"}, {"foo", {}}, {"bar.a", {}}});
  ExpectMatches("*.>", "$1.x.>", {{"a.b.c.d", "a.x.b.c.d"}, {"a.b", "a.x.b"}, {"a", {}}});
  ExpectMatches("foo.>", "$0.>", {{"foo.b.c", "foo.b.c"}});
  // The subject must be a valid literal...
  ExpectMatches(">", "x.>",
                {{"a.b", "x.a.b"}, {"a..b", {}}, {"a.*", {}}, {"a.>", {}}, {"", {}}});
  // ... except that ">" to ">" passes every subject through.
  ExpectMatches(">", ">", {{"a..b", "a..b"}, {"foo.*", "foo.*"}});
}

TEST(SubjectTransformTest, SourceTokenStartingWithStarMatchesAnyToken) {
  // The reference's isSubsetMatch only looks at the first byte of a source
  // token for '*': "*b" is no wildcard, yet matches every token.
  ExpectMatches("a.*b.*", "z.$1", {{"a.x.y", "z.y"}, {"a.*b.y", "z.y"}});
  ExpectMatches("a.*b", "z", {{"a.xyz", "z"}});
}

TEST(SubjectTransformTest, Partition) {
  // fnv1a32("42") % 4 = 3, ("43") % 4 = 0, ("7") % 4 = 2.
  ExpectMatches("orders.*.*", "shard.{{partition(4,2)}}.$1.$2",
                {{"orders.eu.42", "shard.3.eu.42"},
                 {"orders.us.42", "shard.3.us.42"},
                 {"orders.eu.43", "shard.0.eu.43"},
                 {"orders.eu.7", "shard.2.eu.7"}});
  // The key is the tokens concatenated without separator, in argument
  // order: fnv1a32("foobar") % 10 = 0, ("barfoo") % 10 = 2, ("obarfo") % 10 = 8.
  ExpectMatches("*.*", "{{partition(10,1,2)}}.{{Partition( 10 , 2,1 )}}",
                {{"foo.bar", "0.2"}, {"bar.foo", "2.0"}, {"fo.obar", "0.8"}});
  // The count is taken as int32, then uint32: -1 is 2^32-1 partitions,
  // 2^32+1 is 1. fnv1a32("foo") = 2851307223.
  ExpectMatches("*", "{{partition(-1,1)}}.{{partition(4294967297,1)}}.{{partition(1,1)}}",
                {{"foo", "2851307223.0.0"}});
}

TEST(SubjectTransformTest, Split) {
  ExpectMatches("*", "{{split(1,-)}}",
                {{"a-b-c", "a.b.c"},
                 {"abc", "abc"},
                 {"a--b", "a.b"},
                 {"-a", "a"},
                 {"a-", "a"},
                 // The reference's join of empty pieces, reproduced.
                 {"--a", ".a"},
                 {"-", ""}});
  ExpectMatches("*", "{{split(1,ab)}}", {{"xabyabab", "x.y"}});
  ExpectMatches("*", "{{split(1,))}}", {{"a)b", "a.b"}});
}

TEST(SubjectTransformTest, SplitOnEmptyDelimiterSplitsUtf8) {
  // "split(1,)" and "split(1, )" have an empty delimiter: Go's
  // strings.Split then cuts into UTF-8 sequences, an invalid byte becoming
  // U+FFFD except in the last piece.
  ExpectMatches("*", "{{split(1, )}}",
                {{"abc", "a.b.c"},
                 {"h\xc3\xa9\xffz", "h.\xc3\xa9.\xef\xbf\xbd.z"},
                 {"a\xff", "a.\xff"},
                 {"\xe2\x82\xac\xed\xa0\x80x", "\xe2\x82\xac.\xef\xbf\xbd.\xef\xbf\xbd.\xef\xbf\xbd.x"}});
}

TEST(SubjectTransformTest, SplitAndSliceFromLeftAndRight) {
  // Too short to cut (or a size outside (0, length)): the token stays whole.
  ExpectMatches("*", "{{splitFromLeft(1,2)}}.{{SplitFromRight(1,2)}}",
                {{"abcde", "ab.cde.abc.de"}, {"ab", "ab.ab"}, {"a", "a.a"}});
  ExpectMatches("*", "{{splitFromLeft(1,-1)}}", {{"abcde", "abcde"}});
  ExpectMatches("*", "{{sliceFromLeft(1,2)}}.x.{{sliceFromRight(1,2)}}",
                {{"abcde", "ab.cd.e.x.a.bc.de"},
                 {"abcd", "ab.cd.x.ab.cd"},
                 {"ab", "ab.x.ab"},
                 {"a", "a.x.a"}});
  ExpectMatches("*", "{{sliceFromRight(1,0)}}", {{"abcde", "abcde"}});
  // int32 truncation: 2^32 + 2 is 2.
  ExpectMatches("*", "{{sliceFromLeft(1,4294967298)}}", {{"abcde", "ab.cd.e"}});
}

TEST(SubjectTransformTest, ManyTokens) {
  ExpectMatches("a.*.b.*.c.*.d.*.e.*.f.*.g.*.h.*.i.*.>", "$9.$8.$7.$6.$5.$4.$3.$2.$1.>",
                {{"a.1.b.2.c.3.d.4.e.5.f.6.g.7.h.8.i.9.j.k.l.m", "9.8.7.6.5.4.3.2.1.j.k.l.m"}});
}

TEST(SubjectTransformTest, CopiesAreIndependent) {
  std::optional<SubjectTransform> original = MustCreate("*.*", "lit.{{split(2,-)}}.$1");
  SubjectTransform copy = *original;
  original.reset();
  EXPECT_EQ(copy.Match("a.b-c"), "lit.b.c.a");
}

// A refused mapping and the reference's error text for it.
struct ErrorCase {
  std::string_view src;
  std::string_view dest;
  std::string_view want;
};

void ExpectErrors(std::initializer_list<ErrorCase> cases) {
  for (const ErrorCase& c : cases) {
    EXPECT_EQ(CreateError(c.src, c.dest), c.want) << c.src << " -> " << c.dest;
  }
}

constexpr std::string_view kInvalidSubject = "invalid subject";
constexpr std::string_view kDestSubject = "invalid mapping destination: invalid subject";
constexpr std::string_view kEmptyDestToken = "invalid mapping destination: invalid subject in ";

TEST(SubjectTransformTest, SubjectErrors) {
  ExpectErrors({
      {"", "x", kInvalidSubject},
      {"foo bar", "x", kInvalidSubject},
      {"foo.>.x", "x", kInvalidSubject},
      // ">" in both or neither.
      {"foo.>", "bar", kInvalidSubject},
      {"foo", "bar.>", kInvalidSubject},
      // No "*" in a destination.
      {"foo", "bar.*", kInvalidSubject},
      {"foo.*", "bar.$1.*", kInvalidSubject},
      {"foo", "", kEmptyDestToken},
      {"foo.*", "x..$1", kEmptyDestToken},
      {"foo.*", "x.>.$1", "invalid mapping destination: invalid subject in $1"},
      // Whitespace: no "in ...".
      {"foo", "a b", kDestSubject},
      {"foo.*", "a.\tb", kDestSubject},
  });
  // \v is not whitespace to Go's \s.
  ExpectMatches("foo", "a\vb", {{"foo", "a\vb"}});
}

TEST(SubjectTransformTest, FunctionErrors) {
  ExpectErrors({
      {"foo.*", "bar.{{foo}}", "invalid mapping destination: unknown function in {{foo}}"},
      {"foo", "{{foo(1)}}", "invalid mapping destination: unknown function in {{foo(1)}}"},
      // Only the first letter of each word may be upper-case.
      {"foo.*", "x.{{SPLIT(1,-)}}", "invalid mapping destination: unknown function in {{SPLIT(1,-)}}"},
      // Go's "." does not match a newline inside the parentheses.
      {"foo.*", "x.{{wildcard(1\n)}}",
       "invalid mapping destination: unknown function in {{wildcard(1\n)}}"},
  });

  const std::string not_enough =
      "invalid mapping destination: not enough arguments passed to the function in ";
  const std::string too_many =
      "invalid mapping destination: too many arguments passed to the function in ";
  const std::string invalid =
      "invalid mapping destination: function argument is invalid or in the wrong format in ";
  for (std::string_view call : {"{{wildcard()}}", "{{partition(1)}}", "{{splitFromLeft(1)}}",
                                "{{split(1)}}"}) {
    EXPECT_EQ(CreateError("foo.*", fmt::format("x.{}", call)), not_enough + std::string(call));
  }
  for (std::string_view call : {"{{wildcard(1,2)}}", "{{sliceFromRight(1,2,3)}}",
                                "{{split(1,-,-)}}"}) {
    EXPECT_EQ(CreateError("foo.*", fmt::format("x.{}", call)), too_many + std::string(call));
  }
  for (std::string_view call : {"{{wildcard( )}}",
                                // Arguments are trimmed of spaces only.
                                "{{wildcard(\t1)}}", "{{wildcard(99999999999999999999)}}",
                                "{{partition(,1)}}", "{{partition(3,1,x)}}",
                                "{{splitFromRight(1,x)}}", "{{split(1,a b)}}",
                                // Two calls in one token: the first regex
                                // tried captures across both.
                                "{{wildcard(1)}}{{wildcard(2)}}"}) {
    EXPECT_EQ(CreateError("foo.*", fmt::format("x.{}", call)), invalid + std::string(call));
  }
}

TEST(SubjectTransformTest, WildcardErrors) {
  ExpectErrors({
      {"foo.*", "bar.{{wildcard(5)}}",
       "invalid mapping destination: wildcard index out of range in {{wildcard(5)}}: [5]"},
      {"foo.*", "$9999999999",
       "invalid mapping destination: wildcard index out of range in $9999999999: [9999999999]"},
      {"foo.*", "$1.{{partition(3,1,5)}}",
       "invalid mapping destination: wildcard index out of range in {{partition(3,1,5)}}: [5]"},
      {"foo.>", "{{wildcard(1)}}.>",
       "invalid mapping destination: wildcard index out of range in {{wildcard(1)}}: [1]"},
      {"*.*", "{{wildcard(1)}}",
       "invalid mapping destination: not using all of the token wildcard(s) in {{wildcard(1)}}"},
      // Not a placeholder (length 4): a literal token, so $1 is unused.
      {"foo.*", "bar.{{}}",
       "invalid mapping destination: not using all of the token wildcard(s) in bar.{{}}"},
      // Out of int64 range: a literal "$" token.
      {"foo.*", "x.$99999999999999999999",
       "invalid mapping destination: not using all of the token wildcard(s) in "
       "x.$99999999999999999999"},
  });
}

TEST(SubjectTransformTest, ZeroPartitionsRefused) {
  const std::string invalid =
      "invalid mapping destination: function argument is invalid or in the wrong format in ";
  // nats-server accepts these and panics dividing by zero on a match.
  EXPECT_EQ(CreateError("foo.*", "x.{{partition(0,1)}}"), invalid + "{{partition(0,1)}}");
  EXPECT_EQ(CreateError("foo.*", "x.{{partition(4294967296,1)}}"),
            invalid + "{{partition(4294967296,1)}}");
  // The reference's own errors come first.
  EXPECT_EQ(CreateError("foo.*", "x.{{partition(0,1)}}.{{wildcard(2)}}"),
            "invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]");
}

}  // namespace
}  // namespace natsd
