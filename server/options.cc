#include "server/options.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "fmt/format.h"

namespace natsd {

std::string_view IoBackendName(IoBackend backend) {
  switch (backend) {
    case IoBackend::kAuto: return "auto";
    case IoBackend::kUring: return "uring";
    case IoBackend::kEpoll: return "epoll";
  }
  return "auto";
}

std::string_view ServiceResponseTypeName(ServiceResponseType type) {
  switch (type) {
    case ServiceResponseType::kSingleton: return "Singleton";
    case ServiceResponseType::kStreamed: return "Streamed";
    case ServiceResponseType::kChunked: return "Chunked";
  }
  return "Singleton";
}

std::optional<IoBackend> ParseIoBackend(std::string_view name) {
  std::string lower = absl::AsciiStrToLower(std::string(name));
  if (lower == "auto") return IoBackend::kAuto;
  if (lower == "uring" || lower == "io_uring") return IoBackend::kUring;
  if (lower == "epoll") return IoBackend::kEpoll;
  return std::nullopt;
}

absl::Status ValidateOptions(const Options& opts) {
  if (opts.lame_duck_duration > absl::ZeroDuration() &&
      opts.lame_duck_grace_period >= opts.lame_duck_duration) {
    return absl::InvalidArgumentError(fmt::format(
        "lame duck grace period ({}) should be strictly lower than lame duck "
        "duration ({})",
        FormatGoDuration(opts.lame_duck_grace_period),
        FormatGoDuration(opts.lame_duck_duration)));
  }
  if (opts.max_payload > opts.max_pending) {
    return absl::InvalidArgumentError(
        fmt::format("max_payload ({}) cannot be higher than max_pending ({})",
                    opts.max_payload, opts.max_pending));
  }
  return absl::OkStatus();
}

namespace {

// Unit lengths, longest spelling first where one is a prefix of another.
struct GoUnit {
  std::string_view name;
  absl::Duration length;
};
constexpr GoUnit kGoUnits[] = {
    {"ns", absl::Nanoseconds(1)},  {"us", absl::Microseconds(1)},
    {"\xC2\xB5s", absl::Microseconds(1)},  // U+00B5 micro sign
    {"\xCE\xBCs", absl::Microseconds(1)},  // U+03BC Greek mu
    {"ms", absl::Milliseconds(1)}, {"s", absl::Seconds(1)},
    {"m", absl::Minutes(1)},       {"h", absl::Hours(1)},
};

absl::Status InvalidDuration(std::string_view text) {
  return absl::InvalidArgumentError(
      fmt::format("time: invalid duration \"{}\"", text));
}

}  // namespace

absl::StatusOr<absl::Duration> ParseGoDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return absl::ZeroDuration();
  if (s.empty()) return InvalidDuration(text);
  absl::Duration total;
  while (!s.empty()) {
    // [0-9]*(\.[0-9]*)?
    uint64_t whole = 0;
    size_t i = 0;
    bool overflow = false;
    for (; i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i])); ++i) {
      if (whole > (UINT64_MAX - 9) / 10) overflow = true;
      whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
    }
    bool has_whole = i > 0;
    double fraction = 0;
    bool has_fraction = false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      double scale = 0.1;
      for (; i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i])); ++i) {
        fraction += (s[i] - '0') * scale;
        scale /= 10;
        has_fraction = true;
      }
    }
    if (overflow || (!has_whole && !has_fraction)) return InvalidDuration(text);
    s.remove_prefix(i);
    size_t unit_len = 0;
    while (unit_len < s.size() && s[unit_len] != '.' &&
           !absl::ascii_isdigit(static_cast<unsigned char>(s[unit_len]))) {
      ++unit_len;
    }
    if (unit_len == 0) {
      return absl::InvalidArgumentError(
          fmt::format("time: missing unit in duration \"{}\"", text));
    }
    std::string_view unit = s.substr(0, unit_len);
    const GoUnit* found = nullptr;
    for (const GoUnit& u : kGoUnits) {
      if (u.name == unit) found = &u;
    }
    if (found == nullptr) {
      return absl::InvalidArgumentError(fmt::format(
          "time: unknown unit \"{}\" in duration \"{}\"", unit, text));
    }
    s.remove_prefix(unit_len);
    if (whole > static_cast<uint64_t>(INT64_MAX)) return InvalidDuration(text);
    total += found->length * static_cast<int64_t>(whole) + found->length * fraction;
    // Go durations are int64 nanoseconds (about 292 years).
    if (total > absl::Nanoseconds(INT64_MAX)) return InvalidDuration(text);
  }
  return negative ? -total : total;
}

std::string FormatGoDuration(absl::Duration d) {
  if (d == absl::ZeroDuration()) return "0s";
  std::string sign = d < absl::ZeroDuration() ? "-" : "";
  d = absl::AbsDuration(d);
  // Prints value/unit_ns with trailing fractional zeros removed.
  auto decimal = [](int64_t value, int64_t unit) {
    std::string out = fmt::format("{}", value / unit);
    int64_t rem = value % unit;
    if (rem != 0) {
      int width = static_cast<int>(std::log10(static_cast<double>(unit)) + 0.5);
      std::string frac = fmt::format("{:0{}}", rem, width);
      frac.erase(frac.find_last_not_of('0') + 1);
      out += "." + frac;
    }
    return out;
  };
  int64_t ns = absl::ToInt64Nanoseconds(d);
  if (ns < 1000) return fmt::format("{}{}ns", sign, ns);
  if (ns < 1000'000) return fmt::format("{}{}\xC2\xB5s", sign, decimal(ns, 1000));
  if (ns < 1000'000'000) return fmt::format("{}{}ms", sign, decimal(ns, 1000'000));
  int64_t hours = ns / 3600'000'000'000;
  int64_t minutes = ns / 60'000'000'000 % 60;
  std::string out = sign;
  if (hours > 0) out += fmt::format("{}h", hours);
  if (hours > 0 || minutes > 0) out += fmt::format("{}m", minutes);
  out += decimal(ns % 60'000'000'000, 1000'000'000) + "s";
  return out;
}

}  // namespace natsd
