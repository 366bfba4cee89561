// Static files of the demo pages (server.demo_dir): GET and HEAD, nothing outside the folder.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_session.hpp"

namespace huddle::net {

// The file a URL path names, relative to the served folder: percent-decoded; "/" and paths ending
// in "/" mean that folder's index.html. nullopt for anything that could leave the folder or reach
// a hidden file: "." and ".." segments, segments starting with '.', backslashes, NUL and control
// characters, bad %-escapes, a path not starting with '/'.
std::optional<std::string> static_file_path(std::string_view url_path);

// Content-Type by extension; application/octet-stream for unknown ones.
std::string_view static_content_type(std::string_view file_name);

// The bytes of `relative` (from static_file_path) inside `folder`, or nullopt when it is missing,
// not a regular file, too large, or resolves (through symlinks) to somewhere outside the folder.
std::optional<std::string> read_static_file(const std::filesystem::path& folder,
                                            std::string_view relative);

// Answers a request that is not for the API: a file of `folder`, the built-in home page at "/"
// when the folder has no index.html, else 404; 405 for methods other than GET and HEAD.
void serve_static(const std::shared_ptr<HttpSession>& session, const HttpRequest& request,
                  std::string_view path, const std::string& folder);

}  // namespace huddle::net
