#include "server/go_quote.h"

#include <string>

#include "gtest/gtest.h"

namespace natsd {
namespace {

TEST(GoQuoteTest, EscapesAsGoPercentQ) {
  EXPECT_EQ(GoQuote(""), "\"\"");
  EXPECT_EQ(GoQuote("/var/log/nats.log"), "\"/var/log/nats.log\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote("\a\b\f\n\r\t\v"), "\"\\a\\b\\f\\n\\r\\t\\v\"");
  EXPECT_EQ(GoQuote(std::string("\x00\x1b\x7f", 3)), "\"\\x00\\x1b\\x7f\"");
  // natsd escapes every byte >= 0x7f (Go would keep valid UTF-8).
  EXPECT_EQ(GoQuote("\xc3\xa9"), "\"\\xc3\\xa9\"");
}

}  // namespace
}  // namespace natsd
