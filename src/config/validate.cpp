// Checks of the final Settings that no single value can make: files that must exist, settings that
// need each other, and the ranges of the table again for settings changed in code.
#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>

#include "config/config.hpp"
#include "config/setting_table.hpp"

namespace huddle::config {

namespace {

constexpr std::string_view kSource = "settings";

class Validator {
  public:
    explicit Validator(const Settings& s) : s_(s) {}

    std::vector<ConfigError> run() {
        table_values();
        server();
        auth();
        if (s_.api.api_key.empty()) {
            error("api.api_key must not be empty (the backend API would be open to anyone)");
        }
        if (s_.heartbeat.pong_timeout <= s_.heartbeat.ping_interval) {
            error("heartbeat.pong_timeout (" + format_duration(s_.heartbeat.pong_timeout) +
                  ") must be longer than heartbeat.ping_interval (" +
                  format_duration(s_.heartbeat.ping_interval) + ")");
        }
        namespaces();
        webhooks();
        return std::move(errors_);
    }

  private:
    void error(std::string message) {
        errors_.push_back({std::string(kSource), 0, std::move(message)});
    }

    void table_values() {
        for (const auto& d : setting_table()) {
            if (auto err = check_setting_value(d, d.get(s_))) {
                error(d.key + ": " + *err);
            }
        }
    }

    void file_must_exist(std::string_view key, const std::string& path) {
        std::error_code ec;
        const auto status = std::filesystem::status(path, ec);
        if (ec || !std::filesystem::exists(status)) {
            error(std::string(key) + ": file '" + path + "' does not exist");
        } else if (!std::filesystem::is_regular_file(status)) {
            error(std::string(key) + ": '" + path + "' is not a regular file");
        }
    }

    void server() {
        const auto& server = s_.server;
        if (server.host.empty()) {
            error("server.host must not be empty (use 0.0.0.0 for every interface)");
        }
        const std::pair<const char*, const std::string*> paths[] = {
            {"server.websocket_path", &server.websocket_path},
            {"server.drafts_path", &server.drafts_path},
            {"server.fabric_path", &server.fabric_path}};
        for (const auto& [key, path] : paths) {
            if (!path->starts_with("/"))
                error(std::string(key) + " must start with '/', got '" + *path + "'");
        }
        if (server.websocket_path == server.drafts_path ||
            server.websocket_path == server.fabric_path || server.drafts_path == server.fabric_path)
            error("server.websocket_path, server.drafts_path and server.fabric_path must differ");
        if (server.drain_window > server.shutdown_deadline)
            error("server.drain_window must not be longer than server.shutdown_deadline");
        const bool has_cert = !server.tls_cert_file.empty();
        const bool has_key = !server.tls_key_file.empty();
        if (has_cert != has_key) {
            error(std::string("TLS needs both server.tls_cert_file and server.tls_key_file; ") +
                  (has_cert ? "server.tls_key_file" : "server.tls_cert_file") + " is not set");
        }
        if (has_cert) {
            file_must_exist("server.tls_cert_file", server.tls_cert_file);
        }
        if (has_key) {
            file_must_exist("server.tls_key_file", server.tls_key_file);
        }
        for (const auto& origin : server.allowed_origins) {
            origin_rule(origin);
        }
        demo_tokens();
    }

    // Tokens for anyone are harmless only where anyone could already mint them: with the public
    // development secret. With a real secret the endpoint would turn authentication off.
    void demo_tokens() {
        if (!s_.server.demo_tokens)
            return;
        const auto& algorithms = s_.auth.algorithms;
        const bool hmac = std::any_of(algorithms.begin(), algorithms.end(),
                                      [](const std::string& a) { return a.starts_with("HS"); });
        if (!hmac || s_.auth.secret != AuthSettings{}.secret) {
            error(
                "server.demo_tokens hands out tokens for any user: it is allowed only with an HS* "
                "algorithm and the development auth.secret (never in production)");
        }
    }

