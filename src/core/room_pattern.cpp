#include "core/room_pattern.hpp"

#include <boost/json.hpp>

#include "core/room_name.hpp"

namespace huddle::core {
namespace {

constexpr std::size_t kMaxExpansions = 256;

// Claim values usable in a room name; "*" is refused so that a claim cannot widen a pattern.
void claim_values(const boost::json::value& value, std::vector<std::string>& out) {
    const auto add = [&out](std::string text) {
        if (!text.empty() && room_name_problem(text).empty() &&
            text.find('*') == std::string::npos) {
            out.push_back(std::move(text));
        }
    };
    if (value.is_string()) {
        add(std::string(value.get_string()));
    } else if (value.is_int64()) {
        add(std::to_string(value.get_int64()));
    } else if (value.is_uint64()) {
        add(std::to_string(value.get_uint64()));
    } else if (value.is_array()) {
        for (const auto& item : value.get_array()) {
            if (item.is_string() || item.is_int64() || item.is_uint64())
                claim_values(item, out);
        }
    }
}

}  // namespace

bool matches_wildcard(std::string_view pattern, std::string_view room) {
    // Greedy matching with backtracking to the last star: linear for patterns with one star,
    // bounded by |pattern| * |room| in general (both are at most 128 bytes).
    std::size_t p = 0;
    std::size_t r = 0;
    std::size_t star = std::string_view::npos;
    std::size_t star_room = 0;
    while (r < room.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            star_room = r;
        } else if (p < pattern.size() && pattern[p] == room[r]) {
            ++p;
            ++r;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            r = ++star_room;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
}

std::vector<std::string> expand_pattern(std::string_view pattern,
                                        const boost::json::object& claims) {
    std::vector<std::string> results{std::string()};
    std::size_t i = 0;
    while (i < pattern.size()) {
        const std::size_t open = pattern.find('{', i);
        const std::string_view literal =
            pattern.substr(i, open == std::string_view::npos ? open : open - i);
        for (auto& partial : results)
            partial += literal;
        if (open == std::string_view::npos)
            break;
        const std::size_t close = pattern.find('}', open);
        if (close == std::string_view::npos)
            return {};
        const std::string_view name = pattern.substr(open + 1, close - open - 1);
        std::vector<std::string> values;
        if (const boost::json::value* claim = claims.if_contains(name))
            claim_values(*claim, values);
        if (values.empty())
            return {};
        std::vector<std::string> next;
        for (const auto& partial : results) {
            for (const auto& value : values) {
                if (next.size() >= kMaxExpansions)
                    return next;
                next.push_back(partial + value);
            }
        }
        results = std::move(next);
        i = close + 1;
    }
    return results;
}

bool claim_rule_allows(std::string_view room_pattern, std::string_view room,
                       const boost::json::object& claims) {
    if (!room_pattern.empty()) {
        for (const auto& pattern : expand_pattern(room_pattern, claims)) {
            if (matches_wildcard(pattern, room))
                return true;
        }
    }
    const boost::json::value* listed = claims.if_contains("rooms");
    if (listed == nullptr || !listed->is_array())
        return false;
    for (const auto& entry : listed->get_array()) {
        if (entry.is_string() && matches_wildcard(entry.get_string(), room))
            return true;
    }
    return false;
}

}  // namespace huddle::core
