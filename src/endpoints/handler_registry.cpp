#include "endpoints/handler_registry.hpp"

#include <array>

#include "core/room_name.hpp"
#include "endpoints/credentials.hpp"

namespace huddle::endpoints {

// Each handler's file defines its factory.
std::unique_ptr<Handler> make_y_websocket_handler(Connection& connection);
std::unique_ptr<Handler> make_drafts_handler(Connection& connection);
std::unique_ptr<Handler> make_fabric_handler(Connection& connection);

namespace {

using config::ServerSettings;

// clang-format off
const std::array kRoutes{
    HandlerRoute{.name = "y-websocket", .fixed_path = "/yjs", .document_in_path = true,
                 .format = DocumentFormat::y_websocket, .make = make_y_websocket_handler,
                 .large_messages = true},
    HandlerRoute{.name = "drafts", .path_setting = &ServerSettings::drafts_path,
                 .document_parameter = "draftId", .format = DocumentFormat::drafts_json,
                 .make = make_drafts_handler, .large_messages = true},
    HandlerRoute{.name = "fabric", .path_setting = &ServerSettings::fabric_path,
                 .document_parameter = "documentId", .client_id_parameter = "clientID",
                 .format = DocumentFormat::fabric_json, .make = make_fabric_handler,
                 .large_messages = true},
};
// clang-format on

}  // namespace

bool is_valid_document_name(std::string_view name) {
    return !name.empty() && core::room_name_problem("doc:" + std::string(name)).empty();
}

std::optional<RouteMatch> match_handler_route(std::string_view target,
                                              const config::ServerSettings& settings) {
    const std::string_view path = target_path(target);
    for (const HandlerRoute& route : kRoutes) {
        const std::string_view route_path =
            route.path_setting ? std::string_view(settings.*route.path_setting) : route.fixed_path;
        RouteMatch match{.route = &route};
        if (route.document_in_path) {
            if (path.size() < route_path.size() + 1 || !path.starts_with(route_path) ||
                path[route_path.size()] != '/')
                continue;
            match.document =
                decode_path_segment(path.substr(route_path.size() + 1)).value_or(std::string());
        } else {
            if (path != route_path)
                continue;
            if (!route.document_parameter.empty())
                find_query_parameter(target, route.document_parameter, match.document);
        }
        if ((route.document_in_path || !route.document_parameter.empty()) &&
            !is_valid_document_name(match.document)) {
            match.error = route.document_in_path
                              ? "document names use A-Z a-z 0-9 _ - . : @ / = + (123 bytes at most)"
                              : std::string(route.document_parameter) +
                                    " is missing or not a valid document name";
            return match;
        }
        if (!route.client_id_parameter.empty()) {
            find_query_parameter(target, route.client_id_parameter, match.client_id);
            if (match.client_id.size() > 128) {
                match.error = std::string(route.client_id_parameter) + " is longer than 128 bytes";
                return match;
            }
        }
        return match;
    }
    return std::nullopt;
}

}  // namespace huddle::endpoints
