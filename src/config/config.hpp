// Loading, overriding and validating Settings.
//
// Layering (last wins): built-in defaults < TOML file < HUDDLE_* environment variables < flags.
// A typical start:
//
//     Settings s;
//     auto errors = apply_toml_file(s, path);             // if --config was given
//     append(errors, apply_environment(s));
//     append(errors, apply_key_value(s, "server.port", "4000", "--port"));  // per flag
//     append(errors, validate(s));
//     for (auto& w : environment_warnings(environ)) log_warn(format_error(w));
//     for (auto& w : settings_warnings(s)) log_warn(format_error(w));
//
// Every apply_* function applies what it can and reports every problem it finds (never only the
// first); a value with an error is not applied. validate() and the apply_* functions return only
// errors (refuse to start); the *_warnings functions return problems worth a log line.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace huddle::config {

struct ConfigError {
    std::string source;  // file path, environment variable, "--flag", or "settings" (validate)
    int line = 0;        // 1-based line in the file; 0 when not from a file
    std::string message;

    friend bool operator==(const ConfigError&, const ConfigError&) = default;
};

// "config.toml:12: unknown setting 'server.prot' (did you mean 'server.port'?)", or
// "HUDDLE_SERVER_PORT: server.port: expected an integer, got 'abc'" when there is no line.
std::string format_error(const ConfigError& error);

// Applies a TOML document. `source_name` names it in errors (usually the file path).
// Reports the syntax error (toml++ stops at the first one), or else every unknown key, wrong type,
// out-of-range value and invalid namespace, each with its line.
std::vector<ConfigError> apply_toml_text(Settings& settings, std::string_view text,
                                         std::string_view source_name);

// Reads and applies a TOML file; a file that cannot be read is one error.
std::vector<ConfigError> apply_toml_file(Settings& settings, const std::string& path);

// Applies every known HUDDLE_* variable that getenv_fn returns non-null for, including the
// aliases HUDDLE_PORT, HUDDLE_SECRET and HUDDLE_API_KEY (the canonical name wins when both are
// set). Unknown HUDDLE_* names cannot be seen through getenv: see environment_warnings().
std::vector<ConfigError> apply_environment(
    Settings& settings, const std::function<const char*(const char*)>& getenv_fn);
// The same with std::getenv.
std::vector<ConfigError> apply_environment(Settings& settings);

// Applies one setting given as text, e.g. from `--set server.port=4000` (source "--set") or a
// dedicated flag (source "--port"). Unknown keys are errors.
std::vector<ConfigError> apply_key_value(Settings& settings, std::string_view key,
                                         std::string_view value, std::string_view source);

// Splits "key=value" and calls apply_key_value; a missing '=' is an error.
std::vector<ConfigError> apply_assignment(Settings& settings, std::string_view assignment,
                                          std::string_view source);

// Cross-field and file-system checks of the final settings (source "settings", line 0):
// ranges of every setting, TLS needs both files and they must exist, the algorithm allow-list,
// the secret or key file each algorithm needs, pong_timeout > ping_interval, namespace rules, ...
std::vector<ConfigError> validate(const Settings& settings);

// Warnings for HUDDLE_* variables that are not settings (typos), given an environ-style,
// null-terminated array of "NAME=value" strings. `also_known` lists HUDDLE_* names used for
// something else (e.g. a HUDDLE_CONFIG read by the command line) that must not be warned about.
std::vector<ConfigError> environment_warnings(const char* const* envp,
                                              const std::vector<std::string>& also_known = {});

// Warnings about settings that work but should not reach production: the development secret or
// API key still in use, an HMAC secret shorter than 32 bytes.
std::vector<ConfigError> settings_warnings(const Settings& settings);

// Every setting: key, environment variable, type, default and description, for `huddle --help`.
std::string settings_help_text();

// The same as a GitHub-flavoured markdown table (docs/configuration.md includes it verbatim).
std::string settings_markdown_table();

// The effective settings as a TOML document (secrets masked), for `huddle --print-config`.
std::string settings_to_toml(const Settings& settings, bool mask_secrets = true);

}  // namespace huddle::config
