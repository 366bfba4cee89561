// The Yjs update engine: decoding and validation of Yjs v1 updates, Y.mergeUpdates,
// Y.encodeStateVectorFromUpdate and Y.diffUpdate, byte-compatible with the JavaScript Yjs (13.x).
// A library of its own: it depends on nothing else in Huddle.
//
// Inputs are untrusted: malformed or truncated bytes give an Error, never a crash; every length is
// bounded by the remaining input and struct counts are capped, so memory stays proportional to the
// input; no recursion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace huddle::yjs {

struct Error {
    std::string message;
};

// A small expected-like type (C++20 has no std::expected).
template <class T>
class Result {
  public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    [[nodiscard]] const Error& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, Error> v_;
};

// Limits on a single decoded update (far above what real documents reach).
inline constexpr std::size_t kMaxStructs = std::size_t{1} << 24;
inline constexpr std::size_t kMaxDeleteRanges = std::size_t{1} << 24;
// Offsets inside an update are 32-bit.
inline constexpr std::size_t kMaxUpdateBytes = (std::size_t{1} << 32) - 1;

struct Id {
    std::uint64_t client = 0;
    std::uint64_t clock = 0;
    friend bool operator==(const Id&, const Id&) = default;
};

enum class StructKind : std::uint8_t { gc = 0, item = 1, skip = 10 };

// Content references as written in the low 5 bits of an item's info byte.
enum class ContentRef : std::uint8_t {
    deleted = 1,
    json = 2,
    binary = 3,
    string = 4,
    embed = 5,
    format = 6,
    type = 7,
    any = 8,
    doc = 9,
};

enum class ParentKind : std::uint8_t { none = 0, root = 1, id = 2 };

// One struct (Item, GC or Skip) of an update. Variable-size parts (strings, content) are not
// copied: they are offsets into the update bytes, which must outlive the struct.
struct Struct {
    std::uint64_t client = 0;
    std::uint64_t clock = 0;
    std::uint64_t length = 0;            // clock units (UTF-16 units for strings)
    Id origin;                           // valid if has_origin
    Id right_origin;                     // valid if has_right_origin
    Id parent_id;                        // valid if parent_kind == id
    const std::uint8_t* base = nullptr;  // the update the offsets below refer to
    std::uint32_t parent_key_off = 0;    // root type name, if parent_kind == root
    std::uint32_t parent_key_len = 0;
    std::uint32_t parent_sub_off = 0;  // map key, if has_parent_sub
    std::uint32_t parent_sub_len = 0;
    std::uint32_t content_off = 0;  // the encoded content, as in the update
    std::uint32_t content_len = 0;
    StructKind kind = StructKind::gc;
    ContentRef content = ContentRef::deleted;
    ParentKind parent_kind = ParentKind::none;
    bool has_origin = false;
    bool has_right_origin = false;
    bool has_parent_sub = false;

    [[nodiscard]] std::uint64_t end() const { return clock + length; }
    [[nodiscard]] std::string_view parent_key() const {
        return {reinterpret_cast<const char*>(base) + parent_key_off, parent_key_len};
    }
    [[nodiscard]] std::string_view parent_sub() const {
        return {reinterpret_cast<const char*>(base) + parent_sub_off, parent_sub_len};
    }
    [[nodiscard]] std::span<const std::uint8_t> content_bytes() const {
        return {base + content_off, content_len};
    }
};

struct DeleteRange {
    std::uint64_t clock = 0;
    std::uint64_t length = 0;
    friend bool operator==(const DeleteRange&, const DeleteRange&) = default;
};

struct ClientDeletes {
    std::uint64_t client = 0;
    std::vector<DeleteRange> ranges;  // in the order read (Yjs keeps it; merges sort)
    friend bool operator==(const ClientDeletes&, const ClientDeletes&) = default;
};

// Clients in the order they first appear in the update (as Yjs's Map), each with its ranges.
struct DeleteSet {
    std::vector<ClientDeletes> clients;
};

// A run of consecutive structs of one client, as written in the update.
struct ClientBlock {
    std::uint64_t client = 0;
    std::uint64_t clock = 0;
    std::size_t first = 0;  // index into DecodedUpdate::structs
    std::size_t count = 0;
};

// A decoded and validated update. Refers to the bytes it was decoded from: keep them alive.
struct DecodedUpdate {
    std::vector<ClientBlock> blocks;
    std::vector<Struct> structs;  // all blocks' structs, in update order
    DeleteSet delete_set;
};

struct StateVectorEntry {
    std::uint64_t client = 0;
    std::uint64_t clock = 0;
    friend bool operator==(const StateVectorEntry&, const StateVectorEntry&) = default;
};

// Entries in encoded order. A client listed twice: the last entry counts (as in Yjs).
struct StateVector {
    std::vector<StateVectorEntry> entries;
    [[nodiscard]] std::uint64_t clock_of(std::uint64_t client) const;
};

using Bytes = std::vector<std::uint8_t>;

Result<DecodedUpdate> decode_update(std::span<const std::uint8_t> update);
// Accepts and refuses exactly what decode_update does, with the same error, without building the
// decoded form (no allocation for a valid update): for checking updates that are only relayed.
std::optional<Error> check_update(std::span<const std::uint8_t> update);
Result<StateVector> decode_state_vector(std::span<const std::uint8_t> state_vector);

// Y.mergeUpdates (v1). The result of one update is that update (after validation).
Result<Bytes> merge_updates(std::span<const std::span<const std::uint8_t>> updates);
Result<Bytes> merge_updates(const std::vector<Bytes>& updates);
// Y.encodeStateVectorFromUpdate (v1).
Result<Bytes> encode_state_vector_from_update(std::span<const std::uint8_t> update);
// Y.diffUpdate (v1): what of `update` is not covered by `state_vector`.
Result<Bytes> diff_update(std::span<const std::uint8_t> update,
                          std::span<const std::uint8_t> state_vector);

// Y.encodeStateVector layout: entries sorted by client, descending.
Bytes encode_state_vector(const StateVector& sv);
// The state vector of a decoded update, as encode_state_vector_from_update computes it.
StateVector state_vector_of(const DecodedUpdate& update);
// Re-encodes a decoded update (structs then delete set; blocks of one client may be joined).
Bytes encode_update(const DecodedUpdate& update);

// A readable, canonical listing of an update's structs and delete set: two updates with the same
// dump are structurally equal. For tests and tools.
std::string dump_update(const DecodedUpdate& update);

}  // namespace huddle::yjs
