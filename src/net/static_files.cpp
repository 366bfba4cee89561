#include "net/static_files.hpp"

#include <array>
#include <fstream>
#include <system_error>
#include <utility>

#include "endpoints/credentials.hpp"
#include "net/http_routes.hpp"

namespace huddle::net {
namespace http = boost::beast::http;

namespace {

// The pages are bundles of a few MiB at most; a bound keeps a stray large file from being read
// into memory on an event loop.
constexpr std::uintmax_t kMaxFileBytes = 32 * 1024 * 1024;

constexpr std::string_view kHomePage =
    "<!doctype html><meta charset=utf-8><title>Huddle</title>"
    "<h1>Huddle is running</h1><p>WebSocket endpoint: <code>/ws?token=…</code>. "
    "See <code>/health</code>, <code>/metrics</code> and docs/protocol.md.</p>";

bool segment_is_safe(std::string_view segment) {
    if (segment.empty() || segment.front() == '.')
        return false;
    for (const char c : segment) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f || c == '\\')
            return false;
    }
    return true;
}

}  // namespace

std::optional<std::string> static_file_path(std::string_view url_path) {
    if (url_path.empty() || url_path.front() != '/')
        return std::nullopt;
    // Decoded before splitting, so that an escaped "/" or "." is judged like a plain one.
    const std::optional<std::string> decoded = endpoints::decode_path_segment(url_path);
    if (!decoded)
        return std::nullopt;
    std::string_view rest = *decoded;
    rest.remove_prefix(1);
    std::string out;
    while (!rest.empty()) {
        const std::size_t slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        if (!segment_is_safe(segment))
            return std::nullopt;
        if (!out.empty())
            out += '/';
        out += segment;
        if (slash == std::string_view::npos) {
            rest = {};
        } else {
            rest.remove_prefix(slash + 1);
            if (rest.empty())
                out += '/';
        }
    }
    if (out.empty() || out.back() == '/')
        out += "index.html";
    return out;
}

std::string_view static_content_type(std::string_view file_name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".ico", "image/x-icon"},
        {".wasm", "application/wasm"},
        {".woff2", "font/woff2"},
        {".woff", "font/woff"},
    }};
    const std::size_t slash = file_name.rfind('/');
    const std::string_view base =
        slash == std::string_view::npos ? file_name : file_name.substr(slash + 1);
    const std::size_t dot = base.rfind('.');
    if (dot != std::string_view::npos) {
        const std::string_view extension = base.substr(dot);
        for (const auto& [suffix, type] : kTypes) {
            if (extension == suffix)
                return type;
        }
    }
    return "application/octet-stream";
}

std::optional<std::string> read_static_file(const std::filesystem::path& folder,
                                            std::string_view relative) {
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::path root = fs::canonical(folder, error);
    if (error)
        return std::nullopt;
    // canonical() resolves every symlink: a link pointing out of the folder is caught here.
    const fs::path file = fs::canonical(root / fs::path(relative), error);
    if (error)
        return std::nullopt;
    const std::string root_text = root.string() + "/";
    if (file.string().compare(0, root_text.size(), root_text) != 0)
        return std::nullopt;
    if (!fs::is_regular_file(file, error) || error)
        return std::nullopt;
    const std::uintmax_t size = fs::file_size(file, error);
    if (error || size > kMaxFileBytes)
        return std::nullopt;
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (in.gcount() != static_cast<std::streamsize>(bytes.size()))
        return std::nullopt;
    return bytes;
}

void serve_static(const std::shared_ptr<HttpSession>& session, const HttpRequest& request,
                  std::string_view path, const std::string& folder) {
    const http::verb method = request.method();
    if (method != http::verb::get && method != http::verb::head) {
        session->respond(405, error_body("METHOD_NOT_ALLOWED", "method not allowed on this path"));
        return;
    }
    const bool head = method == http::verb::head;
    const std::optional<std::string> relative = static_file_path(path);
    std::optional<std::string> bytes;
    if (relative && !folder.empty())
        bytes = read_static_file(folder, *relative);
    if (bytes) {
        session->respond(200, std::move(*bytes), static_content_type(*relative), head);
        return;
    }
    if (path == "/") {
        session->respond(200, std::string(kHomePage), "text/html; charset=utf-8", head);
        return;
    }
    session->respond(404, error_body("NOT_FOUND", "no such path"), "application/json", head);
}

}  // namespace huddle::net
