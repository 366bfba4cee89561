// A document update as each document protocol sends it to its clients. The owner of a document
// encodes an update once per protocol in use; every client of that protocol gets the same bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "endpoints/handler.hpp"

namespace huddle::endpoints {

// The message is `head` then `tail`: y-websocket sends the update's bytes as they are after a
// few bytes of its own, so they are not copied here (tail views the update given); the JSON
// formats write everything into head.
struct EncodedUpdate {
    bool text = false;  // a text frame (JSON) rather than a binary one
    std::string head;
    std::span<const std::uint8_t> tail;
};

EncodedUpdate encode_document_update(DocumentFormat format, std::string_view document,
                                     std::span<const std::uint8_t> update);

// [1,2,3]: S0 carries binary as arrays of numbers.
void append_json_byte_array(std::string& out, std::span<const std::uint8_t> bytes);

}  // namespace huddle::endpoints
