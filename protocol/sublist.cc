#include "protocol/sublist.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "protocol/subject.h"

namespace natsd {
namespace sublist_internal {

using SubSet = absl::flat_hash_set<SubscriptionPtr>;

// A trie node: the position after some tokens. Subscriptions whose subject
// ends here live in `psubs`/`queues`; the next token selects a child. "*" and
// ">" children are kept apart from literal tokens so a match can visit them
// without a lookup. All fields are guarded by the owning Sublist's mu_.
struct Node {
  absl::flat_hash_map<std::string, std::unique_ptr<Node>> literals;
  std::unique_ptr<Node> pwc;  // "*"
  std::unique_ptr<Node> fwc;  // ">": only ever has subscriptions, never children
  SubSet psubs;
  // Queue name -> members. Behind a pointer because few nodes have queue
  // subscriptions and an empty map would cost 40 bytes in every node.
  std::unique_ptr<absl::flat_hash_map<std::string, SubSet>> queues;

  bool empty() const {
    return literals.empty() && !pwc && !fwc && psubs.empty() && !queues;
  }
};

}  // namespace sublist_internal

namespace {

using sublist_internal::Node;
using sublist_internal::SubSet;

// Past this many subscriptions, RemoveBatch empties the shared cache instead
// of pruning it per subscription: each wildcard prune scans every entry, and
// refilling the cache is cheaper than that many scans.
constexpr size_t kBatchCachePruneMax = 32;
constexpr size_t kShardMax = Sublist::kCacheMax / Sublist::kCacheShards;
constexpr size_t kShardSweep = Sublist::kCacheSweep / Sublist::kCacheShards;

// Debian's abseil has its own absl::string_view (not std::string_view), and
// only that type is accepted for heterogeneous lookup in string-keyed maps.
absl::string_view Key(std::string_view s) { return absl::string_view(s.data(), s.size()); }

const SublistResultPtr& EmptyResult() {
  // Never destroyed: results may be held by threads still running at exit.
  static const auto* empty = new SublistResultPtr(std::make_shared<const SublistResult>());
  return *empty;
}

// True if the tokens can be stored in the trie: no empty token and ">" only
// last (the reference's Insert/Remove check; whitespace is not looked at).
bool IsTrieSubject(const SubjectTokens& tokens) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].empty()) return false;
    if (tokens[i] == kFullWildcard && i + 1 != tokens.size()) return false;
  }
  return true;
}

// The member vector for `queue` in `qsubs`, appended if absent. Groups are
// few per subject, so a scan beats a map here (and keeps the result flat).
std::vector<SubscriptionPtr>& QueueGroup(std::vector<std::vector<SubscriptionPtr>>& qsubs,
                                         std::string_view queue) {
  for (auto& group : qsubs) {
    if (group.front()->queue == queue) return group;
  }
  return qsubs.emplace_back();
}

// Accumulates the subscriptions of matching nodes into a new result.
class ResultBuilder {
 public:
  void AddNode(const Node& n) {
    result_.psubs.insert(result_.psubs.end(), n.psubs.begin(), n.psubs.end());
    if (!n.queues) return;
    for (const auto& [queue, members] : *n.queues) {
      auto& group = QueueGroup(result_.qsubs, queue);
      group.insert(group.end(), members.begin(), members.end());
    }
  }

  SublistResultPtr Finish() {
    if (result_.empty()) return EmptyResult();
    return std::make_shared<const SublistResult>(std::move(result_));
  }

 private:
  SublistResult result_;
};

