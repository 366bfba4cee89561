#include <gtest/gtest.h>

#include <string>

#include "endpoints/credentials.hpp"

using huddle::endpoints::CredentialSources;
using huddle::endpoints::find_query_parameter;
using huddle::endpoints::find_token;
using huddle::endpoints::target_path;

namespace {

std::string token_of(std::string_view target, std::string_view authorization = {},
                     std::string_view cookie = {}) {
    return find_token(CredentialSources{target, authorization, cookie}, "token", "huddle_token");
}

// The parameter's value, or "<absent>".
std::string parameter(std::string_view target, std::string_view name) {
    std::string value = "<untouched>";
    if (!find_query_parameter(target, name, value))
        return "<absent>";
    return value;
}

}  // namespace

// ---- query parameter ---------------------------------------------------------------------------

TEST(FindToken, FromQueryAsFirstParameter) {
    EXPECT_EQ(token_of("/ws?token=abc.def.ghi"), "abc.def.ghi");
}

TEST(FindToken, FromQueryAsLaterParameter) {
    EXPECT_EQ(token_of("/ws?v=2&client=web&token=abc"), "abc");
    EXPECT_EQ(token_of("/ws?v=2&token=abc&x=y"), "abc");
}

TEST(FindToken, FromQueryPercentEncoded) {
    EXPECT_EQ(token_of("/ws?token=a%2Bb%3Dc%2fd"), "a+b=c/d");
    EXPECT_EQ(token_of("/ws?to%6Ben=xyz"), "xyz");  // the name is decoded too
}

TEST(FindToken, QueryParameterNameIsExact) {
    EXPECT_EQ(token_of("/ws?tokens=abc"), "");
    EXPECT_EQ(token_of("/ws?xtoken=abc"), "");
    EXPECT_EQ(token_of("/ws?Token=abc"), "");
}

TEST(FindToken, FirstOccurrenceOfTheParameterWins) {
    EXPECT_EQ(token_of("/ws?token=first&token=second"), "first");
}

TEST(FindToken, EmptyQueryValueFallsBackToHeader) {
    EXPECT_EQ(token_of("/ws?token=", "Bearer from-header"), "from-header");
    EXPECT_EQ(token_of("/ws?token", "Bearer from-header"), "from-header");
}

TEST(FindToken, CustomParameterAndCookieNames) {
    const CredentialSources sources{"/ws?jwt=q", "", "sid=c"};
    EXPECT_EQ(find_token(sources, "jwt", "sid"), "q");
    EXPECT_EQ(find_token(CredentialSources{"/ws", "", "sid=c"}, "jwt", "sid"), "c");
    EXPECT_EQ(find_token(sources, "token", "huddle_token"), "");
}

// ---- Authorization header ----------------------------------------------------------------------

TEST(FindToken, FromBearerHeader) {
    EXPECT_EQ(token_of("/ws", "Bearer abc.def"), "abc.def");
}

TEST(FindToken, BearerSchemeIsCaseInsensitive) {
    EXPECT_EQ(token_of("/ws", "bearer abc"), "abc");
    EXPECT_EQ(token_of("/ws", "BEARER abc"), "abc");
    EXPECT_EQ(token_of("/ws", "BeArEr abc"), "abc");
}

TEST(FindToken, BearerWithExtraSpaces) {
    EXPECT_EQ(token_of("/ws", "Bearer    abc"), "abc");
    EXPECT_EQ(token_of("/ws", "  Bearer abc  "), "abc");
    EXPECT_EQ(token_of("/ws", "\tBearer \t abc\t"), "abc");
}

TEST(FindToken, OtherSchemesAreIgnored) {
    EXPECT_EQ(token_of("/ws", "Basic dXNlcjpwYXNz"), "");
    EXPECT_EQ(token_of("/ws", "Bearerabc"), "");
    EXPECT_EQ(token_of("/ws", "Token abc"), "");
    EXPECT_EQ(token_of("/ws", "Basic dXNlcjpwYXNz", "huddle_token=c"), "c");
}

