// The subject trie: which subscriptions a published subject reaches.
//
// Sublist stores subscriptions by subject, with "*" and ">" wildcards and
// queue groups, and answers Match(literal subject) with an immutable, shared
// SublistResult. Results are cached (a bounded shared cache inside Sublist,
// plus an optional per-thread MatchCache in front of it) and every change
// bumps a generation number, so publishers rarely touch the trie or a lock.
//
//   Sublist sl;
//   auto sub = std::make_shared<MySubscription>(...);   // derives Subscription
//   if (absl::Status st = sl.Insert(sub); !st.ok()) ... // "-ERR 'Invalid Subject'"
//   SublistResultPtr r = sl.Match("orders.eu.new");
//   for (const SubscriptionPtr& s : r->psubs) ...       // deliver to each
//   for (const auto& group : r->qsubs) ...              // deliver to one member
//
// Semantics follow nats-server 2.9.10 (sublist.go): a subscription appears in
// a result once per subscription object, so one client's "foo.*" and "foo.>"
// give two entries for "foo.bar"; queue members are grouped by queue name
// across all matching subjects.
#ifndef NATSD_PROTOCOL_SUBLIST_H_
#define NATSD_PROTOCOL_SUBLIST_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace natsd {

namespace sublist_internal {
struct Node;
}  // namespace sublist_internal

// A subscription's routing identity. The server derives from it (adds owner
// client, sid, max msgs...). `subject` and `queue` must not change while the
// subscription is in a Sublist: the trie and caches are keyed by them.
struct Subscription {
  virtual ~Subscription() = default;
  std::string subject;
  std::string queue;  // empty: not a queue subscription
};
using SubscriptionPtr = std::shared_ptr<Subscription>;

// The subscriptions matching one literal subject. Immutable once published,
// so any thread may read it without a lock for as long as it holds the
// shared_ptr (which also keeps the subscriptions alive).
struct SublistResult {
  std::vector<SubscriptionPtr> psubs;               // plain subscriptions
  std::vector<std::vector<SubscriptionPtr>> qsubs;  // one non-empty vector per queue group
  bool empty() const { return psubs.empty() && qsubs.empty(); }
};
using SublistResultPtr = std::shared_ptr<const SublistResult>;

// The subject trie with "*"/">" wildcards and a shared match cache.
//
// Thread-safe: Insert/Remove/RemoveBatch/Match and the accessors may be
// called from any thread concurrently.
//
// Locking: `mu_` (reader/writer) guards the trie and the counters; changes
// take it exclusively, a cache miss walks the trie under a reader lock. The
// cache is split into kCacheShards shards, each with its own mutex, so a
// cache hit takes only one shard's reader lock and never `mu_`. Lock order
// is `mu_` then a shard. A miss stores its result while still holding `mu_`
// shared, and a change updates the cache while holding `mu_` exclusively, so
// a result computed before a change can never be stored after it.
class Sublist {
 public:
  Sublist();
  ~Sublist();
  Sublist(const Sublist&) = delete;
  Sublist& operator=(const Sublist&) = delete;

  // Adds `sub` under sub->subject. InvalidArgument if the subject has an
  // empty token or a ">" that is not last (whitespace is not checked, as in
  // the reference; the parser splits on it). AlreadyExists if this very
  // object is already in the sublist.
  absl::Status Insert(SubscriptionPtr sub);

  // Removes `sub` (the same object that was inserted). NotFound if absent,
  // InvalidArgument for a subject Insert would have refused.
  absl::Status Remove(const SubscriptionPtr& sub);

  // Removes every subscription of `subs` that is present, under one lock and
  // one generation bump (a closing client). Absent ones are skipped.
  void RemoveBatch(std::span<const SubscriptionPtr> subs);

  // The subscriptions matching the literal subject. Never null: a shared
  // empty result if nothing matches or the subject has an empty token.
  // Tokens are taken literally: "*" or ">" in `literal_subject` are matched
  // only by wildcards (publishing them is refused earlier, in pedantic mode).
  SublistResultPtr Match(std::string_view literal_subject);

  // Changes (acquire/release) after every Insert/Remove/RemoveBatch that
  // changed something, once the trie and shared cache are updated.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  size_t count() const;

  struct Stats {
    size_t subs, cache_entries;
    uint64_t matches, cache_hits, inserts, removes;
    // Over the cached results: the largest and the summed number of
    // recipients (plain subscriptions + queue groups), for /subsz.
    size_t max_fanout;
    uint64_t total_fanout;

    // Folds another sublist's statistics in (server-wide totals over every
    // account): counts add up, max_fanout is the larger.
    void Add(const Stats& o);
  };
  Stats stats() const;

  // Calls `fn` for every subscription, under the reader lock: `fn` must not
  // call Insert/Remove on this sublist.
  void ForEach(absl::FunctionRef<void(const SubscriptionPtr&)> fn) const;

  // Number of trie nodes below the root, to test that removal prunes.
  size_t TEST_NodeCount() const;

  // Shared cache bounds (the reference's slCacheMax/slCacheSweep): when the
  // cache passes kCacheMax entries it is trimmed to about kCacheSweep.
  static constexpr size_t kCacheMax = 1024;
  static constexpr size_t kCacheSweep = 512;
  static constexpr size_t kCacheShards = 16;

 private:
  friend class MatchCache;  // reads id_ to tell sublists apart
  using Node = sublist_internal::Node;

  // One shard of the shared cache: literal subject -> result.
  struct alignas(64) CacheShard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, SublistResultPtr> entries ABSL_GUARDED_BY(mu);
    std::atomic<uint64_t> matches{0};
    std::atomic<uint64_t> hits{0};
  };

  CacheShard& ShardFor(std::string_view subject);
  absl::Status RemoveLocked(const SubscriptionPtr& sub) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Copy-on-write update of the cached results `sub` matches.
  void AddToCache(const SubscriptionPtr& sub) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the cached results `sub` was part of.
  void RemoveFromCache(const Subscription& sub) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearCache() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void BumpGeneration() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint64_t id_;  // process-unique, so MatchCache never confuses two sublists
  mutable absl::Mutex mu_;
  std::unique_ptr<Node> root_ ABSL_GUARDED_BY(mu_);  // nodes below are guarded by mu_ too
  size_t count_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t inserts_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t removes_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> generation_{0};
  std::array<CacheShard, kCacheShards> shards_;
};

// A per-thread match cache in front of a Sublist: each I/O thread owns one, so
// the common publish path takes no lock (entries are valid while the
// sublist's generation is unchanged; any change empties this cache).
//
// Not thread-safe: one per thread. It remembers one sublist at a time, so a
// thread serving several sublists (accounts) should keep one per sublist.
class MatchCache {
 public:
  explicit MatchCache(size_t max_entries = 512);

  // The result of sublist.Match(literal_subject). The reference stays valid
  // until the next call on this cache; the caller holds no ref.
  const SublistResult& Match(Sublist& sublist, std::string_view literal_subject);

  size_t size() const { return entries_.size(); }

 private:
  const size_t max_entries_;
  uint64_t sublist_id_ = 0;  // Sublist ids start at 1
  uint64_t generation_ = 0;
  absl::flat_hash_map<std::string, SublistResultPtr> entries_;
};

}  // namespace natsd

#endif  // NATSD_PROTOCOL_SUBLIST_H_
