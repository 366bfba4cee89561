#include "net/ws/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace huddle::ws {
namespace {

constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

constexpr bool is_base64_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

// RFC 7230 §3.2.6 tchar.
constexpr bool is_tchar(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~':
            return true;
        default:
            return false;
    }
}

constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

// A window-bits value: a decimal integer 8..15 without leading zeros (RFC 7692 §7.1.2). -1 if not.
int parse_window_bits(std::string_view value) noexcept {
    if (value.size() == 1 && value[0] == '8') {
        return 8;
    }
    if (value.size() == 1 && value[0] == '9') {
        return 9;
    }
    if (value.size() == 2 && value[0] == '1' && value[1] >= '0' && value[1] <= '5') {
        return 10 + (value[1] - '0');
    }
    return -1;
}

class Cursor {
  public:
    explicit Cursor(std::string_view text) : text_(text) {}

    bool at_end() const noexcept { return pos_ >= text_.size(); }
    char peek() const noexcept { return text_[pos_]; }
    void advance() noexcept { ++pos_; }

    void skip_ows() noexcept {
        while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t')) {
            ++pos_;
        }
    }

    std::string_view token() noexcept {
        const std::size_t start = pos_;
        while (!at_end() && is_tchar(text_[pos_])) {
            ++pos_;
        }
        return text_.substr(start, pos_ - start);
    }

    // At an opening quote: reads a quoted-string, unescaping quoted-pairs into `out`.
    bool quoted_string(std::string& out) {
        ++pos_;  // opening quote
        while (!at_end()) {
            const char c = text_[pos_++];
            if (c == '"') {
                return true;
            }
            if (c == '\\') {
                if (at_end()) {
                    return false;
                }
                out.push_back(text_[pos_++]);
            } else if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) {
                return false;
            } else {
                out.push_back(c);
            }
        }
        return false;  // unterminated
    }

    // Skips the rest of a malformed list element: up to the next comma outside a quoted string.
    void skip_element() noexcept {
        bool quoted = false;
        while (!at_end()) {
            const char c = text_[pos_];
            if (quoted) {
                if (c == '\\') {
                    ++pos_;
                } else if (c == '"') {
                    quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                return;
            }
            ++pos_;
        }
    }

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

// What one permessage-deflate offer asks for.
struct DeflateOffer {
    bool acceptable = true;
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    bool client_max_window_bits = false;  // parameter present
    int client_window_value = -1;         // its value, -1 when given without one
    int server_window_value = -1;         // server_max_window_bits, -1 when absent

    void apply(std::string_view name, bool has_value, std::string_view value) {
        if (iequals(name, "server_no_context_takeover")) {
            if (server_no_context_takeover || has_value) {
                acceptable = false;
            }
            server_no_context_takeover = true;
        } else if (iequals(name, "client_no_context_takeover")) {
            if (client_no_context_takeover || has_value) {
                acceptable = false;
            }
            client_no_context_takeover = true;
        } else if (iequals(name, "server_max_window_bits")) {
            // The value is mandatory in an offer.
            const int bits = has_value ? parse_window_bits(value) : -1;
            if (server_window_value != -1 || bits < 0) {
                acceptable = false;
            }
            server_window_value = bits;
        } else if (iequals(name, "client_max_window_bits")) {
            const int bits = has_value ? parse_window_bits(value) : -1;
            if (client_max_window_bits || (has_value && bits < 0)) {
                acceptable = false;
            }
            client_max_window_bits = true;
            client_window_value = bits;
        } else {
            acceptable = false;  // a parameter not defined for offers
        }
    }
};

DeflateAgreement make_agreement(const DeflateOffer& offer, const DeflateOptions& options) {
    DeflateAgreement agreement;
    agreement.enabled = true;
    std::string& response = agreement.response_header_value;
    response = "permessage-deflate; server_no_context_takeover";
    if (offer.client_no_context_takeover || options.require_client_no_context_takeover) {
        response += "; client_no_context_takeover";
        agreement.client_no_context_takeover = true;
    }
    if (offer.server_window_value != -1) {
        // Accepting the parameter means answering it with the same or a smaller value (§7.1.2.1).
        agreement.server_max_window_bits = static_cast<std::uint8_t>(offer.server_window_value);
        response += "; server_max_window_bits=";
        response += std::to_string(offer.server_window_value);
    }
    if (offer.client_max_window_bits) {
        // May be answered only when offered; the answer needs a value not above the offered one
        // (§7.1.2.2). Without an answer the client may use a 15-bit window.
        const int preferred = std::clamp<int>(options.client_max_window_bits, 8, 15);
        const int offered = offer.client_window_value == -1 ? 15 : offer.client_window_value;
        const int bits = std::min(offered, preferred);
        if (bits < 15) {
            agreement.client_max_window_bits = static_cast<std::uint8_t>(bits);
            response += "; client_max_window_bits=";
            response += std::to_string(bits);
        }
    }
    return agreement;
}

}  // namespace

