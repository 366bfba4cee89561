#include "config/setting_table.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace huddle::config;
using namespace std::chrono_literals;

TEST(SettingTable, KeysAndEnvironmentNamesAreUniqueAndDerived) {
    std::set<std::string> keys;
    std::set<std::string> envs;
    for (const auto& d : setting_table()) {
        EXPECT_TRUE(keys.insert(d.key).second) << d.key;
        EXPECT_EQ(d.env, env_name_for(d.key));
        EXPECT_TRUE(envs.insert(d.env).second) << d.env;
        for (const auto& alias : d.env_aliases) {
            EXPECT_TRUE(envs.insert(alias).second) << alias;
        }
        EXPECT_FALSE(d.description.empty()) << d.key;
        EXPECT_NE(d.description.back(), '.') << d.key;
        ASSERT_TRUE(d.set && d.get) << d.key;
    }
    EXPECT_EQ(env_name_for("server.port"), "HUDDLE_SERVER_PORT");
    EXPECT_EQ(env_name_for("limits.max_message_bytes"), "HUDDLE_LIMITS_MAX_MESSAGE_BYTES");
}

TEST(SettingTable, DefaultsAreWithinTheirRangesAndRoundTripThroughText) {
    const Settings defaults;
    for (const auto& d : setting_table()) {
        const SettingValue v = d.get(defaults);
        EXPECT_EQ(check_setting_value(d, v), std::nullopt) << d.key;
        Settings s;
        ASSERT_EQ(d.set(s, v), std::nullopt) << d.key;
        EXPECT_EQ(d.get(s), v) << d.key;
    }
}

TEST(SettingTable, AliasesAreTheOnesUsersExpect) {
    EXPECT_EQ(find_setting("server.port")->env_aliases, std::vector<std::string>{"HUDDLE_PORT"});
    EXPECT_EQ(find_setting("auth.secret")->env_aliases, std::vector<std::string>{"HUDDLE_SECRET"});
    EXPECT_EQ(find_setting("api.api_key")->env_aliases, std::vector<std::string>{"HUDDLE_API_KEY"});
    EXPECT_EQ(find_setting("server.prot"), nullptr);
}

TEST(Duration, ParsesMillisecondsAndUnits) {
    EXPECT_EQ(parse_duration("1500"), 1500ms);
    EXPECT_EQ(parse_duration("500ms"), 500ms);
    EXPECT_EQ(parse_duration("30s"), 30s);
    EXPECT_EQ(parse_duration("1m"), 1min);
    EXPECT_EQ(parse_duration("1h"), 1h);
    EXPECT_EQ(parse_duration("1m30s"), 90s);
    EXPECT_EQ(parse_duration("1h2m3s4ms"), 1h + 2min + 3s + 4ms);
    EXPECT_EQ(parse_duration(" 0 "), 0ms);
    EXPECT_EQ(parse_duration("0s"), 0ms);
}

TEST(Duration, RejectsMalformedText) {
    for (const char* bad : {"", "s", "-1s", "1.5s", "10 s", "1d", "30sec", "1S", "ms", "1m 2s",
                            "abc", "99999999999999999999", "9223372036854775807h", "+5"}) {
        EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
    }
}

TEST(Duration, FormatsWithTheLargestExactUnit) {
    EXPECT_EQ(format_duration(0ms), "0s");
    EXPECT_EQ(format_duration(500ms), "500ms");
    EXPECT_EQ(format_duration(1500ms), "1500ms");
    EXPECT_EQ(format_duration(30s), "30s");
    EXPECT_EQ(format_duration(90s), "90s");
    EXPECT_EQ(format_duration(2min), "2m");
    EXPECT_EQ(format_duration(1h), "1h");
}

