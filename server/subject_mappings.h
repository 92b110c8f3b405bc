// SubjectMappings: an account's `mappings`, as nats-server 2.9 applies them
// to what its clients publish. A message published on a mapping's source
// goes to one of its destinations, chosen by weight, with the subject
// rewritten by that destination's transform (subject_transform.h):
//
//   mappings { "orders.*": [ {destination: "orders.v2.$1", weight: 10%} ] }
//
// sends 10% of "orders.x" to "orders.v2.x" and, because the weights leave
// 90% over, the rest to "orders.x" unchanged (the reference adds the source
// itself for the remainder unless it is listed).
//
//   absl::StatusOr<std::unique_ptr<SubjectMappings>> m = SubjectMappings::Create(opts.mappings);
//   if (std::optional<std::string> to = (*m)->Select("orders.x")) publish on *to
//
// Thread-safety: immutable after Create; Select may run on any thread (its
// random choice uses a per-thread generator).
#ifndef NATSD_SERVER_SUBJECT_MAPPINGS_H_
#define NATSD_SERVER_SUBJECT_MAPPINGS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/options.h"
#include "server/subject_transform.h"

namespace natsd {

class SubjectMappings {
 public:
  // One destination as /accountz shows it: the weight is cumulative over
  // the destinations before it, as the reference stores it.
  struct Dest {
    std::string subject;
    int weight = 0;
    std::string cluster;
  };

  // InvalidArgument with the reference's reason (e.g. "total weight needs to
  // be <= 100", a transform error) for the first mapping that is wrong.
  static absl::StatusOr<std::unique_ptr<const SubjectMappings>> Create(
      const std::vector<ConfigMapping>& mappings);

  // Where a message published on the literal `subject` goes: nullopt when no
  // mapping's source matches (publish unchanged); otherwise the chosen
  // destination, which is empty when the weights chose none (the message is
  // dropped, as the reference drops it).
  std::optional<std::string> Select(std::string_view subject) const;

  // Each source (in configuration order) with its destinations, the
  // source's own remainder included, cluster-scoped ones last.
  std::vector<std::pair<std::string, std::vector<Dest>>> Describe() const;

 private:
  struct Target {
    // nullopt: the source's own remainder, published unchanged.
    std::optional<SubjectTransform> transform;
    std::string subject;  // as described
    int weight = 0;       // cumulative, 1..100
    std::string cluster;
  };
  struct Mapping {
    std::string src;
    std::vector<Target> targets;          // no cluster: the ones Select uses
    std::vector<Target> cluster_targets;  // described only
  };

  std::vector<Mapping> mappings_;
};

}  // namespace natsd

#endif  // NATSD_SERVER_SUBJECT_MAPPINGS_H_