std::string websocket_accept_key(std::string_view sec_websocket_key) {
    std::string input;
    input.reserve(sec_websocket_key.size() + kAcceptGuid.size());
    input.append(sec_websocket_key);
    input.append(kAcceptGuid);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    // base64 of 20 bytes: 28 characters, plus the terminating NUL EVP_EncodeBlock writes.
    std::array<unsigned char, 29> encoded{};
    const int size = EVP_EncodeBlock(encoded.data(), digest, SHA_DIGEST_LENGTH);
    return std::string(reinterpret_cast<const char*>(encoded.data()),
                       static_cast<std::size_t>(size));
}

bool is_valid_websocket_key(std::string_view key) noexcept {
    // 16 bytes encode to 22 significant characters and "==".
    if (key.size() != 24 || key[22] != '=' || key[23] != '=') {
        return false;
    }
    for (std::size_t i = 0; i < 22; ++i) {
        if (!is_base64_char(key[i])) {
            return false;
        }
    }
    return true;
}

DeflateAgreement negotiate_permessage_deflate(std::string_view sec_websocket_extensions,
                                              bool server_allows) {
    return negotiate_permessage_deflate(sec_websocket_extensions, server_allows, DeflateOptions{});
}

DeflateAgreement negotiate_permessage_deflate(std::string_view sec_websocket_extensions,
                                              bool server_allows, const DeflateOptions& options) {
    if (!server_allows) {
        return {};
    }
    const int min_server_window = std::clamp<int>(options.min_server_max_window_bits, 9, 15);
    Cursor cursor(sec_websocket_extensions);
    std::string unquoted;
    for (;;) {
        cursor.skip_ows();
        if (cursor.at_end()) {
            break;
        }
        if (cursor.peek() == ',') {  // empty list element
            cursor.advance();
            continue;
        }
        const std::string_view name = cursor.token();
        bool well_formed = !name.empty();
        const bool is_deflate = iequals(name, "permessage-deflate");
        DeflateOffer offer;
        cursor.skip_ows();
        while (well_formed && !cursor.at_end() && cursor.peek() == ';') {
            cursor.advance();
            cursor.skip_ows();
            const std::string_view param = cursor.token();
            if (param.empty()) {
                well_formed = false;
                break;
            }
            cursor.skip_ows();
            bool has_value = false;
            std::string_view value;
            if (!cursor.at_end() && cursor.peek() == '=') {
                cursor.advance();
                cursor.skip_ows();
                has_value = true;
                if (!cursor.at_end() && cursor.peek() == '"') {
                    unquoted.clear();
                    well_formed = cursor.quoted_string(unquoted);
                    value = unquoted;
                } else {
                    value = cursor.token();
                    well_formed = !value.empty();
                }
                cursor.skip_ows();
            }
            if (well_formed && is_deflate) {
                offer.apply(param, has_value, value);
            }
        }
        if (well_formed && !cursor.at_end() && cursor.peek() != ',') {
            well_formed = false;
        }
        if (!well_formed) {
            cursor.skip_element();
            continue;
        }
        if (!is_deflate || !offer.acceptable) {
            continue;
        }
        if (offer.server_window_value != -1 && offer.server_window_value < min_server_window) {
            continue;  // we cannot (8) or choose not to compress with such a small window
        }
        return make_agreement(offer, options);
    }
    return {};
}

}  // namespace huddle::ws
