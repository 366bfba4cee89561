// Environment variables, --set flags, warnings, and the generated help and documentation.
#include "config/config.hpp"

#include <algorithm>
#include <cstdlib>

#include "config/setting_table.hpp"

namespace huddle::config {

namespace {

std::string in_quotes(std::string_view s) {
    return "'" + std::string(s) + "'";
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// Parses `text` for `d` and stores it; returns the error message (with the key) if any.
std::optional<std::string> apply_text(Settings& settings, const SettingDescriptor& d,
                                      std::string_view text) {
    ParsedValue parsed = parse_setting_text(d, text);
    if (!parsed.value) {
        return d.key + ": " + parsed.error;
    }
    if (auto err = d.set(settings, *parsed.value)) {
        return d.key + ": " + *err;
    }
    return std::nullopt;
}

bool is_secret(const SettingDescriptor& d) {
    return d.key == "auth.secret" || d.key == "api.api_key";
}

std::string section_of(const std::string& key) {
    return key.substr(0, key.find('.'));
}
std::string name_in_section(const std::string& key) {
    return key.substr(key.find('.') + 1);
}

std::string markdown_cell(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '|') {
            out += "\\|";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string format_error(const ConfigError& error) {
    std::string out = error.source;
    if (error.line > 0) {
        out += ":" + std::to_string(error.line);
    }
    return out + ": " + error.message;
}

std::vector<ConfigError> apply_environment(
    Settings& settings, const std::function<const char*(const char*)>& getenv_fn) {
    std::vector<ConfigError> errors;
    for (const auto& d : setting_table()) {
        // Aliases first so that the canonical name, applied last, wins.
        std::vector<std::string> names = d.env_aliases;
        names.push_back(d.env);
        for (const auto& name : names) {
            const char* value = getenv_fn(name.c_str());
            if (value == nullptr) {
                continue;
            }
            if (auto err = apply_text(settings, d, value)) {
                errors.push_back({name, 0, std::move(*err)});
            }
        }
    }
    return errors;
}

std::vector<ConfigError> apply_environment(Settings& settings) {
    return apply_environment(settings, [](const char* name) { return std::getenv(name); });
}

std::vector<ConfigError> apply_key_value(Settings& settings, std::string_view key,
                                         std::string_view value, std::string_view source) {
    const std::string k(trim(key));
    if (k == "namespaces" || k.starts_with("namespaces.") || k.starts_with("namespaces[")) {
        return {{std::string(source), 0,
                 "namespaces can only be set in the config file ([[namespaces]])"}};
    }
    const SettingDescriptor* d = find_setting(k);
    if (d == nullptr) {
        std::vector<std::string> keys;
        for (const auto& s : setting_table()) {
            keys.push_back(s.key);
        }
        std::string message = "unknown setting " + in_quotes(k);
        if (auto s = closest_match(k, keys)) {
            message += " (did you mean " + in_quotes(*s) + "?)";
        }
        return {{std::string(source), 0, std::move(message)}};
    }
    if (auto err = apply_text(settings, *d, value)) {
        return {{std::string(source), 0, std::move(*err)}};
    }
    return {};
}

std::vector<ConfigError> apply_assignment(Settings& settings, std::string_view assignment,
                                          std::string_view source) {
    const auto eq = assignment.find('=');
    if (eq == std::string_view::npos) {
        return {{std::string(source), 0,
                 "expected key=value (e.g. server.port=4000), got " + in_quotes(assignment)}};
    }
    return apply_key_value(settings, assignment.substr(0, eq), assignment.substr(eq + 1), source);
}

std::vector<ConfigError> environment_warnings(const char* const* envp,
                                              const std::vector<std::string>& also_known) {
    std::vector<ConfigError> warnings;
    if (envp == nullptr) {
        return warnings;
    }
    std::vector<std::string> known;
    for (const auto& d : setting_table()) {
        known.push_back(d.env);
        known.insert(known.end(), d.env_aliases.begin(), d.env_aliases.end());
    }
    for (; *envp != nullptr; ++envp) {
        const std::string_view entry(*envp);
        const std::string_view name = entry.substr(0, entry.find('='));
        if (!name.starts_with("HUDDLE_") ||
            std::find(known.begin(), known.end(), name) != known.end() ||
            std::find(also_known.begin(), also_known.end(), name) != also_known.end()) {
            continue;
        }
        std::string message = "not a Huddle setting, ignored";
        if (auto s = closest_match(name, known)) {
            message += " (did you mean " + *s + "?)";
        }
        warnings.push_back({std::string(name), 0, std::move(message)});
    }
    return warnings;
}

std::vector<ConfigError> settings_warnings(const Settings& settings) {
    std::vector<ConfigError> warnings;
    static const Settings defaults;
    const auto& algorithms = settings.auth.algorithms;
    const bool uses_hmac = std::any_of(algorithms.begin(), algorithms.end(),
                                       [](const std::string& a) { return a.starts_with("HS"); });
    if (uses_hmac && settings.auth.secret == defaults.auth.secret) {
        warnings.push_back({"auth.secret", 0,
                            "the development secret is in use: anyone can mint tokens; set "
                            "HUDDLE_AUTH_SECRET (or auth.secret) in production"});
    } else if (uses_hmac && !settings.auth.secret.empty() && settings.auth.secret.size() < 32) {
        warnings.push_back({"auth.secret", 0,
                            "the secret is shorter than 32 bytes; use at least 32 random bytes "
                            "for HS256 (48 for HS384, 64 for HS512)"});
    }
    if (settings.server.demo_tokens) {
        warnings.push_back({"server.demo_tokens", 0,
                            "demo tokens are on: anyone who reaches the server gets a token for "
                            "any user at /demo/token (development only)"});
    }
    if (settings.api.api_key == defaults.api.api_key) {
        warnings.push_back({"api.api_key", 0,
                            "the development API key is in use: anyone can call /api; set "
                            "HUDDLE_API_API_KEY (or api.api_key) in production"});
    }
    return warnings;
}

std::string settings_help_text() {
    std::string out =
        "Settings (defaults < config file < environment < flags; see docs/configuration.md).\n"
        "Each key can be set in the config file, with its environment variable, or with\n"
        "--set key=value. Durations: 1500 (ms), \"500ms\", \"30s\", \"1m\", \"1h\". Sizes: 65536,\n"
        "\"64KiB\", \"1MiB\". Lists: TOML arrays; comma-separated in the environment.\n";
    std::string current_section;
    for (const auto& d : setting_table()) {
        if (const std::string section = section_of(d.key); section != current_section) {
            out += "\n[" + section + "]\n";
            current_section = section;
        }
        out += "  " + d.key + " = " + default_text(d) + "\n";
        out += "      " + d.description + "\n";
        out += "      " + type_text(d) + "; env " + d.env;
        for (const auto& alias : d.env_aliases) {
            out += " or " + alias;
        }
        out += "\n";
    }
    out +=
        "\n[[namespaces]] (config file only; each replaces the defaults, \"user\" and \"*\" are\n"
        "kept unless redefined)\n"
        "  name = \"team\"                1 to 32 of a-z 0-9 _ -, or \"*\" for unlisted "
        "namespaces\n"
        "  access = \"authenticated\"     or \"own-user\" (only <name>:<own user id>), or "
        "\"claim\"\n"
        "  room_pattern = \"\"            for \"claim\": e.g. \"firm:{firmId}/*\" ({x} = claim "
        "x);\n"
        "                               the token's \"rooms\" claim (patterns) also grants access\n"
        "  presence_claims = []         claims shown in presence, e.g. [\"name\", \"avatar\"]\n"
        "  access = \"subscription-token\"  a second JWT per room from the app's backend\n"
        "  access = \"webhook\"           with webhook_url = \"http://...\": the backend decides\n"
        "  history = 0                  events kept per room for recovery (offsets); 0 = none\n"
        "  history_max_age = \"24h\"      drop history events older than this; 0 = no limit\n"
        "  client_publish = false       may clients publish to these rooms\n"
        "  presence_events = false      send join/leave events to members\n"
        "  publish_per_minute = 0       client publishes per connection per minute; 0 = no "
        "extra limit\n";
    return out;
}

std::string settings_markdown_table() {
    std::string out =
        "| Key | Environment variable | Type | Default | Description |\n"
        "|---|---|---|---|---|\n";
    for (const auto& d : setting_table()) {
        std::string env = "`" + d.env + "`";
        for (const auto& alias : d.env_aliases) {
            env += "<br>`" + alias + "`";
        }
        out += "| `" + d.key + "` | " + env + " | " + markdown_cell(type_text(d)) + " | `" +
               markdown_cell(default_text(d)) + "` | " + markdown_cell(d.description) + " |\n";
    }
    return out;
}

std::string settings_to_toml(const Settings& settings, bool mask_secrets) {
    std::string out;
    std::string current_section;
    for (const auto& d : setting_table()) {
        if (const std::string section = section_of(d.key); section != current_section) {
            out += (out.empty() ? "[" : "\n[") + section + "]\n";
            current_section = section;
        }
        const std::string value = mask_secrets && is_secret(d)
                                      ? std::string("\"(hidden)\"")
                                      : format_setting_value(d, d.get(settings));
        out += name_in_section(d.key) + " = " + value + "\n";
    }
    const SettingDescriptor name_format{.type = SettingType::string};
    for (const auto& ns : settings.namespaces) {
        out += "\n[[namespaces]]\n";
        out += "name = " + format_setting_value(name_format, ns.name) + "\n";
        out += "access = \"" + std::string(access_rule_name(ns.access)) + "\"\n";
        out += std::string("client_publish = ") + (ns.client_publish ? "true" : "false") + "\n";
        out += std::string("presence_events = ") + (ns.presence_events ? "true" : "false") + "\n";
        out += "publish_per_minute = " + std::to_string(ns.publish_per_minute) + "\n";
        out += "room_pattern = " + format_setting_value(name_format, ns.room_pattern) + "\n";
        out += "webhook_url = " + format_setting_value(name_format, ns.webhook_url) + "\n";
        out += "history = " + std::to_string(ns.history) + "\n";
        out += "history_max_age = " + std::to_string(ns.history_max_age_ms) + "\n";
        std::vector<std::string> claims = ns.presence_claims;
        out += "presence_claims = [";
        for (std::size_t i = 0; i < claims.size(); ++i) {
            out += (i == 0 ? "" : ", ") + format_setting_value(name_format, claims[i]);
        }
        out += "]\n";
    }
    return out;
}

}  // namespace huddle::config
