#include "server/permissions.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace natsd {
namespace {

using ::testing::HasSubstr;

// Parses `text` as the value of a `permissions` key.
absl::StatusOr<PermissionsConfig> Parse(std::string_view text) {
  absl::StatusOr<ConfValue> root =
      ParseConfString(std::string("p: ") + std::string(text), "test.conf");
  if (!root.ok()) return root.status();
  return ParsePermissionsConfig(*root->Find("p"));
}

std::shared_ptr<const Permissions> Compile(std::string_view text) {
  absl::StatusOr<PermissionsConfig> cfg = Parse(text);
  EXPECT_TRUE(cfg.ok()) << cfg.status();
  return Permissions::Compile(cfg.ok() ? *cfg : PermissionsConfig{});
}

TEST(PermissionsParseTest, ListFormIsAllow) {
  absl::StatusOr<PermissionsConfig> p = Parse(R"({publish: ["a", "b.*"], sub: "c"})");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->publish.has_value());
  EXPECT_THAT(*p->publish->allow, ::testing::ElementsAre("a", "b.*"));
  EXPECT_TRUE(p->publish->deny.empty());
  EXPECT_THAT(*p->subscribe->allow, ::testing::ElementsAre("c"));
  EXPECT_FALSE(p->response.has_value());
}

TEST(PermissionsParseTest, AllowDenyForm) {
  absl::StatusOr<PermissionsConfig> p =
      Parse(R"({publish: {allow: "a.>", deny: ["a.b"]}, subscribe: {deny: "x v1"}})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(*p->publish->allow, ::testing::ElementsAre("a.>"));
  EXPECT_THAT(p->publish->deny, ::testing::ElementsAre("a.b"));
  EXPECT_FALSE(p->subscribe->allow.has_value());
  EXPECT_THAT(p->subscribe->deny, ::testing::ElementsAre("x v1"));
}

TEST(PermissionsParseTest, EmptyFormsMeanNoList) {
  absl::StatusOr<PermissionsConfig> p = Parse(R"({publish: [], subscribe: {}})");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->publish.has_value());
  EXPECT_FALSE(p->publish->allow.has_value());
  EXPECT_FALSE(p->subscribe.has_value());
}

TEST(PermissionsParseTest, AllowResponses) {
  absl::StatusOr<PermissionsConfig> p = Parse("{allow_responses: true}");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(p->response.has_value());
  EXPECT_EQ(p->response->max_msgs, 1);
  EXPECT_EQ(p->response->expires, absl::Minutes(2));
  // Turns publishing into an explicit (empty) allow list.
  ASSERT_TRUE(p->publish.has_value() && p->publish->allow.has_value());
  EXPECT_TRUE(p->publish->allow->empty());

  p = Parse(R"({allow_responses: {max: 5, expires: "1m"}, publish: {deny: "x"}})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->response->max_msgs, 5);
  EXPECT_EQ(p->response->expires, absl::Minutes(1));
  EXPECT_TRUE(p->publish->allow->empty());

  p = Parse("{allow_responses: false}");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->response.has_value());
  EXPECT_FALSE(p->publish.has_value());

  p = Parse("{allow_responses: {max: 0, expires: \"0s\"}}");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->response->max_msgs, 1);  // 0 keeps the defaults
  EXPECT_EQ(p->response->expires, absl::Minutes(2));
}

