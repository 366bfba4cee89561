#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>

#include "endpoints/json_checks.hpp"

using huddle::endpoints::holds_non_finite_number;

namespace {

bool non_finite_in(std::string_view text) {
    return holds_non_finite_number(boost::json::parse(text));
}

}  // namespace

TEST(JsonChecks, FiniteValuesPass) {
    for (std::string_view text :
         {"null", "true", "0", "-0", "1.5", "1e308", "-1e308", "18446744073709551615",
          "-9223372036854775808", "18446744073709551616", R"("1e400")", "[]", "{}",
          R"({"a":[1,2.5,{"b":-3e-300}],"c":"Infinity"})"}) {
        EXPECT_FALSE(non_finite_in(text)) << text;
    }
}

TEST(JsonChecks, OutOfRangeNumbersAreFoundAtAnyDepth) {
    for (std::string_view text : {"1e400", "-1e400", "[1,1e400]", R"({"a":1e999})",
                                  R"({"a":[{"b":[0,-1e400]}]})", R"([[[[[[[[1e309]]]]]]]])"}) {
        EXPECT_TRUE(non_finite_in(text)) << text;
    }
}

TEST(JsonChecks, NonFiniteDoublesBuiltInCode) {
    EXPECT_TRUE(
        holds_non_finite_number(boost::json::value(std::numeric_limits<double>::quiet_NaN())));
    EXPECT_TRUE(
        holds_non_finite_number(boost::json::value(-std::numeric_limits<double>::infinity())));
    EXPECT_FALSE(holds_non_finite_number(boost::json::value(std::numeric_limits<double>::max())));
}
