// WebSocket endpoints other than the rooms protocol: each path (/yjs/<doc>, /ws/drafts,
// /ws/fabric, ...) gets a Handler per connection with hooks for open, messages and close. The
// handler talks to its connection, and to the connection's document, only through Connection,
// which net implements; so a protocol lives in one file here and knows nothing of sockets or loops.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace huddle::endpoints {

// How a document's updates are encoded for a protocol's clients. The document's owner encodes an
// update once per format in use and sends the same bytes to every client of that format.
enum class DocumentFormat : std::uint8_t {
    none,         // not a document endpoint
    y_websocket,  // binary y-websocket messages
    drafts_json,  // S0: {"type":"yjs-update","update":[numbers]}
    fabric_json,  // S1: {"type":"update","update":"<base64>"}
};
inline constexpr std::size_t kDocumentFormatCount = 4;

class Connection {
  public:
    using Bytes = std::vector<std::uint8_t>;

    virtual ~Connection() = default;

    virtual std::uint64_t connection_id() const = 0;
    virtual std::string_view user_id() const = 0;
    virtual const boost::json::object& claims() const = 0;
    // The document this connection works on (empty for endpoints without one).
    virtual const std::string& document() const = 0;
    // The client's own id given at connect (e.g. S1's clientID); may be empty.
    virtual const std::string& client_id() const = 0;

    virtual void send_text(std::string text) = 0;
    virtual void send_binary(std::span<const std::uint8_t> bytes) = 0;
    // Sends a close frame with the code and reason (after `text_before`, if any) and ends.
    virtual void close(std::uint16_t code, std::string_view reason,
                       std::string text_before = {}) = 0;

    // Document operations, run by the document's owner. Completions run on this connection's
    // thread and only while it is open, so a handler may capture itself.
    //
    // Counts the connection and loads the document if needed; `done` gets the y-websocket
    // messages a new client needs first (sync step 1 and 2, awareness) or an error.
    virtual void open_document(std::function<void(std::vector<Bytes>, std::string)> done) = 0;
    // The update that brings a client with this state vector up to date (empty vector: all).
    virtual void document_diff(Bytes state_vector,
                               std::function<void(Bytes, std::string)> done) = 0;
    // Validated, stored, applied, then relayed to the document's other clients; `refused` runs
    // only when the update is refused (with the reason).
    virtual void document_update(Bytes update, std::function<void(std::string)> refused) = 0;
    // y-websocket awareness message (whole message bytes): applied and relayed to every client.
    virtual void document_awareness(Bytes message) = 0;
    virtual void document_awareness_snapshot(std::function<void(Bytes)> done) = 0;
    // Sends a text message to the document's other clients that speak this connection's
    // protocol, in the order of the document's other messages.
    virtual void relay_text(std::string text) = 0;
};

class Handler {
  public:
    virtual ~Handler() = default;
    // The upgrade is done and, for document endpoints, the connection counted on its document.
    virtual void on_open() = 0;
    virtual void on_text(std::string_view text) = 0;
    virtual void on_binary(std::span<const std::uint8_t> bytes) = 0;
    // The client broke the WebSocket protocol (bad frame, message too large); the connection is
    // being closed with `close_code`.
    virtual void on_error(std::uint16_t /*close_code*/, std::string_view /*reason*/) {}
    // The connection is gone (closed by either side or failed); nothing can be sent any more.
    virtual void on_close() {}
};

}  // namespace huddle::endpoints