TEST(PermissionsParseTest, ErrorsAsTheReference) {
  EXPECT_THAT(std::string(Parse("foo").status().message()),
              HasSubstr("Expected permissions to be a map/struct, got foo"));
  EXPECT_THAT(std::string(Parse("{publishh: a}").status().message()),
              HasSubstr("Unknown field \"publishh\" parsing permissions"));
  EXPECT_THAT(std::string(Parse("{publish: {allw: a}}").status().message()),
              HasSubstr("Unknown field name \"allw\" parsing subject permissions, only "
                        "'allow' or 'deny' are permitted"));
  EXPECT_THAT(std::string(Parse("{publish: \"a..b\"}").status().message()),
              HasSubstr("subject \"a..b\" is not a valid subject"));
  EXPECT_THAT(std::string(Parse("{subscribe: \"a.> q x\"}").status().message()),
              HasSubstr("subject \"a.> q x\" is not a valid subject"));
  EXPECT_THAT(std::string(Parse("{publish: [1]}").status().message()),
              HasSubstr("Subject in permissions array cannot be cast to string"));
  EXPECT_THAT(std::string(Parse("{publish: 5}").status().message()),
              HasSubstr("Expected subject permissions to be a subject, or array of "
                        "subjects, got int64"));
  EXPECT_THAT(std::string(Parse("{allow_responses: 5}").status().message()),
              HasSubstr("error parsing response permissions, expected a boolean or a map"));
  EXPECT_THAT(std::string(Parse("{allow_responses: {expires: \"5x\"}}").status().message()),
              HasSubstr("error parsing expires: time: unknown unit"));
  EXPECT_THAT(std::string(Parse("{allow_responses: {expires: 5}}").status().message()),
              HasSubstr("error parsing expires, not a duration string"));
  // Positions are file:line:col, like every config error.
  EXPECT_THAT(std::string(Parse("{x: 1}").status().message()), HasSubstr("test.conf:1:"));
}

TEST(PermissionsTest, SubsetMatch) {
  EXPECT_TRUE(SubjectIsSubsetMatch("foo.bar", "foo.*"));
  EXPECT_TRUE(SubjectIsSubsetMatch("foo.*", "foo.>"));
  EXPECT_TRUE(SubjectIsSubsetMatch("foo.*", "*.*"));
  EXPECT_TRUE(SubjectIsSubsetMatch("foo.*", ">"));
  EXPECT_FALSE(SubjectIsSubsetMatch("foo.*", "foo.bar"));
  EXPECT_FALSE(SubjectIsSubsetMatch("foo.>", "foo.*"));
  EXPECT_FALSE(SubjectIsSubsetMatch("foo", "foo.*"));
  EXPECT_TRUE(SubjectIsSubsetMatch("foo.bar", "foo.bar"));
}

TEST(PermissionsTest, PublishAllowDeny) {
  auto p = Compile(R"({publish: {allow: ["orders.>", "audit"], deny: "orders.secret"}})");
  EXPECT_TRUE(p->has_publish_lists());
  EXPECT_TRUE(p->PublishListsAllow("orders.new"));
  EXPECT_TRUE(p->PublishListsAllow("audit"));
  EXPECT_FALSE(p->PublishListsAllow("orders.secret"));  // deny wins
  EXPECT_FALSE(p->PublishListsAllow("other"));
  EXPECT_FALSE(p->PublishListsAllow("audit.x"));

  auto only_deny = Compile(R"({publish: {deny: "a.*"}})");
  EXPECT_TRUE(only_deny->PublishListsAllow("b"));
  EXPECT_FALSE(only_deny->PublishListsAllow("a.b"));

  auto none = Compile(R"({subscribe: "x"})");
  EXPECT_FALSE(none->has_publish_lists());
}

TEST(PermissionsTest, SubscribeLikeTheReference) {
  bool scope = false;
  auto p = Compile(R"({subscribe: {allow: ["foo.*", "bar v1", "q.> v.*"]}})");
  EXPECT_TRUE(p->CanSubscribe("foo.x", "", &scope));
  // A literal wildcard token is matched by a wildcard in the list: "foo.>"
  // is within "foo.*" for the reference too.
  EXPECT_TRUE(p->CanSubscribe("foo.>", "", &scope));
  EXPECT_TRUE(p->CanSubscribe("foo.*", "any", &scope));
  EXPECT_FALSE(p->CanSubscribe("foo.x.y", "", &scope));
  EXPECT_FALSE(p->CanSubscribe("bar", "", &scope));  // queue-only entry
  EXPECT_TRUE(p->CanSubscribe("bar", "v1", &scope));
  EXPECT_FALSE(p->CanSubscribe("bar", "v2", &scope));
  EXPECT_TRUE(p->CanSubscribe("q.a", "v.blue", &scope));  // wildcard queue name
  EXPECT_FALSE(p->CanSubscribe("q.a", "w", &scope));

  auto d = Compile(R"({subscribe: {deny: ["secret.>", "jobs v1"]}})");
  EXPECT_FALSE(d->CanSubscribe("secret.a", "", &scope));
  EXPECT_TRUE(d->CanSubscribe("jobs", "", &scope));
  EXPECT_FALSE(d->CanSubscribe("jobs", "v1", &scope));
  EXPECT_TRUE(d->CanSubscribe("jobs", "v2", &scope));
  scope = false;
  EXPECT_TRUE(d->CanSubscribe("public", "", &scope));
  EXPECT_FALSE(scope);
  // A wider wildcard is allowed, and flags delivery filtering.
  EXPECT_TRUE(d->CanSubscribe(">", "", &scope));
  EXPECT_TRUE(scope);
  EXPECT_TRUE(d->DeliveryDenied("secret.x"));
  EXPECT_FALSE(d->DeliveryDenied("jobs"));
  EXPECT_FALSE(d->DeliveryDenied("public"));
}