    // An Origin header is "scheme://host[:port]": no path, no trailing slash.
    void origin_rule(const std::string& origin) {
        if (origin == "*") {
            return;
        }
        const auto scheme_end = origin.find("://");
        if (scheme_end == std::string::npos || scheme_end == 0 || scheme_end + 3 >= origin.size()) {
            error("server.allowed_origins: '" + origin +
                  "' is not an origin such as \"https://app.example.com\"");
            return;
        }
        if (origin.find('/', scheme_end + 3) != std::string::npos) {
            error("server.allowed_origins: '" + origin +
                  "' has a path; browsers send only scheme://host[:port] (no trailing slash)");
        }
    }

    void auth() {
        const auto& auth = s_.auth;
        static const std::vector<std::string> kKnown{"HS256", "HS384", "HS512", "RS256", "ES256"};
        if (auth.algorithms.empty()) {
            error("auth.algorithms must list at least one algorithm (" + join(kKnown) + ")");
        }
        bool hmac = false;
        bool rsa = false;
        bool ec = false;
        for (const auto& alg : auth.algorithms) {
            if (alg == "none" || alg == "NONE" || alg == "None") {
                error("auth.algorithms: 'none' is never accepted (unsigned tokens)");
            } else if (std::find(kKnown.begin(), kKnown.end(), alg) == kKnown.end()) {
                std::string message = "auth.algorithms: unknown algorithm '" + alg +
                                      "' (known: " + join(kKnown) + ")";
                error(std::move(message));
            }
            hmac = hmac || alg.starts_with("HS");
            rsa = rsa || alg == "RS256";
            ec = ec || alg == "ES256";
        }
        if (hmac && auth.secret.empty()) {
            error("auth.secret must be set when auth.algorithms contains HS256, HS384 or HS512");
        }
        if (rsa) {
            if (auth.rsa_public_key_file.empty()) {
                error("auth.rsa_public_key_file must be set when auth.algorithms contains RS256");
            } else {
                file_must_exist("auth.rsa_public_key_file", auth.rsa_public_key_file);
            }
        }
        if (ec) {
            if (auth.ec_public_key_file.empty()) {
                error("auth.ec_public_key_file must be set when auth.algorithms contains ES256");
            } else {
                file_must_exist("auth.ec_public_key_file", auth.ec_public_key_file);
            }
        }
    }

    void webhooks() {
        const std::string& url = s_.webhooks.presence_url;
        if (!url.empty() && !url.starts_with("http://"))
            error("webhooks.presence_url must be an http:// URL");
    }

    void namespaces() {
        std::set<std::string> seen;
        for (const auto& ns : s_.namespaces) {
            if (!valid_namespace_name(ns.name)) {
                error("invalid namespace name '" + ns.name +
                      "': use 1 to 32 characters of a-z 0-9 _ -, or *");
            } else if (!seen.insert(ns.name).second) {
                error("namespace '" + ns.name + "' is defined twice");
            }
            if (ns.access == AccessRule::webhook && !ns.webhook_url.starts_with("http://")) {
                error("namespace '" + ns.name +
                      "': access \"webhook\" needs webhook_url = \"http://...\"");
            }
            if (ns.access != AccessRule::authenticated && ns.access != AccessRule::own_user &&
                ns.access != AccessRule::claim && ns.access != AccessRule::subscription_token &&
                ns.access != AccessRule::webhook) {
                error("namespace '" + ns.name + "': unknown access rule");
            }
            if (ns.name == "*" && ns.access == AccessRule::own_user) {
                error("namespace '*' cannot be own-user (own-user rooms are <name>:<user>)");
            }
            if (ns.publish_per_minute > kMaxPublishPerMinute) {
                error("namespace '" + ns.name + "': publish_per_minute " +
                      std::to_string(ns.publish_per_minute) + " is out of range 0.." +
                      std::to_string(kMaxPublishPerMinute));
            }
        }
    }

    static std::string join(const std::vector<std::string>& items) {
        std::string out;
        for (const auto& item : items) {
            out += (out.empty() ? "" : ", ") + item;
        }
        return out;
    }

    const Settings& s_;
    std::vector<ConfigError> errors_;
};

}  // namespace

std::vector<ConfigError> validate(const Settings& settings) {
    return Validator(settings).run();
}

}  // namespace huddle::config
