#include "broker/envelope.hpp"

#include <charconv>

namespace huddle::broker {

namespace {

constexpr std::string_view kMagic = "h1 ";
constexpr std::size_t kMaxToken = 64;

// Splits off the text up to the next `separator`; false when there is none.
bool take_field(std::string_view& rest, char separator, std::string_view& field) {
    const auto end = rest.find(separator);
    if (end == std::string_view::npos)
        return false;
    field = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    return true;
}

}  // namespace

bool valid_token(std::string_view token) {
    if (token.empty() || token.size() > kMaxToken)
        return false;
    for (const char c : token) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

std::string encode_envelope(std::uint64_t offset, std::string_view epoch, std::string_view origin,
                            std::string_view payload) {
    std::string out;
    out.reserve(kMagic.size() + 24 + epoch.size() + origin.size() + payload.size() + 4);
    out += kMagic;
    out += std::to_string(offset);
    out += ' ';
    out += epoch.empty() ? std::string_view("-") : epoch;
    out += ' ';
    out += origin;
    out += '\n';
    out += payload;
    return out;
}

std::optional<Envelope> decode_envelope(std::string_view bytes) {
    if (!bytes.starts_with(kMagic))
        return std::nullopt;
    std::string_view rest = bytes.substr(kMagic.size());
    std::string_view offset_text, epoch, origin;
    // The header is short: bound the search so a huge payload without a newline costs nothing.
    std::string_view header = rest.substr(0, 24 + 2 * kMaxToken + 3);
    const auto newline = header.find('\n');
    if (newline == std::string_view::npos)
        return std::nullopt;
    header = header.substr(0, newline + 1);
    if (!take_field(header, ' ', offset_text) || !take_field(header, ' ', epoch) ||
        !take_field(header, '\n', origin))
        return std::nullopt;
    Envelope envelope;
    if (offset_text.empty() || offset_text.size() > 20 ||
        (offset_text.size() > 1 && offset_text.front() == '0'))
        return std::nullopt;
    const auto parsed = std::from_chars(offset_text.data(), offset_text.data() + offset_text.size(),
                                        envelope.offset);
    if (parsed.ec != std::errc{} || parsed.ptr != offset_text.data() + offset_text.size())
        return std::nullopt;
    if (epoch != "-" && !valid_token(epoch))
        return std::nullopt;
    if (!valid_token(origin))
        return std::nullopt;
    // A history message has both an offset and an epoch; any other has neither.
    if ((envelope.offset == 0) != (epoch == "-"))
        return std::nullopt;
    envelope.epoch = epoch == "-" ? std::string_view() : epoch;
    envelope.origin = origin;
    envelope.payload = rest.substr(newline + 1);
    return envelope;
}

}  // namespace huddle::broker
