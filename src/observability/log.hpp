// Structured log lines: one JSON object per line (or key=value text on a terminal), with an
// action name and context fields. Tokens must never be passed here.
#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>

namespace huddle::observability {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

using LogField = std::pair<std::string_view, std::string_view>;

// format: "json", "text" or "auto" (text when stderr is a terminal). Returns false on an unknown
// level name.
bool configure_logging(std::string_view level, std::string_view format);

bool log_enabled(LogLevel level);

void log(LogLevel level, std::string_view action, std::initializer_list<LogField> fields = {});

}  // namespace huddle::observability
