// SubjectMapping: how an import renames subjects between two accounts, as
// nats-server 2.9's import transforms do it.
//
//   from "foo.>"  to "foo.>"      the subject is kept
//   from "foo"    to "bar"        always "bar"
//   from "foo.>"  to "x.foo.>"    a stream import's prefix: "foo.a.b" -> "x.foo.a.b"
//   from "a.*.*"  to "b.$2.*"     "a.1.2" -> "b.2.1": `$N` is from's Nth "*",
//                                 a bare "*" the next one in order, ">" the
//                                 tokens from's ">" matched
//
//   absl::StatusOr<SubjectMapping> m = SubjectMapping::Create("foo.>", "x.foo.>");
//   std::string s = m->Apply("foo.bar");  // "x.foo.bar"
//
// Thread-safety: immutable after Create; Apply may run on any thread.
#ifndef NATSD_SERVER_SUBJECT_MAPPING_H_
#define NATSD_SERVER_SUBJECT_MAPPING_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace natsd {

class SubjectMapping {
 public:
  // InvalidArgument when `to` uses a wildcard `from` does not have.
  static absl::StatusOr<SubjectMapping> Create(std::string_view from, std::string_view to);

  // `subject` is a literal subject `from` matches.
  std::string Apply(std::string_view subject) const;

  const std::string& from() const { return from_; }
  const std::string& to() const { return to_; }

 private:
  // One token of `to`: a literal, the Nth "*" of `from`, or from's ">".
  struct Part {
    enum Kind { kLiteral, kWildcard, kRest } kind;
    std::string literal;
    size_t wildcard = 0;
  };

  std::string from_;
  std::string to_;
  // Whether the published subject passes unchanged (to == from) or is
  // always replaced by `to` (from has no wildcard).
  bool keep_ = false;
  bool fixed_ = false;
  std::vector<Part> parts_;
};

}  // namespace natsd

#endif  // NATSD_SERVER_SUBJECT_MAPPING_H_
