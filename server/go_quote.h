// GoQuote: a string quoted as Go's %q writes it, for log lines that must
// read byte for byte like nats-server's.
//
//   GoQuote("a\"b\n")   // "\"a\\\"b\\n\"", i.e. the 8 characters "a\"b\n"
//
// Printable ASCII is kept, '"' and '\' are escaped, control characters
// become \a \b \f \n \r \t \v or \xHH. One difference from Go: every byte
// >= 0x7f is written as \xHH, where Go keeps printable UTF-8 as it is.
//
// Thread-safety: a pure function.
#ifndef NATSD_SERVER_GO_QUOTE_H_
#define NATSD_SERVER_GO_QUOTE_H_

#include <string>
#include <string_view>

namespace natsd {

std::string GoQuote(std::string_view in);

}  // namespace natsd

#endif  // NATSD_SERVER_GO_QUOTE_H_
