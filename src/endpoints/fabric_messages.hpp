// S1's collaboration protocol (/ws/fabric?documentId=<document>&clientID=<id>): JSON text messages
// per document, binary Yjs data as base64. Parsing is separate from the handler so that it can be
// fuzzed on its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace huddle::endpoints::fabric {

enum class Kind : std::uint8_t {
    invalid,  // `error` says why
    sync,     // {"type":"sync","stateVector":"<base64>"?}: answered with "synced"
    update,   // {"type":"update","update":"<base64>"}: stored, then sent to the other clients
    relay,    // awareness, selection, steps: sent as is to the other clients (with clientID)
    ping,     // {"type":"ping"}: answered with {"type":"pong"}
};

struct Message {
    Kind kind = Kind::invalid;
    std::vector<std::uint8_t> bytes;  // sync: the state vector ({0} when absent); update: it
    std::string relay_text;           // relay: the message to send, clientID/documentId set
    std::string error;
};

Message parse_message(std::string_view text, std::string_view document, std::string_view client_id);

// {"type":"steps","documentId":...,"clientID":"server","steps":<steps_json>}: steps from the
// app's backend (steps_json is already valid JSON).
std::string encode_server_steps(std::string_view document, std::string_view steps_json);

std::string encode_error(std::string_view code, std::string_view message);

}  // namespace huddle::endpoints::fabric
