// SubjectMappings and the `mappings` block: selection by source, the
// source's remainder, weights, and the reference's config errors.
#include "server/subject_mappings.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config.h"
#include "tests/server/config_text.h"

namespace natsd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<const SubjectMappings> Make(const std::vector<ConfigMapping>& config) {
  absl::StatusOr<std::unique_ptr<const SubjectMappings>> m = SubjectMappings::Create(config);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

TEST(SubjectMappings, SelectsTheMatchingSourceOnly) {
  auto m = Make({{"foo", {{"bar"}}}, {"a.*.*", {{"b.$2.$1"}}}, {"r.>", {{"s.>"}}}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->Select("foo"), "bar");
  EXPECT_EQ(m->Select("a.1.2"), "b.2.1");
  EXPECT_EQ(m->Select("r.x.y"), "s.x.y");
  EXPECT_EQ(m->Select("foo.bar"), std::nullopt);
  EXPECT_EQ(m->Select("a.1"), std::nullopt);
}

TEST(SubjectMappings, TheSourceKeepsTheRemainder) {
  auto m = Make({{"foo.*", {{"bar.$1", 0}}}});
  ASSERT_NE(m, nullptr);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(m->Select("foo.x"), "foo.x");
  auto d = m->Describe();
  ASSERT_EQ(d.size(), 1u);
  ASSERT_EQ(d[0].second.size(), 2u);
  // Cumulative weights, lightest first; the remainder's subject numbers the
  // source's wildcards, as the reference shows it.
  EXPECT_EQ(d[0].second[0].subject, "bar.$1");
  EXPECT_EQ(d[0].second[0].weight, 0);
  EXPECT_EQ(d[0].second[1].subject, "foo.$1");
  EXPECT_EQ(d[0].second[1].weight, 100);
}

TEST(SubjectMappings, WeightsSplitTraffic) {
  auto m = Make({{"foo", {{"a", 20}, {"b", 30}}}});
  ASSERT_NE(m, nullptr);
  std::map<std::string, int> seen;
  constexpr int kDraws = 20000;
  for (int i = 0; i < kDraws; ++i) ++seen[*m->Select("foo")];
  EXPECT_EQ(seen.size(), 3u);
  // Binomial: 6 standard deviations are each under 2% of the draws here.
  EXPECT_NEAR(seen["a"], kDraws * 0.2, kDraws * 0.02);
  EXPECT_NEAR(seen["b"], kDraws * 0.3, kDraws * 0.02);
  EXPECT_NEAR(seen["foo"], kDraws * 0.5, kDraws * 0.02);
}

TEST(SubjectMappings, ListedSourceGetsNoRemainderSoTheRestIsDropped) {
  auto m = Make({{"foo", {{"foo", 0}}}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->Select("foo"), "");
}

TEST(SubjectMappings, ClusterScopedDestinationsNeverApplyWithoutACluster) {
  auto m = Make({{"foo", {{"east", 100, "east"}}}});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->Select("foo"), "foo");
  auto d = m->Describe();
  ASSERT_EQ(d[0].second.size(), 2u);  // foo 100 (the unscoped group), then east 100
  EXPECT_EQ(d[0].second[1].cluster, "east");
}

TEST(SubjectMappings, ErrorsAsTheReference) {
  auto err = [](const std::vector<ConfigMapping>& c) {
    return std::string(SubjectMappings::Create(c).status().message());
  };
  EXPECT_EQ(err({{"foo..x", {{"a"}}}}), "invalid subject");
  EXPECT_EQ(err({{"foo", {{"a", 50}, {"a", 10}}}}), "duplicate entry for \"a\"");
  EXPECT_EQ(err({{"foo", {{"a", 101}}}}), "individual weights need to be <= 100");
  EXPECT_EQ(err({{"foo", {{"a", 60}, {"b", 50}}}}), "total weight needs to be <= 100");
}

std::string ConfigErrors(const std::string& text) {
  absl::StatusOr<ConfValue> root = ParseConfString(text, "t.conf");
  if (!root.ok()) return std::string(root.status().message());
  Options o;
  std::vector<std::string> warnings;
  return std::string(ApplyConfig(*root, &o, &warnings).message());
}

TEST(MappingsConfig, TopLevelAndAccountMappingsAreRead) {
  const Options o = testing::FromConfig(
      "mappings { foo: bar, \"w.*\": [ {destination: \"x.$1\", weight: 40%}, "
      "{dest: \"y.$1\", weight: 60, cluster: c} ] }\n"
      "accounts { A: { maps: { in: out } } }\n");
  ASSERT_EQ(o.mappings.size(), 2u);
  EXPECT_EQ(o.mappings[0], (ConfigMapping{"foo", {{"bar"}}}));
  EXPECT_EQ(o.mappings[1], (ConfigMapping{"w.*", {{"x.$1", 40}, {"y.$1", 60, "c"}}}));
  ASSERT_EQ(o.accounts.size(), 1u);
  EXPECT_EQ(o.accounts[0].mappings, (std::vector<ConfigMapping>{{"in", {{"out"}}}}));
}

TEST(MappingsConfig, ErrorsAsTheReference) {
  EXPECT_EQ(ConfigErrors("mappings { \"foo\": [ {destination: a, weight: 101} ] }"),
            "t.conf:1:37: Invalid weight 101 for mapping destination");
  EXPECT_EQ(ConfigErrors("mappings { \"foo\": [ {destination: a, weight: \"x%\"} ] }"),
            "t.conf:1:37: Invalid weight \"x\" for mapping destination");
  EXPECT_THAT(ConfigErrors("mappings { foo: [ {destination: a} ] }"),
              HasSubstr("Missing weight for mapping destination \"a\""));
  EXPECT_THAT(ConfigErrors("mappings { foo: [ {destination: a, weight: 1, x: 1} ] }"),
              HasSubstr("Unknown field \"x\" for mapping destination"));
  EXPECT_EQ(ConfigErrors("mappings { foo: 5 }"),
            "t.conf:1:11: Expected an entry for the mapping destination");
  EXPECT_THAT(ConfigErrors("mappings { foo: [ 5 ] }"),
              HasSubstr("Expected an entry for the mapping destination"));
  EXPECT_THAT(ConfigErrors("mappings { \"a..b\": c }"),
              HasSubstr("Subject \"a..b\" is not a valid subject"));
  EXPECT_THAT(ConfigErrors("mappings { \"foo\": [ {destination: a, weight: 60}, "
                           "{destination: b, weight: 60} ] }"),
              HasSubstr("Error adding mapping for \"foo\" to \"a, b\" : total weight needs to "
                        "be <= 100"));
}

}  // namespace
}  // namespace natsd
