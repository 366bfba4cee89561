// S1's collaboration endpoint: `sync` is answered with `synced` (what the client lacks), `update`
// is stored and then sent to the document's other clients, awareness/selection/steps are relayed
// to the document's other fabric clients. Errors are {"type":"error","code","message"}.
#include <memory>

#include "endpoints/base64.hpp"
#include "endpoints/fabric_messages.hpp"
#include "endpoints/handler.hpp"
#include "endpoints/json_text.hpp"

namespace huddle::endpoints {
namespace {

class FabricHandler final : public Handler {
  public:
    explicit FabricHandler(Connection& connection) : connection_(connection) {}

    void on_open() override {
        connection_.open_document([this](std::vector<Connection::Bytes>, std::string error) {
            if (!error.empty())
                connection_.close(1011, error, fabric::encode_error("DOCUMENT_UNAVAILABLE", error));
        });
    }

    void on_binary(std::span<const std::uint8_t>) override {
        connection_.send_text(
            fabric::encode_error("INVALID_MESSAGE", "this protocol uses JSON text messages"));
    }

    void on_text(std::string_view text) override {
        fabric::Message message =
            fabric::parse_message(text, connection_.document(), connection_.client_id());
        switch (message.kind) {
            case fabric::Kind::invalid:
                connection_.send_text(fabric::encode_error("INVALID_MESSAGE", message.error));
                return;
            case fabric::Kind::sync:
                connection_.document_diff(std::move(message.bytes), [this](Connection::Bytes diff,
                                                                           std::string error) {
                    if (!error.empty()) {
                        connection_.send_text(fabric::encode_error("INVALID_STATE_VECTOR", error));
                        return;
                    }
                    std::string out = R"({"type":"synced","documentId":)";
                    append_json_string(out, connection_.document());
                    out += ",\"update\":\"";
                    append_base64(out, diff);
                    out += "\"}";
                    connection_.send_text(std::move(out));
                });
                return;
            case fabric::Kind::update:
                connection_.document_update(std::move(message.bytes), [this](std::string error) {
                    connection_.send_text(fabric::encode_error("INVALID_UPDATE", error));
                });
                return;
            case fabric::Kind::relay:
                connection_.relay_text(std::move(message.relay_text));
                return;
            case fabric::Kind::ping:
                connection_.send_text(R"({"type":"pong"})");
                return;
        }
    }

  private:
    Connection& connection_;
};

}  // namespace

std::unique_ptr<Handler> make_fabric_handler(Connection& connection) {
    return std::make_unique<FabricHandler>(connection);
}

}  // namespace huddle::endpoints
