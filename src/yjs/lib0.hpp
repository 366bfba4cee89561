// lib0 binary encoding (the byte layer under Yjs updates): variable-length unsigned and signed
// integers, length-prefixed byte arrays and UTF-8 strings, and the tagged "any" encoding.
//
// Reader never reads past its input and never allocates: every failure sets error() and makes the
// call return false. Writer appends to a std::vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace huddle::yjs::lib0 {

// The largest integer a JavaScript number holds exactly (Number.MAX_SAFE_INTEGER). lib0 refuses
// varints above it; so do we, which also keeps every clock + length sum far from uint64 overflow.
inline constexpr std::uint64_t kMaxSafeInteger = (std::uint64_t{1} << 53) - 1;

// Nesting bound for the any-encoding (arrays and objects inside each other). The walk is iterative;
// the bound only limits the size of its small stack.
inline constexpr std::size_t kMaxAnyDepth = 1024;

class Reader {
  public:
    explicit Reader(std::span<const std::uint8_t> data) : data_(data) {}

    [[nodiscard]] std::size_t pos() const { return pos_; }
    [[nodiscard]] std::size_t remaining() const { return data_.size() - pos_; }
    [[nodiscard]] bool at_end() const { return pos_ == data_.size(); }
    [[nodiscard]] const char* error() const { return error_; }
    [[nodiscard]] std::span<const std::uint8_t> data() const { return data_; }

    bool fail(const char* message) {
        if (error_ == nullptr) {
            error_ = message;
        }
        return false;
    }

    bool read_u8(std::uint8_t& out) {
        if (pos_ >= data_.size()) {
            return fail("unexpected end of update");
        }
        out = data_[pos_++];
        return true;
    }

    // Unsigned LEB128 as lib0 writes it; values above 2^53-1 are refused.
    bool read_var_uint(std::uint64_t& out) {
        std::uint64_t value = 0;
        for (unsigned shift = 0;; shift += 7) {
            if (pos_ >= data_.size()) {
                return fail("unexpected end of update in a varint");
            }
            const std::uint8_t byte = data_[pos_++];
            const std::uint64_t bits = byte & 0x7fU;
            if (bits != 0) {
                if (shift >= 56 || (bits << shift) > kMaxSafeInteger) {
                    return fail("varint out of range");
                }
                value |= bits << shift;
            }
            if ((byte & 0x80U) == 0) {
                break;
            }
            if (shift > 63) {
                return fail("varint too long");
            }
        }
        if (value > kMaxSafeInteger) {
            return fail("varint out of range");
        }
        out = value;
        return true;
    }

    // lib0 signed varint: first byte holds continuation, sign and 6 bits.
    bool read_var_int(std::int64_t& out) {
        std::uint8_t byte = 0;
        if (!read_u8(byte)) {
            return false;
        }
        const bool negative = (byte & 0x40U) != 0;
        std::uint64_t value = byte & 0x3fU;
        unsigned shift = 6;
        while ((byte & 0x80U) != 0) {
            if (!read_u8(byte)) {
                return fail("unexpected end of update in a varint");
            }
            const std::uint64_t bits = byte & 0x7fU;
            if (bits != 0) {
                if (shift >= 56 || (bits << shift) > kMaxSafeInteger) {
                    return fail("varint out of range");
                }
                value |= bits << shift;
            }
            shift += 7;
            if (shift > 70) {
                return fail("varint too long");
            }
        }
        if (value > kMaxSafeInteger) {
            return fail("varint out of range");
        }
        out = negative ? -static_cast<std::int64_t>(value) : static_cast<std::int64_t>(value);
        return true;
    }

    bool read_bytes(std::size_t n, std::span<const std::uint8_t>& out) {
        if (n > remaining()) {
            return fail("length past the end of the update");
        }
        out = data_.subspan(pos_, n);
        pos_ += n;
        return true;
    }

    bool skip(std::size_t n) {
        std::span<const std::uint8_t> ignored;
        return read_bytes(n, ignored);
    }

    bool read_var_bytes(std::span<const std::uint8_t>& out) {
        std::uint64_t n = 0;
        if (!read_var_uint(n)) {
            return false;
        }
        if (n > remaining()) {
            return fail("length past the end of the update");
        }
        return read_bytes(static_cast<std::size_t>(n), out);
    }

    // A length-prefixed UTF-8 string; refuses invalid UTF-8 (JavaScript would silently replace it,
    // which changes string lengths and so clocks). utf16_units receives the JavaScript length.
    bool read_var_string(std::span<const std::uint8_t>& out, std::uint64_t* utf16_units = nullptr);

    // Validates one value of the any-encoding and skips it.
    bool skip_any();

  private:
    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
    const char* error_ = nullptr;
};

// Checks UTF-8 strictly (no overlongs, no surrogates, nothing above U+10FFFF); counts UTF-16 units.
bool validate_utf8(std::span<const std::uint8_t> bytes, std::uint64_t& utf16_units);

// The most bytes a varUint of 64 bits takes.
inline constexpr std::size_t kMaxVarUintSize = 10;

// Writes `v` as a varUint to `out` (room for kMaxVarUintSize bytes); returns the bytes written.
inline std::size_t put_var_uint(std::uint8_t* out, std::uint64_t v) {
    std::size_t n = 0;
    while (v >= 0x80U) {
        out[n++] = static_cast<std::uint8_t>((v & 0x7fU) | 0x80U);
        v >>= 7;
    }
    out[n++] = static_cast<std::uint8_t>(v);
    return n;
}

class Writer {
  public:
    explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}

    void write_u8(std::uint8_t v) { out_.push_back(v); }

    void write_var_uint(std::uint64_t v) {
        std::uint8_t bytes[kMaxVarUintSize];
        const std::size_t n = put_var_uint(bytes, v);
        for (std::size_t i = 0; i < n; ++i) {
            out_.push_back(bytes[i]);
        }
    }

    void write_bytes(std::span<const std::uint8_t> bytes) {
        out_.insert(out_.end(), bytes.begin(), bytes.end());
    }

    void write_var_bytes(std::span<const std::uint8_t> bytes) {
        write_var_uint(bytes.size());
        write_bytes(bytes);
    }

    [[nodiscard]] std::size_t size() const { return out_.size(); }
    std::vector<std::uint8_t>& buffer() { return out_; }

  private:
    std::vector<std::uint8_t>& out_;
};

}  // namespace huddle::yjs::lib0
