// libFuzzer target for subject handling: protocol/subject.h and the Sublist
// trie with its caches. The input is a script, one operation per line:
//
//   +foo.*.bar          insert a subscription ("+foo.> workers": queue group)
//   -<byte>             remove the live subscription the byte picks
//   !                   remove every other live subscription with RemoveBatch
//   ?foo.x.bar          match a literal subject
//   anything else       only the subject checks below
//
// Every line's subject goes through the subject.h functions, compared with
// the naive definitions in this file. Every match (Sublist, MatchCache) is
// compared with a linear scan of the live subscriptions using the naive
// matcher. At the end every subscription is removed and the trie must be
// empty. Any disagreement aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "protocol/subject.h"
#include "protocol/sublist.h"

namespace {

using natsd::SublistResult;
using natsd::Subscription;
using natsd::SubscriptionPtr;

void Check(bool ok) {
  if (!ok) std::abort();
}

// Splits on every '.', so "" is one empty token and "a..b" has three.
std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> tokens;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      tokens.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return tokens;
}

bool HasEmptyToken(const std::vector<std::string_view>& tokens) {
  for (std::string_view t : tokens) {
    if (t.empty()) return true;
  }
  return false;
}

bool IsWildcard(std::string_view t) { return t == "*" || t == ">"; }

// What the trie accepts: no empty token, ">" only as the last token.
bool NaiveStorable(std::string_view subject) {
  std::vector<std::string_view> tokens = Split(subject);
  if (HasEmptyToken(tokens)) return false;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (tokens[i] == ">") return false;
  }
  return true;
}

bool NaiveValid(std::string_view subject) {
  return !subject.empty() && NaiveStorable(subject) &&
         subject.find_first_of(" \t\n\r\f") == std::string_view::npos;
}

bool NaiveLiteral(std::string_view subject) {
  for (std::string_view t : Split(subject)) {
    if (IsWildcard(t)) return false;
  }
  return true;
}

// Whether the stored subscription subject `pattern` matches `literal`,
// token by token; a literal with an empty token matches nothing.
bool NaiveMatch(std::string_view pattern, std::string_view literal) {
  std::vector<std::string_view> p = Split(pattern), l = Split(literal);
  if (HasEmptyToken(l)) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == ">") return l.size() > i;
    if (i >= l.size()) return false;
    if (p[i] != "*" && p[i] != l[i]) return false;
  }
  return p.size() == l.size();
}

void CheckSubjectFunctions(std::string_view s) {
  Check(natsd::IsValidSubject(s) == NaiveValid(s));
  Check(natsd::IsValidPublishSubject(s) == (NaiveValid(s) && NaiveLiteral(s)));
  Check(natsd::SubjectIsLiteral(s) == NaiveLiteral(s));
  std::vector<std::string_view> tokens = Split(s);
  Check(natsd::IsValidLiteralSubject(s) == (!HasEmptyToken(tokens) && NaiveLiteral(s)));
  Check(natsd::NumTokens(s) == (s.empty() ? 0 : tokens.size()));
  natsd::SubjectTokens views = natsd::TokenizeSubject(s);
  Check(views.size() == tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    Check(views[i] == tokens[i]);
    Check(natsd::TokenAt(s, i) == tokens[i]);
  }
  Check(natsd::TokenAt(s, tokens.size()).empty());
  Check(natsd::SubjectsCollide(s, s));
}

// Checks SubjectMatches and SubjectsCollide for a pair of subjects.
void CheckPair(std::string_view pattern, std::string_view literal) {
  if (NaiveStorable(pattern) && !HasEmptyToken(Split(literal))) {
    Check(natsd::SubjectMatches(pattern, literal) == NaiveMatch(pattern, literal));
  }
  Check(natsd::SubjectsCollide(pattern, literal) == natsd::SubjectsCollide(literal, pattern));
  // A literal subject both match proves a collision.
  if (NaiveStorable(pattern) && NaiveStorable(literal) && NaiveLiteral(literal) &&
      NaiveMatch(pattern, literal)) {
    Check(natsd::SubjectsCollide(pattern, literal));
  }
}

struct Live {
  std::vector<SubscriptionPtr> subs;

  // The result a linear scan gives: plain subscriptions, and queue members
  // by queue name.
  void Expect(std::string_view literal, std::set<const Subscription*>* plain,
              std::map<std::string, std::set<const Subscription*>>* queues) const {
    for (const SubscriptionPtr& s : subs) {
      if (!NaiveMatch(s->subject, literal)) continue;
      if (s->queue.empty()) {
        plain->insert(s.get());
      } else {
        (*queues)[s->queue].insert(s.get());
      }
    }
  }
};

