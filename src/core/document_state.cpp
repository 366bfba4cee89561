#include "core/document_state.hpp"

#include <algorithm>
#include <utility>

namespace huddle::core {
namespace {

// Y.encodeStateAsUpdate of an empty document: no struct blocks, an empty delete set.
const DocumentState::Bytes kEmptyUpdate{0, 0};

DocumentError error(DocumentError::Code code, std::string message) {
    return DocumentError{code, std::move(message)};
}

}  // namespace

std::string_view DocumentError::code_name() const {
    switch (code) {
        case Code::invalid_update:
            return "INVALID_UPDATE";
        case Code::update_too_large:
            return "UPDATE_TOO_LARGE";
        case Code::document_too_large:
            return "DOCUMENT_TOO_LARGE";
        case Code::invalid_state_vector:
            return "INVALID_STATE_VECTOR";
        case Code::corrupt_document:
            return "CORRUPT_DOCUMENT";
        case Code::internal:
            return "INTERNAL_ERROR";
    }
    return "INTERNAL_ERROR";
}

DocumentState::DocumentState(Limits limits) : limits_(limits), merged_(kEmptyUpdate) {}

std::optional<DocumentError> DocumentState::load(const std::vector<Bytes>& stored_updates) {
    Bytes merged = kEmptyUpdate;
    if (!stored_updates.empty()) {
        auto result = yjs::merge_updates(stored_updates);
        if (!result) {
            // Name the damaged update; a merge can also fail on the engine's own limits.
            for (std::size_t i = 0; i < stored_updates.size(); ++i) {
                auto decoded = yjs::decode_update(stored_updates[i]);
                if (!decoded) {
                    return error(DocumentError::Code::corrupt_document,
                                 "stored update " + std::to_string(i + 1) + " of " +
                                     std::to_string(stored_updates.size()) +
                                     " is not a valid Yjs update: " + decoded.error().message);
                }
            }
            return error(DocumentError::Code::internal,
                         "cannot merge the stored updates: " + result.error().message);
        }
        merged = std::move(*result);
    }
    merged_ = std::move(merged);
    pending_.clear();
    pending_bytes_ = 0;
    state_vector_.reset();
    stored_updates_ = stored_updates.size();
    stored_bytes_ = 0;
    for (const auto& update : stored_updates) {
        stored_bytes_ += update.size();
    }
    compacted_bytes_ = merged_.size();
    retry_compaction_at_ = 0;
    compaction_in_flight_ = false;
    return std::nullopt;
}

std::optional<DocumentError> DocumentState::validate(std::span<const std::uint8_t> update) const {
    if (update.size() > limits_.max_update_bytes) {
        return error(DocumentError::Code::update_too_large,
                     "update of " + std::to_string(update.size()) + " bytes is over the limit of " +
                         std::to_string(limits_.max_update_bytes) + " bytes");
    }
    if (byte_size() + update.size() > limits_.max_document_bytes) {
        // The pending updates may repeat what the merged state holds (Yjs updates are
        // idempotent): merge them before refusing, but only when that can free a good share of
        // the limit, so that a document at its limit does not merge on every update.
        if (pending_bytes_ > 0 && pending_bytes_ >= limits_.max_document_bytes / 16) {
            (void)fold();
        }
        if (byte_size() + update.size() > limits_.max_document_bytes) {
            return error(DocumentError::Code::document_too_large,
                         "the document would grow over its limit of " +
                             std::to_string(limits_.max_document_bytes) + " bytes");
        }
    }
    if (auto invalid = yjs::check_update(update)) {
        return error(DocumentError::Code::invalid_update,
                     "not a valid Yjs update: " + invalid->message);
    }
    return std::nullopt;
}

void DocumentState::apply(Bytes update) {
    pending_bytes_ += update.size();
    stored_bytes_ += update.size();
    pending_.push_back(std::move(update));
    state_vector_.reset();
    ++stored_updates_;
    // Bound the per-update overhead when nobody asks for the state: merge every so often (a
    // failed merge is retried only after as many updates again, and reported by the accessors),
    // once the pending updates are as large as the merged state (a merge costs its size).
    const std::size_t every = std::max<std::size_t>(limits_.compact_after_updates, 1);
    if (pending_.size() % every == 0 && pending_bytes_ >= merged_.size()) {
        (void)fold();
    }
}

std::optional<DocumentError> DocumentState::fold() const {
    if (pending_.empty()) {
        return std::nullopt;
    }
    std::vector<std::span<const std::uint8_t>> inputs;
    inputs.reserve(pending_.size() + 1);
    if (merged_ != kEmptyUpdate) {
        inputs.emplace_back(merged_);
    }
    for (const auto& update : pending_) {
        inputs.emplace_back(update);
    }
    auto result = yjs::merge_updates(inputs);
    if (!result) {
        return error(DocumentError::Code::internal,
                     "cannot merge the document's updates: " + result.error().message);
    }
    merged_ = std::move(*result);
    pending_.clear();
    pending_bytes_ = 0;
    state_vector_.reset();
    return std::nullopt;
}

DocumentResult<DocumentState::Bytes> DocumentState::state_vector() const {
    if (auto failed = fold()) {
        return *failed;
    }
    if (!state_vector_) {
        auto decoded = yjs::decode_update(merged_);
        if (!decoded) {
            return error(DocumentError::Code::internal,
                         "the merged document does not decode: " + decoded.error().message);
        }
        state_vector_ = yjs::encode_state_vector(yjs::state_vector_of(*decoded));
    }
    return *state_vector_;
}

DocumentResult<DocumentState::Bytes> DocumentState::diff(
    std::span<const std::uint8_t> client_state_vector) const {
    if (auto sv = yjs::decode_state_vector(client_state_vector); !sv) {
        return error(DocumentError::Code::invalid_state_vector,
                     "not a valid Yjs state vector: " + sv.error().message);
    }
    if (auto failed = fold()) {
        return *failed;
    }
    auto result = yjs::diff_update(merged_, client_state_vector);
    if (!result) {
        return error(DocumentError::Code::internal,
                     "cannot diff the document: " + result.error().message);
    }
    return std::move(*result);
}

DocumentResult<DocumentState::Bytes> DocumentState::full_state() const {
    if (auto failed = fold()) {
        return *failed;
    }
    return merged_;
}

bool DocumentState::needs_compaction() const {
    return !compaction_in_flight_ && stored_updates_ > limits_.compact_after_updates &&
           stored_bytes_ >= 2 * compacted_bytes_ && stored_updates_ >= retry_compaction_at_;
}

DocumentResult<DocumentState::Compaction> DocumentState::compact() {
    if (auto failed = fold()) {
        return *failed;
    }
    compaction_in_flight_ = true;
    return Compaction{merged_, stored_updates_, stored_bytes_};
}

void DocumentState::finish_compaction(const Compaction& compaction, bool stored) {
    compaction_in_flight_ = false;
    if (stored) {
        if (compaction.replaced > 0 && compaction.replaced <= stored_updates_) {
            stored_updates_ -= compaction.replaced - 1;
        }
        if (compaction.replaced_bytes <= stored_bytes_) {
            stored_bytes_ = stored_bytes_ - compaction.replaced_bytes + compaction.merged.size();
        }
        compacted_bytes_ = compaction.merged.size();
        retry_compaction_at_ = 0;
    } else {
        retry_compaction_at_ =
            stored_updates_ + std::max<std::size_t>(limits_.compact_after_updates, 1);
    }
}

}  // namespace huddle::core
