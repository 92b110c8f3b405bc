#include "server/conf_parser.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace natsd {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<ConfValue> Parse(std::string_view text) {
  return ParseConfString(text, "test.conf");
}

// The value under `key` of a successfully parsed document.
ConfValue Get(std::string_view text, std::string_view key) {
  absl::StatusOr<ConfValue> root = Parse(text);
  EXPECT_TRUE(root.ok()) << root.status();
  if (!root.ok()) return {};
  const ConfValue* v = root->Find(key);
  EXPECT_NE(v, nullptr) << key;
  return v != nullptr ? *v : ConfValue{};
}

int64_t Int(std::string_view text, std::string_view key = "v") {
  ConfValue v = Get(text, key);
  EXPECT_NE(v.get_if<int64_t>(), nullptr) << text << " is a " << v.TypeName();
  return v.get_if<int64_t>() ? *v.get_if<int64_t>() : -999;
}

std::string Str(std::string_view text, std::string_view key = "v") {
  ConfValue v = Get(text, key);
  EXPECT_NE(v.get_if<std::string>(), nullptr) << text << " is a " << v.TypeName();
  return v.get_if<std::string>() ? *v.get_if<std::string>() : "<none>";
}

std::string ErrorOf(std::string_view text) {
  absl::StatusOr<ConfValue> root = Parse(text);
  EXPECT_FALSE(root.ok()) << text;
  return root.ok() ? "" : std::string(root.status().message());
}

TEST(ConfParser, KeyValueSeparators) {
  absl::StatusOr<ConfValue> root = Parse("a: 1\nb = 2\nc 3\nd:4; e=5, f 6\n\"q k\": 7\n'r': 8");
  ASSERT_TRUE(root.ok()) << root.status();
  const auto& map = *root->get_if<ConfValue::Map>();
  ASSERT_EQ(map.size(), 8u);
  const char* keys[] = {"a", "b", "c", "d", "e", "f", "q k", "r"};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(map[i].key, keys[i]);
    EXPECT_EQ(*map[i].value.get_if<int64_t>(), i + 1);
  }
}

TEST(ConfParser, Comments) {
  absl::StatusOr<ConfValue> root =
      Parse("# top\n// also\na: 1 # trailing\nb: 2 // trailing\nm {\n # in map\n c: 3\n}\n"
            "arr [\n 1 # c\n // c\n 2\n]\n");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(*root->Find("a")->get_if<int64_t>(), 1);
  EXPECT_EQ(*root->Find("b")->get_if<int64_t>(), 2);
  EXPECT_EQ(*root->Find("m")->Find("c")->get_if<int64_t>(), 3);
  EXPECT_EQ(root->Find("arr")->get_if<ConfValue::Array>()->size(), 2u);
}

TEST(ConfParser, MapsAndArrays) {
  absl::StatusOr<ConfValue> root = Parse(
      "authorization {\n  user: a, password = b; timeout 3\n  inner { x: [1, 2,] }\n}\n"
      "routes = [\n  nats://a:4248\n  \"nats://b:4248\", 'c'\n]\nempty: []\nem {}\n");
  ASSERT_TRUE(root.ok()) << root.status();
  const ConfValue* auth = root->Find("authorization");
  EXPECT_EQ(*auth->Find("user")->get_if<std::string>(), "a");
  EXPECT_EQ(*auth->Find("password")->get_if<std::string>(), "b");
  EXPECT_EQ(*auth->Find("timeout")->get_if<int64_t>(), 3);
  const auto& x = *auth->Find("inner")->Find("x")->get_if<ConfValue::Array>();
  ASSERT_EQ(x.size(), 2u);
  EXPECT_EQ(*x[1].get_if<int64_t>(), 2);
  const auto& routes = *root->Find("routes")->get_if<ConfValue::Array>();
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(*routes[0].get_if<std::string>(), "nats://a:4248");
  EXPECT_EQ(*routes[1].get_if<std::string>(), "nats://b:4248");
  EXPECT_EQ(*routes[2].get_if<std::string>(), "c");
  EXPECT_TRUE(root->Find("empty")->get_if<ConfValue::Array>()->empty());
  EXPECT_TRUE(root->Find("em")->get_if<ConfValue::Map>()->empty());
}

