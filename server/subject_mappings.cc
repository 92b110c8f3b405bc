#include "server/subject_mappings.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "fmt/format.h"
#include "protocol/subject.h"

namespace natsd {
namespace {

// The destination the reference gives a source's remainder: the source with
// each "*" numbered ("foo.*.*" -> "foo.$1.$2"), which maps it to itself.
std::string NumberWildcards(std::string_view src) {
  std::string out;
  int n = 0;
  for (std::string_view t : TokenizeSubject(src)) {
    if (!out.empty()) out += '.';
    if (t == "*") {
      out += fmt::format("${}", ++n);
    } else {
      out.append(t.data(), t.size());
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<const SubjectMappings>> SubjectMappings::Create(
    const std::vector<ConfigMapping>& mappings) {
  auto out = std::make_unique<SubjectMappings>();
  for (const ConfigMapping& config : mappings) {
    if (!IsValidSubject(config.src)) return absl::InvalidArgumentError("invalid subject");
    Mapping m{.src = config.src};
    absl::flat_hash_set<std::string> seen;
    std::map<std::string, std::vector<Target>> by_cluster;  // ordered: /accountz is stable
    int total = 0;
    for (const ConfigMapDest& d : config.dests) {
      if (!seen.insert(d.subject).second) {
        return absl::InvalidArgumentError(fmt::format("duplicate entry for \"{}\"", d.subject));
      }
      if (d.weight > 100) {
        return absl::InvalidArgumentError("individual weights need to be <= 100");
      }
      total += d.weight;
      if (total > 100) return absl::InvalidArgumentError("total weight needs to be <= 100");
      absl::StatusOr<SubjectTransform> tr = SubjectTransform::Create(config.src, d.subject);
      if (!tr.ok()) return tr.status();
      Target t{.transform = *std::move(tr), .subject = d.subject, .weight = d.weight,
               .cluster = d.cluster};
      (d.cluster.empty() ? m.targets : by_cluster[d.cluster]).push_back(std::move(t));
    }
    // Per group (the unscoped destinations, and each cluster's): the source
    // keeps what the weights leave over unless it is listed itself; then
    // the weights become cumulative, lightest first, for Select's draw.
    auto finish = [&](std::vector<Target>& group, const std::string& cluster) {
      int sum = 0;
      for (const Target& t : group) sum += t.weight;
      if (sum != 100 && !seen.contains(config.src)) {
        group.push_back(Target{.subject = NumberWildcards(config.src),
                               .weight = 100 - sum,
                               .cluster = cluster});
      }
      std::stable_sort(group.begin(), group.end(),
                       [](const Target& a, const Target& b) { return a.weight < b.weight; });
      int cumulative = 0;
      for (Target& t : group) t.weight = cumulative += t.weight;
    };
    finish(m.targets, "");
    for (auto& [cluster, group] : by_cluster) {
      finish(group, cluster);
      for (Target& t : group) m.cluster_targets.push_back(std::move(t));
    }
    // A later mapping of the same source replaces the earlier one.
    auto same = std::find_if(out->mappings_.begin(), out->mappings_.end(),
                             [&](const Mapping& e) { return e.src == m.src; });
    if (same != out->mappings_.end()) {
      *same = std::move(m);
    } else {
      out->mappings_.push_back(std::move(m));
    }
  }
  return out;
}

std::optional<std::string> SubjectMappings::Select(std::string_view subject) const {
  for (const Mapping& m : mappings_) {
    if (!SubjectMatches(m.src, subject)) continue;
    // Only cluster-scoped destinations, the source among them: none applies.
    if (m.targets.empty()) return std::string();
    const Target* chosen = &m.targets.front();
    if (m.targets.size() > 1 || chosen->weight != 100) {
      thread_local absl::InsecureBitGen gen;
      const int draw = absl::Uniform(gen, 0, 100);
      chosen = nullptr;
      for (const Target& t : m.targets) {
        if (draw < t.weight) {
          chosen = &t;
          break;
        }
      }
      if (chosen == nullptr) return std::string();
    }
    if (!chosen->transform.has_value()) return std::string(subject);
    return chosen->transform->Match(subject).value_or(std::string());
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::vector<SubjectMappings::Dest>>>
SubjectMappings::Describe() const {
  std::vector<std::pair<std::string, std::vector<Dest>>> out;
  for (const Mapping& m : mappings_) {
    std::vector<Dest>& dests = out.emplace_back(m.src, std::vector<Dest>()).second;
    for (const auto* group : {&m.targets, &m.cluster_targets}) {
      for (const Target& t : *group) dests.push_back(Dest{t.subject, t.weight, t.cluster});
    }
  }
  return out;
}

}  // namespace natsd
