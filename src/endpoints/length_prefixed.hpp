// Length-prefixed fields ("<bytes>:<text>"), the encoding of the messages nodes exchange through
// the broker: user ids and payloads may hold any byte, and a reader never scans for a delimiter.
#pragma once

#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace huddle::endpoints {

inline void put_field(std::string& out, std::string_view field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
}

template <typename Number>
void put_number_field(std::string& out, Number value) {
    put_field(out, std::to_string(value));
}

class FieldReader {
  public:
    explicit FieldReader(std::string_view bytes) : rest_(bytes) {}

    // nullopt for a malformed or truncated field.
    std::optional<std::string_view> field() {
        const std::size_t colon = rest_.find(':');
        if (colon == std::string_view::npos || colon == 0 || colon > 10)
            return std::nullopt;
        std::size_t size = 0;
        const auto [end, error] = std::from_chars(rest_.data(), rest_.data() + colon, size);
        if (error != std::errc{} || end != rest_.data() + colon || size > rest_.size() - colon - 1)
            return std::nullopt;
        const std::string_view value = rest_.substr(colon + 1, size);
        rest_.remove_prefix(colon + 1 + size);
        return value;
    }

    template <typename Number>
    std::optional<Number> number() {
        const auto text = field();
        if (!text)
            return std::nullopt;
        Number value{};
        const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
        if (error != std::errc{} || end != text->data() + text->size())
            return std::nullopt;
        return value;
    }

    bool done() const { return rest_.empty(); }
    std::string_view rest() const { return rest_; }

  private:
    std::string_view rest_;
};

}  // namespace huddle::endpoints