TEST(FindToken, BearerWithoutTokenIsNoToken) {
    EXPECT_EQ(token_of("/ws", "Bearer"), "");
    EXPECT_EQ(token_of("/ws", "Bearer "), "");
    EXPECT_EQ(token_of("/ws", "Bearer      "), "");
    EXPECT_EQ(token_of("/ws", "Bearer   ", "huddle_token=c"), "c");
}

TEST(FindToken, BearerSchemeMustBeFollowedBySpace) {
    // Only the letters of the scheme may differ in case; a NUL or other byte is not a space.
    EXPECT_EQ(token_of("/ws", std::string_view("Bearer\0abc", 10)), "");
    EXPECT_EQ(token_of("/ws", "Bearer_abc"), "");
}

// ---- cookie ------------------------------------------------------------------------------------

TEST(FindToken, FromCookieAlone) {
    EXPECT_EQ(token_of("/ws", "", "huddle_token=abc"), "abc");
}

TEST(FindToken, FromCookieAmongSeveral) {
    EXPECT_EQ(token_of("/ws", "", "theme=dark; huddle_token=abc; lang=en"), "abc");
    EXPECT_EQ(token_of("/ws", "", "theme=dark;huddle_token=abc"), "abc");
    EXPECT_EQ(token_of("/ws", "", "a=1; b; huddle_token = abc ;"), "abc");
}

TEST(FindToken, CookieNameIsExact) {
    EXPECT_EQ(token_of("/ws", "", "xhuddle_token=abc; huddle_token2=def"), "");
    EXPECT_EQ(token_of("/ws", "", "huddle_tokens=abc; huddle_token=def"), "def");
}

TEST(FindToken, QuotedCookieValue) {
    EXPECT_EQ(token_of("/ws", "", "huddle_token=\"abc.def\""), "abc.def");
    EXPECT_EQ(token_of("/ws", "", "huddle_token=\"\"; huddle_token=second"), "second");
}

TEST(FindToken, CookieValueKeepsEqualsSigns) {
    EXPECT_EQ(token_of("/ws", "", "huddle_token=abc==; x=1"), "abc==");
}

TEST(FindToken, EmptyCookieValueIsSkipped) {
    EXPECT_EQ(token_of("/ws", "", "huddle_token=; huddle_token=real"), "real");
    EXPECT_EQ(token_of("/ws", "", "huddle_token="), "");
}

// ---- precedence --------------------------------------------------------------------------------

TEST(FindToken, QueryBeatsHeaderBeatsCookie) {
    EXPECT_EQ(token_of("/ws?token=q", "Bearer h", "huddle_token=c"), "q");
    EXPECT_EQ(token_of("/ws", "Bearer h", "huddle_token=c"), "h");
    EXPECT_EQ(token_of("/ws?other=1", "", "huddle_token=c"), "c");
}

TEST(FindToken, NoneGivesEmpty) {
    EXPECT_EQ(token_of("/ws"), "");
    EXPECT_EQ(token_of("/ws?x=1", "", "theme=dark"), "");
    EXPECT_EQ(token_of(""), "");
}

// ---- target_path -------------------------------------------------------------------------------

TEST(TargetPath, PathWithoutQuery) {
    EXPECT_EQ(target_path("/ws"), "/ws");
    EXPECT_EQ(target_path("/"), "/");
    EXPECT_EQ(target_path(""), "");
}

TEST(TargetPath, QueryIsCut) {
    EXPECT_EQ(target_path("/ws?token=x"), "/ws");
    EXPECT_EQ(target_path("/ws?"), "/ws");
    EXPECT_EQ(target_path("/a/b?c?d"), "/a/b");
    EXPECT_EQ(target_path("?x=1"), "");
}

// ---- find_query_parameter ----------------------------------------------------------------------

TEST(FindQueryParameter, PlainValue) {
    EXPECT_EQ(parameter("/ws?a=1&b=2", "a"), "1");
    EXPECT_EQ(parameter("/ws?a=1&b=2", "b"), "2");
}