void CheckResult(const Live& live, std::string_view literal, const SublistResult& r) {
  std::set<const Subscription*> plain;
  std::map<std::string, std::set<const Subscription*>> queues;
  live.Expect(literal, &plain, &queues);
  Check(r.psubs.size() == plain.size());
  for (const SubscriptionPtr& s : r.psubs) Check(plain.contains(s.get()));
  Check(r.qsubs.size() == queues.size());
  for (const std::vector<SubscriptionPtr>& group : r.qsubs) {
    Check(!group.empty());
    auto it = queues.find(group.front()->queue);
    Check(it != queues.end() && group.size() == it->second.size());
    for (const SubscriptionPtr& s : group) Check(it->second.contains(s.get()));
  }
  Check(r.empty() == (plain.empty() && queues.empty()));
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Debian builds abseil without NDEBUG, so every Mutex would also enter a
  // global lock graph that only grows: each input's Sublist brings new ones.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  natsd::Sublist sublist;
  // Small, so that its trimming runs too.
  constexpr size_t kMatchCacheMax = 8;
  natsd::MatchCache match_cache(kMatchCacheMax);
  Live live;
  std::vector<SubscriptionPtr> removed;
  std::vector<std::string> subjects;  // every subject seen, for pairs and final matches

  auto match = [&](std::string_view literal) {
    CheckResult(live, literal, *sublist.Match(literal));
    CheckResult(live, literal, match_cache.Match(sublist, literal));
    Check(match_cache.size() <= kMatchCacheMax);
  };

  // Longer scripts reach no new states, and the naive checks are linear in
  // the live subscriptions per match: cap the work per input.
  constexpr size_t kMaxLines = 128;
  std::vector<std::string_view> lines = Lines(text);
  if (lines.size() > kMaxLines) lines.resize(kMaxLines);
  for (std::string_view line : lines) {
    if (line.empty()) continue;
    std::string_view arg = line.substr(1);
    CheckSubjectFunctions(line);
    CheckSubjectFunctions(arg);
    // Pairs with the last few subjects only: all pairs would be quadratic.
    constexpr size_t kPairs = 16;
    for (size_t i = subjects.size() > kPairs ? subjects.size() - kPairs : 0; i < subjects.size();
         ++i) {
      CheckPair(subjects[i], arg);
      CheckPair(arg, subjects[i]);
    }
    subjects.emplace_back(arg);

    switch (line[0]) {
      case '+': {
        auto sub = std::make_shared<Subscription>();
        size_t space = arg.find(' ');
        sub->subject = std::string(arg.substr(0, space));
        if (space != std::string_view::npos) sub->queue = std::string(arg.substr(space + 1));
        absl::Status st = sublist.Insert(sub);
        Check(st.ok() == NaiveStorable(sub->subject));
        if (!st.ok()) break;
        live.subs.push_back(sub);
        Check(absl::IsAlreadyExists(sublist.Insert(sub)));
        break;
      }
      case '-': {
        if (live.subs.empty()) break;
        size_t i = arg.empty() ? 0 : static_cast<uint8_t>(arg[0]) % live.subs.size();
        SubscriptionPtr sub = live.subs[i];
        live.subs.erase(live.subs.begin() + static_cast<ptrdiff_t>(i));
        Check(sublist.Remove(sub).ok());
        Check(absl::IsNotFound(sublist.Remove(sub)));
        removed.push_back(std::move(sub));
        break;
      }
      case '!': {
        std::vector<SubscriptionPtr> batch, kept;
        for (size_t i = 0; i < live.subs.size(); ++i) {
          (i % 2 == 0 ? batch : kept).push_back(live.subs[i]);
        }
        // Absent subscriptions in a batch are skipped.
        if (!removed.empty()) batch.push_back(removed.back());
        sublist.RemoveBatch(batch);
        live.subs = std::move(kept);
        break;
      }
      case '?':
        match(arg);
        break;
      default:
        break;
    }
    Check(sublist.count() == live.subs.size());
    Check(sublist.stats().cache_entries <= natsd::Sublist::kCacheMax);
  }

  for (const std::string& s : subjects) match(s);

  // Removing everything leaves nothing behind: no subscription, no node,
  // no match.
  for (const SubscriptionPtr& sub : live.subs) Check(sublist.Remove(sub).ok());
  live.subs.clear();
  Check(sublist.count() == 0);
  Check(sublist.TEST_NodeCount() == 0);
  for (const std::string& s : subjects) {
    Check(sublist.Match(s)->empty());
    Check(match_cache.Match(sublist, s).empty());
  }
  return 0;
}
