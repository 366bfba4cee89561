// Every setting of the server, with the defaults `huddle` runs with when nothing is configured.
// Sources, last wins: these defaults, the TOML file (--config), HUDDLE_* environment variables,
// command-line flags. docs/configuration.md lists every key.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/namespace_rules.hpp"

namespace huddle::config {

// Namespace rules are core data (the access policy reads them); the config names them too.
using core::AccessRule;
using core::NamespaceSettings;

struct ServerSettings {
    std::string host = "0.0.0.0";
    std::uint16_t port = 3000;
    unsigned threads = 0;       // event loops; 0 = one per core
    std::string tls_cert_file;  // TLS on when both are set
    std::string tls_key_file;
    std::vector<std::string> allowed_origins;  // empty = any Origin (and requests without one)
    bool permessage_deflate = false;
    std::chrono::milliseconds shutdown_deadline{10'000};
    // Rolling restarts: on SIGTERM, clients are closed (1001, reconnect elsewhere) at random
    // moments spread over this window instead of all at once; 0 = all at once.
    std::chrono::milliseconds drain_window{0};
    std::string websocket_path = "/ws";
    // The S0 JSON document protocol: /ws/drafts?draftId=<document>&token=...
    std::string drafts_path = "/ws/drafts";
    // The S1 collaboration protocol: /ws/fabric?documentId=<document>&clientID=<id>&token=...
    std::string fabric_path = "/ws/fabric";
    // Static files served at / (the demo pages of web/, built into web/dist); empty = none.
    // Relative to the working directory, which ./scripts/run.sh sets to the repository.
    std::string demo_dir = "web/dist";
    // GET /demo/token?user=NAME hands out a token for any user: development only (see validate).
    bool demo_tokens = false;
};

struct AuthSettings {
    std::vector<std::string> algorithms{"HS256"};
    // Development default, printed as a warning at startup: set your own in production.
    std::string secret = "huddle-development-secret-change-me";
    std::string rsa_public_key_file;
    std::string ec_public_key_file;
    std::string issuer;
    std::string audience;
    std::chrono::seconds leeway{30};
    std::string query_parameter = "token";
    std::string cookie_name = "huddle_token";
    bool allow_anonymous = false;
};

struct ApiSettings {
    // Development default, printed as a warning at startup: set your own in production.
    std::string api_key = "huddle-development-api-key";
};

struct DocumentSettings {
    // A document without connections stays in memory this long, then leaves (it is stored).
    std::chrono::milliseconds idle_unload{30'000};
};

struct StoreSettings {
    // SQLite database for room history and documents; its directory is created.
    std::string path = "data/huddle.db";
    // postgres://user:password@host:port/database selects PostgreSQL instead; empty = SQLite.
    std::string url;
    // PostgreSQL: how long writes wait for an unreachable database before failing.
    std::chrono::milliseconds reconnect_timeout{30'000};
};

// Several nodes acting as one through a broker (docs/scaling.md).
struct BrokerSettings {
    // redis://host:port[/db] joins the cluster of every node with the same URL; empty = one node.
    std::string url;
    // A node whose heartbeat is this old counts as dead: its users leave the rooms' presence. It
    // heartbeats five times per period.
    std::chrono::milliseconds presence_ttl{5000};
};

// Calls from Huddle to the app's backend: the webhook access rule and online/offline notices.
struct WebhookSettings {
    std::chrono::milliseconds timeout{2'000};
    std::uint32_t max_in_flight = 64;             // per event loop; more calls fail at once
    std::chrono::milliseconds cache_ttl{30'000};  // how long an access answer is reused
    std::string secret;  // signs bodies (X-Huddle-Signature: sha256=<hex HMAC>); empty = unsigned
    std::string presence_url;  // POSTs user.online / user.offline; empty = off
    std::chrono::milliseconds offline_grace{5'000};  // a reload within this is no offline
};

struct LimitSettings {
    std::size_t max_message_bytes = 64 * 1024;
    // y-websocket messages carry document updates (a paste, a first sync): larger by nature.
    std::size_t max_document_message_bytes = 8 * 1024 * 1024;
    std::uint32_t messages_per_minute = 100;  // per connection, token bucket
    std::uint32_t handshakes_per_ip_per_minute = 10;
    std::uint32_t failed_auths_per_ip_per_minute = 10;
    std::uint32_t max_connections_per_user = 20;  // 0 = unlimited
    std::uint32_t max_connections_per_ip = 1000;  // 0 = unlimited
    std::uint32_t max_rooms_per_connection = 100;
    std::size_t max_pending_bytes = 1024 * 1024;  // unsent bytes before "slow consumer"
    std::chrono::milliseconds handshake_timeout{10'000};
};

struct HeartbeatSettings {
    std::chrono::milliseconds ping_interval{30'000};
    std::chrono::milliseconds pong_timeout{60'000};  // close when nothing heard for this long
};

enum class LogFormat { automatic, json, text };

struct LogSettings {
    std::string level = "info";               // error, warn, info, debug
    LogFormat format = LogFormat::automatic;  // text on a terminal, JSON otherwise
};

struct Settings {
    ServerSettings server;
    AuthSettings auth;
    ApiSettings api;
    WebhookSettings webhooks;
    StoreSettings store;
    BrokerSettings broker;
    DocumentSettings documents;
    LimitSettings limits;
    HeartbeatSettings heartbeat;
    LogSettings log;
    std::vector<NamespaceSettings> namespaces = default_namespaces();

    static std::vector<NamespaceSettings> default_namespaces() {
        return {
            {.name = "user", .access = AccessRule::own_user},
            {.name = "*", .access = AccessRule::authenticated},
        };
    }
};

}  // namespace huddle::config
