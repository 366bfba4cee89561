// libFuzzer target for S1's fabric messages (endpoints/fabric_messages) and the base64 they carry.
//
// Input: a message text. Checks: every message is classified or refused with an error; a relayed
// message is valid JSON with the server's documentId and clientID; base64 decoding of any text
// and encoding back gives the same text (canonical form only).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

#include "endpoints/base64.hpp"
#include "endpoints/fabric_messages.hpp"

namespace {

void check(bool condition) {
    if (!condition)
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    namespace fabric = huddle::endpoints::fabric;
    const fabric::Message message = fabric::parse_message(text, "doc", "client-1");
    switch (message.kind) {
        case fabric::Kind::invalid:
            check(!message.error.empty());
            break;
        case fabric::Kind::sync:
        case fabric::Kind::update:
            check(!message.bytes.empty());
            break;
        case fabric::Kind::relay: {
            boost::system::error_code error;
            const boost::json::value relayed = boost::json::parse(message.relay_text, error);
            check(!error && relayed.is_object());
            check(relayed.as_object().at("clientID") == "client-1");
            check(relayed.as_object().at("documentId") == "doc");
            break;
        }
        case fabric::Kind::ping:
            break;
    }
    if (const auto bytes = huddle::endpoints::decode_base64(text)) {
        std::string again;
        huddle::endpoints::append_base64(again, *bytes);
        check(again == text);
    }
    return 0;
}
