#include "app/banner.hpp"

#include <filesystem>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "app/token_command.hpp"

namespace huddle::app {
namespace {

constexpr std::string_view kHidden = "***";

// [begin, end) of the userinfo password in a scheme://user:password@host... URL, or npos.
std::pair<std::size_t, std::size_t> userinfo_password(std::string_view url) {
    const std::size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos)
        return {std::string_view::npos, 0};
    const std::size_t start = scheme_end + 3;
    // The last '@' before the query: an unescaped '@' or '/' inside the password must not cut it
    // short, and the query may hold '@' of its own.
    const std::size_t query = url.find('?', start);
    const std::size_t at = url.substr(0, query).rfind('@');
    if (at == std::string_view::npos || at < start)
        return {std::string_view::npos, 0};
    const std::size_t colon = url.find(':', start);
    if (colon == std::string_view::npos || colon > at)
        return {std::string_view::npos, 0};
    return {colon + 1, at};
}

// [begin, end) of the value of each password=... parameter (query string or key=value form).
template <typename Visit>
void for_each_password_parameter(std::string_view text, Visit visit) {
    constexpr std::string_view kKey = "password=";
    std::size_t from = 0;
    while ((from = text.find(kKey, from)) != std::string_view::npos) {
        const bool starts_word =
            from == 0 || text[from - 1] == '?' || text[from - 1] == '&' || text[from - 1] == ' ';
        const std::size_t begin = from + kKey.size();
        std::size_t end = begin;
        while (end < text.size() && text[end] != '&' && text[end] != ' ')
            ++end;
        if (starts_word)
            visit(begin, end);
        from = end;
    }
}

std::string url_host(const std::string& host) {
    if (host == "0.0.0.0" || host.empty())
        return "127.0.0.1";
    if (host == "::")
        return "[::1]";
    if (host.find(':') != std::string::npos)
        return "[" + host + "]";
    return host;
}

// "0.0.0.0:3000 (every IPv4 interface)": what is bound, which the URLs below cannot show.
std::string listen_description(const std::string& host, const std::string& port) {
    const bool ipv6 = host.find(':') != std::string::npos;
    std::string out = (ipv6 ? "[" + host + "]" : host) + ":" + port;
    if (host == "0.0.0.0")
        out += " (every IPv4 interface)";
    else if (host == "::")
        out += " (every interface)";
    return out;
}

std::filesystem::path absolute_path(const std::string& path) {
    std::error_code error;
    std::filesystem::path absolute = std::filesystem::absolute(path, error);
    if (error)
        return path;
    return absolute.lexically_normal();
}

void describe_static_files(std::ostream& out, const config::Settings& settings,
                           const std::string& http_base) {
    if (settings.server.demo_dir.empty())
        return;
    const std::filesystem::path folder = absolute_path(settings.server.demo_dir);
    std::error_code error;
    if (!std::filesystem::is_directory(folder, error)) {
        out << "  demo pages:  not built (" << folder.string()
            << " does not exist; web/build.sh builds them)\n";
    } else if (!std::filesystem::is_regular_file(folder / "index.html", error)) {
        out << "  files:       " << http_base << "/ (from " << folder.string() << ")\n";
    } else {
        out << "  demo pages:  " << http_base << "/ (from " << folder.string() << ")\n";
    }
}

}  // namespace

std::string hide_password(std::string_view url) {
    std::string out(url);
    const auto [begin, end] = userinfo_password(url);
    if (begin != std::string_view::npos)
        out.replace(begin, end - begin, kHidden);
    // Replaced from the end so that earlier positions stay valid.
    std::vector<std::pair<std::size_t, std::size_t>> parameters;
    for_each_password_parameter(
        out, [&](std::size_t b, std::size_t e) { parameters.emplace_back(b, e); });
    for (auto it = parameters.rbegin(); it != parameters.rend(); ++it)
        out.replace(it->first, it->second - it->first, kHidden);
    return out;
}

std::string scrub_password(std::string_view text, std::string_view url) {
    std::vector<std::string> secrets;
    if (const auto [begin, end] = userinfo_password(url); begin != std::string_view::npos)
        secrets.emplace_back(url.substr(begin, end - begin));
    for_each_password_parameter(
        url, [&](std::size_t b, std::size_t e) { secrets.emplace_back(url.substr(b, e - b)); });
    std::string out(text);
    for (const std::string& secret : secrets) {
        if (secret.empty())
            continue;
        for (std::size_t at = out.find(secret); at != std::string::npos;
             at = out.find(secret, at + kHidden.size())) {
            out.replace(at, secret.size(), kHidden);
        }
    }
    return out;
}

std::string data_location(const config::Settings& settings) {
    if (!settings.store.url.empty())
        return "PostgreSQL " + hide_password(settings.store.url);
    return "SQLite " + absolute_path(settings.store.path).string();
}

std::string startup_banner(const config::Settings& settings, const ListeningOn& listening) {
    const std::string port = std::to_string(listening.port);
    const std::string authority = url_host(settings.server.host) + ":" + port;
    const std::string http_base = (listening.tls ? "https://" : "http://") + authority;
    const std::string ws_base = (listening.tls ? "wss://" : "ws://") + authority;
    const std::string& token_parameter = settings.auth.query_parameter;

    std::ostringstream out;
    out << "Huddle listening on " << listen_description(settings.server.host, port) << " with "
        << listening.loops << " event loop(s)" << (listening.tls ? " and TLS" : "") << "\n"
        << "  WebSocket:   " << ws_base << settings.server.websocket_path << "?" << token_parameter
        << "=TOKEN\n"
        << "  Yjs:         " << ws_base << "/yjs/DOCUMENT?" << token_parameter << "=TOKEN\n";
    if (settings.api.api_key == config::ApiSettings{}.api_key) {
        out << "  backend API: " << http_base << "/api/... with X-API-Key: " << settings.api.api_key
            << " (development key)\n";
    } else {
        out << "  backend API: " << http_base << "/api/... with X-API-Key: (api.api_key)\n";
    }
    out << "  health:      " << http_base << "/health, /ready, /metrics\n";
    describe_static_files(out, settings, http_base);
    out << "  data:        " << data_location(settings) << "\n";
    if (const std::string token = development_token(settings); !token.empty()) {
        out << "  development token (sub=dev, 24h; the secret is the development default):\n  "
            << token << "\n";
    }
    return out.str();
}

}  // namespace huddle::app
