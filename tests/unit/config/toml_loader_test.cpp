#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "config/config.hpp"

using namespace huddle::config;
using namespace std::chrono_literals;

namespace {

std::vector<ConfigError> load(Settings& s, std::string_view text) {
    return apply_toml_text(s, text, "test.toml");
}

std::string all(const std::vector<ConfigError>& errors) {
    std::string out;
    for (const auto& e : errors) {
        out += format_error(e) + "\n";
    }
    return out;
}

const NamespaceSettings* find_namespace(const Settings& s, std::string_view name) {
    for (const auto& ns : s.namespaces) {
        if (ns.name == name) {
            return &ns;
        }
    }
    return nullptr;
}

}  // namespace

TEST(TomlLoader, EmptyDocumentChangesNothing) {
    Settings s;
    EXPECT_TRUE(load(s, "").empty());
    EXPECT_EQ(settings_to_toml(s, false), settings_to_toml(Settings{}, false));
}

TEST(TomlLoader, EveryType) {
    Settings s;
    const auto errors = load(s, R"(
[server]
host = "127.0.0.1"
port = 4000
threads = 2
allowed_origins = ["https://app.example.com", "http://localhost:5173"]
permessage_deflate = true
shutdown_deadline = "1m30s"

[auth]
leeway = 5000

[limits]
max_message_bytes = "1MiB"
max_pending_bytes = 4194304
handshake_timeout = 2500

[heartbeat]
ping_interval = "10s"
pong_timeout = "25s"

[log]
level = "DEBUG"
format = "json"
)");
    EXPECT_TRUE(errors.empty()) << all(errors);
    EXPECT_EQ(s.server.host, "127.0.0.1");
    EXPECT_EQ(s.server.port, 4000);
    EXPECT_EQ(s.server.threads, 2u);
    EXPECT_EQ(s.server.allowed_origins,
              (std::vector<std::string>{"https://app.example.com", "http://localhost:5173"}));
    EXPECT_TRUE(s.server.permessage_deflate);
    EXPECT_EQ(s.server.shutdown_deadline, 90s);
    EXPECT_EQ(s.auth.leeway, 5s);
    EXPECT_EQ(s.limits.max_message_bytes, 1024u * 1024u);
    EXPECT_EQ(s.limits.max_pending_bytes, 4u * 1024u * 1024u);
    EXPECT_EQ(s.limits.handshake_timeout, 2500ms);
    EXPECT_EQ(s.heartbeat.ping_interval, 10s);
    EXPECT_EQ(s.heartbeat.pong_timeout, 25s);
    EXPECT_EQ(s.log.level, "debug");
    EXPECT_EQ(s.log.format, LogFormat::json);
}

TEST(TomlLoader, DottedKeysAndInlineTablesWork) {
    Settings s;
    const auto errors = load(s, "server.port = 5000\nauth = { issuer = \"https://id\" }\n");
    EXPECT_TRUE(errors.empty()) << all(errors);
    EXPECT_EQ(s.server.port, 5000);
    EXPECT_EQ(s.auth.issuer, "https://id");
}

TEST(TomlLoader, UnknownKeyIsReportedWithItsLine) {
    Settings s;
    const auto errors = load(s, "[server]\nhost = \"::\"\n\nprot = 4000\n");
    ASSERT_EQ(errors.size(), 1u) << all(errors);
    EXPECT_EQ(errors[0].source, "test.toml");
    EXPECT_EQ(errors[0].line, 4);
    EXPECT_EQ(format_error(errors[0]),
              "test.toml:4: unknown setting 'server.prot' (did you mean 'server.port'?)");
    EXPECT_EQ(s.server.host, "::");  // the rest of the file still applies
}

TEST(TomlLoader, UnknownSectionsAndMisplacedKeys) {
    Settings s;
    const auto errors = load(s, "port = 1\n[srever]\nport = 2\n[server.tls]\ncert = \"x\"\n");
    ASSERT_EQ(errors.size(), 3u) << all(errors);
    EXPECT_EQ(format_error(errors[0]),
              "test.toml:1: unknown setting 'port' (did you mean 'server.port'?)");
    EXPECT_EQ(format_error(errors[1]),
              "test.toml:2: unknown setting 'srever' (did you mean 'server'?)");
    EXPECT_EQ(errors[2].line, 4);
    EXPECT_EQ(errors[2].message, "unknown setting 'server.tls'");
    EXPECT_EQ(s.server.port, 3000);
}

TEST(TomlLoader, SectionMustBeATable) {
    Settings s;
    const auto errors = load(s, "server = 4000\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(format_error(errors[0]),
              "test.toml:1: 'server' must be a table ([server]), got an integer");
}

