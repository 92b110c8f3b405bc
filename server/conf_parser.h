// The nats-server configuration file format, parsed into a generic tree.
//
// The format is a relaxed JSON/HOCON mix:
//
//   # comment, or // comment
//   port: 4222              # also `port = 4222` and `port 4222`
//   max_payload: 2MB        # 2k = 2000, 2kb = 2048 (k m g t p e, case-insensitive)
//   debug: on               # true/false/yes/no/on/off
//   PASS: 'raw $tring'      # single quotes: no escapes; double quotes: \t \n \r \" \\ \xHH
//   authorization {         # blocks; entries end with newline, ',' or ';'
//     user: admin
//     password: $PASS       # variable: an earlier key in this or an enclosing
//   }                       #   block, else the environment
//   routes = [ "nats://a:4248", nats://b:4248 ]
//   include ./other.conf    # relative to the including file
//   text: (
//   multi-line block string
//   )
//
// Values keep the position they were read from so that errors can name
// file:line:column. Maps keep file order; a repeated key replaces the earlier
// value in place. Keys are stored as written; callers match them
// case-insensitively where nats-server does.
//
//   absl::StatusOr<natsd::ConfValue> root = natsd::ParseConfFile("nats.conf");
//   if (const natsd::ConfValue* port = root->Find("port")) ...
//
// Thread-safety: parsing functions are reentrant; ConfValue is a plain value.
#ifndef NATSD_SERVER_CONF_PARSER_H_
#define NATSD_SERVER_CONF_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace natsd {

// Where a value or key was read from. Lines and columns are 1-based; the
// column counts bytes.
struct SourcePos {
  std::shared_ptr<const std::string> file;  // never null in parsed trees
  int line = 0;
  int column = 0;

  // "file:line:col", the prefix of every config error.
  std::string ToString() const;
};

struct ConfEntry;

class ConfValue {
 public:
  using Array = std::vector<ConfValue>;
  using Map = std::vector<ConfEntry>;  // file order
  using Data = std::variant<std::string, int64_t, double, bool, absl::Time,
                            Array, Map>;

  // Out of line: ConfEntry is incomplete here, and the special members of
  // a variant holding std::vector<ConfEntry> need it complete.
  ConfValue();
  ConfValue(Data data, SourcePos pos);
  ConfValue(const ConfValue&);
  ConfValue(ConfValue&&) noexcept;
  ConfValue& operator=(const ConfValue&);
  ConfValue& operator=(ConfValue&&) noexcept;
  ~ConfValue();

  const Data& data() const { return data_; }
  Data& mutable_data() { return data_; }
  const SourcePos& pos() const { return pos_; }

  // Typed access: nullptr when the value holds another type.
  template <typename T>
  const T* get_if() const { return std::get_if<T>(&data_); }
  template <typename T>
  T* get_if() { return std::get_if<T>(&data_); }

  // "string", "integer", "float", "bool", "datetime", "array", "map".
  std::string_view TypeName() const;
  // Go's %T of the decoded value, which the reference's messages print:
  // "string", "int64", "float64", "bool", "time.Time", "[]interface {}",
  // "map[string]interface {}".
  std::string_view GoTypeName() const;
  // Go's %v of a scalar value; containers are described by GoTypeName.
  std::string GoValue() const;

  // For maps: the value stored under exactly `key`, else nullptr.
  const ConfValue* Find(std::string_view key) const;

 private:
  Data data_;
  SourcePos pos_;
};

struct ConfEntry {
  std::string key;
  SourcePos key_pos;
  ConfValue value;
  // The entry was referenced as a $variable. nats-server does not report such
  // keys as unknown fields: they exist to be referenced.
  bool used_as_variable = false;
};

// Limits that keep hostile or broken input from exhausting the stack or memory.
inline constexpr int kMaxConfNesting = 64;        // nested maps/arrays
inline constexpr int kMaxConfIncludeDepth = 10;   // nested include files
// A config file (or included file) larger than this is refused: `-c
// /dev/zero` must not read forever.
inline constexpr size_t kMaxConfFileBytes = 64 << 20;

struct ConfParseOptions {
  // When false, `include` is an error; used for untrusted input (fuzzing).
  bool allow_includes = true;
  // When false, `$VAR` never falls back to the process environment.
  bool allow_env = true;
};

// Parses the file at `path`. The root is a map. Errors are InvalidArgument
// (syntax, values) or NotFound/PermissionDenied style errors for unreadable
// files, all prefixed with "file:line:col: " where a position is known.
absl::StatusOr<ConfValue> ParseConfFile(const std::string& path,
                                        const ConfParseOptions& options = {});

// Parses `text` as if read from `source_name`; includes are resolved
// relative to the directory of `source_name`.
absl::StatusOr<ConfValue> ParseConfString(std::string_view text,
                                          std::string_view source_name,
                                          const ConfParseOptions& options = {});

}  // namespace natsd

#endif  // NATSD_SERVER_CONF_PARSER_H_
