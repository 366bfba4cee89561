// Room patterns for claim-based access: "firm:{firmId}/*" is expanded with the token's claims
// and matched against a room name; "*" matches any run of characters (also none).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace huddle::core {

// True when `room` matches `pattern` (already expanded: only "*" is special).
bool matches_wildcard(std::string_view pattern, std::string_view room);

// Every pattern obtained by replacing each "{claim}" with a value of that claim (a string, an
// integer, or each string/integer of an array). A placeholder whose claim is missing, or whose
// value holds characters a room name cannot have, yields nothing, so it can never match.
std::vector<std::string> expand_pattern(std::string_view pattern,
                                        const boost::json::object& claims);

// The claim-based rule: the room matches `room_pattern` expanded with the claims, or one of the
// patterns listed in the token's `rooms` claim (an array of strings such as "team:*").
bool claim_rule_allows(std::string_view room_pattern, std::string_view room,
                       const boost::json::object& claims);

}  // namespace huddle::core