// Adds to `out` every subscription under `n` matching `tokens`. The literal
// path is followed iteratively; each "*" branch recurses. The visiting order
// is the reference's, so subscribers on one connection receive a message in
// the same order as from nats-server: ">" before "*" before the literal
// branch, except that a "*" matching the last token comes after the literal.
void CollectMatches(const Node& start, std::span<const std::string_view> tokens,
                    ResultBuilder& out) {
  const Node* n = &start;
  const Node* last_pwc = nullptr;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (n->fwc) out.AddNode(*n->fwc);  // ">" takes tokens[i..], at least one
    if (n->pwc) {
      if (i + 1 < tokens.size()) {
        CollectMatches(*n->pwc, tokens.subspan(i + 1), out);
      } else {
        last_pwc = n->pwc.get();
      }
    }
    auto it = n->literals.find(Key(tokens[i]));
    if (it == n->literals.end()) {
      if (last_pwc != nullptr) out.AddNode(*last_pwc);
      return;
    }
    n = it->second.get();
  }
  out.AddNode(*n);
  if (last_pwc != nullptr) out.AddNode(*last_pwc);
}

// A copy of `r` with `sub` added: cached results are shared and immutable.
SublistResultPtr WithSubscription(const SublistResult& r, const SubscriptionPtr& sub) {
  auto copy = std::make_shared<SublistResult>(r);
  if (sub->queue.empty()) {
    copy->psubs.push_back(sub);
  } else {
    QueueGroup(copy->qsubs, sub->queue).push_back(sub);
  }
  return copy;
}

void VisitAll(const Node& n, absl::FunctionRef<void(const SubscriptionPtr&)> fn) {
  for (const auto& sub : n.psubs) fn(sub);
  if (n.queues) {
    for (const auto& [queue, members] : *n.queues) {
      for (const auto& sub : members) fn(sub);
    }
  }
  for (const auto& [token, child] : n.literals) VisitAll(*child, fn);
  if (n.pwc) VisitAll(*n.pwc, fn);
  if (n.fwc) VisitAll(*n.fwc, fn);
}

size_t CountNodes(const Node& n) {
  size_t count = (n.pwc ? 1 + CountNodes(*n.pwc) : 0) + (n.fwc ? 1 + CountNodes(*n.fwc) : 0);
  for (const auto& [token, child] : n.literals) count += 1 + CountNodes(*child);
  return count;
}

uint64_t NextSublistId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

Sublist::Sublist() : id_(NextSublistId()), root_(std::make_unique<Node>()) {}

Sublist::~Sublist() = default;

Sublist::CacheShard& Sublist::ShardFor(std::string_view subject) {
  // High bits: the shard's own hash map indexes by the low ones.
  static_assert((kCacheShards & (kCacheShards - 1)) == 0);
  uint64_t h = absl::Hash<std::string_view>{}(subject);
  return shards_[h >> (64 - std::countr_zero(kCacheShards))];
}

absl::Status Sublist::Insert(SubscriptionPtr sub) {
  SubjectTokens tokens = TokenizeSubject(sub->subject);
  if (!IsTrieSubject(tokens)) {
    return absl::InvalidArgumentError("invalid subject: " + sub->subject);
  }
  absl::MutexLock lock(&mu_);
  Node* n = root_.get();
  for (std::string_view token : tokens) {
    std::unique_ptr<Node>* child;
    if (token == kPartialWildcard) {
      child = &n->pwc;
    } else if (token == kFullWildcard) {
      child = &n->fwc;
    } else {
      auto it = n->literals.find(Key(token));
      if (it == n->literals.end()) it = n->literals.emplace(std::string(token), nullptr).first;
      child = &it->second;
    }
    if (!*child) *child = std::make_unique<Node>();
    n = child->get();
  }
  bool added;
  if (sub->queue.empty()) {
    added = n->psubs.insert(sub).second;
  } else {
    if (!n->queues) n->queues = std::make_unique<absl::flat_hash_map<std::string, SubSet>>();
    added = (*n->queues)[sub->queue].insert(sub).second;
  }
  // A duplicate found its whole path and group already present: nothing to undo.
  if (!added) return absl::AlreadyExistsError("subscription already inserted");
  ++count_;
  ++inserts_;
  AddToCache(sub);
  BumpGeneration();
  return absl::OkStatus();
}

absl::Status Sublist::Remove(const SubscriptionPtr& sub) {
  absl::MutexLock lock(&mu_);
  if (absl::Status st = RemoveLocked(sub); !st.ok()) return st;
  RemoveFromCache(*sub);
  BumpGeneration();
  return absl::OkStatus();
}