TEST(ConfParser, WholeFileInBraces) {
  absl::StatusOr<ConfValue> root = Parse("{\n  port: 4222\n  debug: true\n}\n");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(*root->Find("port")->get_if<int64_t>(), 4222);
}

TEST(ConfParser, Strings) {
  EXPECT_EQ(Str("v: \"a\\tb\\nc\\r\\\"d\\\\e\\x41\""), "a\tb\nc\r\"d\\eA");
  EXPECT_EQ(Str("v: 'raw \\n $x'"), "raw \\n $x");
  EXPECT_EQ(Str("v: bare-string/with.stuff"), "bare-string/with.stuff");
  EXPECT_EQ(Str("v: \"multi\nline\""), "multi\nline");
  EXPECT_EQ(Str("v: \"\""), "");
  EXPECT_EQ(Str("v: 10s"), "10s");
  EXPECT_EQ(Str("v: 1m30s"), "1m30s");
  EXPECT_EQ(Str("v: 4222abc"), "4222abc");
  EXPECT_EQ(Str("v: 127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(Str("v: 127.0.0.1:4222"), "127.0.0.1:4222");
  EXPECT_EQ(Str("v: \"true\""), "true");
}

TEST(ConfParser, BlockString) {
  EXPECT_EQ(Str("v: (\nline one\n  line (two)\n)\nw: 1"), "\nline one\n  line (two)");
  EXPECT_THAT(ErrorOf("v: (\nnever closed"), HasSubstr("Unexpected EOF processing block."));
}

TEST(ConfParser, Booleans) {
  for (const char* t : {"true", "TRUE", "yes", "Yes", "on", "ON"}) {
    EXPECT_EQ(*Get(std::string("v: ") + t, "v").get_if<bool>(), true) << t;
  }
  for (const char* f : {"false", "False", "no", "NO", "off", "Off"}) {
    EXPECT_EQ(*Get(std::string("v: ") + f, "v").get_if<bool>(), false) << f;
  }
}

TEST(ConfParser, IntegersAndSizes) {
  EXPECT_EQ(Int("v: 0"), 0);
  EXPECT_EQ(Int("v: -42"), -42);
  EXPECT_EQ(Int("v: 1k"), 1000);
  EXPECT_EQ(Int("v: 1K"), 1000);
  EXPECT_EQ(Int("v: 1kb"), 1024);
  EXPECT_EQ(Int("v: 1KB"), 1024);
  EXPECT_EQ(Int("v: 1ki"), 1024);
  EXPECT_EQ(Int("v: 1KiB"), 1024);
  EXPECT_EQ(Int("v: 2m"), 2000000);
  EXPECT_EQ(Int("v: 2MB"), 2 * 1024 * 1024);
  EXPECT_EQ(Int("v: 3g"), 3000000000);
  EXPECT_EQ(Int("v: 3gb"), int64_t{3} << 30);
  EXPECT_EQ(Int("v: 1t"), 1000000000000);
  EXPECT_EQ(Int("v: 1tb"), int64_t{1} << 40);
  EXPECT_EQ(Int("v: 1p"), 1000000000000000);
  EXPECT_EQ(Int("v: 1e"), 1000000000000000000);
  EXPECT_EQ(Int("v: -5k"), -5000);
  EXPECT_EQ(Int("v: 9223372036854775807"), INT64_MAX);
  // Value errors stand alone in the reference's wording, without a position.
  EXPECT_EQ(ErrorOf("v: 99999999999999999999"),
            "integer '99999999999999999999' is out of the range");
  EXPECT_THAT(ErrorOf("v: 100eb"), HasSubstr("integer '100eb' is out of the range"));
  EXPECT_THAT(ErrorOf("v: 1kbib"), HasSubstr("invalid integer suffix in '1kbib'"));
}

TEST(ConfParser, IntegerBeforeArrayEnd) {
  const auto& a = *Get("v: [1,2]", "v").get_if<ConfValue::Array>();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(*a[1].get_if<int64_t>(), 2);
}

TEST(ConfParser, FloatsAndDates) {
  EXPECT_DOUBLE_EQ(*Get("v: 1.5", "v").get_if<double>(), 1.5);
  EXPECT_DOUBLE_EQ(*Get("v: -0.25", "v").get_if<double>(), -0.25);
  ConfValue d = Get("v: 2016-05-04T18:53:41Z", "v");
  ASSERT_NE(d.get_if<absl::Time>(), nullptr);
  EXPECT_EQ(absl::ToUnixSeconds(*d.get_if<absl::Time>()), 1462388021);
  EXPECT_THAT(ErrorOf("v: 2016-13-04T18:53:41Z"),
              HasSubstr("expected Zulu formatted DateTime"));
  EXPECT_THAT(ErrorOf("v: 20-1"), HasSubstr("All ISO8601 dates must be in full Zulu form."));
  EXPECT_THAT(ErrorOf("v: 1."), HasSubstr("Floats must have a digit after the '.'"));
  EXPECT_THAT(ErrorOf("v: .5"), HasSubstr("Floats must start with a digit"));
  EXPECT_THAT(ErrorOf("v: -x"), HasSubstr("Expected a digit but got 'x'."));
}

TEST(ConfParser, RepeatedKeyReplacesInPlace) {
  absl::StatusOr<ConfValue> root = Parse("a: 1\nb: 2\na: 3\n");
  ASSERT_TRUE(root.ok());
  const auto& map = *root->get_if<ConfValue::Map>();
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map[0].key, "a");
  EXPECT_EQ(*map[0].value.get_if<int64_t>(), 3);
}

TEST(ConfParser, Positions) {
  absl::StatusOr<ConfValue> root = Parse("a: 1\n  m {\n    b: \"x\"\n  }\n");
  ASSERT_TRUE(root.ok());
  const auto& map = *root->get_if<ConfValue::Map>();
  EXPECT_EQ(map[1].key_pos.line, 2);
  EXPECT_EQ(map[1].key_pos.column, 3);
  const auto& inner = *map[1].value.get_if<ConfValue::Map>();
  EXPECT_EQ(inner[0].key_pos.ToString(), "test.conf:3:5");
  EXPECT_EQ(inner[0].value.pos().ToString(), "test.conf:3:8");
}

TEST(ConfParser, Variables) {
  absl::StatusOr<ConfValue> root = Parse(
      "PORT: 4222\nport: $PORT\nouter: \"o\"\nm {\n  inner: 1\n  a: $inner\n  b: $outer\n}\n"
      "arr: [$PORT, $outer]\n");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(*root->Find("port")->get_if<int64_t>(), 4222);
  EXPECT_EQ(*root->Find("m")->Find("a")->get_if<int64_t>(), 1);
  EXPECT_EQ(*root->Find("m")->Find("b")->get_if<std::string>(), "o");
  EXPECT_EQ(root->Find("arr")->get_if<ConfValue::Array>()->size(), 2u);
  const auto& map = *root->get_if<ConfValue::Map>();
  EXPECT_TRUE(map[0].used_as_variable);   // PORT
  EXPECT_FALSE(map[1].used_as_variable);  // port
}

TEST(ConfParser, VariableScopesAreBlocks) {
  EXPECT_THAT(ErrorOf("m { x: 1 }\ny: $x\n"),
              HasSubstr("variable reference for 'x' on line 2 can not be found"));
  EXPECT_THAT(ErrorOf("y: $later\nlater: 1\n"), HasSubstr("can not be found"));
}

TEST(ConfParser, BcryptIsNotAVariable) {
  EXPECT_EQ(Str("v: $2a$11$abcdefghijklmnopqrstuv"), "$2a$11$abcdefghijklmnopqrstuv");
}

TEST(ConfParser, EnvironmentVariables) {
  setenv("NATSD_TEST_ENV_PORT", "4333", 1);
  setenv("NATSD_TEST_ENV_STR", "hello world", 1);
  setenv("NATSD_TEST_ENV_LOOP", "$NATSD_TEST_ENV_LOOP", 1);
  EXPECT_EQ(Int("v: $NATSD_TEST_ENV_PORT"), 4333);
  // A value with a space parses as "hello" followed by junk.
  EXPECT_THAT(ErrorOf("v: $NATSD_TEST_ENV_STR"), HasSubstr("could not be parsed"));
  EXPECT_THAT(ErrorOf("v: $NATSD_TEST_ENV_LOOP"), HasSubstr("nested deeper"));
  // A key in the file wins over the environment.
  EXPECT_EQ(Int("NATSD_TEST_ENV_PORT: 1\nv: $NATSD_TEST_ENV_PORT"), 1);
  absl::StatusOr<ConfValue> no_env =
      ParseConfString("v: $NATSD_TEST_ENV_PORT", "t", {.allow_includes = true, .allow_env = false});
  EXPECT_FALSE(no_env.ok());
}

// The reference's wording: "Parse error on line N: '<what>'".
TEST(ConfParser, SyntaxErrorsNameTheLine) {
  EXPECT_EQ(ErrorOf("port: 4222 x\n"),
            "Parse error on line 1: 'Expected a top-level value to end with a new line, "
            "comment or EOF, but got 'x' instead.'");
  EXPECT_EQ(ErrorOf("a {\n b: [1, 2\n"), "Parse error on line 3: 'Unexpected EOF processing array.'");
  EXPECT_EQ(ErrorOf("a {\n b: 1\n"), "Parse error on line 3: 'Unexpected EOF processing map.'");
  EXPECT_EQ(ErrorOf("a { b: 1 x }"),
            "Parse error on line 1: 'Expected a map value terminator \",\" or a map terminator "
            "\"}\", but got 'x' instead.'");
  EXPECT_EQ(ErrorOf("s: \"a\\q\""),
            "Parse error on line 1: 'Invalid escape character 'q'. Only the following escape "
            "characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.'");
  EXPECT_THAT(ErrorOf("s: \"\\xZZ\""),
              HasSubstr("Expected two hexadecimal digits after '\\x', but got 'ZZ'"));
  EXPECT_THAT(ErrorOf("s: \"never closed"), HasSubstr("Unexpected EOF."));
  EXPECT_THAT(ErrorOf("s: 'never closed"), HasSubstr("Unexpected EOF."));
  EXPECT_THAT(ErrorOf("a: [,1]"), HasSubstr("Unexpected array value terminator ','."));
  EXPECT_THAT(ErrorOf("a: [1 2]"), HasSubstr("Expected an array value terminator"));
  EXPECT_THAT(ErrorOf(": 1"), HasSubstr("Unexpected key separator ':''"));
  // The reference has read the newline by then.
  EXPECT_EQ(ErrorOf("a:\n1"), "Parse error on line 2: 'Expected value but found new line'");
  EXPECT_THAT(ErrorOf("a { ] }"), HasSubstr("Unexpected array end ']' processing map."));
  EXPECT_THAT(ErrorOf("a { \"k"), HasSubstr("Unexpected EOF processing quoted map key."));
}

TEST(ConfParser, NestingIsBounded) {
  std::string deep = "a: " + std::string(100000, '[');
  EXPECT_THAT(ErrorOf(deep), HasSubstr("nested deeper than"));
  std::string maps = "a: ";
  for (int i = 0; i < 10000; ++i) maps += "{b: ";
  EXPECT_THAT(ErrorOf(maps), HasSubstr("nested deeper than"));
  std::string ok = "a: " + std::string(kMaxConfNesting, '[') + std::string(kMaxConfNesting, ']');
  EXPECT_TRUE(Parse(ok).ok());
}

class ConfIncludeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("natsd_conf_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ / "sub");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(ConfIncludeTest, IncludesRelativeToIncludingFile) {
  Write("sub/auth.conf", "user: alice\ninclude 'more.conf'\n");
  Write("sub/more.conf", "password: secret\n");
  Write("ports.conf", "port: 5222\n");
  std::string main = Write("main.conf",
                           "include ports.conf\nauthorization {\n  include \"sub/auth.conf\"\n}\n"
                           "debug: true\n");
  absl::StatusOr<ConfValue> root = ParseConfFile(main);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(*root->Find("port")->get_if<int64_t>(), 5222);
  EXPECT_EQ(*root->Find("authorization")->Find("user")->get_if<std::string>(), "alice");
  EXPECT_EQ(*root->Find("authorization")->Find("password")->get_if<std::string>(), "secret");
  // Keys from an include keep their own file in positions.
  const auto& map = *root->get_if<ConfValue::Map>();
  EXPECT_THAT(*map[0].key_pos.file, HasSubstr("ports.conf"));
}

TEST_F(ConfIncludeTest, MissingIncludeFile) {
  std::string main = Write("main.conf", "include nofile.conf\n");
  absl::StatusOr<ConfValue> root = ParseConfFile(main);
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().message(),
            "error parsing include file 'nofile.conf', open " + (dir_ / "nofile.conf").string() +
                ": no such file or directory");
}

