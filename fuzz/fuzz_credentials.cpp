// libFuzzer target for the token sources of an upgrade request (endpoints/credentials).
//
// Input: request target, Authorization value and Cookie value, separated by 0x00 bytes. Checks:
// the path is the part of the target before '?'; a query parameter's decoded value is never
// longer than the raw target; a non-empty "token" query parameter is always the token found
// (query first); otherwise a token is a piece of the Authorization or Cookie value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "endpoints/credentials.hpp"

namespace {

void check(bool condition) {
    if (!condition)
        std::abort();
}

std::string_view next_part(std::string_view& rest) {
    const auto cut = rest.find('\0');
    const std::string_view part = rest.substr(0, cut);
    rest = cut == std::string_view::npos ? std::string_view{} : rest.substr(cut + 1);
    return part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    huddle::endpoints::CredentialSources sources;
    sources.target = next_part(rest);
    sources.authorization = next_part(rest);
    sources.cookie = next_part(rest);

    const std::string_view path = huddle::endpoints::target_path(sources.target);
    check(sources.target.substr(0, path.size()) == path);
    check(path.find('?') == std::string_view::npos);
    check(path.size() == sources.target.size() || sources.target[path.size()] == '?');

    std::string query_token;
    const bool in_query =
        huddle::endpoints::find_query_parameter(sources.target, "token", query_token);
    check(in_query || query_token.empty());
    check(query_token.size() <= sources.target.size());
    check(!in_query || sources.target.find('?') != std::string_view::npos);

    // Any name, picked from the authorization part, behaves the same way.
    std::string other;
    if (huddle::endpoints::find_query_parameter(sources.target, sources.authorization, other)) {
        check(other.size() <= sources.target.size());
    }

    const std::string token = huddle::endpoints::find_token(sources, "token", "huddle_token");
    if (!query_token.empty()) {
        check(token == query_token);
    } else if (!token.empty()) {
        // It came from the header or a cookie, so it is a piece of one of them.
        check(sources.authorization.find(token) != std::string_view::npos ||
              sources.cookie.find(token) != std::string_view::npos);
    }
    return 0;
}