void Sublist::RemoveBatch(std::span<const SubscriptionPtr> subs) {
  const bool prune_per_sub = subs.size() <= kBatchCachePruneMax;
  absl::MutexLock lock(&mu_);
  size_t removed = 0;
  for (const SubscriptionPtr& sub : subs) {
    if (!RemoveLocked(sub).ok()) continue;
    ++removed;
    if (prune_per_sub) RemoveFromCache(*sub);
  }
  if (removed == 0) return;
  if (!prune_per_sub) ClearCache();
  BumpGeneration();
}

absl::Status Sublist::RemoveLocked(const SubscriptionPtr& sub) {
  SubjectTokens tokens = TokenizeSubject(sub->subject);
  if (!IsTrieSubject(tokens)) {
    return absl::InvalidArgumentError("invalid subject: " + sub->subject);
  }
  // The path from the root, so emptied nodes can be pruned bottom-up.
  struct Step {
    Node* parent;
    Node* node;
    std::string_view token;
  };
  absl::InlinedVector<Step, 16> path;
  Node* n = root_.get();
  for (std::string_view token : tokens) {
    Node* child = nullptr;
    if (token == kPartialWildcard) {
      child = n->pwc.get();
    } else if (token == kFullWildcard) {
      child = n->fwc.get();
    } else if (auto it = n->literals.find(Key(token)); it != n->literals.end()) {
      child = it->second.get();
    }
    if (child == nullptr) return absl::NotFoundError("subscription not found");
    path.push_back({n, child, token});
    n = child;
  }

  bool removed = false;
  if (sub->queue.empty()) {
    removed = n->psubs.erase(sub) > 0;
  } else if (n->queues) {
    auto group = n->queues->find(sub->queue);
    if (group != n->queues->end()) {
      removed = group->second.erase(sub) > 0;
      if (group->second.empty()) n->queues->erase(group);
      if (n->queues->empty()) n->queues.reset();
    }
  }
  if (!removed) return absl::NotFoundError("subscription not found");
  --count_;
  ++removes_;

  for (auto step = path.rbegin(); step != path.rend() && step->node->empty(); ++step) {
    Node* parent = step->parent;
    if (step->node == parent->pwc.get()) {
      parent->pwc.reset();
    } else if (step->node == parent->fwc.get()) {
      parent->fwc.reset();
    } else {
      parent->literals.erase(Key(step->token));
    }
  }
  return absl::OkStatus();
}

void Sublist::AddToCache(const SubscriptionPtr& sub) {
  if (SubjectIsLiteral(sub->subject)) {
    CacheShard& shard = ShardFor(sub->subject);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.entries.find(sub->subject);
    if (it != shard.entries.end()) it->second = WithSubscription(*it->second, sub);
    return;
  }
  for (CacheShard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    for (auto& [subject, result] : shard.entries) {
      if (SubjectMatches(sub->subject, subject)) result = WithSubscription(*result, sub);
    }
  }
}

// Entries are dropped rather than rewritten without `sub`: a client leaving
// usually removes many subscriptions in a row, and rebuilding an entry on its
// next Match costs no more than one copy, while rewriting costs one per removal.
void Sublist::RemoveFromCache(const Subscription& sub) {
  if (SubjectIsLiteral(sub.subject)) {
    CacheShard& shard = ShardFor(sub.subject);
    absl::MutexLock lock(&shard.mu);
    shard.entries.erase(sub.subject);
    return;
  }
  for (CacheShard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    for (auto it = shard.entries.begin(); it != shard.entries.end();) {
      if (SubjectMatches(sub.subject, it->first)) {
        shard.entries.erase(it++);
      } else {
        ++it;
      }
    }
  }
}

void Sublist::ClearCache() {
  for (CacheShard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    shard.entries.clear();
  }
}

void Sublist::BumpGeneration() { generation_.fetch_add(1, std::memory_order_acq_rel); }

