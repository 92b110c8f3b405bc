#include "server/subject_mapping.h"

#include "absl/strings/numbers.h"
#include "fmt/format.h"
#include "protocol/subject.h"

namespace natsd {

absl::StatusOr<SubjectMapping> SubjectMapping::Create(std::string_view from,
                                                      std::string_view to) {
  SubjectMapping m;
  m.from_ = std::string(from);
  m.to_ = std::string(to);
  if (to == from) {
    m.keep_ = true;
    return m;
  }
  if (SubjectIsLiteral(from)) {
    m.fixed_ = true;
    return m;
  }
  size_t partials = 0;
  bool has_rest = false;
  for (std::string_view t : TokenizeSubject(from)) {
    partials += t == "*";
    has_rest |= t == ">";
  }
  size_t next = 0;
  for (std::string_view t : TokenizeSubject(to)) {
    Part p{Part::kLiteral, std::string(t), 0};
    uint32_t n = 0;
    if (t == "*") {
      p.kind = Part::kWildcard;
      p.wildcard = next++;
    } else if (t == ">") {
      p.kind = Part::kRest;
    } else if (t.size() > 1 && t[0] == '$' && absl::SimpleAtoi(std::string(t.substr(1)), &n) && n > 0) {
      p.kind = Part::kWildcard;
      p.wildcard = n - 1;
    }
    if ((p.kind == Part::kWildcard && p.wildcard >= partials) ||
        (p.kind == Part::kRest && !has_rest)) {
      return absl::InvalidArgumentError(
          fmt::format("no wildcard in \"{}\" for token \"{}\"", from, t));
    }
    m.parts_.push_back(std::move(p));
  }
  return m;
}

std::string SubjectMapping::Apply(std::string_view subject) const {
  if (keep_) return std::string(subject);
  if (fixed_) return to_;
  // What from's wildcards matched in `subject`.
  std::vector<std::string_view> captured;
  std::string_view rest;
  const SubjectTokens literal = TokenizeSubject(subject);
  size_t i = 0;
  for (std::string_view t : TokenizeSubject(from_)) {
    if (i >= literal.size()) break;
    if (t == ">") {
      rest = subject.substr(literal[i].data() - subject.data());
      break;
    }
    if (t == "*") captured.push_back(literal[i]);
    ++i;
  }
  std::string out;
  for (const Part& p : parts_) {
    if (!out.empty()) out += '.';
    switch (p.kind) {
      case Part::kLiteral: out += p.literal; break;
      case Part::kWildcard:
        if (p.wildcard < captured.size()) out += captured[p.wildcard];
        break;
      case Part::kRest: out += rest; break;
    }
  }
  return out;
}

}  // namespace natsd
