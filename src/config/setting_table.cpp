#include "config/setting_table.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <concepts>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace huddle::config {

namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = 1024 * kKiB;
constexpr std::int64_t kGiB = 1024 * kMiB;
constexpr std::int64_t kU32Max = std::numeric_limits<std::uint32_t>::max();

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.remove_suffix(1);
    }
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

// Text shown in error messages: quoted, shortened, control characters escaped.
std::string quote(std::string_view s) {
    constexpr std::size_t kMax = 60;
    std::string out = "'";
    for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > kMax) {
        out += "...";
    }
    out += "'";
    return out;
}

// Non-negative decimal prefix of `s`; advances `s`. nullopt on no digits or overflow.
std::optional<std::int64_t> take_number(std::string_view& s) {
    std::size_t n = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') {
        ++n;
    }
    if (n == 0) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + n, value);
    if (ec != std::errc{} || ptr != s.data() + n) {
        return std::nullopt;
    }
    s.remove_prefix(n);
    return value;
}

std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) {
        return std::nullopt;
    }
    return r;
}

std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) {
        return std::nullopt;
    }
    return r;
}

// ---- conversions between Settings field types and SettingValue ----

template <class T>
concept Integral = std::integral<T> && !std::same_as<T, bool>;

std::optional<std::string> store(const SettingValue& v, std::string& out) {
    out = std::get<std::string>(v);
    return std::nullopt;
}
std::optional<std::string> store(const SettingValue& v, bool& out) {
    out = std::get<bool>(v);
    return std::nullopt;
}
template <Integral T>
std::optional<std::string> store(const SettingValue& v, T& out) {
    const std::int64_t x = std::get<std::int64_t>(v);
    if (!std::in_range<T>(x)) {  // the table's ranges prevent this; kept as a guard
        return "value " + std::to_string(x) + " does not fit";
    }
    out = static_cast<T>(x);
    return std::nullopt;
}
std::optional<std::string> store(const SettingValue& v, milliseconds& out) {
    out = std::get<milliseconds>(v);
    return std::nullopt;
}
std::optional<std::string> store(const SettingValue& v, std::chrono::seconds& out) {
    const milliseconds ms = std::get<milliseconds>(v);
    if (ms.count() % kSecond != 0) {
        return "must be a whole number of seconds, got " + format_duration(ms);
    }
    out = std::chrono::duration_cast<std::chrono::seconds>(ms);
    return std::nullopt;
}
std::optional<std::string> store(const SettingValue& v, std::vector<std::string>& out) {
    out = std::get<std::vector<std::string>>(v);
    return std::nullopt;
}
std::optional<std::string> store(const SettingValue& v, LogFormat& out) {
    const auto& s = std::get<std::string>(v);
    if (s == "auto") {
        out = LogFormat::automatic;
    } else if (s == "json") {
        out = LogFormat::json;
    } else if (s == "text") {
        out = LogFormat::text;
    } else {
        return "unknown log format " + quote(s);
    }
    return std::nullopt;
}

SettingValue load(const std::string& x) {
    return x;
}
SettingValue load(bool x) {
    return x;
}
template <Integral T>
SettingValue load(T x) {
    return static_cast<std::int64_t>(x);
}
SettingValue load(milliseconds x) {
    return x;
}
SettingValue load(std::chrono::seconds x) {
    return milliseconds(x);
}
SettingValue load(const std::vector<std::string>& x) {
    return x;
}
SettingValue load(LogFormat x) {
    switch (x) {
        case LogFormat::json:
            return std::string("json");
        case LogFormat::text:
            return std::string("text");
        case LogFormat::automatic:
            break;
    }
    return std::string("auto");
}

struct Range {
    std::int64_t min = 0;
    std::int64_t max = 0;
};

struct Extra {
    Range range;
    std::vector<std::string> choices;
    std::vector<std::string> aliases;
};