SublistResultPtr Sublist::Match(std::string_view literal_subject) {
  CacheShard& shard = ShardFor(literal_subject);
  shard.matches.fetch_add(1, std::memory_order_relaxed);
  {
    absl::ReaderMutexLock lock(&shard.mu);
    auto it = shard.entries.find(Key(literal_subject));
    if (it != shard.entries.end()) {
      shard.hits.fetch_add(1, std::memory_order_relaxed);
      return it->second;
    }
  }

  SubjectTokens tokens = TokenizeSubject(literal_subject);
  for (std::string_view token : tokens) {
    if (token.empty()) return EmptyResult();  // matches nothing, not worth caching
  }
  ResultBuilder builder;
  // Held until the result is cached: no change can slip in between.
  absl::ReaderMutexLock lock(&mu_);
  CollectMatches(*root_, tokens, builder);
  SublistResultPtr result = builder.Finish();

  absl::MutexLock shard_lock(&shard.mu);
  // Another miss may have stored the same subject meanwhile; it was computed
  // under mu_ too, so either result is current and ours is returned.
  if (shard.entries.emplace(std::string(literal_subject), result).second &&
      shard.entries.size() > kShardMax) {
    // Arbitrary victims, as in the reference: hot subjects come straight back.
    for (auto it = shard.entries.begin();
         it != shard.entries.end() && shard.entries.size() > kShardSweep;) {
      shard.entries.erase(it++);
    }
  }
  return result;
}

size_t Sublist::count() const {
  absl::ReaderMutexLock lock(&mu_);
  return count_;
}

Sublist::Stats Sublist::stats() const {
  Stats st{};
  {
    absl::ReaderMutexLock lock(&mu_);
    st.subs = count_;
    st.inserts = inserts_;
    st.removes = removes_;
  }
  for (const CacheShard& shard : shards_) {
    absl::ReaderMutexLock lock(&shard.mu);
    st.cache_entries += shard.entries.size();
    for (const auto& [subject, result] : shard.entries) {
      const size_t fanout = result->psubs.size() + result->qsubs.size();
      st.total_fanout += fanout;
      st.max_fanout = std::max(st.max_fanout, fanout);
    }
    st.matches += shard.matches.load(std::memory_order_relaxed);
    st.cache_hits += shard.hits.load(std::memory_order_relaxed);
  }
  return st;
}

void Sublist::Stats::Add(const Stats& o) {
  subs += o.subs;
  cache_entries += o.cache_entries;
  matches += o.matches;
  cache_hits += o.cache_hits;
  inserts += o.inserts;
  removes += o.removes;
  max_fanout = std::max(max_fanout, o.max_fanout);
  total_fanout += o.total_fanout;
}

void Sublist::ForEach(absl::FunctionRef<void(const SubscriptionPtr&)> fn) const {
  absl::ReaderMutexLock lock(&mu_);
  VisitAll(*root_, fn);
}

size_t Sublist::TEST_NodeCount() const {
  absl::ReaderMutexLock lock(&mu_);
  return CountNodes(*root_);
}

MatchCache::MatchCache(size_t max_entries) : max_entries_(std::max<size_t>(max_entries, 1)) {}

const SublistResult& MatchCache::Match(Sublist& sublist, std::string_view literal_subject) {
  // Read the generation before matching: a result fetched while a change is
  // in flight is filed under the older generation and dropped on the next call.
  const uint64_t generation = sublist.generation();
  if (sublist.id_ != sublist_id_ || generation != generation_) {
    entries_.clear();
    sublist_id_ = sublist.id_;
    generation_ = generation;
  }
  if (auto it = entries_.find(Key(literal_subject)); it != entries_.end()) return *it->second;

  SublistResultPtr result = sublist.Match(literal_subject);
  if (entries_.size() >= max_entries_) {
    for (auto it = entries_.begin(); it != entries_.end() && entries_.size() > max_entries_ / 2;) {
      entries_.erase(it++);
    }
  }
  return *entries_.emplace(std::string(literal_subject), std::move(result)).first->second;
}

}  // namespace natsd
