// huddle: the server (no subcommand), `huddle token` and `huddle check-config`.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>

#include "app/allocator_tuning.hpp"
#include "app/banner.hpp"
#include "app/check_config.hpp"
#include "app/help_text.hpp"
#include "app/token_command.hpp"
#include "config/config.hpp"
#include "net/server.hpp"
#include "observability/log.hpp"

extern char** environ;

namespace {
using namespace huddle;

struct CommandLine {
    std::string config_file;
    std::string host;
    std::optional<int> port;
    std::optional<int> threads;
    std::vector<std::string> assignments;
    std::string log_level;
    std::string log_format;
    bool print_config = false;
};

void report(const std::vector<config::ConfigError>& errors) {
    for (const auto& error : errors)
        std::cerr << "error: " << config::format_error(error) << "\n";
}

// Defaults < file < environment < flags. Returns false (after printing every error) on errors.
bool load_settings(const CommandLine& line, config::Settings& settings) {
    std::vector<config::ConfigError> errors;
    const auto add = [&errors](std::vector<config::ConfigError> more) {
        errors.insert(errors.end(), more.begin(), more.end());
    };
    std::string file = line.config_file;
    if (file.empty()) {
        if (const char* from_env = std::getenv("HUDDLE_CONFIG"))
            file = from_env;
    }
    if (!file.empty())
        add(config::apply_toml_file(settings, file));
    add(config::apply_environment(settings));
    if (!line.host.empty())
        add(config::apply_key_value(settings, "server.host", line.host, "--host"));
    if (line.port)
        add(config::apply_key_value(settings, "server.port", std::to_string(*line.port), "--port"));
    if (line.threads) {
        add(config::apply_key_value(settings, "server.threads", std::to_string(*line.threads),
                                    "--threads"));
    }
    if (!line.log_level.empty())
        add(config::apply_key_value(settings, "log.level", line.log_level, "--log-level"));
    if (!line.log_format.empty()) {
        add(config::apply_key_value(settings, "log.format", line.log_format, "--log-format"));
    }
    for (const auto& assignment : line.assignments)
        add(config::apply_assignment(settings, assignment, "--set"));
    // A value with an error was not applied and its default stands in, so validating anyway
    // reports the remaining problems in the same run instead of one per attempt.
    add(config::validate(settings));
    report(errors);
    return errors.empty();
}

std::string_view format_name(config::LogFormat format) {
    switch (format) {
        case config::LogFormat::json:
            return "json";
        case config::LogFormat::text:
            return "text";
        case config::LogFormat::automatic:
            return "auto";
    }
    return "auto";
}

int run_server(const config::Settings& settings) {
    observability::configure_logging(settings.log.level, format_name(settings.log.format));
    for (const auto& warning : config::environment_warnings(environ, {"HUDDLE_CONFIG"})) {
        observability::log(observability::LogLevel::warn, "config.warning",
                           {{"message", config::format_error(warning)}});
    }
    for (const auto& warning : config::settings_warnings(settings)) {
        observability::log(observability::LogLevel::warn, "config.warning",
                           {{"message", config::format_error(warning)}});
    }
    std::signal(SIGPIPE, SIG_IGN);
    net::Server server(settings);
    try {
        server.start();
    } catch (const std::exception& error) {
        // A driver's message may quote the connection string; the password stays out of logs.
        std::cerr << "huddle: " << app::scrub_password(error.what(), settings.store.url) << "\n"
                  << "  data: " << app::data_location(settings) << "\n";
        return 1;
    }
    const bool tls = server.tls_context() != nullptr;
    std::cout << app::startup_banner(
        settings, {.port = server.bound_port(), .loops = server.loop_count(), .tls = tls});
    std::cout.flush();
    observability::log(
        observability::LogLevel::info, "server.listening",
        {{"address", settings.server.host + ":" + std::to_string(server.bound_port())},
         {"tls", tls ? "on" : "off"},
         {"data", app::data_location(settings)}});
    return server.run_until_signal();
}

}  // namespace

int main(int argc, char** argv) {
    huddle::app::tune_allocator(argv);
    CLI::App app{app::kDescription, "huddle"};
    app.set_help_all_flag("--help-all", "Print this help and that of every subcommand");
    app.set_version_flag("--version", "huddle " HUDDLE_VERSION);
    CommandLine line;
    app.add_option("-c,--config", line.config_file, "TOML configuration file (also HUDDLE_CONFIG)");
    app.add_option("--host", line.host, "Address to listen on (server.host)");
    app.add_option("-p,--port", line.port, "Port to listen on (server.port)");
    app.add_option("-t,--threads", line.threads, "Event loops; 0 = one per core (server.threads)");
    app.add_option("--set", line.assignments,
                   "Any setting as key=value, e.g. --set limits.max_message_bytes=1MiB "
                   "(repeatable)");
    app.add_option("--log-level", line.log_level, "error, warn, info or debug (log.level)");
    app.add_option("--log-format", line.log_format,
                   "auto (text on a terminal, JSON otherwise), json or text (log.format)");
    app.add_flag("--print-config", line.print_config,
                 "Print the effective settings as TOML (secrets masked) and exit");

    app::TokenRequest token_request;
    CLI::App* token = app.add_subcommand(
        "token", "Print a token signed with the configured secret (for development and tests)");
    token->add_option("--sub", token_request.subject, "Subject: the user id")->required();
    token->add_option("--claim", token_request.claims,
                      "Extra claim key=value (repeatable); JSON values keep their type");
    token->add_option("--ttl", token_request.ttl, "Lifetime: 3600, 90s, 15m, 1h, 7d (default 1h)");
    // The token is signed with the settings, so --config, --set, ... may follow the subcommand.
    token->fallthrough();
    token->footer(app::kTokenFooter);

    std::string checked_file;
    CLI::App* check = app.add_subcommand(
        "check-config", "Report every error in a configuration file, each with its line");
    check->add_option("file", checked_file, "TOML file")->required();
    check->footer(app::kCheckConfigFooter);

    // Set after the subcommands exist: CLI11 copies a parent's footer into new subcommands.
    app.footer(std::string(app::kMainFooter) + "\n" + config::settings_help_text());

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        // --help and --version are ParseErrors that exit with 0; usage errors exit with 2, as
        // configuration errors do.
        return app.exit(error) == 0 ? 0 : 2;
    }

    if (check->parsed())
        return app::run_check_config(checked_file);

    config::Settings settings;
    if (!load_settings(line, settings))
        return 2;
    if (token->parsed())
        return app::run_token_command(settings, token_request);
    if (line.print_config) {
        std::cout << config::settings_to_toml(settings);
        return 0;
    }
    return run_server(settings);
}