TEST(FindQueryParameter, AbsentParameter) {
    EXPECT_EQ(parameter("/ws?a=1", "b"), "<absent>");
    EXPECT_EQ(parameter("/ws", "a"), "<absent>");
    EXPECT_EQ(parameter("/ws?", "a"), "<absent>");
    EXPECT_EQ(parameter("/ws?&&", "a"), "<absent>");
}

TEST(FindQueryParameter, PlusIsSpace) {
    EXPECT_EQ(parameter("/ws?q=hello+world", "q"), "hello world");
    EXPECT_EQ(parameter("/ws?q=a%2Bb", "q"), "a+b");
    EXPECT_EQ(parameter("/ws?my+name=x", "my name"), "x");
}

TEST(FindQueryParameter, PercentEscapes) {
    EXPECT_EQ(parameter("/ws?q=%41%62%7e", "q"), "Ab~");
    EXPECT_EQ(parameter("/ws?q=%e2%82%AC", "q"), "\xE2\x82\xAC");
    EXPECT_EQ(parameter("/ws?q=%00x", "q"), std::string("\0x", 2));
    EXPECT_EQ(parameter("/ws?q=%26%3D", "q"), "&=");
}

TEST(FindQueryParameter, EscapeAtTheVeryEnd) {
    EXPECT_EQ(parameter("/ws?q=ab%41", "q"), "abA");
    EXPECT_EQ(parameter("/ws?q=%41", "q"), "A");
}

TEST(FindQueryParameter, MalformedEscapesAreKeptAsIs) {
    EXPECT_EQ(parameter("/ws?q=100%", "q"), "100%");
    EXPECT_EQ(parameter("/ws?q=%4", "q"), "%4");
    EXPECT_EQ(parameter("/ws?q=%zz", "q"), "%zz");
    EXPECT_EQ(parameter("/ws?q=%%41", "q"), "%A");
    EXPECT_EQ(parameter("/ws?q=%g1", "q"), "%g1");
}

TEST(FindQueryParameter, MissingValue) {
    EXPECT_EQ(parameter("/ws?flag", "flag"), "");
    EXPECT_EQ(parameter("/ws?flag=", "flag"), "");
    EXPECT_EQ(parameter("/ws?a=1&flag&b=2", "flag"), "");
}

TEST(FindQueryParameter, ValueMayContainEquals) {
    EXPECT_EQ(parameter("/ws?t=a=b=c", "t"), "a=b=c");
}

TEST(FindQueryParameter, FragmentIsNotPartOfTheQuery) {
    EXPECT_EQ(parameter("/ws?a=1#frag", "a"), "1");
    EXPECT_EQ(parameter("/ws?a=1#b=2", "b"), "<absent>");
    EXPECT_EQ(parameter("/ws?a=1&b=2#x", "b"), "2");
    EXPECT_EQ(parameter("/ws?#a=1", "a"), "<absent>");
}

TEST(FindQueryParameter, EmptyName) {
    EXPECT_EQ(parameter("/ws?=v", ""), "v");
    EXPECT_EQ(parameter("/ws?a=1", ""), "<absent>");
}

TEST(FindQueryParameter, ValueIsUntouchedWhenAbsent) {
    std::string value = "keep";
    EXPECT_FALSE(find_query_parameter("/ws?a=1", "b", value));
    EXPECT_EQ(value, "keep");
}

namespace huddle::endpoints {
namespace {

TEST(DecodePathSegment, DecodesEscapesKeepsPlusRefusesMalformed) {
    EXPECT_EQ(decode_path_segment("auth0%7C5f7c"), "auth0|5f7c");
    EXPECT_EQ(decode_path_segment("a+b%2Fc"), "a+b/c");
    EXPECT_EQ(decode_path_segment(""), "");
    EXPECT_FALSE(decode_path_segment("%zz").has_value());
    EXPECT_FALSE(decode_path_segment("abc%4").has_value());
    EXPECT_FALSE(decode_path_segment("%").has_value());
}

}  // namespace
}  // namespace huddle::endpoints
