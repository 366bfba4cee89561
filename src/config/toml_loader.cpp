// The TOML file: every key checked against the setting table, every error with its line.
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config/config.hpp"
#include "config/setting_table.hpp"

namespace huddle::config {

namespace {

std::string_view node_type_name(toml::node_type type) {
    switch (type) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a floating-point number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

int line_of(const toml::node& node) {
    return static_cast<int>(node.source().begin.line);
}

int line_of(const toml::key& key, const toml::node& node) {
    const int line = static_cast<int>(key.source().begin.line);
    return line > 0 ? line : line_of(node);
}

std::string in_quotes(std::string_view s) {
    return "'" + std::string(s) + "'";
}

// The sections of the table ("server", "auth", ...) and every key, for suggestions.
struct KnownNames {
    std::vector<std::string> sections;
    std::vector<std::string> keys;

    KnownNames() {
        for (const auto& d : setting_table()) {
            keys.push_back(d.key);
            const std::string section = d.key.substr(0, d.key.find('.'));
            if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
                sections.push_back(section);
            }
        }
    }
};

const KnownNames& known_names() {
    static const KnownNames names;
    return names;
}

class Loader {
  public:
    Loader(Settings& settings, std::string_view source) : settings_(settings), source_(source) {}

    std::vector<ConfigError> run(std::string_view text) {
        toml::table root;
        try {
            root = toml::parse(text, source_);
        } catch (const toml::parse_error& e) {
            error(static_cast<int>(e.source().begin.line), std::string(e.description()));
            return std::move(errors_);
        }
        for (auto&& [key, node] : root) {
            const std::string_view name = key.str();
            const auto& sections = known_names().sections;
            if (name == "namespaces") {
                namespaces(node, line_of(key, node));
            } else if (std::find(sections.begin(), sections.end(), name) != sections.end()) {
                section(name, key, node);
            } else {
                unknown(std::string(name), line_of(key, node));
            }
        }
        // toml++ tables iterate in key order: report in the order of the file instead.
        std::stable_sort(
            errors_.begin(), errors_.end(),
            [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
        return std::move(errors_);
    }

  private:
    void error(int line, std::string message) {
        errors_.push_back({std::string(source_), line, std::move(message)});
    }

    void unknown(const std::string& key, int line) {
        std::string message = "unknown setting " + in_quotes(key);
        std::vector<std::string> candidates = known_names().keys;
        candidates.insert(candidates.end(), known_names().sections.begin(),
                          known_names().sections.end());
        candidates.emplace_back("namespaces");
        auto suggestion = closest_match(key, candidates);
        if (!suggestion && key.find('.') == std::string::npos) {
            // A key written outside its section: "port = 4000" -> "server.port".
            for (const auto& k : known_names().keys) {
                if (k.ends_with("." + key)) {
                    suggestion = k;
                    break;
                }
            }
        }
        if (suggestion) {
            message += " (did you mean " + in_quotes(*suggestion) + "?)";
        }
        error(line, std::move(message));
    }

    void section(std::string_view name, const toml::key& key, const toml::node& node) {
        const toml::table* table = node.as_table();
        if (table == nullptr) {
            error(line_of(key, node), in_quotes(name) + " must be a table ([" + std::string(name) +
                                          "]), got " + std::string(node_type_name(node.type())));
            return;
        }
        for (auto&& [sub_key, value] : *table) {
            const std::string full = std::string(name) + "." + std::string(sub_key.str());
            const SettingDescriptor* d = find_setting(full);
            if (d == nullptr) {
                unknown(full, line_of(sub_key, value));
                continue;
            }
            setting(*d, value, line_of(sub_key, value));
        }
    }

    void type_error(const SettingDescriptor& d, std::string_view expected, const toml::node& node,
                    int line) {
        error(line, d.key + ": expected " + std::string(expected) + ", got " +
                        std::string(node_type_name(node.type())));
    }

    void setting(const SettingDescriptor& d, const toml::node& node, int line) {
        ParsedValue parsed;
        switch (d.type) {
            case SettingType::string:
                if (const auto* s = node.as_string()) {
                    parsed.value = s->get();
                } else {
                    return type_error(d, "a string", node, line);
                }
                break;
            case SettingType::choice:
            case SettingType::duration:
            case SettingType::size:
                if (const auto* s = node.as_string()) {
                    parsed = parse_setting_text(d, s->get());
                } else if (const auto* i = node.as_integer();
                           i != nullptr && d.type == SettingType::duration) {
                    parsed.value = std::chrono::milliseconds(i->get());
                } else if (i != nullptr && d.type == SettingType::size) {
                    parsed.value = i->get();
                } else {
                    return type_error(d,
                                      d.type == SettingType::choice
                                          ? "a string"
                                          : (d.type == SettingType::duration
                                                 ? "a duration (integer milliseconds or \"30s\")"
                                                 : "a size (integer bytes or \"64KiB\")"),
                                      node, line);
                }
                break;
            case SettingType::integer:
                if (const auto* i = node.as_integer()) {
                    parsed.value = i->get();
                } else {
                    return type_error(d, "an integer", node, line);
                }
                break;
            case SettingType::boolean:
                if (const auto* b = node.as_boolean()) {
                    parsed.value = b->get();
                } else {
                    return type_error(d, "a boolean (true or false)", node, line);
                }
                break;
            case SettingType::string_list: {
                const toml::array* array = node.as_array();
                if (array == nullptr) {
                    return type_error(d, "an array of strings", node, line);
                }
                std::vector<std::string> items;
                for (std::size_t i = 0; i < array->size(); ++i) {
                    const toml::node& item = *array->get(i);
                    if (const auto* s = item.as_string()) {
                        items.push_back(s->get());
                    } else {
                        const int item_line = line_of(item);
                        error(item_line > 0 ? item_line : line,
                              d.key + ": expected an array of strings, element " +
                                  std::to_string(i + 1) + " is " +
                                  std::string(node_type_name(item.type())));
                        return;
                    }
                }
                parsed.value = std::move(items);
                break;
            }
        }
        if (parsed.value) {
            if (auto err = check_setting_value(d, *parsed.value)) {
                parsed.error = std::move(*err);
            } else if (auto set_err = d.set(settings_, *parsed.value)) {
                parsed.error = std::move(*set_err);
            }
        }
        if (!parsed.error.empty()) {
            error(line, d.key + ": " + parsed.error);
        }
    }

    void namespaces(const toml::node& node, int line) {
        const toml::array* array = node.as_array();
        if (array == nullptr) {
            error(line, "'namespaces' must be an array of tables: write [[namespaces]], got " +
                            std::string(node_type_name(node.type())));
            return;
        }
        std::vector<NamespaceSettings> result;
        std::map<std::string, int> first_line;  // name -> line it was defined on
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::node& element = *array->get(i);
            const int element_line = line_of(element) > 0 ? line_of(element) : line;
            const toml::table* table = element.as_table();
            if (table == nullptr) {
                error(element_line, "namespaces: element " + std::to_string(i + 1) +
                                        " must be a table, got " +
                                        std::string(node_type_name(element.type())));
                continue;
            }
            if (auto ns = namespace_entry(*table, element_line)) {
                auto [it, inserted] = first_line.emplace(ns->name, element_line);
                if (!inserted) {
                    error(element_line, "namespace " + in_quotes(ns->name) +
                                            " is defined twice (first on line " +
                                            std::to_string(it->second) + ")");
                    continue;
                }
                result.push_back(std::move(*ns));
            }
        }
        // The file's list replaces the defaults, but the defaults it does not redefine stay.
        for (auto& d : Settings::default_namespaces()) {
            if (!first_line.contains(d.name)) {
                result.push_back(std::move(d));
            }
        }
        settings_.namespaces = std::move(result);
    }

    // One [[namespaces]] table; nullopt (after reporting) when it has an error.
    std::optional<NamespaceSettings> namespace_entry(const toml::table& table, int table_line) {
        static const std::vector<std::string> kKeys{"name",
                                                    "access",
                                                    "client_publish",
                                                    "presence_events",
                                                    "publish_per_minute",
                                                    "room_pattern",
                                                    "presence_claims"};
        NamespaceSettings ns;
        bool ok = true;
        bool has_name = false;
        for (auto&& entry : table) {
            // Not a structured binding: lambdas below capture these (clang 15 cannot).
            const toml::key& key = entry.first;
            const toml::node& value = entry.second;
            const std::string_view k = key.str();
            const int line = line_of(key, value);
            auto bad_type = [&](std::string_view expected) {
                error(line, "namespaces." + std::string(k) + ": expected " + std::string(expected) +
                                ", got " + std::string(node_type_name(value.type())));
                ok = false;
            };
            if (k == "name") {
                if (const auto* s = value.as_string()) {
                    has_name = true;
                    ns.name = s->get();
                    if (!valid_namespace_name(ns.name)) {
                        error(line, "invalid namespace name " + in_quotes(ns.name) +
                                        ": use 1 to 32 characters of a-z 0-9 _ -, or *");
                        ok = false;
                    }
                } else {
                    bad_type("a string");
                }
            } else if (k == "access") {
                if (const auto* s = value.as_string()) {
                    if (auto rule = parse_access_rule(s->get())) {
                        ns.access = *rule;
                    } else {
                        error(line, "namespaces.access: unknown access rule " +
                                        in_quotes(s->get()) +
                                        " (expected \"authenticated\", \"own-user\", \"claim\", "
                                        "\"subscription-token\" or \"webhook\")");
                        ok = false;
                    }
                } else {
                    bad_type("a string");
                }
            } else if (k == "client_publish" || k == "presence_events") {
                if (const auto* b = value.as_boolean()) {
                    (k == "client_publish" ? ns.client_publish : ns.presence_events) = b->get();
                } else {
                    bad_type("a boolean (true or false)");
                }
            } else if (k == "history") {
                const auto* i = value.as_integer();
                if (i == nullptr) {
                    bad_type("an integer");
                } else if (i->get() < 0 || i->get() > 10'000'000) {
                    error(line, "namespaces.history: " + std::to_string(i->get()) +
                                    " is out of range 0..10000000");
                    ok = false;
                } else {
                    ns.history = static_cast<std::uint32_t>(i->get());
                }
            } else if (k == "history_max_age") {
                std::optional<std::chrono::milliseconds> age;
                if (const auto* text = value.as_string()) {
                    age = parse_duration(text->get());
                } else if (const auto* number = value.as_integer(); number && number->get() >= 0) {
                    age = std::chrono::milliseconds(number->get());
                }
                if (age) {
                    ns.history_max_age_ms = age->count();
                } else {
                    error(line, "namespaces.history_max_age: expected a duration such as \"24h\"");
                    ok = false;
                }
            } else if (k == "webhook_url") {
                if (const auto* s = value.as_string()) {
                    ns.webhook_url = s->get();
                } else {
                    bad_type("a string");
                }
            } else if (k == "room_pattern") {
                if (const auto* s = value.as_string()) {
                    ns.room_pattern = s->get();
                } else {
                    bad_type("a string");
                }
            } else if (k == "presence_claims") {
                const auto* list = value.as_array();
                const bool all_strings = list != nullptr && std::all_of(list->begin(), list->end(),
                                                                        [](const auto& item) {
                                                                            return item.is_string();
                                                                        });
                if (all_strings) {
                    for (const auto& item : *list)
                        ns.presence_claims.push_back(item.as_string()->get());
                } else {
                    bad_type("an array of strings");
                }
            } else if (k == "publish_per_minute") {
                if (const auto* i = value.as_integer()) {
                    if (i->get() < 0 || i->get() > kMaxPublishPerMinute) {
                        error(line, "namespaces.publish_per_minute: " + std::to_string(i->get()) +
                                        " is out of range 0.." +
                                        std::to_string(kMaxPublishPerMinute));
                        ok = false;
                    } else {
                        ns.publish_per_minute = static_cast<std::uint32_t>(i->get());
                    }
                } else {
                    bad_type("an integer");
                }
            } else {
                std::string message = "unknown namespace setting " + in_quotes(k);
                if (auto s = closest_match(k, kKeys)) {
                    message += " (did you mean " + in_quotes(*s) + "?)";
                }
                error(line, std::move(message));
                ok = false;
            }
        }
        if (!has_name) {
            error(table_line, "namespace without a name (add name = \"...\")");
            return std::nullopt;
        }
        if (ok && ns.name == "*" && ns.access == AccessRule::own_user) {
            error(table_line,
                  "namespace '*' cannot be own-user (own-user rooms are <name>:<user>)");
            ok = false;
        }
        if (!ok) {
            return std::nullopt;
        }
        return ns;
    }

    Settings& settings_;
    std::string source_;
    std::vector<ConfigError> errors_;
};

}  // namespace

std::vector<ConfigError> apply_toml_text(Settings& settings, std::string_view text,
                                         std::string_view source_name) {
    return Loader(settings, source_name).run(text);
}

std::vector<ConfigError> apply_toml_file(Settings& settings, const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        return {{path, 0, "cannot read the config file: it is a directory"}};
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return {{path, 0, std::string("cannot open the config file: ") + std::strerror(errno)}};
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) {
        return {{path, 0, "cannot read the config file"}};
    }
    return apply_toml_text(settings, buffer.str(), path);
}

}  // namespace huddle::config
