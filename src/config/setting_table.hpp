// The one table that describes every scalar setting of Settings: its key in the TOML file, its
// environment variable, its type and range, its description, and how to read and write it.
// The TOML loader, the environment loader, `--set key=value`, `huddle --help`, validate() and
// docs/configuration.md all work from this table, so they cannot drift apart.
//
// Namespaces ([[namespaces]] in the file) are an array of tables, not a scalar: they are handled
// by the TOML loader and validate() directly and are described in docs/configuration.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/settings.hpp"

namespace huddle::config {

enum class SettingType {
    string,       // any text
    choice,       // one word of SettingDescriptor::choices (case-insensitive, stored lower-case)
    integer,      // whole number within [min, max]
    boolean,      // TOML true/false; text: true/false, yes/no, on/off, 1/0
    duration,     // integer milliseconds or text such as "500ms", "30s", "1m", "1h", "1m30s"
    size,         // integer bytes or text such as "512B", "64KiB", "1MiB", "1GiB", "10kB"
    string_list,  // TOML array of strings; text: comma-separated
};

// A setting's value, independent of where it came from. integer and size hold std::int64_t
// (bytes for size), duration holds milliseconds, string and choice hold std::string.
using SettingValue = std::variant<std::string, std::int64_t, bool, std::chrono::milliseconds,
                                  std::vector<std::string>>;

struct SettingDescriptor {
    std::string key;                       // "server.port"
    std::string env;                       // "HUDDLE_SERVER_PORT" (derived from key)
    std::vector<std::string> env_aliases;  // "HUDDLE_PORT"; the canonical name wins over these
    SettingType type = SettingType::string;
    std::string description;  // one line, no trailing period
    // integer and size: the accepted range; duration: the accepted range in milliseconds.
    std::int64_t min = 0;
    std::int64_t max = 0;
    std::vector<std::string> choices;  // choice: the accepted words, lower-case
    // Stores an already parsed and range-checked value; returns an error message (without the
    // key) when the value still cannot be stored, e.g. "1500ms" for a whole-seconds setting.
    std::function<std::optional<std::string>(Settings&, const SettingValue&)> set;
    std::function<SettingValue(const Settings&)> get;
};

// Every scalar setting, in the order of the documentation.
const std::vector<SettingDescriptor>& setting_table();

// nullptr when `key` is not a setting.
const SettingDescriptor* find_setting(std::string_view key);

// The canonical environment variable of a key: "limits.max_message_bytes" ->
// "HUDDLE_LIMITS_MAX_MESSAGE_BYTES".
std::string env_name_for(std::string_view key);

// "integer 1..65535", "duration", "one of: error, warn, info, debug", ...
std::string type_text(const SettingDescriptor& d);

// Parses text (environment variable, --set flag) as a value of d's type, range included.
// On failure returns an error message without the key, e.g. "expected an integer, got 'abc'".
struct ParsedValue {
    std::optional<SettingValue> value;
    std::string error;
};
ParsedValue parse_setting_text(const SettingDescriptor& d, std::string_view text);

// Checks a value of d's type against d's range or choices; the error message has no key.
std::optional<std::string> check_setting_value(const SettingDescriptor& d, const SettingValue& v);

// The value as it would be written in a TOML file: 3000, true, "0.0.0.0", "30s", "64KiB",
// ["HS256"].
std::string format_setting_value(const SettingDescriptor& d, const SettingValue& v);

// format_setting_value of the built-in default.
std::string default_text(const SettingDescriptor& d);

// Durations and sizes as text. Parsing returns std::nullopt on malformed text or overflow.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::optional<std::int64_t> parse_size(std::string_view text);
std::string format_duration(std::chrono::milliseconds d);  // "30s", "500ms", "1m", "0s"
std::string format_size(std::int64_t bytes);               // "64KiB", "1MiB", "1000"

// Namespace names: 1 to 32 of [a-z0-9_-], or "*" (rooms of every namespace not listed).
bool valid_namespace_name(std::string_view name);

// Client publishes per minute allowed in a namespace: 0..kMaxPublishPerMinute.
inline constexpr std::int64_t kMaxPublishPerMinute = 1'000'000;

// "authenticated" / "own-user" and back.
std::optional<AccessRule> parse_access_rule(std::string_view text);
std::string_view access_rule_name(AccessRule rule);

// The closest key (or word) to `word` among `candidates`, if it is close enough to be a typo.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

}  // namespace huddle::config