template <class Section, class Field>
SettingDescriptor describe(std::string key, SettingType type, Section Settings::*section,
                           Field Section::*field, std::string description, Extra extra = {}) {
    if constexpr (Integral<Field>) {
        if (!std::in_range<Field>(extra.range.min) || !std::in_range<Field>(extra.range.max)) {
            throw std::logic_error("setting table: range of " + key + " does not fit its field");
        }
    }
    SettingDescriptor d;
    d.env = env_name_for(key);
    d.key = std::move(key);
    d.env_aliases = std::move(extra.aliases);
    d.type = type;
    d.description = std::move(description);
    d.min = extra.range.min;
    d.max = extra.range.max;
    d.choices = std::move(extra.choices);
    d.set = [section, field](Settings& s, const SettingValue& v) {
        return store(v, (s.*section).*field);
    };
    d.get = [section, field](const Settings& s) { return load((s.*section).*field); };
    return d;
}

std::vector<SettingDescriptor> build_table() {
    using T = SettingType;
    using S = Settings;
    std::vector<SettingDescriptor> t;

    // server
    t.push_back(
        describe("server.host", T::string, &S::server, &ServerSettings::host,
                 "Address to listen on (0.0.0.0 = every IPv4 interface, :: = every IPv6 one)"));
    t.push_back(describe("server.port", T::integer, &S::server, &ServerSettings::port,
                         "TCP port for WebSocket and HTTP",
                         {.range = {1, 65535}, .aliases = {"HUDDLE_PORT"}}));
    t.push_back(describe("server.threads", T::integer, &S::server, &ServerSettings::threads,
                         "Event loops (threads); 0 = one per CPU core", {.range = {0, 256}}));
    t.push_back(
        describe("server.tls_cert_file", T::string, &S::server, &ServerSettings::tls_cert_file,
                 "PEM certificate chain; TLS is on when this and tls_key_file are both set"));
    t.push_back(describe("server.tls_key_file", T::string, &S::server,
                         &ServerSettings::tls_key_file, "PEM private key of the certificate"));
    t.push_back(describe("server.allowed_origins", T::string_list, &S::server,
                         &ServerSettings::allowed_origins,
                         "Origins allowed to open a WebSocket (\"https://app.example.com\"); "
                         "empty = any origin"));
    t.push_back(describe("server.permessage_deflate", T::boolean, &S::server,
                         &ServerSettings::permessage_deflate,
                         "Offer WebSocket compression (permessage-deflate) to clients"));
    t.push_back(
        describe("server.drain_window", T::duration, &S::server, &ServerSettings::drain_window,
                 "On SIGTERM, close clients at random moments spread over this window "
                 "(rolling restarts: they reconnect to other nodes gradually); 0 = at once; "
                 "at most server.shutdown_deadline",
                 {.range = {0, kHour}}));
    t.push_back(describe("server.shutdown_deadline", T::duration, &S::server,
                         &ServerSettings::shutdown_deadline,
                         "On SIGTERM, time to notify clients and flush storage before exiting",
                         {.range = {0, kHour}}));
    t.push_back(describe("server.drafts_path", T::string, &S::server, &ServerSettings::drafts_path,
                         "Path of the JSON document protocol (yjs-update, yjs-state-request; "
                         "?draftId=<document>)"));
    t.push_back(describe("server.fabric_path", T::string, &S::server, &ServerSettings::fabric_path,
                         "Path of the S1 collaboration protocol (sync, update, awareness, "
                         "selection, steps; ?documentId=<document>&clientID=<id>)"));
    t.push_back(describe("server.websocket_path", T::string, &S::server,
                         &ServerSettings::websocket_path,
                         "HTTP path of the rooms WebSocket endpoint (starts with /)"));
    t.push_back(describe("server.demo_dir", T::string, &S::server, &ServerSettings::demo_dir,
                         "Folder of static files served at / (GET/HEAD; the demo pages built by "
                         "web/build.sh); relative to the working directory; empty = none"));
    t.push_back(describe("server.demo_tokens", T::boolean, &S::server, &ServerSettings::demo_tokens,
                         "Serve GET /demo/token?user=NAME, a 12 h token for any user name, for the "
                         "demo pages; allowed only with the development auth.secret"));

    // auth
    t.push_back(
        describe("auth.algorithms", T::string_list, &S::auth, &AuthSettings::algorithms,
                 "JWT algorithms accepted (allow-list): HS256, HS384, HS512, RS256, ES256"));
    t.push_back(describe("auth.secret", T::string, &S::auth, &AuthSettings::secret,
                         "HMAC secret for HS256/HS384/HS512 tokens; set your own in production",
                         {.aliases = {"HUDDLE_SECRET"}}));
    t.push_back(describe("auth.rsa_public_key_file", T::string, &S::auth,
                         &AuthSettings::rsa_public_key_file,
                         "PEM RSA public key verifying RS256 tokens"));
    t.push_back(describe("auth.ec_public_key_file", T::string, &S::auth,
                         &AuthSettings::ec_public_key_file,
                         "PEM EC (P-256) public key verifying ES256 tokens"));
    t.push_back(describe("auth.issuer", T::string, &S::auth, &AuthSettings::issuer,
                         "Required `iss` claim; empty = not checked"));
    t.push_back(describe("auth.audience", T::string, &S::auth, &AuthSettings::audience,
                         "Required `aud` claim; empty = not checked"));
    t.push_back(describe("auth.leeway", T::duration, &S::auth, &AuthSettings::leeway,
                         "Clock skew tolerated on `exp` and `nbf` (whole seconds)",
                         {.range = {0, kHour}}));
    t.push_back(describe("auth.query_parameter", T::string, &S::auth,
                         &AuthSettings::query_parameter,
                         "URL query parameter that may carry the token (?token=...)"));
    t.push_back(describe("auth.cookie_name", T::string, &S::auth, &AuthSettings::cookie_name,
                         "Cookie that may carry the token"));
    t.push_back(describe("auth.allow_anonymous", T::boolean, &S::auth,
                         &AuthSettings::allow_anonymous,
                         "Accept connections without a token (as anonymous users)"));

    // api
    t.push_back(
        describe("api.api_key", T::string, &S::api, &ApiSettings::api_key,
                 "Key the app's backend presents to the /api/... endpoints; set your own in "
                 "production",
                 {.aliases = {"HUDDLE_API_KEY"}}));

    // limits
    t.push_back(describe(
        "limits.max_message_bytes", T::size, &S::limits, &LimitSettings::max_message_bytes,
        "Largest message a client may send (bigger: closed with 1009)", {.range = {1, kGiB}}));
    t.push_back(describe("limits.max_document_message_bytes", T::size, &S::limits,
                         &LimitSettings::max_document_message_bytes,
                         "Largest y-websocket message (a document update) a client may send",
                         {.range = {1, kGiB}}));
    t.push_back(describe("limits.messages_per_minute", T::integer, &S::limits,
                         &LimitSettings::messages_per_minute,
                         "Messages a connection may send per minute (token bucket; 0 = unlimited)",
                         {.range = {0, kU32Max}}));
    t.push_back(
        describe("limits.handshakes_per_ip_per_minute", T::integer, &S::limits,
                 &LimitSettings::handshakes_per_ip_per_minute,
                 "WebSocket handshakes accepted per client IP per minute; raise it behind a "
                 "proxy or NAT (0 = unlimited)",
                 {.range = {0, kU32Max}}));
    t.push_back(describe(
        "limits.failed_auths_per_ip_per_minute", T::integer, &S::limits,
        &LimitSettings::failed_auths_per_ip_per_minute,
        "Failed authentications per client IP per minute before refusing the IP (0 = unlimited)",
        {.range = {0, kU32Max}}));
    t.push_back(describe("limits.max_connections_per_user", T::integer, &S::limits,
                         &LimitSettings::max_connections_per_user,
                         "Open connections per user; 0 = unlimited", {.range = {0, kU32Max}}));
    t.push_back(describe("limits.max_connections_per_ip", T::integer, &S::limits,
                         &LimitSettings::max_connections_per_ip,
                         "Open connections per client IP; 0 = unlimited", {.range = {0, kU32Max}}));
    t.push_back(describe("limits.max_rooms_per_connection", T::integer, &S::limits,
                         &LimitSettings::max_rooms_per_connection,
                         "Rooms one connection may be subscribed to at once",
                         {.range = {1, kU32Max}}));
    t.push_back(describe("limits.max_pending_bytes", T::size, &S::limits,
                         &LimitSettings::max_pending_bytes,
                         "Unsent bytes queued for one connection before it is dropped as a slow "
                         "consumer",
                         {.range = {1, 16 * kGiB}}));
    t.push_back(describe("limits.handshake_timeout", T::duration, &S::limits,
                         &LimitSettings::handshake_timeout,
                         "Time a client has to complete the HTTP upgrade and authentication",
                         {.range = {100, 10 * kMinute}}));

    // documents
    t.push_back(describe(
        "documents.idle_unload", T::duration, &S::documents, &DocumentSettings::idle_unload,
        "How long a Yjs document without connections stays in memory", {.range = {0, 24 * kHour}}));

    // store
    t.push_back(describe("store.path", T::string, &S::store, &StoreSettings::path,
                         "SQLite database for room history and documents (when store.url is "
                         "empty); its directory is created"));
    t.push_back(describe("store.url", T::string, &S::store, &StoreSettings::url,
                         "postgres://user:password@host:port/database stores in PostgreSQL "
                         "instead (shared by several nodes); empty = SQLite at store.path"));
    t.push_back(describe("store.reconnect_timeout", T::duration, &S::store,
                         &StoreSettings::reconnect_timeout,
                         "PostgreSQL: how long writes wait for an unreachable database (restart, "
                         "failover) before they fail",
                         {.range = {100, kHour}}));

    // broker
    t.push_back(describe("broker.url", T::string, &S::broker, &BrokerSettings::url,
                         "redis://host:port[/db]: every node with the same URL serves the same "
                         "rooms (cross-node delivery, history offsets); empty = one node"));
    t.push_back(describe("broker.presence_ttl", T::duration, &S::broker,
                         &BrokerSettings::presence_ttl,
                         "A node that stops heartbeating for this long is taken for dead: its "
                         "users leave the rooms' presence on the other nodes",
                         {.range = {1000, 10 * kMinute}}));

    // webhooks
    t.push_back(describe("webhooks.timeout", T::duration, &S::webhooks, &WebhookSettings::timeout,
                         "How long a call to the app's backend may take before it counts as failed",
                         {.range = {10, kMinute}}));
    t.push_back(describe("webhooks.max_in_flight", T::integer, &S::webhooks,
                         &WebhookSettings::max_in_flight,
                         "Calls to the app's backend in progress per event loop; more fail at once",
                         {.range = {1, 100000}}));
    t.push_back(
        describe("webhooks.cache_ttl", T::duration, &S::webhooks, &WebhookSettings::cache_ttl,
                 "How long a webhook access answer (allowed or refused) is reused; 0 = never",
                 {.range = {0, kHour}}));
    t.push_back(describe("webhooks.secret", T::string, &S::webhooks, &WebhookSettings::secret,
                         "Signs webhook bodies: X-Huddle-Signature: sha256=<hex HMAC-SHA256>; "
                         "empty = unsigned"));
    t.push_back(
        describe("webhooks.presence_url", T::string, &S::webhooks, &WebhookSettings::presence_url,
                 "http:// URL that receives user.online / user.offline notices; empty = off"));
    t.push_back(describe("webhooks.offline_grace", T::duration, &S::webhooks,
                         &WebhookSettings::offline_grace,
                         "A user is offline once their last connection has been gone this long",
                         {.range = {0, kHour}}));

    // heartbeat
    t.push_back(describe(
        "heartbeat.ping_interval", T::duration, &S::heartbeat, &HeartbeatSettings::ping_interval,
        "Interval between WebSocket pings sent to each client", {.range = {10, kHour}}));
    t.push_back(describe("heartbeat.pong_timeout", T::duration, &S::heartbeat,
                         &HeartbeatSettings::pong_timeout,
                         "Close a connection when nothing was heard from it for this long; "
                         "must exceed ping_interval",
                         {.range = {10, 2 * kHour}}));

    // log
    t.push_back(describe("log.level", T::choice, &S::log, &LogSettings::level,
                         "Least severe level written",
                         {.choices = {"error", "warn", "info", "debug"}}));
    t.push_back(describe("log.format", T::choice, &S::log, &LogSettings::format,
                         "Log line format; auto = text on a terminal, JSON lines otherwise",
                         {.choices = {"auto", "json", "text"}}));
    return t;
}

