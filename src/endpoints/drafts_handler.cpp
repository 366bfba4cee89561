// S0's JSON document protocol at /ws/drafts?draftId=<document>: the full state on connect and on
// `yjs-state-request`, `yjs-update` applied, stored and sent to the draft's other clients, and
// `error` messages; binary travels as arrays of numbers.
#include <memory>

#include <boost/json/parse.hpp>

#include "endpoints/document_formats.hpp"
#include "endpoints/handler.hpp"
#include "endpoints/json_text.hpp"

namespace huddle::endpoints {
namespace {

std::string draft_error(std::string_view message) {
    std::string out = R"({"type":"error","message":)";
    append_json_string(out, message);
    out += '}';
    return out;
}

class DraftsHandler final : public Handler {
  public:
    explicit DraftsHandler(Connection& connection) : connection_(connection) {}

    void on_open() override {
        connection_.open_document([this](std::vector<Connection::Bytes>, std::string error) {
            if (!error.empty()) {
                connection_.close(1011, error);
                return;
            }
            send_state();
        });
    }

    void on_binary(std::span<const std::uint8_t>) override {
        connection_.send_text(draft_error("this protocol uses JSON text messages"));
    }

    // {"type":"yjs-update","update":[...]}, {"type":"yjs-state-request"}, {"type":"ping"}.
    void on_text(std::string_view text) override {
        boost::system::error_code parse_error;
        const boost::json::value root = boost::json::parse(text, parse_error);
        const boost::json::object* object = parse_error ? nullptr : root.if_object();
        const boost::json::value* type = object ? object->if_contains("type") : nullptr;
        if (type == nullptr || !type->is_string()) {
            connection_.send_text(draft_error("messages are JSON objects with a \"type\""));
            return;
        }
        const std::string_view name = type->get_string();
        if (name == "yjs-state-request") {
            send_state();
            return;
        }
        if (name == "ping") {
            connection_.send_text(R"({"type":"pong"})");
            return;
        }
        if (name != "yjs-update") {
            connection_.send_text(draft_error("unknown message type"));
            return;
        }
        const boost::json::value* update = object->if_contains("update");
        Connection::Bytes bytes;
        bool valid = update != nullptr && update->is_array();
        if (valid) {
            for (const boost::json::value& item : update->get_array()) {
                if (!item.is_int64() || item.get_int64() < 0 || item.get_int64() > 255) {
                    valid = false;
                    break;
                }
                bytes.push_back(static_cast<std::uint8_t>(item.get_int64()));
            }
        }
        if (!valid) {
            connection_.send_text(draft_error("\"update\" must be an array of numbers 0-255"));
            return;
        }
        connection_.document_update(std::move(bytes), [this](std::string error) {
            connection_.send_text(draft_error("update refused: " + error));
        });
    }

  private:
    void send_state() {
        // The diff against an empty state vector is the whole document.
        connection_.document_diff({0}, [this](Connection::Bytes state, std::string error) {
            if (!error.empty()) {
                connection_.send_text(draft_error("the document could not be read"));
                return;
            }
            std::string out = R"({"type":"yjs-state-response","draftId":)";
            append_json_string(out, connection_.document());
            out += ",\"state\":";
            append_json_byte_array(out, state);
            out += '}';
            connection_.send_text(std::move(out));
        });
    }

    Connection& connection_;
};

}  // namespace

std::unique_ptr<Handler> make_drafts_handler(Connection& connection) {
    return std::make_unique<DraftsHandler>(connection);
}

}  // namespace huddle::endpoints
