// Checks on parsed JSON before it is re-serialized into what other clients receive.
#pragma once

#include <boost/json/value.hpp>

namespace huddle::endpoints {

// True when `value` holds a number that parsed to ±infinity (e.g. 1e400): serializing it would
// not give JSON, so such messages are refused.
bool holds_non_finite_number(const boost::json::value& value);

}  // namespace huddle::endpoints