// Edit distance counting an insertion, deletion, substitution or swap of two neighbours as one
// (optimal string alignment); small inputs only.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t w = b.size() + 1;
    std::vector<std::size_t> d((a.size() + 1) * w);
    for (std::size_t i = 0; i <= a.size(); ++i) {
        d[i * w] = i;
    }
    for (std::size_t j = 0; j <= b.size(); ++j) {
        d[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            std::size_t best = std::min(
                {d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                best = std::min(best, d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = best;
        }
    }
    return d[a.size() * w + b.size()];
}

std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    static constexpr char kHex[] = "0123456789ABCDEF";
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 0xf];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
    return out;
}

}  // namespace

const std::vector<SettingDescriptor>& setting_table() {
    static const std::vector<SettingDescriptor> table = build_table();
    return table;
}

const SettingDescriptor* find_setting(std::string_view key) {
    for (const auto& d : setting_table()) {
        if (d.key == key) {
            return &d;
        }
    }
    return nullptr;
}

std::string env_name_for(std::string_view key) {
    std::string out = "HUDDLE_";
    for (const char c : key) {
        out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string type_text(const SettingDescriptor& d) {
    switch (d.type) {
        case SettingType::string:
            return "string";
        case SettingType::choice: {
            std::string out = "one of: ";
            for (std::size_t i = 0; i < d.choices.size(); ++i) {
                out += (i ? ", " : "") + d.choices[i];
            }
            return out;
        }
        case SettingType::integer:
            return "integer " + std::to_string(d.min) + ".." + std::to_string(d.max);
        case SettingType::boolean:
            return "boolean";
        case SettingType::duration:
            return "duration " + format_duration(milliseconds(d.min)) + ".." +
                   format_duration(milliseconds(d.max));
        case SettingType::size:
            return "size " + format_size(d.min) + ".." + format_size(d.max);
        case SettingType::string_list:
            return "list of strings";
    }
    return "?";
}

std::optional<std::string> check_setting_value(const SettingDescriptor& d, const SettingValue& v) {
    switch (d.type) {
        case SettingType::choice: {
            const auto& s = std::get<std::string>(v);
            if (std::find(d.choices.begin(), d.choices.end(), s) == d.choices.end()) {
                return quote(s) + " is not " + type_text(d);
            }
            break;
        }
        case SettingType::integer:
        case SettingType::size: {
            const std::int64_t x = std::get<std::int64_t>(v);
            if (x < d.min || x > d.max) {
                if (d.type == SettingType::size) {
                    return format_size(x) + " is out of range " + format_size(d.min) + ".." +
                           format_size(d.max);
                }
                return std::to_string(x) + " is out of range " + std::to_string(d.min) + ".." +
                       std::to_string(d.max);
            }
            break;
        }
        case SettingType::duration: {
            const milliseconds x = std::get<milliseconds>(v);
            if (x.count() < d.min || x.count() > d.max) {
                return format_duration(x) + " is out of range " +
                       format_duration(milliseconds(d.min)) + ".." +
                       format_duration(milliseconds(d.max));
            }
            break;
        }
        case SettingType::string:
        case SettingType::boolean:
        case SettingType::string_list:
            break;
    }
    return std::nullopt;
}

ParsedValue parse_setting_text(const SettingDescriptor& d, std::string_view text) {
    ParsedValue out;
    const std::string_view t = trim(text);
    switch (d.type) {
        case SettingType::string:
            out.value = std::string(text);
            break;
        case SettingType::choice:
            out.value = lower(t);
            break;
        case SettingType::integer: {
            std::string_view rest = t;
            const bool negative = !rest.empty() && rest.front() == '-';
            if (negative || (!rest.empty() && rest.front() == '+')) {
                rest.remove_prefix(1);
            }
            auto n = take_number(rest);
            if (!n || !rest.empty()) {
                out.error = "expected an integer, got " + quote(text);
                return out;
            }
            out.value = negative ? -*n : *n;
            break;
        }
        case SettingType::boolean: {
            const std::string s = lower(t);
            if (s == "true" || s == "yes" || s == "on" || s == "1") {
                out.value = true;
            } else if (s == "false" || s == "no" || s == "off" || s == "0") {
                out.value = false;
            } else {
                out.error = "expected a boolean (true/false), got " + quote(text);
                return out;
            }
            break;
        }
        case SettingType::duration: {
            auto ms = parse_duration(t);
            if (!ms) {
                out.error =
                    "expected a duration such as 1500, \"500ms\", \"30s\", \"1m\", \"1h\", "
                    "got " +
                    quote(text);
                return out;
            }
            out.value = *ms;
            break;
        }
        case SettingType::size: {
            auto bytes = parse_size(t);
            if (!bytes) {
                out.error =
                    "expected a size such as 65536, \"64KiB\", \"1MiB\", got " + quote(text);
                return out;
            }
            out.value = *bytes;
            break;
        }
        case SettingType::string_list: {
            std::vector<std::string> items;
            std::string_view rest = text;
            while (true) {
                const auto comma = rest.find(',');
                const std::string_view item = trim(rest.substr(0, comma));
                if (!item.empty()) {
                    items.emplace_back(item);
                }
                if (comma == std::string_view::npos) {
                    break;
                }
                rest.remove_prefix(comma + 1);
            }
            out.value = std::move(items);
            break;
        }
    }
    if (auto err = check_setting_value(d, *out.value)) {
        out.value.reset();
        out.error = std::move(*err);
    }
    return out;
}

std::string format_setting_value(const SettingDescriptor& d, const SettingValue& v) {
    switch (d.type) {
        case SettingType::string:
        case SettingType::choice:
            return toml_string(std::get<std::string>(v));
        case SettingType::integer:
            return std::to_string(std::get<std::int64_t>(v));
        case SettingType::boolean:
            return std::get<bool>(v) ? "true" : "false";
        case SettingType::duration:
            return toml_string(format_duration(std::get<milliseconds>(v)));
        case SettingType::size: {
            const std::int64_t bytes = std::get<std::int64_t>(v);
            const std::string s = format_size(bytes);
            return s == std::to_string(bytes) ? s : toml_string(s);
        }
        case SettingType::string_list: {
            std::string out = "[";
            const auto& items = std::get<std::vector<std::string>>(v);
            for (std::size_t i = 0; i < items.size(); ++i) {
                out += (i ? ", " : "") + toml_string(items[i]);
            }
            return out + "]";
        }
    }
    return {};
}

std::string default_text(const SettingDescriptor& d) {
    static const Settings defaults;
    return format_setting_value(d, d.get(defaults));
}

std::optional<milliseconds> parse_duration(std::string_view text) {
    std::string_view rest = trim(text);
    if (rest.empty()) {
        return std::nullopt;
    }
    // A bare number is milliseconds.
    {
        std::string_view probe = rest;
        if (auto n = take_number(probe); n && probe.empty()) {
            return milliseconds(*n);
        }
    }
    std::int64_t total = 0;
    while (!rest.empty()) {
        auto n = take_number(rest);
        if (!n) {
            return std::nullopt;
        }
        std::int64_t unit = 0;
        if (rest.starts_with("ms")) {
            unit = 1;
            rest.remove_prefix(2);
        } else if (rest.starts_with("s")) {
            unit = kSecond;
            rest.remove_prefix(1);
        } else if (rest.starts_with("m")) {
            unit = kMinute;
            rest.remove_prefix(1);
        } else if (rest.starts_with("h")) {
            unit = kHour;
            rest.remove_prefix(1);
        } else {
            return std::nullopt;
        }
        auto part = checked_mul(*n, unit);
        auto sum = part ? checked_add(total, *part) : std::nullopt;
        if (!sum) {
            return std::nullopt;
        }
        total = *sum;
    }
    return milliseconds(total);
}

std::optional<std::int64_t> parse_size(std::string_view text) {
    std::string_view rest = trim(text);
    auto n = take_number(rest);
    if (!n) {
        return std::nullopt;
    }
    const std::string unit = lower(trim(rest));
    std::int64_t multiplier = 0;
    if (unit.empty() || unit == "b") {
        multiplier = 1;
    } else if (unit == "kib") {
        multiplier = kKiB;
    } else if (unit == "mib") {
        multiplier = kMiB;
    } else if (unit == "gib") {
        multiplier = kGiB;
    } else if (unit == "kb") {
        multiplier = 1000;
    } else if (unit == "mb") {
        multiplier = 1000 * 1000;
    } else if (unit == "gb") {
        multiplier = 1000 * 1000 * 1000;
    } else {
        return std::nullopt;
    }
    return checked_mul(*n, multiplier);
}

std::string format_duration(milliseconds d) {
    const std::int64_t ms = d.count();
    if (ms == 0) {
        return "0s";
    }
    if (ms % kHour == 0) {
        return std::to_string(ms / kHour) + "h";
    }
    if (ms % kMinute == 0) {
        return std::to_string(ms / kMinute) + "m";
    }
    if (ms % kSecond == 0) {
        return std::to_string(ms / kSecond) + "s";
    }
    return std::to_string(ms) + "ms";
}

std::string format_size(std::int64_t bytes) {
    if (bytes != 0) {
        if (bytes % kGiB == 0) {
            return std::to_string(bytes / kGiB) + "GiB";
        }
        if (bytes % kMiB == 0) {
            return std::to_string(bytes / kMiB) + "MiB";
        }
        if (bytes % kKiB == 0) {
            return std::to_string(bytes / kKiB) + "KiB";
        }
    }
    return std::to_string(bytes);
}

bool valid_namespace_name(std::string_view name) {
    if (name == "*") {
        return true;
    }
    if (name.empty() || name.size() > 32) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

std::optional<AccessRule> parse_access_rule(std::string_view text) {
    if (text == "authenticated") {
        return AccessRule::authenticated;
    }
    if (text == "own-user") {
        return AccessRule::own_user;
    }
    if (text == "claim") {
        return AccessRule::claim;
    }
    if (text == "subscription-token") {
        return AccessRule::subscription_token;
    }
    if (text == "webhook") {
        return AccessRule::webhook;
    }
    return std::nullopt;
}

std::string_view access_rule_name(AccessRule rule) {
    switch (rule) {
        case AccessRule::own_user:
            return "own-user";
        case AccessRule::claim:
            return "claim";
        case AccessRule::subscription_token:
            return "subscription-token";
        case AccessRule::webhook:
            return "webhook";
        case AccessRule::authenticated:
            break;
    }
    return "authenticated";
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
    constexpr std::size_t kMaxWord = 200;  // typos are short; keeps the cost bounded
    if (word.size() > kMaxWord) {
        return std::nullopt;
    }
    std::optional<std::string> best;
    std::size_t best_distance = 0;
    for (const auto& c : candidates) {
        const std::size_t dist = edit_distance(lower(word), lower(c));
        if (!best || dist < best_distance) {
            best = c;
            best_distance = dist;
        }
    }
    // Close enough to be a typo: one edit per four characters, at least one.
    if (best && best_distance <= std::max<std::size_t>(1, best->size() / 4)) {
        return best;
    }
    return std::nullopt;
}

}  // namespace huddle::config
