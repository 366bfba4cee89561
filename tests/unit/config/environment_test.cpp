#include <gtest/gtest.h>

#include <map>

#include "config/config.hpp"

using namespace huddle::config;
using namespace std::chrono_literals;

namespace {

// A fake environment for apply_environment.
struct FakeEnv {
    std::map<std::string, std::string> vars;

    std::function<const char*(const char*)> getenv() const {
        return [this](const char* name) -> const char* {
            auto it = vars.find(name);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

std::string all(const std::vector<ConfigError>& errors) {
    std::string out;
    for (const auto& e : errors) {
        out += format_error(e) + "\n";
    }
    return out;
}

}  // namespace

TEST(Environment, CanonicalNamesOfEveryType) {
    FakeEnv env{{
        {"HUDDLE_SERVER_HOST", "127.0.0.1"},
        {"HUDDLE_SERVER_PORT", "4100"},
        {"HUDDLE_SERVER_ALLOWED_ORIGINS", "https://a.example, https://b.example"},
        {"HUDDLE_SERVER_PERMESSAGE_DEFLATE", "true"},
        {"HUDDLE_SERVER_SHUTDOWN_DEADLINE", "3s"},
        {"HUDDLE_AUTH_ALGORITHMS", "HS256,RS256"},
        {"HUDDLE_LIMITS_MAX_MESSAGE_BYTES", "128KiB"},
        {"HUDDLE_LOG_LEVEL", "warn"},
        {"HUDDLE_LOG_FORMAT", "text"},
        {"OTHER_VARIABLE", "ignored"},
    }};
    Settings s;
    const auto errors = apply_environment(s, env.getenv());
    EXPECT_TRUE(errors.empty()) << all(errors);
    EXPECT_EQ(s.server.host, "127.0.0.1");
    EXPECT_EQ(s.server.port, 4100);
    EXPECT_EQ(s.server.allowed_origins,
              (std::vector<std::string>{"https://a.example", "https://b.example"}));
    EXPECT_TRUE(s.server.permessage_deflate);
    EXPECT_EQ(s.server.shutdown_deadline, 3s);
    EXPECT_EQ(s.auth.algorithms, (std::vector<std::string>{"HS256", "RS256"}));
    EXPECT_EQ(s.limits.max_message_bytes, 128u * 1024u);
    EXPECT_EQ(s.log.level, "warn");
    EXPECT_EQ(s.log.format, LogFormat::text);
}

TEST(Environment, Aliases) {
    FakeEnv env{{{"HUDDLE_PORT", "8080"},
                 {"HUDDLE_SECRET", "alias-secret"},
                 {"HUDDLE_API_KEY", "alias-key"}}};
    Settings s;
    EXPECT_TRUE(apply_environment(s, env.getenv()).empty());
    EXPECT_EQ(s.server.port, 8080);
    EXPECT_EQ(s.auth.secret, "alias-secret");
    EXPECT_EQ(s.api.api_key, "alias-key");
}

TEST(Environment, CanonicalNameWinsOverAlias) {
    FakeEnv env{{{"HUDDLE_PORT", "8080"}, {"HUDDLE_SERVER_PORT", "9090"}}};
    Settings s;
    EXPECT_TRUE(apply_environment(s, env.getenv()).empty());
    EXPECT_EQ(s.server.port, 9090);
}

TEST(Environment, OverridesTheFile) {
    Settings s;
    ASSERT_TRUE(apply_toml_text(s, "[server]\nport = 4000\nhost = \"::\"\n", "f.toml").empty());
    FakeEnv env{{{"HUDDLE_SERVER_PORT", "5000"}}};
    EXPECT_TRUE(apply_environment(s, env.getenv()).empty());
    EXPECT_EQ(s.server.port, 5000);
    EXPECT_EQ(s.server.host, "::");  // not overridden: the file's value stays
}

TEST(Environment, EveryBadVariableIsReported) {
    FakeEnv env{{{"HUDDLE_PORT", "http"},
                 {"HUDDLE_SERVER_THREADS", "1000"},
                 {"HUDDLE_HEARTBEAT_PING_INTERVAL", "often"},
                 {"HUDDLE_SERVER_PERMESSAGE_DEFLATE", ""}}};
    Settings s;
    const auto errors = apply_environment(s, env.getenv());
    ASSERT_EQ(errors.size(), 4u) << all(errors);
    EXPECT_EQ(format_error(errors[0]), "HUDDLE_PORT: server.port: expected an integer, got 'http'");
    EXPECT_EQ(format_error(errors[1]),
              "HUDDLE_SERVER_THREADS: server.threads: 1000 is out of "
              "range 0..256");
    EXPECT_EQ(errors[2].source, "HUDDLE_SERVER_PERMESSAGE_DEFLATE");
    EXPECT_EQ(errors[3].source, "HUDDLE_HEARTBEAT_PING_INTERVAL");
    EXPECT_EQ(errors[3].line, 0);
    EXPECT_EQ(s.server.port, 3000);
}

TEST(Environment, EmptyVariableClearsStringsAndLists) {
    FakeEnv env{{{"HUDDLE_AUTH_ISSUER", ""}, {"HUDDLE_AUTH_ALGORITHMS", ""}}};
    Settings s;
    s.auth.issuer = "x";
    EXPECT_TRUE(apply_environment(s, env.getenv()).empty());
    EXPECT_EQ(s.auth.issuer, "");
    EXPECT_TRUE(s.auth.algorithms.empty());
    EXPECT_FALSE(validate(s).empty());  // no algorithm at all is a validation error
}

TEST(Environment, UnknownHuddleVariablesAreWarnings) {
    const char* envp[] = {"PATH=/usr/bin",
                          "HUDDLE_SERVER_PORT=1",
                          "HUDDLE_PORT=1",
                          "HUDDLE_SERVER_PROT=1",
                          "HUDDLE_SOMETHING=x",
                          "HUDDLE_CONFIG=/etc/huddle.toml",
                          nullptr};
    const auto warnings = environment_warnings(envp);
    ASSERT_EQ(warnings.size(), 3u) << all(warnings);
    EXPECT_EQ(format_error(warnings[0]),
              "HUDDLE_SERVER_PROT: not a Huddle setting, ignored (did you mean "
              "HUDDLE_SERVER_PORT?)");
    EXPECT_EQ(format_error(warnings[1]), "HUDDLE_SOMETHING: not a Huddle setting, ignored");
    EXPECT_EQ(warnings[2].source, "HUDDLE_CONFIG");

    const std::vector<std::string> also_known{"HUDDLE_CONFIG"};
    EXPECT_EQ(environment_warnings(envp, also_known).size(), 2u);
    EXPECT_TRUE(environment_warnings(nullptr).empty());
}

TEST(KeyValue, SetsAnySetting) {
    Settings s;
    EXPECT_TRUE(apply_key_value(s, "server.port", "4000", "--set").empty());
    EXPECT_TRUE(apply_key_value(s, " heartbeat.ping_interval ", "5s", "--set").empty());
    EXPECT_TRUE(apply_key_value(s, "server.allowed_origins", "https://x.example", "--set").empty());
    EXPECT_TRUE(apply_assignment(s, "auth.issuer=https://id.example/a=b", "--set").empty());
    EXPECT_EQ(s.server.port, 4000);
    EXPECT_EQ(s.heartbeat.ping_interval, 5s);
    EXPECT_EQ(s.server.allowed_origins, std::vector<std::string>{"https://x.example"});
    EXPECT_EQ(s.auth.issuer, "https://id.example/a=b");
}

TEST(KeyValue, FlagsOverrideEnvironment) {
    Settings s;
    FakeEnv env{{{"HUDDLE_PORT", "8080"}}};
    ASSERT_TRUE(apply_environment(s, env.getenv()).empty());
    ASSERT_TRUE(apply_key_value(s, "server.port", "9000", "--port").empty());
    EXPECT_EQ(s.server.port, 9000);
}

TEST(KeyValue, Errors) {
    Settings s;
    auto errors = apply_key_value(s, "server.prot", "4000", "--set");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(format_error(errors[0]),
              "--set: unknown setting 'server.prot' (did you mean 'server.port'?)");
    errors = apply_key_value(s, "server.port", "99999", "--port");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(format_error(errors[0]), "--port: server.port: 99999 is out of range 1..65535");
    errors = apply_key_value(s, "namespaces", "x", "--set");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].message, "namespaces can only be set in the config file ([[namespaces]])");
    errors = apply_assignment(s, "server.port", "--set");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].message, "expected key=value (e.g. server.port=4000), got 'server.port'");
    EXPECT_EQ(s.server.port, 3000);
}

TEST(Warnings, DevelopmentDefaults) {
    Settings s;
    auto warnings = settings_warnings(s);
    ASSERT_EQ(warnings.size(), 2u) << all(warnings);
    EXPECT_EQ(warnings[0].source, "auth.secret");
    EXPECT_EQ(warnings[1].source, "api.api_key");

    s.auth.secret = "short";
    s.api.api_key = "a-real-key";
    warnings = settings_warnings(s);
    ASSERT_EQ(warnings.size(), 1u) << all(warnings);
    EXPECT_NE(warnings[0].message.find("shorter than 32 bytes"), std::string::npos);

    s.auth.secret = std::string(32, 'k');
    EXPECT_TRUE(settings_warnings(s).empty());

    s.auth.secret = Settings{}.auth.secret;
    s.auth.algorithms = {"RS256"};  // the secret is not used then
    EXPECT_TRUE(settings_warnings(s).empty());
}
