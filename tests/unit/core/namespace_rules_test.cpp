#include <gtest/gtest.h>

#include <vector>

#include "core/namespace_rules.hpp"

using huddle::core::AccessDecision;
using huddle::core::AccessRule;
using huddle::core::NamespaceSettings;
using huddle::core::NamespaceTable;

namespace {

NamespaceSettings ns(std::string name, AccessRule access, bool client_publish = false,
                     bool presence_events = false, std::uint32_t publish_per_minute = 0) {
    NamespaceSettings settings;
    settings.name = std::move(name);
    settings.access = access;
    settings.client_publish = client_publish;
    settings.presence_events = presence_events;
    settings.publish_per_minute = publish_per_minute;
    return settings;
}

// The shape of the built-in defaults plus a team namespace that allows client publishes.
NamespaceTable typical_table() {
    return NamespaceTable({
        ns("user", AccessRule::own_user),
        ns("team", AccessRule::authenticated, true, true, 30),
        ns("*", AccessRule::authenticated),
    });
}

}  // namespace

TEST(NamespaceRules, OwnUserRoomIsAllowedForItsUser) {
    const NamespaceTable table = typical_table();
    const AccessDecision decision = table.may_subscribe("user:alice", "alice");
    EXPECT_TRUE(decision.allowed);
    EXPECT_TRUE(decision.code.empty());
}

TEST(NamespaceRules, OwnUserRoomIsForbiddenToAnotherUser) {
    const NamespaceTable table = typical_table();
    const AccessDecision decision = table.may_subscribe("user:alice", "bob");
    EXPECT_FALSE(decision.allowed);
    EXPECT_EQ(decision.code, "FORBIDDEN");
    EXPECT_FALSE(decision.message.empty());
}

TEST(NamespaceRules, OwnUserComparesTheWholeId) {
    const NamespaceTable table = typical_table();
    EXPECT_FALSE(table.may_subscribe("user:alice2", "alice").allowed);
    EXPECT_FALSE(table.may_subscribe("user:alic", "alice").allowed);
    EXPECT_FALSE(table.may_subscribe("user:Alice", "alice").allowed);
    EXPECT_FALSE(table.may_subscribe("user:alice:x", "alice").allowed);
    EXPECT_TRUE(table.may_subscribe("user:a:b", "a:b").allowed);
}

TEST(NamespaceRules, OwnUserRefusesAnonymousConnections) {
    const NamespaceTable table = typical_table();
    // An anonymous connection has no user id; "user:" must not count as its room.
    const AccessDecision decision = table.may_subscribe("user:", "");
    EXPECT_FALSE(decision.allowed);
    EXPECT_EQ(decision.code, "FORBIDDEN");
}

TEST(NamespaceRules, ListedNamespaceGetsItsRules) {
    const NamespaceTable table = typical_table();
    const NamespaceSettings& rules = table.rules_for("team:42");
    EXPECT_EQ(rules.name, "team");
    EXPECT_TRUE(rules.client_publish);
    EXPECT_TRUE(rules.presence_events);
    EXPECT_EQ(rules.publish_per_minute, 30u);
    EXPECT_EQ(table.rules_for("user:bob").access, AccessRule::own_user);
}

TEST(NamespaceRules, UnlistedNamespaceFallsBackToStar) {
    const NamespaceTable table({
        ns("team", AccessRule::authenticated),
        ns("*", AccessRule::authenticated, true, true, 7),
    });
    const NamespaceSettings& rules = table.rules_for("board:9");
    EXPECT_EQ(rules.name, "*");
    EXPECT_TRUE(rules.client_publish);
    EXPECT_TRUE(rules.presence_events);
    EXPECT_EQ(rules.publish_per_minute, 7u);
    EXPECT_TRUE(table.may_subscribe("board:9", "alice").allowed);
    EXPECT_TRUE(table.may_publish("board:9", "alice").allowed);
}

TEST(NamespaceRules, NamespaceMatchIsExactAndCaseSensitive) {
    const NamespaceTable table = typical_table();
    EXPECT_EQ(table.rules_for("Team:42").name, "*");
    EXPECT_EQ(table.rules_for("teams:42").name, "*");
    EXPECT_EQ(table.rules_for("tea:42").name, "*");
}

TEST(NamespaceRules, RoomsWithoutColonFollowStar) {
    const NamespaceTable table = typical_table();
    EXPECT_EQ(table.rules_for("lobby").name, "*");
    // "team" alone has no namespace: it is not a room of namespace "team".
    EXPECT_EQ(table.rules_for("team").name, "*");
    EXPECT_EQ(table.rules_for("user").name, "*");
    EXPECT_TRUE(table.may_subscribe("user", "alice").allowed);
}

TEST(NamespaceRules, LeadingColonHasEmptyNamespace) {
    const NamespaceTable table = typical_table();
    EXPECT_EQ(table.rules_for(":alice").name, "*");
}

TEST(NamespaceRules, MissingStarFallsBackToReadOnlyAuthenticated) {
    const NamespaceTable table({ns("team", AccessRule::authenticated, true, true, 5)});
    const NamespaceSettings& rules = table.rules_for("board:1");
    EXPECT_EQ(rules.name, "*");
    EXPECT_EQ(rules.access, AccessRule::authenticated);
    EXPECT_FALSE(rules.client_publish);
    EXPECT_FALSE(rules.presence_events);
    EXPECT_EQ(rules.publish_per_minute, 0u);
    EXPECT_TRUE(table.may_subscribe("board:1", "alice").allowed);
    const AccessDecision publish = table.may_publish("board:1", "alice");
    EXPECT_FALSE(publish.allowed);
    EXPECT_EQ(publish.code, "PUBLISH_NOT_ALLOWED");
}

TEST(NamespaceRules, EmptyTableUsesTheFallbackForEverything) {
    const NamespaceTable table({});
    EXPECT_EQ(table.rules_for("user:alice").name, "*");
    EXPECT_TRUE(table.may_subscribe("user:alice", "bob").allowed);
    EXPECT_EQ(table.may_publish("team:1", "bob").code, "PUBLISH_NOT_ALLOWED");
}

TEST(NamespaceRules, PublishRefusedWhenClientPublishIsOff) {
    const NamespaceTable table = typical_table();
    const AccessDecision decision = table.may_publish("project:1", "alice");
    EXPECT_FALSE(decision.allowed);
    EXPECT_EQ(decision.code, "PUBLISH_NOT_ALLOWED");
    EXPECT_FALSE(decision.message.empty());
    // Even to one's own user room: the user namespace does not allow client publishes here.
    EXPECT_EQ(table.may_publish("user:alice", "alice").code, "PUBLISH_NOT_ALLOWED");
}

TEST(NamespaceRules, PublishAllowedWhenClientPublishIsOn) {
    const NamespaceTable table = typical_table();
    const AccessDecision decision = table.may_publish("team:42", "alice");
    EXPECT_TRUE(decision.allowed);
    EXPECT_TRUE(decision.code.empty());
}

TEST(NamespaceRules, PublishAlsoChecksTheAccessRule) {
    const NamespaceTable table({ns("inbox", AccessRule::own_user, true)});
    EXPECT_TRUE(table.may_publish("inbox:alice", "alice").allowed);
    const AccessDecision decision = table.may_publish("inbox:alice", "bob");
    EXPECT_FALSE(decision.allowed);
    EXPECT_EQ(decision.code, "FORBIDDEN");
}