TEST_F(ConfIncludeTest, ErrorInIncludedFileNamesThatFile) {
  Write("bad.conf", "a: [\n");
  std::string main = Write("main.conf", "\ninclude bad.conf\n");
  absl::StatusOr<ConfValue> root = ParseConfFile(main);
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().message(),
            "error parsing include file 'bad.conf', Parse error on line 2: 'Unexpected EOF "
            "processing array.'");
}

TEST_F(ConfIncludeTest, CyclesAndDepthAreBounded) {
  Write("a.conf", "include b.conf\n");
  Write("b.conf", "include a.conf\n");
  absl::StatusOr<ConfValue> root = ParseConfFile((dir_ / "a.conf").string());
  ASSERT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr("include cycle"));

  Write("self.conf", "include ./self.conf\n");
  EXPECT_FALSE(ParseConfFile((dir_ / "self.conf").string()).ok());

  for (int i = 0; i < kMaxConfIncludeDepth + 2; ++i) {
    Write("d" + std::to_string(i) + ".conf", "include d" + std::to_string(i + 1) + ".conf\n");
  }
  Write("d" + std::to_string(kMaxConfIncludeDepth + 2) + ".conf", "x: 1\n");
  root = ParseConfFile((dir_ / "d0.conf").string());
  ASSERT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr("nested deeper than"));
}

TEST_F(ConfIncludeTest, IncludesCanBeDisabled) {
  Write("x.conf", "x: 1\n");
  absl::StatusOr<ConfValue> root = ParseConfString(
      "include x.conf\n", (dir_ / "main.conf").string(), {.allow_includes = false});
  ASSERT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr("not allowed"));
}

TEST(ConfParser, EndlessFileIsRefused) {
  absl::StatusOr<ConfValue> root = ParseConfFile("/dev/zero");
  ASSERT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr("is larger than"));
}

TEST(ConfParser, MissingFile) {
  absl::StatusOr<ConfValue> root = ParseConfFile("/nonexistent/natsd.conf");
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().message(), "open /nonexistent/natsd.conf: no such file or directory");
}

TEST(ConfParser, KeyWithoutValueAtEndIsIgnored) {
  absl::StatusOr<ConfValue> root = Parse("port: 4222\nfoo");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->Find("foo"), nullptr);
}

}  // namespace
}  // namespace natsd
