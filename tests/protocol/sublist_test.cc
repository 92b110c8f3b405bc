// Sublist and MatchCache: the cases of nats-server 2.9.10 sublist_test.go that
// apply (match semantics, removal and pruning, queue groups, invalid subjects,
// cache bounds and coherence, races), then natsd's own: copy-on-write results,
// cache coherence against a brute-force oracle, MatchCache generations, and
// concurrent Insert/Remove/Match (run under TSAN too).
#include "protocol/sublist.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "protocol/subject.h"

namespace natsd {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

SubscriptionPtr NewSub(std::string subject, std::string queue = "") {
  auto sub = std::make_shared<Subscription>();
  sub->subject = std::move(subject);
  sub->queue = std::move(queue);
  return sub;
}

// The members of `queue` in `r`, or empty if the group is absent.
std::vector<SubscriptionPtr> Group(const SublistResult& r, std::string_view queue) {
  for (const auto& group : r.qsubs) {
    if (group.front()->queue == queue) return group;
  }
  return {};
}

// Every queue group in a result is non-empty and holds one queue name.
void ExpectWellFormed(const SublistResult& r) {
  for (const auto& group : r.qsubs) {
    ASSERT_FALSE(group.empty());
    for (const auto& sub : group) EXPECT_EQ(sub->queue, group.front()->queue);
  }
}

TEST(SublistTest, InitAndCount) {
  Sublist sl;
  EXPECT_EQ(sl.count(), 0u);
  ASSERT_TRUE(sl.Insert(NewSub("foo")).ok());
  ASSERT_TRUE(sl.Insert(NewSub("bar", "q")).ok());
  EXPECT_EQ(sl.count(), 2u);
}

TEST(SublistTest, Simple) {
  Sublist sl;
  auto sub = NewSub("foo");
  ASSERT_TRUE(sl.Insert(sub).ok());
  EXPECT_THAT(sl.Match("foo")->psubs, UnorderedElementsAre(sub));
}

TEST(SublistTest, SimpleMultiTokens) {
  Sublist sl;
  auto sub = NewSub("foo.bar.baz");
  ASSERT_TRUE(sl.Insert(sub).ok());
  EXPECT_THAT(sl.Match("foo.bar.baz")->psubs, UnorderedElementsAre(sub));
  EXPECT_TRUE(sl.Match("foo.bar")->empty());
  EXPECT_TRUE(sl.Match("foo.bar.baz.qux")->empty());
}

TEST(SublistTest, PartialWildcard) {
  Sublist sl;
  auto lsub = NewSub("a.b.c");
  auto psub = NewSub("a.*.c");
  ASSERT_TRUE(sl.Insert(lsub).ok());
  ASSERT_TRUE(sl.Insert(psub).ok());
  EXPECT_THAT(sl.Match("a.b.c")->psubs, UnorderedElementsAre(lsub, psub));
  EXPECT_THAT(sl.Match("a.x.c")->psubs, UnorderedElementsAre(psub));
}

TEST(SublistTest, PartialWildcardAtEnd) {
  Sublist sl;
  auto lsub = NewSub("a.b.c");
  auto psub = NewSub("a.b.*");
  ASSERT_TRUE(sl.Insert(lsub).ok());
  ASSERT_TRUE(sl.Insert(psub).ok());
  EXPECT_THAT(sl.Match("a.b.c")->psubs, UnorderedElementsAre(lsub, psub));
  EXPECT_TRUE(sl.Match("a.b")->empty());
  EXPECT_TRUE(sl.Match("a.b.c.d")->empty());
}

TEST(SublistTest, FullWildcard) {
  Sublist sl;
  auto lsub = NewSub("a.b.c");
  auto fsub = NewSub("a.>");
  ASSERT_TRUE(sl.Insert(lsub).ok());
  ASSERT_TRUE(sl.Insert(fsub).ok());
  EXPECT_THAT(sl.Match("a.b.c")->psubs, UnorderedElementsAre(lsub, fsub));
  // ">" in the published subject is a literal token, matched only by wildcards.
  EXPECT_THAT(sl.Match("a.>")->psubs, UnorderedElementsAre(fsub));
  // ">" needs at least one token.
  EXPECT_TRUE(sl.Match("a")->empty());
}

TEST(SublistTest, RootWildcards) {
  Sublist sl;
  auto all = NewSub(">");
  auto one = NewSub("*");
  ASSERT_TRUE(sl.Insert(all).ok());
  ASSERT_TRUE(sl.Insert(one).ok());
  EXPECT_THAT(sl.Match("foo")->psubs, UnorderedElementsAre(all, one));
  EXPECT_THAT(sl.Match("foo.bar")->psubs, UnorderedElementsAre(all));
}

TEST(SublistTest, SameClientOverlappingSubsAppearOncePerSub) {
  Sublist sl;
  auto star = NewSub("foo.*");
  auto gt = NewSub("foo.>");
  auto lit = NewSub("foo.bar");
  auto mid = NewSub("*.bar");
  for (const auto& s : {star, gt, lit, mid}) ASSERT_TRUE(sl.Insert(s).ok());
  EXPECT_THAT(sl.Match("foo.bar")->psubs, UnorderedElementsAre(star, gt, lit, mid));
}

TEST(SublistTest, DuplicateInsertOfSameObject) {
  Sublist sl;
  auto sub = NewSub("foo");
  ASSERT_TRUE(sl.Insert(sub).ok());
  EXPECT_EQ(sl.Insert(sub).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(sl.count(), 1u);
  EXPECT_EQ(sl.Match("foo")->psubs.size(), 1u);
  // A different object with the same subject is a different subscription.
  ASSERT_TRUE(sl.Insert(NewSub("foo")).ok());
  EXPECT_EQ(sl.Match("foo")->psubs.size(), 2u);
}

TEST(SublistTest, Remove) {
  Sublist sl;
  auto sub = NewSub("a.b.c.d");
  ASSERT_TRUE(sl.Insert(sub).ok());
  EXPECT_EQ(sl.count(), 1u);
  EXPECT_EQ(sl.Match("a.b.c.d")->psubs.size(), 1u);
  EXPECT_EQ(sl.Remove(NewSub("a.b.c")).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sl.Remove(NewSub("a.b.c.d")).code(), absl::StatusCode::kNotFound);  // other object
  EXPECT_EQ(sl.count(), 1u);
  EXPECT_TRUE(sl.Remove(sub).ok());
  EXPECT_EQ(sl.count(), 0u);
  EXPECT_TRUE(sl.Match("a.b.c.d")->empty());
  EXPECT_EQ(sl.Remove(sub).code(), absl::StatusCode::kNotFound);
}

TEST(SublistTest, RemoveWildcard) {
  Sublist sl;
  auto sub = NewSub("a.b.c.d");
  auto psub = NewSub("a.b.*.d");
  auto fsub = NewSub("a.b.>");
  for (const auto& s : {sub, psub, fsub}) ASSERT_TRUE(sl.Insert(s).ok());
  EXPECT_EQ(sl.count(), 3u);
  EXPECT_EQ(sl.Match("a.b.c.d")->psubs.size(), 3u);
  ASSERT_TRUE(sl.Remove(sub).ok());
  EXPECT_EQ(sl.count(), 2u);
  ASSERT_TRUE(sl.Remove(fsub).ok());
  EXPECT_EQ(sl.count(), 1u);
  EXPECT_THAT(sl.Match("a.b.c.d")->psubs, UnorderedElementsAre(psub));
  ASSERT_TRUE(sl.Remove(psub).ok());
  EXPECT_EQ(sl.count(), 0u);
  EXPECT_TRUE(sl.Match("a.b.c.d")->empty());
}

TEST(SublistTest, RemoveCleanup) {
  Sublist sl;
  auto sub = NewSub("a.b.c.d.e.f");
  EXPECT_EQ(sl.TEST_NodeCount(), 0u);
  ASSERT_TRUE(sl.Insert(sub).ok());
  EXPECT_EQ(sl.TEST_NodeCount(), 6u);
  ASSERT_TRUE(sl.Remove(sub).ok());
  EXPECT_EQ(sl.TEST_NodeCount(), 0u);
}

TEST(SublistTest, RemoveCleanupWildcards) {
  Sublist sl;
  auto sub = NewSub("a.b.*.d.e.>");
  ASSERT_TRUE(sl.Insert(sub).ok());
  EXPECT_EQ(sl.TEST_NodeCount(), 6u);
  ASSERT_TRUE(sl.Remove(sub).ok());
  EXPECT_EQ(sl.TEST_NodeCount(), 0u);
}

TEST(SublistTest, RemoveKeepsSharedPrefixes) {
  Sublist sl;
  auto ab = NewSub("a.b");
  auto abc = NewSub("a.b.c");
  auto q = NewSub("a.b.c", "q");
  for (const auto& s : {ab, abc, q}) ASSERT_TRUE(sl.Insert(s).ok());
  EXPECT_EQ(sl.TEST_NodeCount(), 3u);
  ASSERT_TRUE(sl.Remove(abc).ok());
  EXPECT_EQ(sl.TEST_NodeCount(), 3u);  // the queue sub still ends at a.b.c
  ASSERT_TRUE(sl.Remove(q).ok());
  EXPECT_EQ(sl.TEST_NodeCount(), 2u);
  EXPECT_THAT(sl.Match("a.b")->psubs, UnorderedElementsAre(ab));
  ASSERT_TRUE(sl.Remove(ab).ok());
  EXPECT_EQ(sl.TEST_NodeCount(), 0u);
}

TEST(SublistTest, RemoveWithLargeSubs) {
  Sublist sl;
  for (int i = 0; i < 512; ++i) ASSERT_TRUE(sl.Insert(NewSub("foo")).ok());
  SublistResultPtr r = sl.Match("foo");
  ASSERT_EQ(r->psubs.size(), 512u);
  ASSERT_TRUE(sl.Remove(r->psubs[256]).ok());
  ASSERT_TRUE(sl.Remove(r->psubs[0]).ok());
  ASSERT_TRUE(sl.Remove(r->psubs.back()).ok());
  EXPECT_EQ(sl.Match("foo")->psubs.size(), 509u);
  EXPECT_EQ(r->psubs.size(), 512u);  // a held result never changes
}

TEST(SublistTest, InvalidSubjectsInsert) {
  Sublist sl;
  for (const char* s : {"", ".foo", "foo.", "foo..bar", "foo.bar..baz", "foo.>.bar", ">.>"}) {
    EXPECT_EQ(sl.Insert(NewSub(s)).code(), absl::StatusCode::kInvalidArgument) << s;
  }
  EXPECT_EQ(sl.count(), 0u);
  EXPECT_EQ(sl.generation(), 0u);
  // As in the reference's Insert, whitespace is not checked here (the parser
  // has split on it already), and wildcard characters inside tokens are literal.
  EXPECT_TRUE(sl.Insert(NewSub("foo\fbar")).ok());
  EXPECT_TRUE(sl.Insert(NewSub("foo*.>bar")).ok());
}

TEST(SublistTest, BadSubjectOnRemove) {
  Sublist sl;
  EXPECT_EQ(sl.Remove(NewSub("a.b..d")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sl.Remove(NewSub("a.>.b")).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SublistTest, TwoTokenPubMatchSingleTokenSub) {
  Sublist sl;
  auto sub = NewSub("foo");
  ASSERT_TRUE(sl.Insert(sub).ok());
  EXPECT_THAT(sl.Match("foo")->psubs, UnorderedElementsAre(sub));
  EXPECT_TRUE(sl.Match("foo.bar")->empty());
}

TEST(SublistTest, InsertWithWildcardsAsLiterals) {
  Sublist sl;
  for (const char* subject : {"foo.*-", "foo.>-"}) {
    ASSERT_TRUE(sl.Insert(NewSub(subject)).ok());
    EXPECT_TRUE(sl.Match("foo.bar")->empty()) << subject;
    EXPECT_EQ(sl.Match(subject)->psubs.size(), 1u) << subject;
  }
}

TEST(SublistTest, RemoveWithWildcardsAsLiterals) {
  Sublist sl;
  for (const char* subject : {"foo.*-", "foo.>-"}) {
    auto sub = NewSub(subject);
    ASSERT_TRUE(sl.Insert(sub).ok());
    EXPECT_EQ(sl.Remove(NewSub("foo.bar")).code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(sl.count(), 1u);
    ASSERT_TRUE(sl.Remove(sub).ok());
    EXPECT_EQ(sl.count(), 0u);
  }
}

TEST(SublistTest, BasicQueueResults) {
  Sublist sl;
  auto sub = NewSub("foo");
  auto sub1 = NewSub("foo", "bar");
  auto sub2 = NewSub("foo", "baz");

  ASSERT_TRUE(sl.Insert(sub1).ok());
  SublistResultPtr r = sl.Match("foo");
  EXPECT_THAT(r->psubs, IsEmpty());
  ASSERT_EQ(r->qsubs.size(), 1u);
  EXPECT_THAT(Group(*r, "bar"), UnorderedElementsAre(sub1));

  ASSERT_TRUE(sl.Insert(sub2).ok());
  r = sl.Match("foo");
  EXPECT_THAT(r->psubs, IsEmpty());
  ASSERT_EQ(r->qsubs.size(), 2u);
  EXPECT_THAT(Group(*r, "bar"), UnorderedElementsAre(sub1));
  EXPECT_THAT(Group(*r, "baz"), UnorderedElementsAre(sub2));

  ASSERT_TRUE(sl.Insert(sub).ok());
  r = sl.Match("foo");
  EXPECT_THAT(r->psubs, UnorderedElementsAre(sub));
  ASSERT_EQ(r->qsubs.size(), 2u);

  auto sub3 = NewSub("foo", "bar");
  auto sub4 = NewSub("foo", "baz");
  ASSERT_TRUE(sl.Insert(sub3).ok());
  ASSERT_TRUE(sl.Insert(sub4).ok());
  r = sl.Match("foo");
  EXPECT_THAT(r->psubs, UnorderedElementsAre(sub));
  ASSERT_EQ(r->qsubs.size(), 2u);
  EXPECT_THAT(Group(*r, "bar"), UnorderedElementsAre(sub1, sub3));
  EXPECT_THAT(Group(*r, "baz"), UnorderedElementsAre(sub2, sub4));

  ASSERT_TRUE(sl.Remove(sub).ok());
  r = sl.Match("foo");
  EXPECT_THAT(r->psubs, IsEmpty());
  ASSERT_EQ(r->qsubs.size(), 2u);

  ASSERT_TRUE(sl.Remove(sub1).ok());
  r = sl.Match("foo");
  EXPECT_THAT(Group(*r, "bar"), UnorderedElementsAre(sub3));
  EXPECT_THAT(Group(*r, "baz"), UnorderedElementsAre(sub2, sub4));

  ASSERT_TRUE(sl.Remove(sub3).ok());  // last of "bar"
  r = sl.Match("foo");
  ASSERT_EQ(r->qsubs.size(), 1u);
  EXPECT_THAT(Group(*r, "baz"), UnorderedElementsAre(sub2, sub4));

  ASSERT_TRUE(sl.Remove(sub2).ok());
  ASSERT_TRUE(sl.Remove(sub4).ok());
  EXPECT_TRUE(sl.Match("foo")->empty());
}

TEST(SublistTest, QueueGroupsMergeAcrossWildcards) {
  Sublist sl;
  auto lit = NewSub("foo.bar", "workers");
  auto star = NewSub("foo.*", "workers");
  auto gt = NewSub("foo.>", "workers");
  auto other = NewSub("foo.*", "other");
  auto plain = NewSub("foo.*");
  for (const auto& s : {lit, star, gt, other, plain}) ASSERT_TRUE(sl.Insert(s).ok());
  SublistResultPtr r = sl.Match("foo.bar");
  ExpectWellFormed(*r);
  EXPECT_THAT(r->psubs, UnorderedElementsAre(plain));
  ASSERT_EQ(r->qsubs.size(), 2u);
  EXPECT_THAT(Group(*r, "workers"), UnorderedElementsAre(lit, star, gt));
  EXPECT_THAT(Group(*r, "other"), UnorderedElementsAre(other));
}

TEST(SublistTest, MatchWithEmptyTokens) {
  Sublist sl;
  ASSERT_TRUE(sl.Insert(NewSub(">")).ok());
  ASSERT_TRUE(sl.Insert(NewSub(">", "queue")).ok());
  for (const char* subject : {"", ".", ".foo", "..foo", "foo..", "foo.", "foo..bar", "foo...bar"}) {
    EXPECT_TRUE(sl.Match(subject)->empty()) << subject;
  }
  EXPECT_EQ(sl.stats().cache_entries, 0u);  // not cached
}

TEST(SublistTest, SharedEmptyResult) {
  Sublist sl;
  SublistResultPtr r1 = sl.Match("foo");
  SublistResultPtr r2 = sl.Match("bar");
  ASSERT_NE(r1, nullptr);
  EXPECT_TRUE(r1->empty());
  EXPECT_EQ(r1.get(), r2.get());
  Sublist other;
  EXPECT_EQ(other.Match("baz").get(), r1.get());
}

TEST(SublistTest, Cache) {
  Sublist sl;
  auto sub = NewSub("a.b.c.d");
  auto psub = NewSub("a.b.*.d");
  auto fsub = NewSub("a.b.>");
  ASSERT_TRUE(sl.Insert(sub).ok());
  EXPECT_EQ(sl.Match("a.b.c.d")->psubs.size(), 1u);
  ASSERT_TRUE(sl.Insert(psub).ok());
  ASSERT_TRUE(sl.Insert(fsub).ok());
  EXPECT_EQ(sl.Match("a.b.c.d")->psubs.size(), 3u);
  ASSERT_TRUE(sl.Remove(sub).ok());
  ASSERT_TRUE(sl.Remove(fsub).ok());
  ASSERT_TRUE(sl.Remove(psub).ok());
  EXPECT_EQ(sl.stats().cache_entries, 0u);
  EXPECT_TRUE(sl.Match("a.b.c.d")->empty());

  // Wildcard inserts update cached results in place.
  Sublist sl2;
  ASSERT_TRUE(sl2.Insert(NewSub("foo.*")).ok());
  ASSERT_TRUE(sl2.Insert(NewSub("foo.bar")).ok());
  EXPECT_EQ(sl2.Match("foo.baz")->psubs.size(), 1u);
  EXPECT_EQ(sl2.Match("foo.bar")->psubs.size(), 2u);
  ASSERT_TRUE(sl2.Insert(NewSub("foo.>")).ok());
  EXPECT_EQ(sl2.Match("foo.bar")->psubs.size(), 3u);
  EXPECT_EQ(sl2.Match("foo.baz")->psubs.size(), 2u);
  Sublist::Stats st = sl2.stats();
  EXPECT_EQ(st.cache_entries, 2u);
  EXPECT_EQ(st.matches, 4u);
  EXPECT_EQ(st.cache_hits, 2u);  // the last two were served from updated entries
}

TEST(SublistTest, CacheIsBounded) {
  Sublist sl;
  ASSERT_TRUE(sl.Insert(NewSub(">")).ok());
  for (size_t i = 0; i < 4 * Sublist::kCacheMax; ++i) sl.Match(absl::StrCat("foo-", i));
  EXPECT_LE(sl.stats().cache_entries, Sublist::kCacheMax);
  EXPECT_GE(sl.stats().cache_entries, Sublist::kCacheSweep / 2);
}

TEST(SublistTest, CacheHitRate) {
  Sublist sl;
  ASSERT_TRUE(sl.Insert(NewSub("foo")).ok());
  for (int i = 0; i < 4; ++i) sl.Match("foo");
  Sublist::Stats st = sl.stats();
  EXPECT_EQ(st.matches, 4u);
  EXPECT_EQ(st.cache_hits, 3u);
  EXPECT_EQ(st.inserts, 1u);
  EXPECT_EQ(st.subs, 1u);
}

TEST(SublistTest, HeldResultsAreImmutable) {
  Sublist sl;
  auto a = NewSub("foo.*");
  ASSERT_TRUE(sl.Insert(a).ok());
  SublistResultPtr before = sl.Match("foo.bar");  // now cached
  auto b = NewSub("foo.bar");
  auto q = NewSub("foo.>", "q");
  ASSERT_TRUE(sl.Insert(b).ok());
  ASSERT_TRUE(sl.Insert(q).ok());
  SublistResultPtr after = sl.Match("foo.bar");
  EXPECT_THAT(before->psubs, UnorderedElementsAre(a));
  EXPECT_THAT(before->qsubs, IsEmpty());
  EXPECT_THAT(after->psubs, UnorderedElementsAre(a, b));
  EXPECT_THAT(Group(*after, "q"), UnorderedElementsAre(q));
  ASSERT_TRUE(sl.Remove(a).ok());
  EXPECT_THAT(after->psubs, UnorderedElementsAre(a, b));
  EXPECT_THAT(sl.Match("foo.bar")->psubs, UnorderedElementsAre(b));
}

TEST(SublistTest, GenerationChangesOnEveryChange) {
  Sublist sl;
  auto sub = NewSub("foo");
  uint64_t g0 = sl.generation();
  ASSERT_TRUE(sl.Insert(sub).ok());
  uint64_t g1 = sl.generation();
  EXPECT_NE(g1, g0);
  sl.Match("foo");
  EXPECT_EQ(sl.generation(), g1);
  EXPECT_FALSE(sl.Remove(NewSub("bar")).ok());
  EXPECT_EQ(sl.generation(), g1);  // nothing changed
  ASSERT_TRUE(sl.Remove(sub).ok());
  EXPECT_NE(sl.generation(), g1);
}

TEST(SublistTest, RemoveBatch) {
  for (size_t n : {size_t{3}, size_t{100}}) {  // per-sub cache pruning, then whole-cache clear
    Sublist sl;
    auto keep = NewSub("foo.*");
    ASSERT_TRUE(sl.Insert(keep).ok());
    std::vector<SubscriptionPtr> batch;
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(NewSub(i % 2 ? "foo.bar" : "foo.>", i % 3 ? "" : "q"));
      ASSERT_TRUE(sl.Insert(batch.back()).ok());
    }
    EXPECT_EQ(sl.Match("foo.bar")->psubs.size() + Group(*sl.Match("foo.bar"), "q").size(), n + 1);
    batch.push_back(NewSub("never.inserted"));  // skipped
    uint64_t gen = sl.generation();
    sl.RemoveBatch(batch);
    EXPECT_NE(sl.generation(), gen);
    EXPECT_EQ(sl.count(), 1u);
    EXPECT_THAT(sl.Match("foo.bar")->psubs, UnorderedElementsAre(keep));
    EXPECT_THAT(sl.Match("foo.bar")->qsubs, IsEmpty());
    EXPECT_EQ(sl.TEST_NodeCount(), 2u);  // foo, foo.*
    EXPECT_EQ(sl.stats().removes, n);
  }
}

TEST(SublistTest, ForEachVisitsAll) {
  Sublist sl;
  std::vector<SubscriptionPtr> subs = {NewSub("foo.bar.baz"), NewSub("foo"), NewSub("baz"),
                                       NewSub("foo.*", "q"), NewSub(">"), NewSub("foo.>", "q")};
  for (const auto& s : subs) ASSERT_TRUE(sl.Insert(s).ok());
  std::vector<SubscriptionPtr> seen;
  sl.ForEach([&](const SubscriptionPtr& s) { seen.push_back(s); });
  EXPECT_THAT(seen, UnorderedElementsAreArray(subs));
}

// Random inserts, removes and matches compared after every step with a
// brute-force match over all live subscriptions: cached results never go
// stale, whether they were updated in place (insert) or dropped (remove).
TEST(SublistTest, CacheCoherenceAgainstOracle) {
  const std::vector<std::string> patterns = {
      "a", "a.b", "a.b.c", "a.*", "a.*.c", "a.>", "*", "*.b", "*.*.c", ">", "a.b.>", "x.y", "*.>"};
  const std::vector<std::string> literals = {"a", "a.b", "a.b.c", "a.x", "a.x.c", "x.y",
                                             "b",  "q.b", "a.b.c.d", "x", "x.b.c", "a.*"};
  const std::vector<std::string> queues = {"", "", "q1", "q2"};
  std::mt19937 rng(42);
  Sublist sl;
  MatchCache local(4);  // tiny, to exercise its eviction too
  std::vector<SubscriptionPtr> live;

  auto check = [&](const std::string& subject, const SublistResult& r) {
    ExpectWellFormed(r);
    std::vector<SubscriptionPtr> want_plain;
    std::vector<SubscriptionPtr> got_plain = r.psubs;
    for (const auto& s : live) {
      if (s->queue.empty() && SubjectMatches(s->subject, subject)) want_plain.push_back(s);
    }
    ASSERT_THAT(got_plain, UnorderedElementsAreArray(want_plain)) << subject;
    for (const char* q : {"q1", "q2"}) {
      std::vector<SubscriptionPtr> want_q;
      for (const auto& s : live) {
        if (s->queue == q && SubjectMatches(s->subject, subject)) want_q.push_back(s);
      }
      ASSERT_THAT(Group(r, q), UnorderedElementsAreArray(want_q)) << subject << " " << q;
    }
  };

  for (int step = 0; step < 3000; ++step) {
    int op = rng() % 10;
    if (op < 3 || live.empty()) {
      auto sub = NewSub(patterns[rng() % patterns.size()], queues[rng() % queues.size()]);
      ASSERT_TRUE(sl.Insert(sub).ok());
      live.push_back(sub);
    } else if (op < 5) {
      size_t i = rng() % live.size();
      ASSERT_TRUE(sl.Remove(live[i]).ok());
      live.erase(live.begin() + i);
    } else if (op == 5) {
      std::vector<SubscriptionPtr> batch;
      for (int k = 0; k < 3 && !live.empty(); ++k) {
        size_t i = rng() % live.size();
        batch.push_back(live[i]);
        live.erase(live.begin() + i);
      }
      sl.RemoveBatch(batch);
    } else {
      const std::string& subject = literals[rng() % literals.size()];
      check(subject, *sl.Match(subject));
      check(subject, local.Match(sl, subject));
    }
    ASSERT_EQ(sl.count(), live.size());
  }
  Sublist::Stats st = sl.stats();
  EXPECT_GT(st.cache_hits, 0u);
}

TEST(MatchCacheTest, ServesUntilGenerationChanges) {
  Sublist sl;
  auto a = NewSub("foo");
  ASSERT_TRUE(sl.Insert(a).ok());
  MatchCache cache;
  EXPECT_THAT(cache.Match(sl, "foo").psubs, UnorderedElementsAre(a));
  uint64_t matches = sl.stats().matches;
  EXPECT_THAT(cache.Match(sl, "foo").psubs, UnorderedElementsAre(a));
  EXPECT_EQ(sl.stats().matches, matches);  // served locally, the sublist was not asked
  EXPECT_EQ(cache.size(), 1u);

  auto b = NewSub("foo");
  ASSERT_TRUE(sl.Insert(b).ok());
  EXPECT_THAT(cache.Match(sl, "foo").psubs, UnorderedElementsAre(a, b));
  ASSERT_TRUE(sl.Remove(a).ok());
  EXPECT_THAT(cache.Match(sl, "foo").psubs, UnorderedElementsAre(b));
  // A change anywhere empties the local cache.
  cache.Match(sl, "bar");
  EXPECT_EQ(cache.size(), 2u);
  ASSERT_TRUE(sl.Insert(NewSub("unrelated")).ok());
  EXPECT_TRUE(cache.Match(sl, "bar").empty());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(MatchCacheTest, TellsSublistsApart) {
  Sublist one, two;
  auto a = NewSub("foo");
  ASSERT_TRUE(one.Insert(a).ok());
  auto b = NewSub("foo");
  ASSERT_TRUE(two.Insert(b).ok());
  ASSERT_EQ(one.generation(), two.generation());
  MatchCache cache;
  EXPECT_THAT(cache.Match(one, "foo").psubs, UnorderedElementsAre(a));
  EXPECT_THAT(cache.Match(two, "foo").psubs, UnorderedElementsAre(b));
  EXPECT_THAT(cache.Match(one, "foo").psubs, UnorderedElementsAre(a));
}

TEST(MatchCacheTest, Bounded) {
  Sublist sl;
  ASSERT_TRUE(sl.Insert(NewSub(">")).ok());
  MatchCache cache(8);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(cache.Match(sl, absl::StrCat("s", i)).psubs.size(), 1u);
    EXPECT_LE(cache.size(), 8u);
  }
}

// Reference TestSublistRaceOnRemove/RaceOnInsert: results read while another
// thread changes the sublist stay intact.
TEST(SublistConcurrencyTest, ResultsStayIntactWhileChanging) {
  Sublist sl;
  std::vector<SubscriptionPtr> subs;
  for (int i = 0; i < 100; ++i) subs.push_back(NewSub("foo", i % 2 ? "bar" : ""));
  for (int round = 0; round < 20; ++round) {
    std::thread inserter([&] {
      for (const auto& s : subs) ASSERT_TRUE(sl.Insert(s).ok());
    });
    for (int i = 0; i < 200; ++i) {
      SublistResultPtr r = sl.Match("foo");
      for (const auto& s : r->psubs) ASSERT_EQ(s->subject, "foo");
      for (const auto& g : r->qsubs) {
        for (const auto& s : g) ASSERT_EQ(s->queue, "bar");
      }
    }
    inserter.join();
    SublistResultPtr full = sl.Match("foo");
    std::thread remover([&] { sl.RemoveBatch(subs); });
    size_t n = full->psubs.size() + full->qsubs.at(0).size();
    remover.join();
    EXPECT_EQ(n, subs.size());
    EXPECT_TRUE(sl.Match("foo")->empty());
  }
}

// Several writers and readers at once. Each writer checks that its own change
// is visible to its next Match and to its thread's MatchCache (no stale
// result after a change returns); readers check results are well formed. At
// the end the shared cache must agree with a fresh walk of the trie.
TEST(SublistConcurrencyTest, ConcurrentInsertRemoveMatch) {
  Sublist sl;
  constexpr int kWriters = 3;
  constexpr int kReaders = 3;
  constexpr int kIterations = 1500;
  const std::vector<std::string> patterns = {"svc.a.req", "svc.*.req", "svc.>", ">", "svc.a.*"};
  const std::vector<std::string> subjects = {"svc.a.req", "svc.b.req", "svc.a.rsp", "other"};
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(w);
      MatchCache local;
      std::vector<SubscriptionPtr> mine;
      for (int i = 0; i < kIterations; ++i) {
        if (mine.empty() || rng() % 2) {
          auto sub = NewSub(patterns[rng() % patterns.size()], rng() % 3 ? "" : "q");
          if (!sl.Insert(sub).ok()) failures++;
          mine.push_back(sub);
          // Read-your-writes through both caches, for a subject it matches.
          std::string subject = sub->subject == ">" || sub->subject == "svc.>" ? "svc.x.y"
                                : sub->subject == "svc.a.*"                    ? "svc.a.rsp"
                                                                               : "svc.a.req";
          auto contains = [&](const SublistResult& r) {
            const auto& v = sub->queue.empty() ? r.psubs : Group(r, "q");
            return std::find(v.begin(), v.end(), sub) != v.end();
          };
          if (!contains(*sl.Match(subject))) failures++;
          if (!contains(local.Match(sl, subject))) failures++;
        } else {
          size_t k = rng() % mine.size();
          SubscriptionPtr sub = mine[k];
          mine.erase(mine.begin() + k);
          if (rng() % 4 == 0) {
            sl.RemoveBatch({&sub, 1});
          } else if (!sl.Remove(sub).ok()) {
            failures++;
          }
          for (const std::string& subject : subjects) {
            const auto& r = local.Match(sl, subject);
            for (const auto& s : r.psubs) failures += s == sub;
            for (const auto& g : r.qsubs) failures += std::find(g.begin(), g.end(), sub) != g.end();
          }
        }
      }
      sl.RemoveBatch(mine);
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      MatchCache local;
      size_t i = r;
      while (!done.load()) {
        const std::string& subject = subjects[i++ % subjects.size()];
        SublistResultPtr shared = sl.Match(subject);
        const SublistResult& cached = local.Match(sl, subject);
        for (const SublistResult* res : {shared.get(), &cached}) {
          for (const auto& s : res->psubs) failures += !SubjectMatches(s->subject, subject);
          for (const auto& g : res->qsubs) {
            failures += g.empty();
            for (const auto& s : g) failures += s->queue != "q";
          }
        }
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(sl.count(), 0u);
  EXPECT_EQ(sl.TEST_NodeCount(), 0u);
  for (const std::string& subject : subjects) EXPECT_TRUE(sl.Match(subject)->empty()) << subject;
}

}  // namespace
}  // namespace natsd
