// Sublist micro-benchmarks: insert, remove and match (shared-cache hit, miss,
// per-thread MatchCache hit) on sublists of 1, 1k and 1M subscriptions, plus
// the heap cost per subscription.
//
// Subject shapes: "foo.bar.<i>" plain subscriptions; every 50th is a
// "foo.*.<i>" wildcard and every 10th a member of queue group "workers";
// two subscriptions ("foo.>", "foo.bar.*") match every published subject.
#include <malloc.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"
#include "protocol/sublist.h"

namespace natsd {
namespace {

SubscriptionPtr MakeSub(size_t i) {
  auto sub = std::make_shared<Subscription>();
  sub->subject = absl::StrCat(i % 50 == 0 ? "foo.*." : "foo.bar.", i);
  if (i % 10 == 1) sub->queue = "workers";
  return sub;
}

size_t HeapInUse() { return mallinfo2().uordblks; }

// A populated sublist per size, built once and shared by the benchmarks,
// which leave it as they found it.
struct Fixture {
  Sublist sublist;
  std::vector<SubscriptionPtr> subs;
  double sub_object_bytes = 0;  // heap per Subscription object (subject, queue, control block)
  double trie_bytes = 0;        // heap per subscription held by the trie

  explicit Fixture(size_t n) {
    size_t heap0 = HeapInUse();
    subs.reserve(n + 2);
    for (size_t i = 0; i < n; ++i) subs.push_back(MakeSub(i));
    for (const char* subject : {"foo.>", "foo.bar.*"}) {
      auto sub = std::make_shared<Subscription>();
      sub->subject = subject;
      subs.push_back(sub);
    }
    size_t heap1 = HeapInUse();
    for (const auto& sub : subs) (void)sublist.Insert(sub);
    size_t heap2 = HeapInUse();
    sub_object_bytes = double(heap1 - heap0 - subs.capacity() * sizeof(SubscriptionPtr)) / subs.size();
    trie_bytes = double(heap2 - heap1) / subs.size();
  }
};

Fixture& GetFixture(size_t n) {
  static auto* fixtures = new std::map<size_t, std::unique_ptr<Fixture>>();
  auto& f = (*fixtures)[n];
  if (!f) f = std::make_unique<Fixture>(n);
  return *f;
}

std::string PublishSubject(size_t i) { return absl::StrCat("foo.bar.", i); }

// Fills the shared cache as a busy server would have it.
void WarmCache(Fixture& f) {
  for (size_t i = 0; i < Sublist::kCacheMax; ++i) f.sublist.Match(PublishSubject(i));
}

constexpr size_t kBatch = 1000;

std::vector<SubscriptionPtr> ExtraSubs(size_t n) {
  std::vector<SubscriptionPtr> extra;
  for (size_t i = 0; i < kBatch; ++i) extra.push_back(MakeSub(n + 10 + i));
  return extra;
}

void BM_Insert(benchmark::State& state) {
  Fixture& f = GetFixture(state.range(0));
  std::vector<SubscriptionPtr> extra = ExtraSubs(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    WarmCache(f);
    state.ResumeTiming();
    for (const auto& sub : extra) benchmark::DoNotOptimize(f.sublist.Insert(sub));
    state.PauseTiming();
    f.sublist.RemoveBatch(extra);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["sub_object_B"] = f.sub_object_bytes;
  state.counters["trie_B_per_sub"] = f.trie_bytes;
}

void BM_Remove(benchmark::State& state) {
  Fixture& f = GetFixture(state.range(0));
  std::vector<SubscriptionPtr> extra = ExtraSubs(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    for (const auto& sub : extra) (void)f.sublist.Insert(sub);
    WarmCache(f);
    state.ResumeTiming();
    for (const auto& sub : extra) benchmark::DoNotOptimize(f.sublist.Remove(sub));
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_RemoveBatch(benchmark::State& state) {
  Fixture& f = GetFixture(state.range(0));
  std::vector<SubscriptionPtr> extra = ExtraSubs(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    for (const auto& sub : extra) (void)f.sublist.Insert(sub);
    WarmCache(f);
    state.ResumeTiming();
    f.sublist.RemoveBatch(extra);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// One hot subject, always in the shared cache. Run with 1 and 2 threads to
// see the shard lock under contention.
void BM_MatchCacheHit(benchmark::State& state) {
  Fixture& f = GetFixture(state.range(0));
  const std::string subject = PublishSubject(state.range(0) > 1 ? 1 : 0);
  f.sublist.Match(subject);
  for (auto _ : state) benchmark::DoNotOptimize(f.sublist.Match(subject));
  state.SetItemsProcessed(state.iterations());
}

// Subjects cycle through far more than the cache holds, so every Match walks
// the trie, stores its result and now and then sweeps the shard.
void BM_MatchCacheMiss(benchmark::State& state) {
  Fixture& f = GetFixture(state.range(0));
  std::vector<std::string> subjects;
  for (size_t i = 0; i < 64 * Sublist::kCacheMax; ++i) subjects.push_back(PublishSubject(i * 7919));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.sublist.Match(subjects[i]));
    if (++i == subjects.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// The publish path: a per-thread MatchCache in front of the sublist.
void BM_MatchLocalCacheHit(benchmark::State& state) {
  Fixture& f = GetFixture(state.range(0));
  MatchCache cache;
  std::vector<std::string> subjects;
  for (size_t i = 0; i < 64; ++i) subjects.push_back(PublishSubject(i));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(&cache.Match(f.sublist, subjects[i]));
    if (++i == subjects.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

#define SIZES Arg(1)->Arg(1000)->Arg(1000000)
BENCHMARK(BM_Insert)->SIZES;
BENCHMARK(BM_Remove)->SIZES;
BENCHMARK(BM_RemoveBatch)->SIZES;
BENCHMARK(BM_MatchCacheHit)->SIZES->Threads(1)->Threads(2);
BENCHMARK(BM_MatchCacheMiss)->SIZES;
BENCHMARK(BM_MatchLocalCacheHit)->SIZES;

}  // namespace
}  // namespace natsd

BENCHMARK_MAIN();
