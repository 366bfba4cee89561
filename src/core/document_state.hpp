// The in-memory state of one collaborative Yjs document: pure logic over the Yjs engine (src/yjs),
// no I/O, no threads.
//
// How the server uses it (DESIGN.md §3 Durability):
//   1. On first use, load() the document's stored updates (DocumentStore::load, in id order).
//   2. For a client update: validate() it, append it to the store, and once it is durable call
//      apply() and broadcast it. apply() must see the updates in the store's order (the order of
//      the append completions) so that the state's update count matches the store's rows.
//   3. y-websocket sync step 1: diff(client state vector); sync step 2 / S0 state responses:
//      full_state(); the server's own state vector: state_vector().
//   4. After an apply, if needs_compaction(): compact() gives the merged state and how many of the
//      oldest stored updates it replaces; the caller runs DocumentStore::compact and reports the
//      outcome with finish_compaction().
//   5. Drop the object when the document is idle: everything it holds is in the store.
//
// Cost model: apply() only appends (no decoding, no merge), so the fan-out of updates stays cheap.
// The merged state is cached; the updates applied since are merged into it lazily, in one k-way
// merge, when a state vector, diff, full state or compaction is asked for (or when too many have
// piled up, see apply()). Memory is the merged state plus the pending updates (byte_size()), and
// validate() keeps it under Limits::max_document_bytes.
//
// Not thread-safe, including the const methods (they update the cache): one owner at a time.
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

#include "yjs/yjs.hpp"

namespace huddle::core {

struct DocumentError {
    enum class Code {
        invalid_update,        // not a valid Yjs v1 update (garbage, truncated, ...)
        update_too_large,      // over Limits::max_update_bytes
        document_too_large,    // applying it would take the document over max_document_bytes
        invalid_state_vector,  // a client's state vector does not decode
        corrupt_document,      // a stored update does not decode: the document is not loaded
        internal,              // the engine refused to merge (e.g. its struct limit)
    };
    Code code = Code::invalid_update;
    std::string message;

    // INVALID_UPDATE, UPDATE_TOO_LARGE, DOCUMENT_TOO_LARGE, INVALID_STATE_VECTOR,
    // CORRUPT_DOCUMENT, INTERNAL_ERROR: for error messages on the wire and in logs.
    [[nodiscard]] std::string_view code_name() const;
};

// (Outside the class: a nested struct with member initializers cannot be a default argument.)
struct DocumentLimits {
    std::size_t max_update_bytes = std::size_t{1} << 20;     // one client update
    std::size_t max_document_bytes = std::size_t{64} << 20;  // merged state + pending updates
    // Compaction is due when the store holds more updates than this and they take at least twice
    // the size of the state they were last compacted (or loaded) to; the pending updates are merged
    // in memory when this many have piled up and they take at least the size of the merged state.
    // Both costs grow with the document: the size condition pays for each merge with as many bytes
    // of new updates, so a large document is not merged again every few hundred small updates.
    std::size_t compact_after_updates = 200;
};

// A value or a DocumentError (the shape of yjs::Result, with a coded error).
template <class T>
class DocumentResult {
  public:
    DocumentResult(T value) : v_(std::move(value)) {}              // NOLINT(google-explicit-*)
    DocumentResult(DocumentError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-*)

    [[nodiscard]] bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    [[nodiscard]] const DocumentError& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, DocumentError> v_;
};

class DocumentState {
  public:
    using Bytes = std::vector<std::uint8_t>;

    using Limits = DocumentLimits;

    // Outcome of a compact(): `merged` is the whole document as one update and replaces the
    // `replaced` oldest stored updates (every update loaded or applied before the call).
    struct Compaction {
        Bytes merged;
        std::size_t replaced = 0;
        std::size_t replaced_bytes = 0;  // their total size
    };

    explicit DocumentState(Limits limits = {});

