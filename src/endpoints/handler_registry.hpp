// The WebSocket endpoints served besides the rooms protocol, by path. Adding one is a file with
// its Handler and a line in the table of handler_registry.cpp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/settings.hpp"
#include "endpoints/handler.hpp"

namespace huddle::endpoints {

struct HandlerRoute {
    std::string_view name;  // for logs
    // The path: a setting (e.g. &ServerSettings::drafts_path) or, when null, `fixed_path`.
    std::string config::ServerSettings::*path_setting = nullptr;
    std::string_view fixed_path;
    // Where the document name comes from: the rest of the path after "<path>/" (y-websocket's
    // /yjs/<document>) or a query parameter; neither for endpoints without documents.
    bool document_in_path = false;
    std::string_view document_parameter;
    std::string_view client_id_parameter;  // optional query parameter naming the client
    DocumentFormat format = DocumentFormat::none;
    std::unique_ptr<Handler> (*make)(Connection&) = nullptr;
    // Limit for one message: documents carry large updates.
    bool large_messages = false;
};

struct RouteMatch {
    const HandlerRoute* route = nullptr;
    std::string document;
    std::string client_id;
    std::string error;  // set when the path matches but the request is malformed (HTTP 400)
};

// The route for an upgrade request target, or nullopt when no handler serves its path.
std::optional<RouteMatch> match_handler_route(std::string_view target,
                                              const config::ServerSettings& settings);

// Document names share the room name rules, as room "doc:<name>": A-Z a-z 0-9 _ - . : @ / = +.
bool is_valid_document_name(std::string_view name);

}  // namespace huddle::endpoints