TEST(PermissionsTest, EmptySubscribeAllowAllowsAll) {
  PermissionsConfig cfg;
  cfg.subscribe.emplace();
  cfg.subscribe->allow.emplace();
  bool scope = false;
  EXPECT_TRUE(Permissions::Compile(cfg)->CanSubscribe("x", "", &scope));
  // But an explicit empty publish allow list allows nothing.
  cfg.publish.emplace();
  cfg.publish->allow.emplace();
  EXPECT_FALSE(Permissions::Compile(cfg)->PublishListsAllow("x"));
}

TEST(ClientPermissionsTest, FiltersDeliveriesOnceAWildcardOverlapsADeny) {
  ClientPermissions c(Compile(R"({subscribe: {deny: "foo.secret"}})"));
  EXPECT_TRUE(c.AllowDelivery("foo.secret", ""));  // no wildcard yet
  EXPECT_TRUE(c.CanSubscribe("foo.*", ""));
  EXPECT_FALSE(c.AllowDelivery("foo.secret", ""));
  EXPECT_TRUE(c.AllowDelivery("foo.public", ""));
  EXPECT_FALSE(c.CanSubscribe("foo.secret", ""));
}

TEST(ClientPermissionsTest, ResponsesWithinMaxAndExpiry) {
  ClientPermissions c(Compile(R"({allow_responses: {max: 2}})"));
  EXPECT_FALSE(c.PublishAllowed("_INBOX.a"));
  EXPECT_TRUE(c.AllowDelivery("svc", "_INBOX.a"));
  EXPECT_TRUE(c.PublishAllowed("_INBOX.a"));
  EXPECT_TRUE(c.PublishAllowed("_INBOX.a"));
  EXPECT_FALSE(c.PublishAllowed("_INBOX.a"));  // third response: over max
  EXPECT_FALSE(c.PublishAllowed("_INBOX.a"));
  EXPECT_FALSE(c.PublishAllowed("svc"));  // nothing else may be published

  ClientPermissions e(Compile(R"({allow_responses: {expires: "1ms"}, publish: "x"})"));
  EXPECT_TRUE(e.PublishAllowed("x"));
  EXPECT_TRUE(e.AllowDelivery("svc", "r"));
  absl::SleepFor(absl::Milliseconds(5));
  EXPECT_FALSE(e.PublishAllowed("r"));

  ClientPermissions unlimited(Compile(R"({allow_responses: {max: -1}})"));
  EXPECT_TRUE(unlimited.AllowDelivery("svc", "r"));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(unlimited.PublishAllowed("r"));
}

TEST(ClientPermissionsTest, ReplyTrackingIsBounded) {
  ClientPermissions c(Compile(R"({allow_responses: true})"));
  for (size_t i = 0; i < kReplyPermLimit + 10; ++i) {
    c.AllowDelivery("svc", "r." + std::to_string(i));
    // Answer each one, so pruning can drop it.
    EXPECT_TRUE(c.PublishAllowed("r." + std::to_string(i)));
  }
  // The latest one is still there after pruning.
  EXPECT_TRUE(c.AllowDelivery("svc", "r.last"));
  EXPECT_TRUE(c.PublishAllowed("r.last"));
}

}  // namespace
}  // namespace natsd
