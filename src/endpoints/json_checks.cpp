#include "endpoints/json_checks.hpp"

#include <cmath>

#include <boost/json.hpp>

namespace huddle::endpoints {

bool holds_non_finite_number(const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::double_:
            return !std::isfinite(value.get_double());
        case boost::json::kind::array:
            for (const auto& item : value.get_array()) {
                if (holds_non_finite_number(item))
                    return true;
            }
            return false;
        case boost::json::kind::object:
            for (const auto& entry : value.get_object()) {
                if (holds_non_finite_number(entry.value()))
                    return true;
            }
            return false;
        default:
            return false;
    }
}

}  // namespace huddle::endpoints
