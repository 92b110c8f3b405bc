// libFuzzer target for subject handling: protocol/subject.h, the Sublist
// trie with its caches, and the mapping SubjectTransform. The input is a
// script, one operation per line:
//
//   +foo.*.bar          insert a subscription ("+foo.> workers": queue group)
//   -<byte>             remove the live subscription the byte picks
//   !                   remove every other live subscription with RemoveBatch
//   ?foo.x.bar          match a literal subject
//   ~foo.* x.$1         create a mapping transform: the source up to the
//                       first space, the destination after it, where the two
//                       bytes "\n" stand for a newline
//   anything else       only the subject checks below
//
// Every line's subject goes through the subject.h functions, compared with
// the naive definitions in this file. Every match (Sublist, MatchCache) is
// compared with a linear scan of the live subscriptions using the naive
// matcher. At the end every subscription is removed and the trie must be
// empty. Every subject also goes through the last few transforms, whose
// matching is compared with the naive one and whose output must stay
// within a bound of its inputs' sizes. Any disagreement aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "protocol/subject.h"
#include "protocol/sublist.h"
#include "server/subject_transform.h"

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

// Whether a mapping source matches `literal` as nats-server's isSubsetMatch
// decides it: like NaiveMatch, except that any source token starting with
// '*' matches every token.
bool NaiveSourceMatch(std::string_view src, std::string_view literal) {
  std::vector<std::string_view> p = Split(src), l = Split(literal);
  for (size_t i = 0; i < p.size(); ++i) {
    if (i >= l.size()) return false;
    if (p[i] == ">") return true;
    if (p[i][0] != '*' && p[i] != l[i]) return false;
  }
  return p.size() == l.size();
}

// What a destination of literal tokens, "$N" (N from 1, digits only) and a
// final ">" makes of `literal`; nullopt for any other destination, which
// the naive model leaves unchecked.
std::optional<std::string> NaiveLegacyTransform(std::string_view src, std::string_view dest,
                                                std::string_view literal) {
  std::vector<std::string_view> s = Split(src), d = Split(dest), l = Split(literal);
  std::vector<std::string_view> captured;
  for (size_t i = 0; i < s.size() && i < l.size(); ++i) {
    if (s[i] == "*") captured.push_back(l[i]);
  }
  std::string out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i != 0) out += '.';
    std::string_view t = d[i];
    if (t == ">") {
      for (size_t k = s.size() - 1; k < l.size(); ++k) {
        if (k != s.size() - 1) out += '.';
        out += l[k];
      }
    } else if (t.size() > 1 && t[0] == '$') {
      size_t n = 0;
      for (char c : t.substr(1)) {
        if (c < '0' || c > '9' || n > captured.size()) return std::nullopt;
        n = n * 10 + static_cast<size_t>(c - '0');
      }
      if (n == 0 || n > captured.size() || t[1] == '0') return std::nullopt;
      out += captured[n - 1];
    } else if (t.starts_with("{{")) {
      return std::nullopt;
    } else {
      out += t;
    }
  }
  return out;
}

// The transforms of the `~` lines, checked against every subject.
class Transforms {
 public:
  void Create(std::string_view arg) {
    size_t space = arg.find(' ');
    std::string_view src = arg.substr(0, space);
    std::string dest;
    if (space != std::string_view::npos) {
      std::string_view rest = arg.substr(space + 1);
      for (size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size() && rest[i + 1] == 'n') {
          dest += '\n';
          ++i;
        } else {
          dest += rest[i];
        }
      }
    }
    absl::StatusOr<natsd::SubjectTransform> t = natsd::SubjectTransform::Create(src, dest);
    if (!t.ok()) {
      Check(absl::IsInvalidArgument(t.status()));
      std::string_view message(t.status().message().data(), t.status().message().size());
      Check(message == "invalid subject" || message.starts_with("invalid mapping destination"));
      return;
    }
    Check(t->src() == src && t->dest() == dest);
    // A valid mapping has a valid source and a destination with no "*".
    Check(NaiveValid(src));
    for (std::string_view token : Split(dest)) Check(token != "*" && !token.empty());
    constexpr size_t kKept = 4;
    if (live_.size() == kKept) live_.erase(live_.begin());
    live_.push_back(*std::move(t));
  }

  void Match(std::string_view subject) const {
    for (const natsd::SubjectTransform& t : live_) {
      std::optional<std::string> got = t.Match(subject);
      // The copy must not share state with the original.
      natsd::SubjectTransform copy = t;
      Check(copy.Match(subject) == got);
      if (t.src() == ">" && t.dest() == ">") {
        Check(got == std::string(subject));
        continue;
      }
      std::vector<std::string_view> tokens = Split(subject);
      const bool matches = !HasEmptyToken(tokens) && NaiveLiteral(subject) &&
                           NaiveSourceMatch(t.src(), subject);
      Check(got.has_value() == matches);
      if (!got) continue;
      if (NaiveLiteral(t.src())) {
        Check(*got == t.dest());
        continue;
      }
      if (std::optional<std::string> want = NaiveLegacyTransform(t.src(), t.dest(), subject)) {
        Check(*got == *want);
      }
      // Each destination token yields at most 4 bytes per subject byte
      // (split on "" turns a byte into U+FFFD and a '.') or 10 digits.
      const size_t parts = Split(t.dest()).size();
      Check(got->size() <= t.dest().size() + parts * (4 * subject.size() + 11));
    }
  }

 private:
  std::vector<natsd::SubjectTransform> live_;
};

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
  Transforms transforms;

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
        transforms.Match(arg);
        break;
      case '~':
        transforms.Create(arg);
        break;
      default:
        break;
    }
    Check(sublist.count() == live.subs.size());
    Check(sublist.stats().cache_entries <= natsd::Sublist::kCacheMax);
  }

  for (const std::string& s : subjects) {
    match(s);
    transforms.Match(s);
  }

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
