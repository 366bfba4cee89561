#include <gtest/gtest.h>

#include <algorithm>

#include "config/config.hpp"

using namespace huddle::config;

namespace {

bool mentions(const std::vector<ConfigError>& errors, std::string_view text) {
    return std::any_of(errors.begin(), errors.end(), [text](const ConfigError& e) {
        return e.message.find(text) != std::string::npos;
    });
}

}  // namespace

TEST(DemoSettings, OffByDefaultAndServingWebDist) {
    const Settings s;
    EXPECT_FALSE(s.server.demo_tokens);
    EXPECT_EQ(s.server.demo_dir, "web/dist");
}

TEST(DemoSettings, TokensAreAllowedWithTheDevelopmentSecret) {
    Settings s;
    s.server.demo_tokens = true;
    EXPECT_TRUE(validate(s).empty());
    EXPECT_TRUE(mentions(settings_warnings(s), "demo tokens are on"));
}

TEST(DemoSettings, TokensAreRefusedWithARealSecretOrWithoutHmac) {
    Settings s;
    s.server.demo_tokens = true;
    s.auth.secret = "a-real-secret-of-at-least-thirty-two-bytes";
    EXPECT_TRUE(mentions(validate(s), "server.demo_tokens"));

    Settings rsa;
    rsa.server.demo_tokens = true;
    rsa.auth.algorithms = {"RS256"};
    rsa.auth.rsa_public_key_file = "/nonexistent.pem";
    EXPECT_TRUE(mentions(validate(rsa), "server.demo_tokens"));

    s.server.demo_tokens = false;
    EXPECT_FALSE(mentions(validate(s), "server.demo_tokens"));
}

TEST(DemoSettings, SetFromTheCommandLineForm) {
    Settings s;
    EXPECT_TRUE(apply_assignment(s, "server.demo_tokens=true", "--set").empty());
    EXPECT_TRUE(apply_assignment(s, "server.demo_dir=/srv/pages", "--set").empty());
    EXPECT_TRUE(s.server.demo_tokens);
    EXPECT_EQ(s.server.demo_dir, "/srv/pages");
}
