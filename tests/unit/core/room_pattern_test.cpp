#include "core/room_pattern.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace huddle::core {
namespace {

boost::json::object claims(std::string_view json) {
    return boost::json::parse(json).as_object();
}

TEST(MatchesWildcard, LiteralsAndStars) {
    EXPECT_TRUE(matches_wildcard("team:1", "team:1"));
    EXPECT_FALSE(matches_wildcard("team:1", "team:12"));
    EXPECT_TRUE(matches_wildcard("team:*", "team:12"));
    EXPECT_TRUE(matches_wildcard("team:*", "team:"));
    EXPECT_FALSE(matches_wildcard("team:*", "teams:1"));
    EXPECT_TRUE(matches_wildcard("*:1", "team:1"));
    EXPECT_TRUE(matches_wildcard("a*b*c", "a-x-b-y-c"));
    EXPECT_FALSE(matches_wildcard("a*b*c", "a-x-c-y-b"));
    EXPECT_TRUE(matches_wildcard("*", ""));
    EXPECT_FALSE(matches_wildcard("", "x"));
}

TEST(ExpandPattern, StringIntegerAndArrayClaims) {
    EXPECT_EQ(expand_pattern("firm:{firmId}/*", claims(R"({"firmId":"f7"})")),
              std::vector<std::string>{"firm:f7/*"});
    EXPECT_EQ(expand_pattern("firm:{firmId}", claims(R"({"firmId":8})")),
              std::vector<std::string>{"firm:8"});
    EXPECT_EQ(expand_pattern("p:{ids}", claims(R"({"ids":["a","b",3,true,{"x":1}]})")),
              (std::vector<std::string>{"p:a", "p:b", "p:3"}));
    EXPECT_EQ(expand_pattern("{a}-{b}", claims(R"({"a":["1","2"],"b":"z"})")),
              (std::vector<std::string>{"1-z", "2-z"}));
}

TEST(ExpandPattern, MissingOrUnsafeClaimsExpandToNothing) {
    EXPECT_TRUE(expand_pattern("firm:{firmId}", claims(R"({})")).empty());
    EXPECT_TRUE(expand_pattern("firm:{firmId}", claims(R"({"firmId":""})")).empty());
    // A claim cannot widen the pattern or smuggle characters a room name cannot have.
    EXPECT_TRUE(expand_pattern("firm:{firmId}", claims(R"({"firmId":"*"})")).empty());
    EXPECT_TRUE(expand_pattern("firm:{firmId}", claims(R"({"firmId":"a b"})")).empty());
    EXPECT_TRUE(expand_pattern("firm:{firmId", claims(R"({"firmId":"f"})")).empty());
}

TEST(ClaimRule, PatternOrRoomsClaim) {
    const auto token = claims(R"({"firmId":"f7","rooms":["project:p1","project:x*",5]})");
    EXPECT_TRUE(claim_rule_allows("firm:{firmId}/*", "firm:f7/draft-42", token));
    EXPECT_FALSE(claim_rule_allows("firm:{firmId}/*", "firm:f8/draft-42", token));
    EXPECT_TRUE(claim_rule_allows("firm:{firmId}/*", "project:p1", token));
    EXPECT_TRUE(claim_rule_allows("", "project:xyz", token));
    EXPECT_FALSE(claim_rule_allows("", "project:p2", token));
    EXPECT_FALSE(claim_rule_allows("", "project:p1", claims(R"({"rooms":"project:p1"})")));
}

}  // namespace
}  // namespace huddle::core
