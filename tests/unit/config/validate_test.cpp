#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "config/config.hpp"

using namespace huddle::config;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> messages(const Settings& s) {
    std::vector<std::string> out;
    for (const auto& e : validate(s)) {
        EXPECT_EQ(e.source, "settings");
        EXPECT_EQ(e.line, 0);
        out.push_back(e.message);
    }
    return out;
}

// A temporary file that exists for the test's lifetime.
class TempFile {
  public:
    explicit TempFile(const std::string& name)
        : path_(std::filesystem::temp_directory_path() /
                ("huddle_validate_" + std::to_string(::getpid()) + "_" + name)) {
        std::ofstream(path_) << "-----BEGIN TEST-----\n";
    }
    ~TempFile() { std::filesystem::remove(path_); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    std::string path() const { return path_.string(); }

  private:
    std::filesystem::path path_;
};

using Messages = std::vector<std::string>;

}  // namespace

TEST(Validate, DefaultsAreValid) {
    EXPECT_EQ(messages(Settings{}), Messages{});
}

TEST(Validate, TlsNeedsBothFilesAndTheyMustExist) {
    Settings s;
    s.server.tls_cert_file = "/nonexistent/cert.pem";
    EXPECT_EQ(messages(s),
              (Messages{"TLS needs both server.tls_cert_file and server.tls_key_file; "
                        "server.tls_key_file is not set",
                        "server.tls_cert_file: file '/nonexistent/cert.pem' does not exist"}));

    TempFile cert("cert.pem");
    TempFile key("key.pem");
    s.server.tls_cert_file = cert.path();
    s.server.tls_key_file = key.path();
    EXPECT_EQ(messages(s), Messages{});

    s.server.tls_cert_file.clear();
    EXPECT_EQ(messages(s), (Messages{"TLS needs both server.tls_cert_file and "
                                     "server.tls_key_file; server.tls_cert_file is not set"}));

    s.server.tls_cert_file = std::filesystem::temp_directory_path().string();
    EXPECT_EQ(messages(s), (Messages{"server.tls_cert_file: '" + s.server.tls_cert_file +
                                     "' is not a regular file"}));
}

TEST(Validate, Algorithms) {
    Settings s;
    s.auth.algorithms = {"HS256", "none", "PS256"};
    s.auth.secret.clear();
    EXPECT_EQ(messages(s),
              (Messages{"auth.algorithms: 'none' is never accepted (unsigned tokens)",
                        "auth.algorithms: unknown algorithm 'PS256' (known: HS256, HS384, HS512, "
                        "RS256, ES256)",
                        "auth.secret must be set when auth.algorithms contains HS256, HS384 or "
                        "HS512"}));

    s = Settings{};
    s.auth.algorithms = {};
    EXPECT_EQ(messages(s), (Messages{"auth.algorithms must list at least one algorithm (HS256, "
                                     "HS384, HS512, RS256, ES256)"}));
}

TEST(Validate, PublicKeyAlgorithmsNeedTheirKeyFile) {
    Settings s;
    s.auth.algorithms = {"RS256", "ES256"};
    s.auth.secret.clear();  // no HS* algorithm: no secret needed
    EXPECT_EQ(messages(s),
              (Messages{"auth.rsa_public_key_file must be set when auth.algorithms contains RS256",
                        "auth.ec_public_key_file must be set when auth.algorithms contains "
                        "ES256"}));
    s.auth.rsa_public_key_file = "/nonexistent/rsa.pem";
    TempFile ec("ec.pem");
    s.auth.ec_public_key_file = ec.path();
    EXPECT_EQ(messages(s),
              (Messages{"auth.rsa_public_key_file: file '/nonexistent/rsa.pem' does not exist"}));
}

TEST(Validate, HeartbeatPongTimeoutMustExceedPingInterval) {
    Settings s;
    s.heartbeat.ping_interval = 30s;
    s.heartbeat.pong_timeout = 30s;
    EXPECT_EQ(messages(s),
              (Messages{"heartbeat.pong_timeout (30s) must be longer than heartbeat.ping_interval "
                        "(30s)"}));
}

TEST(Validate, RangesAreCheckedForSettingsChangedInCode) {
    Settings s;
    s.server.threads = 300;
    s.server.port = 0;
    s.limits.max_message_bytes = 0;
    s.log.level = "trace";
    EXPECT_EQ(messages(s), (Messages{"server.port: 0 is out of range 1..65535",
                                     "server.threads: 300 is out of range 0..256",
                                     "limits.max_message_bytes: 0 is out of range 1..1GiB",
                                     "log.level: 'trace' is not one of: error, warn, info, "
                                     "debug"}));
}

TEST(Validate, ServerStrings) {
    Settings s;
    s.server.host = "";
    s.server.websocket_path = "ws";
    s.api.api_key = "";
    EXPECT_EQ(messages(s),
              (Messages{"server.host must not be empty (use 0.0.0.0 for every interface)",
                        "server.websocket_path must start with '/', got 'ws'",
                        "api.api_key must not be empty (the backend API would be open to "
                        "anyone)"}));
}

TEST(Validate, AllowedOrigins) {
    Settings s;
    s.server.allowed_origins = {"https://app.example.com", "http://localhost:5173", "*",
                                "https://app.example.com/", "app.example.com"};
    EXPECT_EQ(messages(s),
              (Messages{"server.allowed_origins: 'https://app.example.com/' has a path; browsers "
                        "send only scheme://host[:port] (no trailing slash)",
                        "server.allowed_origins: 'app.example.com' is not an origin such as "
                        "\"https://app.example.com\""}));
}

TEST(Validate, Namespaces) {
    Settings s;
    s.namespaces.push_back({.name = "Team"});
    s.namespaces.push_back({.name = "user"});
    s.namespaces.push_back({.name = "*", .access = AccessRule::own_user});
    s.namespaces.push_back({.name = "busy", .publish_per_minute = 5'000'000});
    EXPECT_EQ(
        messages(s),
        (Messages{"invalid namespace name 'Team': use 1 to 32 characters of a-z 0-9 _ -, or *",
                  "namespace 'user' is defined twice", "namespace '*' is defined twice",
                  "namespace '*' cannot be own-user (own-user rooms are <name>:<user>)",
                  "namespace 'busy': publish_per_minute 5000000 is out of range "
                  "0..1000000"}));
}

TEST(Validate, ReportsEveryProblemAtOnce) {
    Settings s;
    s.server.tls_key_file = "/nonexistent/key.pem";
    s.auth.algorithms = {"HS999"};
    s.heartbeat.pong_timeout = 1s;
    EXPECT_EQ(validate(s).size(), 4u);
}
