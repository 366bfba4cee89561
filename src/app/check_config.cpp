#include "app/check_config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace huddle::app {
namespace {

// Where the file sets each "section.key", and where each namespace is named.
struct LineIndex {
    std::map<std::string, int, std::less<>> keys;
    std::map<std::string, int, std::less<>> namespaces;
};

int line_of(const toml::key& key) {
    return static_cast<int>(key.source().begin.line);
}

std::optional<LineIndex> index_lines(const std::string& path) {
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error&) {
        return std::nullopt;  // already reported by the loader, with its line
    }
    LineIndex index;
    for (auto&& [section, node] : root) {
        if (const toml::table* table = node.as_table()) {
            for (auto&& [key, value] : *table)
                index.keys.emplace(std::string(section.str()) + "." + std::string(key.str()),
                                   line_of(key));
        }
    }
    if (const toml::array* namespaces = root["namespaces"].as_array()) {
        for (const toml::node& entry : *namespaces) {
            const toml::table* table = entry.as_table();
            if (table == nullptr)
                continue;
            for (auto&& [key, value] : *table) {
                if (key.str() == "name" && value.is_string())
                    index.namespaces.emplace(value.as_string()->get(), line_of(key));
            }
        }
    }
    return index;
}

// The namespace a message names: "namespace 'chat'" or "namespace name 'chat'".
std::optional<std::string> namespace_named(std::string_view message) {
    for (std::size_t at = message.find("namespace"); at != std::string_view::npos;
         at = message.find("namespace", at + 1)) {
        std::string_view rest = message.substr(at + std::string_view("namespace").size());
        if (rest.starts_with(" name"))
            rest.remove_prefix(5);
        if (!rest.starts_with(" '"))
            continue;
        rest.remove_prefix(2);
        const std::size_t end = rest.find('\'');
        if (end != std::string_view::npos)
            return std::string(rest.substr(0, end));
    }
    return std::nullopt;
}

// Words of the form section.key ([a-z_]+ '.' [a-z_]+), in order.
std::vector<std::string> setting_keys_in(std::string_view message) {
    const auto is_key_char = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
    const auto is_word_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    };
    std::vector<std::string> keys;
    std::size_t i = 0;
    while (i < message.size()) {
        if (!is_key_char(message[i]) || (i > 0 && is_word_char(message[i - 1]))) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < message.size() && is_key_char(message[j]))
            ++j;
        if (j + 1 < message.size() && message[j] == '.' && is_key_char(message[j + 1])) {
            std::size_t k = j + 1;
            while (k < message.size() && is_key_char(message[k]))
                ++k;
            if (k == message.size() || !is_word_char(message[k]))
                keys.emplace_back(message.substr(i, k - i));
            i = k;
            continue;
        }
        i = j;
    }
    return keys;
}

// The line of the first setting or namespace that `message` names and the file sets. (Scanned
// by hand: std::regex trips GCC 12's maybe-uninitialized warning at -O2.)
int line_for(const std::string& message, const LineIndex& index) {
    if (const auto name = namespace_named(message)) {
        if (const auto found = index.namespaces.find(*name); found != index.namespaces.end())
            return found->second;
    }
    for (const std::string& key : setting_keys_in(message)) {
        if (const auto found = index.keys.find(key); found != index.keys.end())
            return found->second;
    }
    return 0;
}

}  // namespace

std::vector<config::ConfigError> check_config_file(const std::string& path) {
    config::Settings settings;
    std::vector<config::ConfigError> errors = config::apply_toml_file(settings, path);
    // A value with an error was not applied: its default stands in, so the whole-settings checks
    // below judge the rest of the file and every error shows up in one run.
    const std::optional<LineIndex> index = index_lines(path);
    if (!index)
        return errors;
    for (config::ConfigError& error : config::validate(settings)) {
        errors.push_back({path, line_for(error.message, *index), std::move(error.message)});
    }
    // In the order of the file, so that the list reads alongside it; errors without a line last.
    std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
        const auto key = [](const config::ConfigError& e) {
            return e.line > 0 ? e.line : std::numeric_limits<int>::max();
        };
        return key(a) < key(b);
    });
    return errors;
}

int run_check_config(const std::string& path) {
    const std::vector<config::ConfigError> errors = check_config_file(path);
    for (const config::ConfigError& error : errors)
        std::cerr << "error: " << config::format_error(error) << "\n";
    if (!errors.empty()) {
        std::cerr << path << ": " << errors.size() << " error(s)\n";
        return 1;
    }
    std::cout << path << ": OK\n";
    return 0;
}

}  // namespace huddle::app
