#include "net/http_routes.hpp"

#include <algorithm>
#include <charconv>
#include <functional>

#include <openssl/crypto.h>

#include <boost/asio/post.hpp>

#include <boost/json.hpp>

#include "core/room_name.hpp"
#include "endpoints/credentials.hpp"
#include "endpoints/fabric_messages.hpp"
#include "endpoints/json_checks.hpp"
#include "endpoints/json_text.hpp"
#include "endpoints/node_stats.hpp"
#include "net/cluster.hpp"
#include "net/demo_token.hpp"
#include "net/event_loop.hpp"
#include "net/server.hpp"
#include "net/static_files.hpp"
#include "observability/log.hpp"
#include "store/store.hpp"

namespace huddle::net {
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using endpoints::append_json_int;
using endpoints::append_json_string;
using observability::log;
using observability::LogLevel;

std::string error_body(std::string_view code, std::string_view message) {
    std::string out = "{\"error\":{\"code\":";
    append_json_string(out, code);
    out += ",\"message\":";
    append_json_string(out, message);
    out += "}}";
    return out;
}

namespace {

using SessionPtr = std::shared_ptr<HttpSession>;

std::string percent_decoded(std::string_view segment);

bool has_api_key(const HttpRequest& request, const std::string& expected) {
    std::string_view presented = request["X-API-Key"];
    if (presented.empty()) {
        const std::string_view authorization = request[http::field::authorization];
        constexpr std::string_view kBearer = "Bearer ";
        if (authorization.substr(0, kBearer.size()) == kBearer) {
            presented = authorization.substr(kBearer.size());
        }
    }
    if (presented.size() != expected.size() || expected.empty())
        return false;
    // Constant time, so the key cannot be guessed byte by byte from response times.
    return CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

// Parses a JSON object body; answers 400 itself and returns nullopt when it is not one.
std::optional<json::object> parse_body(const SessionPtr& session, const HttpRequest& request) {
    boost::system::error_code error;
    json::value body = json::parse(request.body(), error);
    if (error || !body.is_object()) {
        session->respond(400, error_body("INVALID_REQUEST", "body must be a JSON object"));
        return std::nullopt;
    }
    return std::move(body.get_object());
}

std::string_view string_or_empty(const json::object& object, std::string_view key) {
    const json::value* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string_view(value->get_string())
                                                  : std::string_view{};
}

std::string payload_text(const json::object& body) {
    const json::value* payload = body.if_contains("payload");
    return payload == nullptr ? "null" : json::serialize(*payload);
}

// Answers 400 itself when the payload cannot be passed on as JSON.
bool payload_is_valid(const SessionPtr& session, const json::object& body) {
    const json::value* payload = body.if_contains("payload");
    if (payload == nullptr || !endpoints::holds_non_finite_number(*payload))
        return true;
    session->respond(
        400, error_body("INVALID_REQUEST", "payload holds a number too large for a double"));
    return false;
}

void api_publish(const SessionPtr& session, const HttpRequest& request) {
    auto body = parse_body(session, request);
    if (!body)
        return;
    std::vector<std::string> rooms;
    if (const json::value* room = body->if_contains("room")) {
        if (!room->is_string()) {
            session->respond(400, error_body("INVALID_REQUEST", "\"room\" must be a string"));
            return;
        }
        rooms.emplace_back(room->get_string());
    }
    if (const json::value* list = body->if_contains("rooms")) {
        if (!list->is_array()) {
            session->respond(
                400, error_body("INVALID_REQUEST", "\"rooms\" must be an array of strings"));
            return;
        }
        for (const json::value& room : list->get_array()) {
            if (!room.is_string()) {
                session->respond(
                    400, error_body("INVALID_REQUEST", "\"rooms\" must be an array of strings"));
                return;
            }
            rooms.emplace_back(room.get_string());
        }
    }
    if (rooms.empty()) {
        session->respond(400, error_body("INVALID_REQUEST", "give \"room\" or \"rooms\""));
        return;
    }
    const std::string_view type = string_or_empty(*body, "type");
    if (type.empty()) {
        session->respond(400, error_body("INVALID_REQUEST", "\"type\" must be a non-empty string"));
        return;
    }
    for (const std::string& room : rooms) {
        if (const std::string_view problem = core::room_name_problem(room); !problem.empty()) {
            session->respond(400, error_body("INVALID_ROOM", std::string(problem) + ": " + room));
            return;
        }
    }
    if (!payload_is_valid(session, *body))
        return;
    std::vector<std::string> excluded_users;
    if (const json::value* list = body->if_contains("excludeUserIds")) {
        const bool strings = list->is_array() &&
                             std::all_of(list->get_array().begin(), list->get_array().end(),
                                         [](const json::value& item) { return item.is_string(); });
        if (!strings) {
            session->respond(400, error_body("INVALID_REQUEST",
                                             "\"excludeUserIds\" must be an array of strings"));
            return;
        }
        for (const json::value& item : list->get_array())
            excluded_users.emplace_back(item.get_string());
    }
    const std::string payload = payload_text(*body);
    const std::string user_id(string_or_empty(*body, "userId"));
    const std::string key(string_or_empty(*body, "idempotencyKey"));
    if (!key.empty() && rooms.size() != 1) {
        session->respond(400,
                         error_body("INVALID_REQUEST", "an idempotencyKey needs exactly one room"));
        return;
    }
    // The answer waits until every room has the event: stored, for rooms with history.
    struct Gather {
        std::vector<std::string> rooms;
        std::vector<PublishOutcome> outcomes;
        std::size_t remaining = 0;
    };
    auto gather = std::make_shared<Gather>();
    gather->rooms = rooms;
    gather->outcomes.resize(rooms.size());
    gather->remaining = rooms.size();
    Server& server = session->loop().server();
    for (std::size_t i = 0; i < rooms.size(); ++i) {
        PublishRequest publish;
        publish.room = rooms[i];
        publish.type = std::string(type);
        publish.payload_json = payload;
        publish.user_id = user_id;
        publish.excluded_users = excluded_users;
        publish.idempotency_key = key;
        publish.reply_loop = &session->loop();
        publish.done = [session, gather, i](PublishOutcome outcome) {
            gather->outcomes[i] = std::move(outcome);
            if (--gather->remaining != 0)
                return;
            std::string answer = "{\"ok\":true,\"rooms\":[";
            std::string offsets = "{";
            bool duplicate = false;
            for (std::size_t r = 0; r < gather->rooms.size(); ++r) {
                const PublishOutcome& result = gather->outcomes[r];
                if (!result.ok) {
                    session->respond(503, error_body("STORE_UNAVAILABLE", result.error));
                    return;
                }
                duplicate = duplicate || result.duplicate;
                if (r != 0)
                    answer += ',';
                append_json_string(answer, gather->rooms[r]);
                if (result.offset != 0) {
                    if (offsets.size() > 1)
                        offsets += ',';
                    append_json_string(offsets, gather->rooms[r]);
                    offsets += ':';
                    append_json_int(offsets, static_cast<std::int64_t>(result.offset));
                }
            }
            answer += "]";
            if (offsets.size() > 1)
                answer += ",\"offsets\":" + offsets + "}";
            if (duplicate)
                answer += ",\"duplicate\":true";
            answer += '}';
            session->respond(200, std::move(answer));
        };
        server.publish(std::move(publish));
    }
}

void api_send_to_user(const SessionPtr& session, const HttpRequest& request,
                      const std::string& user) {
    auto body = parse_body(session, request);
    if (!body)
        return;
    const std::string_view type = string_or_empty(*body, "type");
    if (type.empty()) {
        session->respond(400, error_body("INVALID_REQUEST", "\"type\" must be a non-empty string"));
        return;
    }
    if (!payload_is_valid(session, *body))
        return;
    session->loop().server().publish("user:" + user, std::string(type), payload_text(*body),
                                     std::string(string_or_empty(*body, "userId")), 0);
    session->respond(200, "{\"ok\":true}");
}

// {"room":"team:1"} or {"pattern":"team:*"}, optional "reason".
void api_remove_user_from_rooms(const SessionPtr& session, const HttpRequest& request,
                                const std::string& user) {
    auto body = parse_body(session, request);
    if (!body)
        return;
    std::string pattern(string_or_empty(*body, "room"));
    if (pattern.empty())
        pattern = std::string(string_or_empty(*body, "pattern"));
    if (pattern.empty()) {
        session->respond(400, error_body("INVALID_REQUEST", "give \"room\" or \"pattern\""));
        return;
    }
    std::string reason(string_or_empty(*body, "reason").substr(0, 100));
    if (reason.empty())
        reason = "removed by the server";
    log(LogLevel::info, "api.remove_from_rooms", {{"user", user}, {"pattern", pattern}});
    session->loop().server().remove_user_from_rooms(
        user, pattern, reason, session->loop(), [session](std::size_t removed) {
            std::string answer = "{\"ok\":true,\"removed\":";
            append_json_int(answer, static_cast<std::int64_t>(removed));
            answer += '}';
            session->respond(200, std::move(answer));
        });
}

void api_room_presence(const SessionPtr& session, const std::string& room) {
    session->loop().server().presence_list(room, session->loop(),
                                           [session, room](std::string users) {
                                               std::string answer = "{\"room\":";
                                               append_json_string(answer, room);
                                               answer += ",\"users\":";
                                               answer += users;
                                               answer += '}';
                                               session->respond(200, std::move(answer));
                                           });
}

// /api/documents: the Yjs documents' state, updates, deletion and the documents in memory.
void api_documents(const SessionPtr& session, const HttpRequest& request, std::string_view rest,
                   const std::function<bool(http::verb)>& only) {
    Server& server = session->loop().server();
    if (rest.empty()) {
        if (!only(http::verb::get))
            return;
        server.list_documents(session->loop(), [session](std::vector<Server::DocumentInfo> docs) {
            std::string out = "{\"documents\":[";
            for (std::size_t i = 0; i < docs.size(); ++i) {
                if (i != 0)
                    out += ',';
                out += "{\"document\":";
                append_json_string(out, docs[i].name);
                out += ",\"bytes\":";
                append_json_int(out, static_cast<std::int64_t>(docs[i].bytes));
                out += ",\"updates\":";
                append_json_int(out, static_cast<std::int64_t>(docs[i].updates));
                out += ",\"connections\":";
                append_json_int(out, static_cast<std::int64_t>(docs[i].connections));
                out += '}';
            }
            out += "]}";
            session->respond(200, std::move(out));
        });
        return;
    }
    std::string_view name_part = rest.substr(1);
    std::string_view action;
    for (std::string_view suffix : {std::string_view("/state"), std::string_view("/update"),
                                    std::string_view("/steps"), std::string_view("/connections")}) {
        if (name_part.size() > suffix.size() &&
            name_part.substr(name_part.size() - suffix.size()) == suffix) {
            action = suffix;
            name_part.remove_suffix(suffix.size());
        }
    }
    const std::string name = percent_decoded(name_part);
    if (name.empty() || !core::room_name_problem("doc:" + name).empty()) {
        session->respond(400, error_body("INVALID_REQUEST", "invalid document name"));
        return;
    }
    if (action == "/state") {
        if (!only(http::verb::get))
            return;
        server.document_state(
            name, session->loop(), [session](Server::Bytes state, std::string error) {
                if (!error.empty()) {
                    session->respond(500, error_body("DOCUMENT_UNAVAILABLE", error));
                    return;
                }
                session->respond(200, std::string(state.begin(), state.end()),
                                 "application/octet-stream");
            });
        return;
    }
    if (action == "/update") {
        if (!only(http::verb::post))
            return;
        const std::string& body = request.body();
        server.document_apply(name, Server::Bytes(body.begin(), body.end()), session->loop(),
                              [session](std::string error) {
                                  if (!error.empty()) {
                                      session->respond(400, error_body("INVALID_UPDATE", error));
                                      return;
                                  }
                                  session->respond(200, "{\"ok\":true}");
                              });
        return;
    }
    if (action == "/connections") {
        if (!only(http::verb::get))
            return;
        server.document_connections(
            name, session->loop(),
            [session, name](std::array<std::size_t, endpoints::kDocumentFormatCount> counts) {
                std::size_t total = 0;
                for (const std::size_t count : counts)
                    total += count;
                using endpoints::DocumentFormat;
                const auto count_of = [&counts](DocumentFormat format) {
                    return static_cast<std::int64_t>(counts[static_cast<std::size_t>(format)]);
                };
                std::string out = "{\"document\":";
                append_json_string(out, name);
                out += ",\"connections\":";
                append_json_int(out, static_cast<std::int64_t>(total));
                out += ",\"byProtocol\":{\"y-websocket\":";
                append_json_int(out, count_of(DocumentFormat::y_websocket));
                out += ",\"drafts\":";
                append_json_int(out, count_of(DocumentFormat::drafts_json));
                out += ",\"fabric\":";
                append_json_int(out, count_of(DocumentFormat::fabric_json));
                out += "}}";
                session->respond(200, std::move(out));
            });
        return;
    }
    if (action == "/steps") {
        // S1: steps from the app's backend to every fabric client of the document, or to one.
        if (!only(http::verb::post))
            return;
        boost::system::error_code parse_error;
        const boost::json::value body = boost::json::parse(request.body(), parse_error);
        const boost::json::object* object = parse_error ? nullptr : body.if_object();
        const boost::json::value* steps = object ? object->if_contains("steps") : nullptr;
        const boost::json::value* client = object ? object->if_contains("clientID") : nullptr;
        if (steps == nullptr || (client != nullptr && !client->is_string()) ||
            (client != nullptr && client->get_string().size() > 128)) {
            session->respond(400, error_body("INVALID_REQUEST",
                                             "expected {\"steps\": <JSON>, \"clientID\"?: "
                                             "\"<id>\"}"));
            return;
        }
        server.document_send_text(
            name, endpoints::DocumentFormat::fabric_json,
            client ? std::string(client->get_string()) : std::string(),
            endpoints::fabric::encode_server_steps(name, boost::json::serialize(*steps)));
        session->respond(202, "{\"ok\":true}");
        return;
    }
    if (!only(http::verb::delete_))
        return;
    server.document_delete(name, session->loop(), [session](bool existed) {
        session->respond(
            200, existed ? "{\"ok\":true,\"deleted\":true}" : "{\"ok\":true,\"deleted\":false}");
    });
}

// GET /api/rooms/{room}/history?after=N&limit=M: stored events after offset N, oldest first.
std::string history_answer(const std::string& room, const std::string& epoch,
                           std::uint64_t last_offset, const std::vector<std::string>& events,
                           std::uint64_t next) {
    std::string answer = "{\"room\":";
    append_json_string(answer, room);
    answer += ",\"epoch\":";
    append_json_string(answer, epoch);
    answer += ",\"lastOffset\":";
    append_json_int(answer, static_cast<std::int64_t>(last_offset));
    answer += ",\"events\":[";
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (i != 0)
            answer += ',';
        answer += events[i];
    }
    answer += "],\"next\":";
    append_json_int(answer, static_cast<std::int64_t>(next));
    answer += '}';
    return answer;
}

void api_room_history(const SessionPtr& session, const HttpRequest& request,
                      const std::string& room) {
    Server& server = session->loop().server();
    store::Store* store = server.store();
    Cluster* cluster = server.cluster();
    if (store == nullptr && cluster == nullptr) {
        session->respond(503, error_body("STORE_UNAVAILABLE", "no store is open"));
        return;
    }
    std::uint64_t after = 0;
    std::uint64_t limit = 100;
    std::string text;
    const auto number = [&text](std::uint64_t& out) {
        const auto result = std::from_chars(text.data(), text.data() + text.size(), out);
        return result.ec == std::errc() && result.ptr == text.data() + text.size();
    };
    if (endpoints::find_query_parameter(request.target(), "after", text) && !number(after)) {
        session->respond(400,
                         error_body("INVALID_REQUEST", "after must be a non-negative integer"));
        return;
    }
    if (endpoints::find_query_parameter(request.target(), "limit", text) &&
        (!number(limit) || limit == 0 || limit > 1000)) {
        session->respond(400, error_body("INVALID_REQUEST", "limit must be 1..1000"));
        return;
    }
    if (cluster != nullptr) {
        // With a broker the history lives there (docs/scaling.md), the same on every node.
        cluster->room_history(room, after, limit, [session, room](Cluster::HistoryPage page) {
            asio::post(session->loop().io(), [session, room, page = std::move(page)] {
                if (!page.ok) {
                    session->respond(503, error_body("BROKER_UNAVAILABLE", page.error));
                    return;
                }
                session->respond(200, history_answer(room, page.epoch, page.last_offset,
                                                     page.events, page.next));
            });
        });
        return;
    }
    try {
        const store::RoomPosition position = store->position(room);
        const auto stored = store->read_after(room, after, limit);
        std::vector<std::string> events;
        events.reserve(stored.size());
        for (const auto& event : stored)
            events.push_back(event.event_json);
        session->respond(200, history_answer(room, position.epoch, position.last_offset, events,
                                             stored.empty() ? after : stored.back().offset));
    } catch (const std::exception& error) {
        session->respond(503, error_body("STORE_UNAVAILABLE", error.what()));
    }
}

void api_disconnect_user(const SessionPtr& session, const HttpRequest& request,
                         const std::string& user) {
    std::uint16_t code = 4403;
    std::string reason = "disconnected by the server";
    if (!request.body().empty()) {
        auto body = parse_body(session, request);
        if (!body)
            return;
        if (const json::value* value = body->if_contains("code")) {
            if (!value->is_int64() || value->as_int64() < 4000 || value->as_int64() > 4999) {
                session->respond(400, error_body("INVALID_REQUEST", "\"code\" must be 4000-4999"));
                return;
            }
            code = static_cast<std::uint16_t>(value->as_int64());
        }
        if (const std::string_view text = string_or_empty(*body, "reason"); !text.empty()) {
            reason = std::string(text.substr(0, 100));
        }
    }
    log(LogLevel::info, "api.disconnect_user", {{"user", user}});
    session->loop().server().disconnect_user(
        user, code, reason, session->loop(), [session](std::size_t closed) {
            std::string answer = "{\"ok\":true,\"connections\":";
            append_json_int(answer, static_cast<std::int64_t>(closed));
            answer += '}';
            session->respond(200, std::move(answer));
        });
}

std::string rooms_json(const std::vector<RoomCount>& rooms) {
    std::string out = "[";
    for (std::size_t i = 0; i < rooms.size(); ++i) {
        if (i != 0)
            out += ',';
        out += "{\"room\":";
        append_json_string(out, rooms[i].room);
        out += ",\"connections\":";
        append_json_int(out, static_cast<std::int64_t>(rooms[i].connections));
        out += '}';
    }
    out += ']';
    return out;
}

void api_list_rooms(const SessionPtr& session) {
    session->loop().server().count_rooms(session->loop(), [session](std::vector<RoomCount> rooms) {
        session->respond(200, "{\"rooms\":" + rooms_json(rooms) + "}");
    });
}

// GET /stats, or the whole cluster's with ?scope=cluster (the nodes that answer within a second).
void stats(const SessionPtr& session, const HttpRequest& request) {
    std::string scope;
    endpoints::find_query_parameter(request.target(), "scope", scope);
    if (!scope.empty() && scope != "node" && scope != "cluster") {
        session->respond(400, error_body("INVALID_REQUEST", "scope must be node or cluster"));
        return;
    }
    const bool whole_cluster = scope == "cluster";
    session->loop().server().node_stats(
        session->loop(), [session, whole_cluster](endpoints::NodeStats local) {
            Cluster* cluster = session->loop().server().cluster();
            if (!whole_cluster) {
                session->respond(200, endpoints::render_node_stats(local));
                return;
            }
            if (cluster == nullptr) {
                local.node = "local";
                session->respond(200, endpoints::render_cluster_stats({std::move(local)}, {}));
                return;
            }
            cluster->cluster_stats(std::move(local), [session](std::string answer) {
                asio::post(session->loop().io(), [session, answer = std::move(answer)]() mutable {
                    session->respond(200, std::move(answer));
                });
            });
        });
}

void metrics(const SessionPtr& session) {
    session->loop().server().count_rooms(session->loop(), [session](std::vector<RoomCount> rooms) {
        Server& server = session->loop().server();
        observability::GaugeValues gauges;
        gauges.rooms = rooms.size();
        gauges.users = server.unique_users();
        gauges.ready = server.accepting();
        if (store::Store* store = server.store()) {
            const store::StoreStats stats = store->stats();
            gauges.store_commits = stats.commits;
            gauges.store_appends = stats.appends;
            gauges.store_failed_appends = stats.failed_appends;
            gauges.store_queued = stats.queued;
            gauges.store_realtime_writer = stats.realtime_writer;
            gauges.store_reachable = stats.reachable;
        }
        std::string text = observability::render_prometheus(
            observability::sum_counters(server.loop_counters()), server.counters(), gauges);
        if (const Cluster* cluster = server.cluster())
            text += cluster->metrics_text();
        session->respond(200, std::move(text), "text/plain; version=0.0.4");
    });
}

// Still 200 when the broker or the database is away: the node serves its local rooms meanwhile
// (writes wait for the database, bounded by store.reconnect_timeout).
void health(const SessionPtr& session) {
    Server& server = session->loop().server();
    const Cluster* cluster = server.cluster();
    const store::Store* store = server.store();
    const bool store_reachable = store == nullptr || store->stats().reachable;
    const bool broker_connected =
        cluster == nullptr || cluster->state() == broker::BrokerState::connected;
    std::string out = "{\"status\":\"";
    out += store_reachable && broker_connected ? "ok\"" : "degraded\"";
    if (cluster != nullptr)
        out += ",\"broker\":" + cluster->health_json();
    if (!store_reachable)
        out += ",\"store\":{\"state\":\"unreachable\"}";
    out += '}';
    session->respond(200, std::move(out));
}

// A malformed escape gives "", which the name checks that follow refuse.
std::string percent_decoded(std::string_view segment) {
    return endpoints::decode_path_segment(segment).value_or(std::string());
}

}  // namespace

void route_http_request(const SessionPtr& session, const HttpRequest& request) {
    Server& server = session->loop().server();
    const std::string_view path = endpoints::target_path(request.target());
    const http::verb method = request.method();
    const auto only = [&](http::verb allowed) {
        if (method == allowed)
            return true;
        session->respond(405, error_body("METHOD_NOT_ALLOWED", "method not allowed on this path"));
        return false;
    };

    if (path == "/health") {
        if (only(http::verb::get))
            health(session);
        return;
    }
    if (path == "/ready") {
        if (!only(http::verb::get))
            return;
        if (server.accepting()) {
            session->respond(200, "{\"status\":\"ready\"}");
        } else {
            session->respond(503, "{\"status\":\"shutting_down\"}");
        }
        return;
    }
    if (path == "/metrics") {
        if (only(http::verb::get))
            metrics(session);
        return;
    }
    if (path == "/demo/token") {
        demo_token(session, request);
        return;
    }
    const bool is_api = path.substr(0, 5) == "/api/";
    if (path != "/stats" && !is_api) {
        serve_static(session, request, path, server.settings().server.demo_dir);
        return;
    }
    if (!has_api_key(request, server.settings().api.api_key)) {
        log(LogLevel::warn, "api.unauthorized", {{"path", path}});
        session->respond(401, error_body("UNAUTHORIZED", "missing or wrong API key"));
        return;
    }
    server.counters().api_requests.fetch_add(1, std::memory_order_relaxed);
    if (!server.accepting() && method != http::verb::get) {
        session->respond(503, error_body("SHUTTING_DOWN", "the server is shutting down"));
        return;
    }
    if (path == "/stats") {
        if (only(http::verb::get))
            stats(session, request);
        return;
    }
    if (path == "/api/publish") {
        if (only(http::verb::post))
            api_publish(session, request);
        return;
    }
    if (path == "/api/rooms") {
        if (only(http::verb::get))
            api_list_rooms(session);
        return;
    }
    constexpr std::string_view kUsers = "/api/users/";
    if (path.substr(0, kUsers.size()) == kUsers) {
        const std::string_view rest = path.substr(kUsers.size());
        const auto slash = rest.find('/');
        if (slash != std::string_view::npos && slash > 0) {
            const std::string user = percent_decoded(rest.substr(0, slash));
            const std::string_view verb = rest.substr(slash + 1);
            if (!core::user_id_problem(user).empty()) {
                session->respond(400, error_body("INVALID_REQUEST", "invalid user id"));
                return;
            }
            if (verb == "send") {
                if (only(http::verb::post))
                    api_send_to_user(session, request, user);
                return;
            }
            if (verb == "disconnect") {
                if (only(http::verb::post))
                    api_disconnect_user(session, request, user);
                return;
            }
            if (verb == "rooms/remove") {
                if (only(http::verb::post))
                    api_remove_user_from_rooms(session, request, user);
                return;
            }
        }
    }
    constexpr std::string_view kDocuments = "/api/documents";
    if (path.substr(0, kDocuments.size()) == kDocuments &&
        (path.size() == kDocuments.size() || path[kDocuments.size()] == '/')) {
        api_documents(session, request, path.substr(kDocuments.size()), only);
        return;
    }
    constexpr std::string_view kRooms = "/api/rooms/";
    constexpr std::string_view kHistory = "/history";
    if (path.substr(0, kRooms.size()) == kRooms && path.size() > kRooms.size() + kHistory.size() &&
        path.substr(path.size() - kHistory.size()) == kHistory) {
        const std::string room = percent_decoded(
            path.substr(kRooms.size(), path.size() - kRooms.size() - kHistory.size()));
        if (const std::string_view problem = core::room_name_problem(room); !problem.empty()) {
            session->respond(400, error_body("INVALID_ROOM", problem));
            return;
        }
        if (only(http::verb::get))
            api_room_history(session, request, room);
        return;
    }
    constexpr std::string_view kPresence = "/presence";
    if (path.substr(0, kRooms.size()) == kRooms && path.size() > kRooms.size() + kPresence.size() &&
        path.substr(path.size() - kPresence.size()) == kPresence) {
        const std::string room = percent_decoded(
            path.substr(kRooms.size(), path.size() - kRooms.size() - kPresence.size()));
        if (const std::string_view problem = core::room_name_problem(room); !problem.empty()) {
            session->respond(400, error_body("INVALID_ROOM", problem));
            return;
        }
        if (only(http::verb::get))
            api_room_presence(session, room);
        return;
    }
    session->respond(404, error_body("NOT_FOUND", "no such API path"));
}

}  // namespace huddle::net
