// SubjectTransform: the subject rewrite of one `mappings` entry, as
// nats-server 2.9.10 does it (accounts.go: newTransform and transform).
//
// A transform has a source subject, which may have wildcards, and a
// destination made of tokens. A destination token is either literal or a
// placeholder for what a "*" of the source matched (N counts the source's
// "*" tokens from 1):
//
//   $N, {{wildcard(N)}}            the token the Nth "*" matched
//   {{partition(n,N,...)}}         FNV-1a 32 of those tokens, concatenated,
//                                  modulo n: a number in [0, n)
//   {{split(N,delim)}}             the token cut at every `delim`
//   {{splitFromLeft(N,pos)}}       the token cut in two, pos bytes from the left
//   {{splitFromRight(N,pos)}}      ... pos bytes from the right
//   {{sliceFromLeft(N,size)}}      the token cut into size-byte pieces, from the left
//   {{sliceFromRight(N,size)}}     ... from the right
//   >                              the tokens the source's ">" matched
//
// Function names take an upper- or lower-case first letter of each word
// ("SplitFromLeft", "splitfromLeft"), and spaces around the parentheses.
// A source without wildcards maps to its destination as written.
//
//   absl::StatusOr<SubjectTransform> t =
//       SubjectTransform::Create("orders.*.*", "shard.{{partition(4,2)}}.$1.$2");
//   t->Match("orders.eu.42");      // "shard.<0..3>.eu.42"
//   t->Match("invoices.eu.42");    // nullopt: not matched by the source
//
// Thread-safety: immutable after Create; Match may run on any thread,
// concurrently.
#ifndef NATSD_SERVER_SUBJECT_TRANSFORM_H_
#define NATSD_SERVER_SUBJECT_TRANSFORM_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/subject.h"

namespace natsd {

class SubjectTransform {
 public:
  // The checks nats-server makes when it adds a mapping: `src` a valid
  // subject, then `dest` (ValidateMappingDestination), then the pair
  // (newTransform). InvalidArgument with the reference's error text, e.g.
  // "invalid subject" or "invalid mapping destination: unknown function in
  // {{foo(1)}}". One deliberate difference: a partition count of 0 (mod
  // 2^32) is refused here, where nats-server accepts it and then panics
  // dividing by zero on the first matching message.
  static absl::StatusOr<SubjectTransform> Create(std::string_view src, std::string_view dest);

  // `subject` is a literal subject. nullopt when it is not a valid literal
  // subject (empty or wildcard token) or `src` does not match it; else the
  // transformed subject. A ">" to ">" transform passes any subject through
  // unchecked, as the reference does.
  std::optional<std::string> Match(std::string_view subject) const;

  const std::string& src() const { return src_; }
  const std::string& dest() const { return dest_; }

 private:
  enum class Op : uint8_t {
    kLiteral,  // a destination token as written
    kRest,     // ">": the subject's tokens from the source's ">" on
    kWildcard,
    kPartition,
    kSplitFromLeft,
    kSplitFromRight,
    kSliceFromLeft,
    kSliceFromRight,
    kSplit,
  };

  // One destination token, parsed once by Create.
  struct Part {
    Op op = Op::kLiteral;
    // kLiteral: the token; kSplit: the delimiter. Offsets into dest_, so
    // that a copied transform needs no fix-up.
    size_t text_pos = 0;
    size_t text_size = 0;
    // The subject tokens the function reads: sources_[first, first + count)
    // are 0-based token positions in the subject.
    size_t first_source = 0;
    size_t source_count = 0;
    // kSplitFrom*: the position; kSliceFrom*: the size; kPartition: the
    // number of partitions (a uint32 as the reference computes it, never 0).
    int64_t arg = 0;
  };

  SubjectTransform() = default;

  // Whether the literal subject `tokens` is matched by src_.
  bool SourceMatches(const SubjectTokens& tokens) const;
  void AppendPart(const Part& part, const SubjectTokens& tokens,
                  std::string_view subject, std::string* out) const;

  std::string src_;
  std::string dest_;
  // ">" to ">": every subject passes unchanged.
  bool passthrough_ = false;
  // src_ has no wildcard: a match yields dest_ as written.
  bool fixed_ = false;
  // Position of src_'s ">" token, when it has one.
  std::optional<size_t> rest_from_;
  std::vector<Part> parts_;
  std::vector<size_t> sources_;
};

}  // namespace natsd

#endif  // NATSD_SERVER_SUBJECT_TRANSFORM_H_