    // Replaces the state by the stored updates (in store order). A stored update that does not
    // decode refuses the whole document (corrupt_document, naming the index): the state is then
    // left as it was, and nothing is served from a document that is known to be damaged. Stored
    // updates are not held to max_update_bytes (a compacted update is large) and a document over
    // max_document_bytes still loads (its data stays readable; validate() refuses to grow it).
    std::optional<DocumentError> load(const std::vector<Bytes>& stored_updates);

    // Checks a client update without applying it: its size, the document's size, then full
    // decoding. The server stores a valid update, then calls apply(). nullopt when valid. When the
    // document would grow over its limit and a good share of it is pending updates, they are
    // merged first (updates may repeat one another), so this can cost one merge.
    [[nodiscard]] std::optional<DocumentError> validate(std::span<const std::uint8_t> update) const;

    // Appends an update that validate() accepted and the store made durable. No merge here,
    // except when Limits::compact_after_updates updates are pending in memory (amortised).
    void apply(Bytes update);

    // Y.encodeStateVector of the document (entries sorted by client, descending), cached.
    [[nodiscard]] DocumentResult<Bytes> state_vector() const;
    // What a client with `client_state_vector` lacks (y-websocket sync step 1 → step 2). A state
    // vector that does not decode is an invalid_state_vector error.
    [[nodiscard]] DocumentResult<Bytes> diff(
        std::span<const std::uint8_t> client_state_vector) const;
    // The whole document as one merged update (S0 yjs-state-response, the backend API).
    [[nodiscard]] DocumentResult<Bytes> full_state() const;
    // These three merge the pending updates first; that can only fail on the engine's own limits
    // (an `internal` error; the state is unchanged and the updates stay pending).

    // True when the store holds more than compact_after_updates updates of this document, taking
    // at least twice the size of the state they were last compacted or loaded to, no compaction
    // is in flight, and the last failed one is far enough behind.
    [[nodiscard]] bool needs_compaction() const;
    // Merges everything into one update and marks a compaction in flight (needs_compaction() is
    // false until finish_compaction()). The caller runs DocumentStore::compact(document, id of
    // the `replaced`-th stored update, replaced, merged) and then calls finish_compaction().
    // Updates applied meanwhile are fine: they follow the replaced ones.
    DocumentResult<Compaction> compact();
    // `stored`: whether the store replaced the updates. On success the update count drops by
    // replaced - 1; on failure the next attempt waits for compact_after_updates more updates.
    void finish_compaction(const Compaction& compaction, bool stored);
    [[nodiscard]] bool compaction_in_flight() const { return compaction_in_flight_; }

    // Updates the store holds for this document, as far as this state knows (loaded + applied,
    // less those replaced by compactions).
    [[nodiscard]] std::size_t update_count() const { return stored_updates_; }
    // Bytes held: the merged state plus the updates applied since it was merged.
    [[nodiscard]] std::size_t byte_size() const { return merged_.size() + pending_bytes_; }
    // Updates applied since the last merge (held separately in memory).
    [[nodiscard]] std::size_t pending_count() const { return pending_.size(); }
    [[nodiscard]] const Limits& limits() const { return limits_; }

  private:
    // Merges the pending updates into merged_. On failure the state is unchanged.
    std::optional<DocumentError> fold() const;

    Limits limits_;
    mutable Bytes merged_;                // the merged state of every update folded so far
    mutable std::vector<Bytes> pending_;  // applied since, in order
    mutable std::size_t pending_bytes_ = 0;
    mutable std::optional<Bytes> state_vector_;  // of merged_, valid while pending_ is empty
    std::size_t stored_updates_ = 0;
    std::size_t stored_bytes_ = 0;         // their total size
    std::size_t compacted_bytes_ = 0;      // size of the state at the last load or compaction
    std::size_t retry_compaction_at_ = 0;  // after a failed compaction: update count to wait for
    bool compaction_in_flight_ = false;
};

}  // namespace huddle::core
