// docs/configuration.md and config/huddle.example.toml must match the setting table.
// To regenerate the table (and the copy of the example file) in the documentation, run
//   HUDDLE_UPDATE_DOCS=1 build/<preset>/tests/unit/config_tests --gtest_filter='Docs.*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/config.hpp"
#include "config/setting_table.hpp"

#ifndef HUDDLE_SOURCE_DIR
#error "config_tests needs HUDDLE_SOURCE_DIR (tests/unit/CMakeLists.txt)"
#endif

using namespace huddle::config;

namespace {

constexpr std::string_view kBegin =
    "<!-- BEGIN GENERATED SETTINGS TABLE: edit src/config/setting_table.cpp, then run "
    "HUDDLE_UPDATE_DOCS=1 config_tests -->\n";
constexpr std::string_view kEnd = "<!-- END GENERATED SETTINGS TABLE -->";
constexpr std::string_view kExampleBegin =
    "<!-- BEGIN GENERATED EXAMPLE: a copy of config/huddle.example.toml -->\n";
constexpr std::string_view kExampleEnd = "<!-- END GENERATED EXAMPLE -->";

std::string source_path(std::string_view relative) {
    return std::string(HUDDLE_SOURCE_DIR) + "/" + std::string(relative);
}

std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in) << "cannot open " << path;
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::string all(const std::vector<ConfigError>& errors) {
    std::string out;
    for (const auto& e : errors) {
        out += format_error(e) + "\n";
    }
    return out;
}

// Checks that the text between `begin` and `end` in docs/configuration.md is `expected`; with
// HUDDLE_UPDATE_DOCS set, rewrites it instead.
void expect_generated_section(std::string_view begin_marker, std::string_view end_marker,
                              const std::string& expected) {
    const std::string path = source_path("docs/configuration.md");
    std::string doc = read(path);
    const auto begin = doc.find(begin_marker);
    const auto end = doc.find(end_marker);
    ASSERT_NE(begin, std::string::npos) << path << " lacks the line: " << begin_marker;
    ASSERT_NE(end, std::string::npos) << path << " lacks the line: " << end_marker;
    ASSERT_LT(begin, end);
    const auto content_begin = begin + begin_marker.size();
    const std::string actual = doc.substr(content_begin, end - content_begin);
    if (actual != expected && std::getenv("HUDDLE_UPDATE_DOCS") != nullptr) {
        doc.replace(content_begin, end - content_begin, expected);
        std::ofstream(path, std::ios::binary | std::ios::trunc) << doc;
        GTEST_SKIP() << "rewrote a generated section of " << path;
    }
    EXPECT_EQ(actual, expected)
        << path << " is stale: run HUDDLE_UPDATE_DOCS=1 config_tests --gtest_filter='Docs.*'";
}

}  // namespace

TEST(Docs, ConfigurationMarkdownHasTheCurrentTable) {
    expect_generated_section(kBegin, kEnd, "\n" + settings_markdown_table() + "\n");
}

TEST(Docs, ConfigurationMarkdownHasTheExampleFile) {
    expect_generated_section(
        kExampleBegin, kExampleEnd,
        "```toml\n" + read(source_path("config/huddle.example.toml")) + "```\n");
}

TEST(Docs, ExampleFileLoadsCleanAndValidates) {
    const std::string path = source_path("config/huddle.example.toml");
    Settings s;
    const auto errors = apply_toml_file(s, path);
    EXPECT_TRUE(errors.empty()) << all(errors);
    const auto problems = validate(s);
    EXPECT_TRUE(problems.empty()) << all(problems);

    // The example shows every setting, each with its default value.
    for (const auto& d : setting_table()) {
        EXPECT_EQ(format_setting_value(d, d.get(s)), default_text(d))
            << d.key << " in " << path << " differs from the default";
    }
    const std::string text = read(path);
    for (const auto& d : setting_table()) {
        const std::string section = "\n[" + d.key.substr(0, d.key.find('.')) + "]\n";
        const auto start = text.find(section);
        ASSERT_NE(start, std::string::npos) << section;
        const auto stop = text.find("\n[", start + 1);
        const std::string block = text.substr(start, stop - start);
        EXPECT_NE(block.find("\n" + d.key.substr(d.key.find('.') + 1) + " = "), std::string::npos)
            << d.key << " is missing from " << path;
    }

    // The issue-tracker namespaces, plus the defaults.
    std::vector<std::string> names;
    for (const auto& ns : s.namespaces) {
        names.push_back(ns.name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"workspace", "team", "issue", "project", "cycle",
                                               "user", "*"}));
}

TEST(Docs, HelpTextListsEverySetting) {
    const std::string help = settings_help_text();
    for (const auto& d : setting_table()) {
        EXPECT_NE(help.find("  " + d.key + " = " + default_text(d) + "\n"), std::string::npos)
            << d.key;
        EXPECT_NE(help.find(d.env), std::string::npos) << d.env;
        EXPECT_NE(help.find(d.description), std::string::npos) << d.key;
    }
    EXPECT_NE(help.find("HUDDLE_PORT"), std::string::npos);
    EXPECT_NE(help.find("[[namespaces]]"), std::string::npos);
}

TEST(Docs, MarkdownTableHasOneRowPerSetting) {
    const std::string table = settings_markdown_table();
    std::size_t rows = 0;
    for (std::size_t pos = 0; (pos = table.find("\n| `", pos)) != std::string::npos; ++pos) {
        ++rows;
    }
    EXPECT_EQ(rows, setting_table().size());
    EXPECT_NE(table.find("| `server.port` | `HUDDLE_SERVER_PORT`<br>`HUDDLE_PORT` | integer "
                         "1..65535 | `3000` | TCP port for WebSocket and HTTP |"),
              std::string::npos)
        << table;
}
