#include "endpoints/credentials.hpp"

namespace huddle::endpoints {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const int high = hex_value(text[i + 1]);
            const int low = hex_value(text[i + 2]);
            if (high >= 0 && low >= 0) {
                out.push_back(static_cast<char>(high * 16 + low));
                i += 2;
                continue;
            }
        }
        out.push_back(text[i] == '+' ? ' ' : text[i]);
    }
    return out;
}

}  // namespace

std::optional<std::string> decode_path_segment(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size())
            return std::nullopt;
        const int high = hex_value(text[i + 1]);
        const int low = hex_value(text[i + 2]);
        if (high < 0 || low < 0)
            return std::nullopt;
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return out;
}

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

}  // namespace

std::string_view target_path(std::string_view target) {
    const auto query = target.find('?');
    return query == std::string_view::npos ? target : target.substr(0, query);
}

bool find_query_parameter(std::string_view target, std::string_view name, std::string& value) {
    const auto query_start = target.find('?');
    if (query_start == std::string_view::npos)
        return false;
    std::string_view query = target.substr(query_start + 1);
    if (const auto fragment = query.find('#'); fragment != std::string_view::npos) {
        query = query.substr(0, fragment);
    }
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        const auto eq = pair.find('=');
        const std::string_view key = pair.substr(0, eq);
        if (percent_decode(key) != name)
            continue;
        value = eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1));
        return true;
    }
    return false;
}

std::string find_token(const CredentialSources& sources, std::string_view query_parameter,
                       std::string_view cookie_name) {
    std::string token;
    if (find_query_parameter(sources.target, query_parameter, token) && !token.empty())
        return token;

    const std::string_view authorization = trim(sources.authorization);
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.size() > kBearer.size()) {
        bool is_bearer = true;
        for (std::size_t i = 0; i < kBearer.size(); ++i) {
            const char c = authorization[i];
            const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
            const char expected = kBearer[i] >= 'A' && kBearer[i] <= 'Z'
                                      ? static_cast<char>(kBearer[i] - 'A' + 'a')
                                      : kBearer[i];
            if (lower != expected)
                is_bearer = false;
        }
        if (is_bearer)
            return std::string(trim(authorization.substr(kBearer.size())));
    }

    std::string_view cookies = sources.cookie;
    while (!cookies.empty()) {
        const auto semicolon = cookies.find(';');
        const std::string_view pair = trim(cookies.substr(0, semicolon));
        cookies = semicolon == std::string_view::npos ? std::string_view{}
                                                      : cookies.substr(semicolon + 1);
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos)
            continue;
        if (trim(pair.substr(0, eq)) != cookie_name)
            continue;
        std::string_view cookie_value = trim(pair.substr(eq + 1));
        if (cookie_value.size() >= 2 && cookie_value.front() == '"' && cookie_value.back() == '"') {
            cookie_value = cookie_value.substr(1, cookie_value.size() - 2);
        }
        if (!cookie_value.empty())
            return std::string(cookie_value);
    }
    return {};
}

}  // namespace huddle::endpoints
