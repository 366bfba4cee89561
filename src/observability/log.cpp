#include "observability/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include <spdlog/fmt/fmt.h>

namespace huddle::observability {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::info)};
std::atomic<bool> g_json{true};
std::mutex g_write_mutex;

constexpr std::string_view level_name(LogLevel level) {
    switch (level) {
        case LogLevel::debug:
            return "debug";
        case LogLevel::info:
            return "info";
        case LogLevel::warn:
            return "warn";
        case LogLevel::error:
            return "error";
    }
    return "info";
}

void append_escaped(std::string& out, std::string_view value) {
    for (char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (byte < 0x20) {
            out += fmt::format("\\u{:04x}", byte);
        } else {
            out.push_back(c);
        }
    }
}

std::string timestamp_iso8601() {
    const auto now = std::chrono::system_clock::now();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                       utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms % 1000);
}

}  // namespace

bool configure_logging(std::string_view level, std::string_view format) {
    if (level == "debug") {
        g_min_level = static_cast<int>(LogLevel::debug);
    } else if (level == "info") {
        g_min_level = static_cast<int>(LogLevel::info);
    } else if (level == "warn") {
        g_min_level = static_cast<int>(LogLevel::warn);
    } else if (level == "error") {
        g_min_level = static_cast<int>(LogLevel::error);
    } else {
        return false;
    }
    if (format == "json") {
        g_json = true;
    } else if (format == "text") {
        g_json = false;
    } else {
        g_json = isatty(STDERR_FILENO) == 0;
    }
    return true;
}

bool log_enabled(LogLevel level) {
    return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed);
}

void log(LogLevel level, std::string_view action, std::initializer_list<LogField> fields) {
    if (!log_enabled(level))
        return;
    std::string line;
    line.reserve(128);
    if (g_json.load(std::memory_order_relaxed)) {
        line += "{\"time\":\"";
        line += timestamp_iso8601();
        line += "\",\"level\":\"";
        line += level_name(level);
        line += "\",\"action\":\"";
        append_escaped(line, action);
        line += '"';
        for (const auto& [key, value] : fields) {
            line += ",\"";
            append_escaped(line, key);
            line += "\":\"";
            append_escaped(line, value);
            line += '"';
        }
        line += "}\n";
    } else {
        line += timestamp_iso8601();
        line += ' ';
        line += level_name(level);
        line += ' ';
        line += action;
        for (const auto& [key, value] : fields) {
            line += ' ';
            line += key;
            line += '=';
            append_escaped(line, value);
        }
        line += '\n';
    }
    std::lock_guard lock(g_write_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace huddle::observability
