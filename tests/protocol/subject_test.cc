// Cases from nats-server 2.9.10 sublist_test.go (TestSublistValidLiteralSubjects,
// TestSublistValidSubjects, TestSubjectIsLiteral, TestSublistMatchLiterals,
// TestSubjectToken, TestSublistSubjectCollide) plus natsd's own edge cases.
#include "protocol/subject.h"

#include <gtest/gtest.h>

namespace natsd {
namespace {

TEST(SubjectTest, ValidLiteralSubjects) {
  EXPECT_TRUE(IsValidLiteralSubject("foo"));
  EXPECT_TRUE(IsValidLiteralSubject("foo.bar.baz"));
  EXPECT_FALSE(IsValidLiteralSubject(""));
  EXPECT_FALSE(IsValidLiteralSubject(".foo"));
  EXPECT_FALSE(IsValidLiteralSubject("foo."));
  EXPECT_FALSE(IsValidLiteralSubject("foo..bar"));
  EXPECT_FALSE(IsValidLiteralSubject("foo.bar.*"));
  EXPECT_FALSE(IsValidLiteralSubject("foo.bar.>"));
  EXPECT_FALSE(IsValidLiteralSubject("*"));
  EXPECT_FALSE(IsValidLiteralSubject(">"));
  // Wildcard characters that are not a whole token are literal.
  for (const char* s : {"foo*", "foo**", "foo.**", "foo*bar", "foo.*bar", "foo*.bar", "*bar",
                        "foo>", "foo>>", "foo.>>", "foo>bar", "foo.>bar", "foo>.bar", ">bar"}) {
    EXPECT_TRUE(IsValidLiteralSubject(s)) << s;
  }
}

TEST(SubjectTest, ValidSubjects) {
  for (const char* s : {"", ".", ".foo", "foo.", "foo..bar", ">.bar", "foo.>.bar", "foo.>.>"}) {
    EXPECT_FALSE(IsValidSubject(s)) << s;
  }
  for (const char* s : {"foo", "foo.bar.*", "foo.bar.>", "*", ">", "*.*", "*.>", "foo*", "foo**",
                        "foo.**", "foo*bar", "foo.*bar", "foo*.bar", "*bar", "foo>", "foo.>>",
                        "foo>bar", "foo.>bar", "foo>.bar", ">bar"}) {
    EXPECT_TRUE(IsValidSubject(s)) << s;
  }
}

TEST(SubjectTest, WhitespaceIsInvalid) {
  for (const char* s : {" ", "foo bar", "foo.\tbar", "foo.bar\r", "\n", "a.\f", "foo. .bar"}) {
    EXPECT_FALSE(IsValidSubject(s)) << s;
    EXPECT_FALSE(IsValidPublishSubject(s)) << s;
  }
}

TEST(SubjectTest, ValidPublishSubjects) {
  EXPECT_TRUE(IsValidPublishSubject("foo.bar"));
  EXPECT_TRUE(IsValidPublishSubject("foo*.bar"));
  EXPECT_FALSE(IsValidPublishSubject("foo.*"));
  EXPECT_FALSE(IsValidPublishSubject("foo.>"));
  EXPECT_FALSE(IsValidPublishSubject("foo..bar"));
  EXPECT_FALSE(IsValidPublishSubject(""));
}

TEST(SubjectTest, SubjectIsLiteral) {
  EXPECT_TRUE(SubjectIsLiteral("foo"));
  EXPECT_TRUE(SubjectIsLiteral("foo.bar"));
  EXPECT_TRUE(SubjectIsLiteral("foo*.bar"));
  EXPECT_TRUE(SubjectIsLiteral("foo.>bar"));
  EXPECT_FALSE(SubjectIsLiteral("*"));
  EXPECT_FALSE(SubjectIsLiteral(">"));
  EXPECT_FALSE(SubjectIsLiteral("foo.*"));
  EXPECT_FALSE(SubjectIsLiteral("foo.>"));
  EXPECT_FALSE(SubjectIsLiteral("foo.*.>"));
  EXPECT_FALSE(SubjectIsLiteral("foo.*.bar"));
  EXPECT_FALSE(SubjectIsLiteral("foo.bar.>"));
}

TEST(SubjectTest, Matches) {
  // (pattern, literal) pairs from the reference's matchLiteral(literal, pattern) test.
  EXPECT_TRUE(SubjectMatches("foo", "foo"));
  EXPECT_FALSE(SubjectMatches("bar", "foo"));
  EXPECT_TRUE(SubjectMatches("*", "foo"));
  EXPECT_TRUE(SubjectMatches(">", "foo"));
  EXPECT_TRUE(SubjectMatches(">", "foo.bar"));
  EXPECT_TRUE(SubjectMatches("foo.>", "foo.bar"));
  EXPECT_FALSE(SubjectMatches("bar.>", "foo.bar"));
  EXPECT_TRUE(SubjectMatches("stats.>", "stats.test.22"));
  EXPECT_TRUE(SubjectMatches("stats.*.*", "stats.test.22"));
  EXPECT_FALSE(SubjectMatches("foo", "foo.bar"));
  EXPECT_TRUE(SubjectMatches("stats.test.foos", "stats.test.foos"));
  EXPECT_FALSE(SubjectMatches("stats.test.foo", "stats.test.foos"));
  EXPECT_FALSE(SubjectMatches("stats.test.*", "stats.test"));
  EXPECT_FALSE(SubjectMatches("stats.*", "stats.test.foos"));
  EXPECT_FALSE(SubjectMatches("stats.*.*.foos", "stats.test.foos"));
  // Wildcard characters that are not whole tokens are plain characters.
  for (const char* s : {"*bar", "foo*", "foo*bar", "foo.***.bar", ">bar", "foo>", "foo>bar",
                        "foo.>>>.bar"}) {
    EXPECT_TRUE(SubjectMatches(s, s)) << s;
  }
  EXPECT_FALSE(SubjectMatches("foo*", "foox"));
  EXPECT_FALSE(SubjectMatches("foo.>bar", "foo.xbar"));
  // ">" needs at least one token.
  EXPECT_FALSE(SubjectMatches("foo.>", "foo"));
  EXPECT_TRUE(SubjectMatches("foo.*.>", "foo.a.b.c"));
  EXPECT_FALSE(SubjectMatches("foo.*.>", "foo.a"));
  // Tokens of the literal side are literal: "*" there is only matched by wildcards.
  EXPECT_TRUE(SubjectMatches("foo.*", "foo.*"));
  EXPECT_TRUE(SubjectMatches("foo.>", "foo.>"));
  EXPECT_FALSE(SubjectMatches("foo.bar", "foo.*"));
}

TEST(SubjectTest, Collide) {
  EXPECT_FALSE(SubjectsCollide("foo.*", "foo.*.bar.>"));
  EXPECT_FALSE(SubjectsCollide("foo.*.bar.>", "foo.*"));
  EXPECT_TRUE(SubjectsCollide("foo.*", "foo.foo"));
  EXPECT_TRUE(SubjectsCollide("foo.*", "*.foo"));
  EXPECT_TRUE(SubjectsCollide("foo.bar.>", "*.bar.foo"));
  EXPECT_TRUE(SubjectsCollide("foo.bar", "foo.bar"));
  EXPECT_FALSE(SubjectsCollide("foo.bar", "foo.baz"));
  EXPECT_TRUE(SubjectsCollide(">", "a.b.c"));
  EXPECT_TRUE(SubjectsCollide("a.>", "*.*.c"));
  EXPECT_FALSE(SubjectsCollide("a.>", "a"));
  EXPECT_FALSE(SubjectsCollide("a.*", "a"));
  EXPECT_FALSE(SubjectsCollide("*.b", "a.c"));
  EXPECT_TRUE(SubjectsCollide("*.*", "a.>"));
  // Only whole-token wildcards are wildcards.
  EXPECT_FALSE(SubjectsCollide("foo.*bar.*", "foo.baz.*"));
  EXPECT_FALSE(SubjectsCollide("foo..bar", "foo.*.bar"));
}

TEST(SubjectTest, Tokens) {
  EXPECT_EQ(NumTokens(""), 0u);
  EXPECT_EQ(NumTokens("foo"), 1u);
  EXPECT_EQ(NumTokens("foo.bar.baz.*"), 4u);
  EXPECT_EQ(NumTokens("a..b"), 3u);

  EXPECT_EQ(TokenAt("foo.bar.baz.*", 0), "foo");
  EXPECT_EQ(TokenAt("foo.bar.baz.*", 1), "bar");
  EXPECT_EQ(TokenAt("foo.bar.baz.*", 2), "baz");
  EXPECT_EQ(TokenAt("foo.bar.baz.*", 3), "*");
  EXPECT_EQ(TokenAt("foo.bar.baz.*", 4), "");

  EXPECT_EQ(TokenizeSubject("a..b"), (SubjectTokens{"a", "", "b"}));
  EXPECT_EQ(TokenizeSubject("foo"), (SubjectTokens{"foo"}));
  EXPECT_EQ(TokenizeSubject(""), (SubjectTokens{""}));
  EXPECT_EQ(TokenizeSubject("a."), (SubjectTokens{"a", ""}));
}

}  // namespace
}  // namespace natsd