TEST(Size, ParsesBytesAndUnits) {
    EXPECT_EQ(parse_size("65536"), 65536);
    EXPECT_EQ(parse_size("512B"), 512);
    EXPECT_EQ(parse_size("64KiB"), 64 * 1024);
    EXPECT_EQ(parse_size("1MiB"), 1024 * 1024);
    EXPECT_EQ(parse_size("2GiB"), 2LL * 1024 * 1024 * 1024);
    EXPECT_EQ(parse_size("64 kib"), 64 * 1024);
    EXPECT_EQ(parse_size("10kB"), 10'000);
    EXPECT_EQ(parse_size("3MB"), 3'000'000);
    EXPECT_EQ(parse_size("1GB"), 1'000'000'000);
}

TEST(Size, RejectsMalformedText) {
    for (const char* bad : {"", "KiB", "-1", "1.5MiB", "1TiB", "64K", "10 bytes",
                            "99999999999999GiB", "99999999999999999999"}) {
        EXPECT_EQ(parse_size(bad), std::nullopt) << bad;
    }
}

TEST(Size, Formats) {
    EXPECT_EQ(format_size(65536), "64KiB");
    EXPECT_EQ(format_size(1024 * 1024), "1MiB");
    EXPECT_EQ(format_size(1LL << 30), "1GiB");
    EXPECT_EQ(format_size(1000), "1000");
    EXPECT_EQ(format_size(0), "0");
}

TEST(ParseText, EveryType) {
    auto parse = [](std::string_view key, std::string_view text) {
        return parse_setting_text(*find_setting(key), text);
    };
    EXPECT_EQ(parse("server.host", " 127.0.0.1").value, SettingValue(std::string(" 127.0.0.1")));
    EXPECT_EQ(parse("server.port", " 4000 ").value, SettingValue(std::int64_t{4000}));
    EXPECT_EQ(parse("server.permessage_deflate", "yes").value, SettingValue(true));
    EXPECT_EQ(parse("server.permessage_deflate", "OFF").value, SettingValue(false));
    EXPECT_EQ(parse("server.shutdown_deadline", "2s").value, SettingValue(2000ms));
    EXPECT_EQ(parse("limits.max_message_bytes", "1MiB").value, SettingValue(std::int64_t{1 << 20}));
    EXPECT_EQ(parse("server.allowed_origins", " https://a.example , https://b.example,,").value,
              SettingValue(std::vector<std::string>{"https://a.example", "https://b.example"}));
    EXPECT_EQ(parse("server.allowed_origins", "").value, SettingValue(std::vector<std::string>{}));
    EXPECT_EQ(parse("log.level", "DEBUG").value, SettingValue(std::string("debug")));
}

TEST(ParseText, ErrorsNameTheProblem) {
    auto error = [](std::string_view key, std::string_view text) {
        auto parsed = parse_setting_text(*find_setting(key), text);
        EXPECT_FALSE(parsed.value.has_value()) << key << "=" << text;
        return parsed.error;
    };
    EXPECT_EQ(error("server.port", "abc"), "expected an integer, got 'abc'");
    EXPECT_EQ(error("server.port", "0"), "0 is out of range 1..65535");
    EXPECT_EQ(error("server.port", "65536"), "65536 is out of range 1..65535");
    EXPECT_EQ(error("server.port", "-1"), "-1 is out of range 1..65535");
    EXPECT_EQ(error("server.threads", "257"), "257 is out of range 0..256");
    EXPECT_EQ(error("server.permessage_deflate", "maybe"),
              "expected a boolean (true/false), got 'maybe'");
    EXPECT_NE(error("heartbeat.ping_interval", "soon").find("expected a duration"),
              std::string::npos);
    EXPECT_EQ(error("heartbeat.ping_interval", "2h"), "2h is out of range 10ms..1h");
    EXPECT_EQ(error("limits.max_message_bytes", "2GiB"), "2GiB is out of range 1..1GiB");
    EXPECT_EQ(error("limits.max_message_bytes", "0"), "0 is out of range 1..1GiB");
    EXPECT_NE(error("limits.max_message_bytes", "lots").find("expected a size"), std::string::npos);
    EXPECT_EQ(error("log.level", "verbose"), "'verbose' is not one of: error, warn, info, debug");
    EXPECT_EQ(error("server.port", "a\nb"), "expected an integer, got 'a\\x0ab'");
}

TEST(SettingTable, WholeSecondsSettingRefusesMilliseconds) {
    Settings s;
    const auto& d = *find_setting("auth.leeway");
    EXPECT_EQ(d.set(s, SettingValue(5s)), std::nullopt);
    EXPECT_EQ(s.auth.leeway, 5s);
    EXPECT_EQ(d.set(s, SettingValue(1500ms)),
              std::optional<std::string>("must be a whole number of seconds, got 1500ms"));
    EXPECT_EQ(s.auth.leeway, 5s);
}

TEST(SettingTable, FormatsValuesAsToml) {
    EXPECT_EQ(default_text(*find_setting("server.port")), "3000");
    EXPECT_EQ(default_text(*find_setting("server.host")), "\"0.0.0.0\"");
    EXPECT_EQ(default_text(*find_setting("server.allowed_origins")), "[]");
    EXPECT_EQ(default_text(*find_setting("auth.algorithms")), "[\"HS256\"]");
    EXPECT_EQ(default_text(*find_setting("auth.leeway")), "\"30s\"");
    EXPECT_EQ(default_text(*find_setting("limits.max_message_bytes")), "\"64KiB\"");
    EXPECT_EQ(default_text(*find_setting("server.permessage_deflate")), "false");
    EXPECT_EQ(default_text(*find_setting("log.format")), "\"auto\"");
    const auto& host = *find_setting("server.host");
    EXPECT_EQ(format_setting_value(host, std::string("a\"b\\c\n")), "\"a\\\"b\\\\c\\n\"");
}

TEST(NamespaceNames, Rules) {
    for (const char* good :
         {"*", "team", "a", "user_2", "my-ns", "abcdefghijabcdefghijabcdefghij12"}) {
        EXPECT_TRUE(valid_namespace_name(good)) << good;
    }
    for (const char* bad :
         {"", "Team", "a:b", "a b", "**", "team*", "é", "abcdefghijabcdefghijabcdefghij123"}) {
        EXPECT_FALSE(valid_namespace_name(bad)) << bad;
    }
    EXPECT_EQ(parse_access_rule("own-user"), AccessRule::own_user);
    EXPECT_EQ(parse_access_rule("authenticated"), AccessRule::authenticated);
    EXPECT_EQ(parse_access_rule("own_user"), std::nullopt);
    EXPECT_EQ(access_rule_name(AccessRule::own_user), "own-user");
}

TEST(ClosestMatch, SuggestsTyposOnly) {
    const std::vector<std::string> keys{"server.port", "server.host", "auth.secret"};
    EXPECT_EQ(closest_match("server.prot", keys), "server.port");
    EXPECT_EQ(closest_match("SERVER.PORT", keys), "server.port");
    EXPECT_EQ(closest_match("auth.secrte", keys), "auth.secret");
    EXPECT_EQ(closest_match("something.else", keys), std::nullopt);
    EXPECT_EQ(closest_match(std::string(1000, 'x'), keys), std::nullopt);
}
