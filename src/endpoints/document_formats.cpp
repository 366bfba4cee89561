#include "endpoints/document_formats.hpp"

#include "endpoints/base64.hpp"
#include "endpoints/json_text.hpp"
#include "endpoints/yws/protocol.hpp"

namespace huddle::endpoints {

void append_json_byte_array(std::string& out, std::span<const std::uint8_t> bytes) {
    out.reserve(out.size() + 2 + bytes.size() * 4);
    out += '[';
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i != 0)
            out += ',';
        out += std::to_string(bytes[i]);
    }
    out += ']';
}

EncodedUpdate encode_document_update(DocumentFormat format, std::string_view document,
                                     std::span<const std::uint8_t> update) {
    EncodedUpdate encoded;
    switch (format) {
        case DocumentFormat::y_websocket: {
            const yws::SyncPrefix prefix = yws::sync_prefix(yws::SyncType::update, update.size());
            encoded.head.assign(reinterpret_cast<const char*>(prefix.bytes.data()), prefix.size);
            encoded.tail = update;
            break;
        }
        case DocumentFormat::drafts_json:
            encoded.text = true;
            encoded.head = R"({"type":"yjs-update","draftId":)";
            append_json_string(encoded.head, document);
            encoded.head += ",\"update\":";
            append_json_byte_array(encoded.head, update);
            encoded.head += '}';
            break;
        case DocumentFormat::fabric_json:
            encoded.text = true;
            encoded.head = R"({"type":"update","documentId":)";
            append_json_string(encoded.head, document);
            encoded.head += ",\"update\":\"";
            append_base64(encoded.head, update);
            encoded.head += "\"}";
            break;
        case DocumentFormat::none:
            break;
    }
    return encoded;
}

}  // namespace huddle::endpoints
