#include "yjs/lib0.hpp"

#include <array>

namespace huddle::yjs::lib0 {

bool validate_utf8(std::span<const std::uint8_t> bytes, std::uint64_t& utf16_units) {
    std::uint64_t units = 0;
    const std::size_t n = bytes.size();
    std::size_t i = 0;
    while (i < n) {
        const std::uint8_t b0 = bytes[i];
        if (b0 < 0x80U) {
            ++i;
            ++units;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        std::uint32_t min = 0;
        if ((b0 & 0xe0U) == 0xc0U) {
            len = 2;
            cp = b0 & 0x1fU;
            min = 0x80;
        } else if ((b0 & 0xf0U) == 0xe0U) {
            len = 3;
            cp = b0 & 0x0fU;
            min = 0x800;
        } else if ((b0 & 0xf8U) == 0xf0U) {
            len = 4;
            cp = b0 & 0x07U;
            min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len) {
            return false;
        }
        for (std::size_t k = 1; k < len; ++k) {
            const std::uint8_t b = bytes[i + k];
            if ((b & 0xc0U) != 0x80U) {
                return false;
            }
            cp = (cp << 6) | (b & 0x3fU);
        }
        if (cp < min || cp > 0x10ffffU || (cp >= 0xd800U && cp <= 0xdfffU)) {
            return false;
        }
        units += len == 4 ? 2 : 1;
        i += len;
    }
    utf16_units = units;
    return true;
}

bool Reader::read_var_string(std::span<const std::uint8_t>& out, std::uint64_t* utf16_units) {
    if (!read_var_bytes(out)) {
        return false;
    }
    std::uint64_t units = 0;
    if (!validate_utf8(out, units)) {
        return fail("invalid UTF-8 in a string");
    }
    if (utf16_units != nullptr) {
        *utf16_units = units;
    }
    return true;
}

bool Reader::skip_any() {
    // Iterative walk: each stack entry is the number of values still to read in an open array or
    // object (objects count key+value pairs; `object` says a key precedes each value).
    struct Open {
        std::uint64_t left;
        bool object;
    };
    std::array<Open, kMaxAnyDepth> stack{};
    std::size_t depth = 0;
    bool need_value = true;
    while (true) {
        if (need_value) {
            std::uint8_t tag = 0;
            if (!read_u8(tag)) {
                return false;
            }
            switch (tag) {
                case 127:  // undefined
                case 126:  // null
                case 121:  // false
                case 120:  // true
                    break;
                case 125: {  // integer
                    std::int64_t ignored = 0;
                    if (!read_var_int(ignored)) {
                        return false;
                    }
                    break;
                }
                case 124:  // float32
                    if (!skip(4)) {
                        return false;
                    }
                    break;
                case 123:  // float64
                case 122:  // bigint64
                    if (!skip(8)) {
                        return false;
                    }
                    break;
                case 119: {  // string
                    std::span<const std::uint8_t> s;
                    if (!read_var_string(s)) {
                        return false;
                    }
                    break;
                }
                case 118:    // object
                case 117: {  // array
                    std::uint64_t count = 0;
                    if (!read_var_uint(count)) {
                        return false;
                    }
                    if (count > remaining()) {
                        return fail("any-encoded container longer than the update");
                    }
                    if (count > 0) {
                        if (depth == kMaxAnyDepth) {
                            return fail("any-encoded value nested too deeply");
                        }
                        stack[depth++] = Open{count, tag == 118};
                    }
                    break;
                }
                case 116: {  // Uint8Array
                    std::span<const std::uint8_t> b;
                    if (!read_var_bytes(b)) {
                        return false;
                    }
                    break;
                }
                default:
                    return fail("unknown any-encoding tag");
            }
        }
        // Find the next value to read: the next element of the innermost open container.
        if (depth == 0) {
            return true;
        }
        Open& top = stack[depth - 1];
        if (top.left == 0) {
            --depth;
            need_value = false;
            continue;
        }
        --top.left;
        if (top.object) {
            std::span<const std::uint8_t> key;
            if (!read_var_string(key)) {
                return false;
            }
        }
        need_value = true;
    }
}

}  // namespace huddle::yjs::lib0
