#include "server/mappings_config.h"

#include <optional>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "fmt/format.h"
#include "protocol/subject.h"
#include "server/subject_mappings.h"

namespace natsd {
namespace {

void Error(std::vector<std::string>* errors, const SourcePos& pos, std::string_view msg) {
  errors->push_back(fmt::format("{}: {}", pos.ToString(), msg));
}

// One `{destination, weight, cluster}` map; nullopt (error recorded) when
// it is not one. Errors about a field name the field; errors about the
// whole are at `pos`.
std::optional<ConfigMapDest> ReadDest(const ConfValue& v, const SourcePos& pos,
                                      std::vector<std::string>* errors) {
  const auto* map = v.get_if<ConfValue::Map>();
  if (map == nullptr) {
    Error(errors, pos, "Expected an entry for the mapping destination");
    return std::nullopt;
  }
  ConfigMapDest dest;
  bool weighted = false;
  for (const ConfEntry& f : *map) {
    const std::string k = absl::AsciiStrToLower(f.key);
    const ConfValue& fv = f.value;
    if (k == "dest" || k == "destination" || k == "cluster") {
      const std::string* s = fv.get_if<std::string>();
      if (s == nullptr) {
        Error(errors, f.key_pos,
              fmt::format("Expected {} to be string, got {}", k, fv.GoTypeName()));
        return std::nullopt;
      }
      (k == "cluster" ? dest.cluster : dest.subject) = *s;
    } else if (k == "weight") {
      int64_t weight = 0;
      if (const std::string* s = fv.get_if<std::string>()) {
        const std::string digits(absl::StripSuffix(*s, "%"));
        if (!absl::SimpleAtoi(digits, &weight)) {
          Error(errors, f.key_pos,
                fmt::format("Invalid weight \"{}\" for mapping destination", digits));
          return std::nullopt;
        }
      } else if (const int64_t* n = fv.get_if<int64_t>()) {
        weight = *n;
      } else {
        Error(errors, f.key_pos,
              fmt::format("Unknown entry type for weight of {}", fv.GoValue()));
        return std::nullopt;
      }
      if (weight > 100 || weight < 0) {
        Error(errors, f.key_pos, fmt::format("Invalid weight {} for mapping destination", weight));
        return std::nullopt;
      }
      dest.weight = static_cast<int>(weight);
      weighted = true;
    } else {
      Error(errors, f.key_pos, fmt::format("Unknown field \"{}\" for mapping destination", f.key));
      return std::nullopt;
    }
  }
  if (!weighted) {
    Error(errors, pos,
          fmt::format("Missing weight for mapping destination \"{}\"", dest.subject));
    return std::nullopt;
  }
  return dest;
}

}  // namespace

void ReadMappings(const ConfEntry& e, std::vector<ConfigMapping>* mappings,
                  std::vector<std::string>* errors) {
  const auto* map = e.value.get_if<ConfValue::Map>();
  if (map == nullptr) {
    Error(errors, e.key_pos,
          fmt::format("Expected mappings to be a map, got {}", e.value.GoTypeName()));
    return;
  }
  // Errors about one mapping are at its source, as the reference reports
  // them (nats-server positions a map value's errors at its key).
  for (const ConfEntry& m : *map) {
    if (!IsValidSubject(m.key)) {
      Error(errors, e.key_pos, fmt::format("Subject \"{}\" is not a valid subject", m.key));
      continue;
    }
    ConfigMapping mapping{.src = m.key};
    const ConfValue& v = m.value;
    if (const std::string* s = v.get_if<std::string>()) {
      mapping.dests.push_back(ConfigMapDest{.subject = *s});
    } else if (const auto* list = v.get_if<ConfValue::Array>()) {
      for (const ConfValue& item : *list) {
        if (std::optional<ConfigMapDest> d = ReadDest(item, item.pos(), errors)) {
          mapping.dests.push_back(*std::move(d));
        }
      }
    } else {
      std::optional<ConfigMapDest> d = ReadDest(v, m.key_pos, errors);
      if (!d.has_value()) continue;
      mapping.dests.push_back(*std::move(d));
    }
    // The checks the reference makes when it adds the mapping to the account.
    if (absl::StatusOr<std::unique_ptr<const SubjectMappings>> checked =
            SubjectMappings::Create({mapping});
        !checked.ok()) {
      std::vector<std::string> dests;
      for (const ConfigMapDest& d : mapping.dests) dests.push_back(d.subject);
      Error(errors, m.key_pos,
            fmt::format("Error adding mapping for \"{}\" to \"{}\" : {}", mapping.src,
                        absl::StrJoin(dests, ", "), std::string(checked.status().message())));
      continue;
    }
    mappings->push_back(std::move(mapping));
  }
}

}  // namespace natsd