TEST(TomlLoader, AllErrorsAreReportedAtOnce) {
    Settings s;
    const auto errors = load(s, R"([server]
port = 70000
threads = "four"
permessage_deflate = "yes"
allowed_origins = ["https://a.example", 3]
shutdown_deadline = "soon"
host = 1
[auth]
leeway = "1500ms"
[limits]
max_message_bytes = "2GiB"
max_pending_bytes = 1.5
[log]
level = "verbose"
[heartbeat]
ping_interval = -5
)");
    ASSERT_EQ(errors.size(), 11u) << all(errors);
    const std::vector<std::pair<int, std::string>> expected{
        {2, "server.port: 70000 is out of range 1..65535"},
        {3, "server.threads: expected an integer, got a string"},
        {4, "server.permessage_deflate: expected a boolean (true or false), got a string"},
        {5, "server.allowed_origins: expected an array of strings, element 2 is an integer"},
        {6,
         "server.shutdown_deadline: expected a duration such as 1500, \"500ms\", \"30s\", "
         "\"1m\", \"1h\", got 'soon'"},
        {7, "server.host: expected a string, got an integer"},
        {9, "auth.leeway: must be a whole number of seconds, got 1500ms"},
        {11, "limits.max_message_bytes: 2GiB is out of range 1..1GiB"},
        {12,
         "limits.max_pending_bytes: expected a size (integer bytes or \"64KiB\"), got a "
         "floating-point number"},
        {14, "log.level: 'verbose' is not one of: error, warn, info, debug"},
        {16, "heartbeat.ping_interval: -5ms is out of range 10ms..1h"},
    };
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(errors[i].line, expected[i].first) << errors[i].message;
        EXPECT_EQ(errors[i].message, expected[i].second);
    }
    // Nothing wrong was applied.
    EXPECT_EQ(settings_to_toml(s, false), settings_to_toml(Settings{}, false));
}

TEST(TomlLoader, SyntaxErrorHasItsLine) {
    Settings s;
    const auto errors = load(s, "[server]\nport = 4000\nhost = \"unterminated\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].line, 3);
    EXPECT_EQ(errors[0].source, "test.toml");
    EXPECT_FALSE(errors[0].message.empty());
    EXPECT_EQ(s.server.port, 3000);  // a file that does not parse applies nothing
}

TEST(TomlLoader, DuplicateKeyIsASyntaxError) {
    Settings s;
    const auto errors = load(s, "[server]\nport = 1\nport = 2\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].line, 3);
}

TEST(TomlLoader, NamespacesReplaceDefaultsButKeepUserAndStar) {
    Settings s;
    const auto errors = load(s, R"(
[[namespaces]]
name = "team"
access = "authenticated"
client_publish = true
presence_events = true
publish_per_minute = 30

[[namespaces]]
name = "issue"
)");
    EXPECT_TRUE(errors.empty()) << all(errors);
    ASSERT_EQ(s.namespaces.size(), 4u);
    EXPECT_EQ(s.namespaces[0].name, "team");
    EXPECT_EQ(s.namespaces[0].access, AccessRule::authenticated);
    EXPECT_TRUE(s.namespaces[0].client_publish);
    EXPECT_TRUE(s.namespaces[0].presence_events);
    EXPECT_EQ(s.namespaces[0].publish_per_minute, 30u);
    EXPECT_EQ(s.namespaces[1].name, "issue");
    EXPECT_FALSE(s.namespaces[1].client_publish);
    EXPECT_EQ(s.namespaces[1].publish_per_minute, 0u);
    ASSERT_NE(find_namespace(s, "user"), nullptr);
    EXPECT_EQ(find_namespace(s, "user")->access, AccessRule::own_user);
    ASSERT_NE(find_namespace(s, "*"), nullptr);
    EXPECT_EQ(find_namespace(s, "*")->access, AccessRule::authenticated);
    EXPECT_TRUE(validate(s).empty()) << all(validate(s));
}

TEST(TomlLoader, NamespacesMayRedefineTheDefaults) {
    Settings s;
    const auto errors = load(s, R"(
[[namespaces]]
name = "*"
client_publish = true
[[namespaces]]
name = "user"
access = "own-user"
presence_events = true
)");
    EXPECT_TRUE(errors.empty()) << all(errors);
    ASSERT_EQ(s.namespaces.size(), 2u);
    EXPECT_EQ(s.namespaces[0].name, "*");
    EXPECT_TRUE(s.namespaces[0].client_publish);
    EXPECT_EQ(s.namespaces[1].name, "user");
    EXPECT_TRUE(s.namespaces[1].presence_events);
}

TEST(TomlLoader, EmptyNamespaceArrayLeavesTheDefaults) {
    Settings s;
    EXPECT_TRUE(load(s, "namespaces = []\n").empty());
    ASSERT_EQ(s.namespaces.size(), 2u);
    EXPECT_EQ(s.namespaces[0].name, "user");
    EXPECT_EQ(s.namespaces[1].name, "*");
}

TEST(TomlLoader, InvalidNamespacesAreReportedWithLines) {
    Settings s;
    const auto errors = load(s, R"([[namespaces]]
name = "Team"
[[namespaces]]
name = "team"
access = "everyone"
[[namespaces]]
name = "ok"
acess = "own-user"
[[namespaces]]
client_publish = true
[[namespaces]]
name = "dup"
[[namespaces]]
name = "dup"
[[namespaces]]
name = "*"
access = "own-user"
[[namespaces]]
name = "big"
publish_per_minute = 2000000
presence_events = 1
)");
    ASSERT_EQ(errors.size(), 8u) << all(errors);
    const std::vector<std::pair<int, std::string>> expected{
        {2, "invalid namespace name 'Team': use 1 to 32 characters of a-z 0-9 _ -, or *"},
        {5,
         "namespaces.access: unknown access rule 'everyone' (expected \"authenticated\", "
         "\"own-user\", \"claim\", \"subscription-token\" or \"webhook\")"},
        {8, "unknown namespace setting 'acess' (did you mean 'access'?)"},
        {9, "namespace without a name (add name = \"...\")"},
        {13, "namespace 'dup' is defined twice (first on line 11)"},
        {15, "namespace '*' cannot be own-user (own-user rooms are <name>:<user>)"},
        {20, "namespaces.publish_per_minute: 2000000 is out of range 0..1000000"},
        {21, "namespaces.presence_events: expected a boolean (true or false), got an integer"},
    };
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(errors[i].line, expected[i].first) << errors[i].message;
        EXPECT_EQ(errors[i].message, expected[i].second);
    }
    // Only the valid entries were kept, then the defaults added.
    std::vector<std::string> names;
    for (const auto& ns : s.namespaces) {
        names.push_back(ns.name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"dup", "user", "*"}));
}

