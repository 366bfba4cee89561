// Building JSON text by appending to a string: the hot path writes events without a DOM.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace huddle::endpoints {

// Appends `value` as a JSON string literal (quotes included), escaping what RFC 8259 requires.
void append_json_string(std::string& out, std::string_view value);

void append_json_int(std::string& out, std::int64_t value);

}  // namespace huddle::endpoints
