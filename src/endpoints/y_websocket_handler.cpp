// y-websocket at /yjs/<document>: the binary protocol of the stock y-websocket provider. Sync
// step 1 is answered with what the client lacks, updates are stored and relayed, awareness is
// relayed. The protocol has no error message: malformed input closes the connection (4400).
#include <memory>

#include "endpoints/handler.hpp"
#include "endpoints/yws/protocol.hpp"

namespace huddle::endpoints {
namespace {

class YWebsocketHandler final : public Handler {
  public:
    explicit YWebsocketHandler(Connection& connection) : connection_(connection) {}

    void on_open() override {
        connection_.open_document([this](std::vector<Connection::Bytes> first, std::string error) {
            if (!error.empty()) {
                connection_.close(1011, error);
                return;
            }
            for (const auto& message : first)
                connection_.send_binary(message);
        });
    }

    void on_text(std::string_view) override {
        connection_.close(1003, "y-websocket messages are binary");
    }

    void on_binary(std::span<const std::uint8_t> bytes) override {
        auto decoded = yws::decode_message(bytes);
        if (const auto* error = std::get_if<yws::DecodeError>(&decoded)) {
            // Close reasons are at most 123 bytes.
            connection_.close(4400,
                              ("invalid y-websocket message: " + error->message).substr(0, 120));
            return;
        }
        const auto& message = std::get<yws::Decoded>(decoded);
        switch (message.type) {
            case yws::MessageType::sync: {
                Connection::Bytes data(message.sync->payload.begin(), message.sync->payload.end());
                if (message.sync->type == yws::SyncType::step1) {
                    connection_.document_diff(
                        std::move(data), [this](Connection::Bytes diff, std::string error) {
                            if (!error.empty()) {
                                connection_.close(4400, "invalid state vector");
                                return;
                            }
                            connection_.send_binary(yws::encode_sync_step2(diff));
                        });
                    return;
                }
                connection_.document_update(std::move(data), [this](std::string error) {
                    connection_.close(4400, "update refused: " + error.substr(0, 80));
                });
                return;
            }
            case yws::MessageType::awareness:
                connection_.document_awareness(Connection::Bytes(bytes.begin(), bytes.end()));
                return;
            case yws::MessageType::query_awareness:
                connection_.document_awareness_snapshot([this](Connection::Bytes snapshot) {
                    if (!snapshot.empty())
                        connection_.send_binary(snapshot);
                });
                return;
            case yws::MessageType::auth:
                return;  // a client has nothing to say here
        }
    }

  private:
    Connection& connection_;
};

}  // namespace

std::unique_ptr<Handler> make_y_websocket_handler(Connection& connection) {
    return std::make_unique<YWebsocketHandler>(connection);
}

}  // namespace huddle::endpoints