TEST(TomlLoader, NamespacesMustBeAnArrayOfTables) {
    Settings s;
    auto errors = load(s, "[namespaces]\nname = \"team\"\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].line, 1);
    EXPECT_EQ(errors[0].message,
              "'namespaces' must be an array of tables: write [[namespaces]], got a table");
    errors = load(s, "namespaces = [\"team\"]\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].message, "namespaces: element 1 must be a table, got a string");
}

TEST(TomlLoader, InlineNamespaceTables) {
    Settings s;
    const auto errors =
        load(s, "namespaces = [ { name = \"doc\", access = \"authenticated\" } ]\n");
    EXPECT_TRUE(errors.empty()) << all(errors);
    ASSERT_NE(find_namespace(s, "doc"), nullptr);
    EXPECT_EQ(s.namespaces.size(), 3u);
}

TEST(TomlLoader, FileThatCannotBeReadIsOneError) {
    Settings s;
    auto errors = apply_toml_file(s, "/nonexistent/huddle.toml");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].source, "/nonexistent/huddle.toml");
    EXPECT_EQ(errors[0].line, 0);
    EXPECT_NE(errors[0].message.find("cannot open the config file"), std::string::npos);
    errors = apply_toml_file(s, std::filesystem::temp_directory_path().string());
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].message.find("directory"), std::string::npos);
}

TEST(TomlLoader, FileErrorsNameThePath) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("huddle_config_test_" + std::to_string(::getpid()) + ".toml");
    std::ofstream(path) << "[server]\nport = 4001\n\n[limits]\nmax_rooms = 3\n";
    Settings s;
    const auto errors = apply_toml_file(s, path.string());
    std::filesystem::remove(path);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(format_error(errors[0]), path.string() + ":5: unknown setting 'limits.max_rooms'");
    EXPECT_EQ(s.server.port, 4001);
}

TEST(TomlLoader, ToTomlRoundTrips) {
    Settings s;
    s.server.port = 4444;
    s.server.allowed_origins = {"https://a.example", "quote\"d"};
    s.auth.secret = "s3cr3t\\with\nnewline";
    s.limits.max_message_bytes = 1000;
    s.namespaces.push_back({.name = "team", .client_publish = true, .publish_per_minute = 7});
    const std::string text = settings_to_toml(s, false);
    Settings loaded;
    const auto errors = load(loaded, text);
    EXPECT_TRUE(errors.empty()) << all(errors) << text;
    EXPECT_EQ(settings_to_toml(loaded, false), text);
    EXPECT_EQ(loaded.auth.secret, s.auth.secret);

    const std::string masked = settings_to_toml(s);
    EXPECT_EQ(masked.find("s3cr3t"), std::string::npos);
    EXPECT_EQ(masked.find("huddle-development-api-key"), std::string::npos);
    EXPECT_NE(masked.find("secret = \"(hidden)\""), std::string::npos);
}
