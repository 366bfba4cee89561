// libFuzzer target for the Yjs update engine (src/yjs): decode, merge with itself, state vector,
// diff against an empty and a partial state vector, with cheap invariants.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "yjs/yjs.hpp"

namespace {

using huddle::yjs::Bytes;

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

// Clients in descending order, each in one block that starts at clock 0, no Skip: what a Y.Doc
// writes. (Yjs's mergeUpdates itself drops structs of clients out of that order; we do the same.)
bool canonical(const huddle::yjs::DecodedUpdate& u) {
    for (std::size_t i = 0; i < u.blocks.size(); ++i) {
        if (u.blocks[i].clock != 0 || (i > 0 && u.blocks[i].client >= u.blocks[i - 1].client)) {
            return false;
        }
    }
    for (const auto& s : u.structs) {
        if (s.kind == huddle::yjs::StructKind::skip) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace y = huddle::yjs;
    const std::span<const std::uint8_t> input(data, size);

    // The input as a state vector: must never crash either.
    (void)y::decode_state_vector(input);

    auto decoded = y::decode_update(input);
    // The check without decoding takes the same decision with the same message.
    const auto checked = y::check_update(input);
    check(checked.has_value() == !decoded.ok());
    check(!checked || checked->message == decoded.error().message);
    if (!decoded) {
        // Anything that does not decode is refused by every operation.
        check(!y::encode_state_vector_from_update(input).ok());
        check(!y::diff_update(input, Bytes{0}).ok());
        return 0;
    }
    const bool is_canonical = canonical(*decoded);

    // merge(x, x): decodes, and keeps the state vector of a canonical update.
    const std::vector<std::span<const std::uint8_t>> twice{input, input};
    auto merged = y::merge_updates(std::span<const std::span<const std::uint8_t>>(twice));
    check(merged.ok());
    auto merged_decoded = y::decode_update(*merged);
    check(merged_decoded.ok());

    auto sv = y::encode_state_vector_from_update(input);
    check(sv.ok());
    auto sv_decoded = y::decode_state_vector(*sv);
    check(sv_decoded.ok());
    if (is_canonical) {
        auto merged_sv = y::encode_state_vector_from_update(*merged);
        check(merged_sv.ok() && *merged_sv == *sv);
    }

    // diff against the empty state vector: everything (minus skips).
    auto all = y::diff_update(input, Bytes{0});
    check(all.ok());
    auto all_decoded = y::decode_update(*all);
    check(all_decoded.ok());
    if (is_canonical) {
        check(y::dump_update(*all_decoded) == y::dump_update(*decoded));
    }

    // diff against its own state vector: nothing left for a canonical update.
    auto none = y::diff_update(input, *sv);
    check(none.ok());
    auto none_decoded = y::decode_update(*none);
    check(none_decoded.ok());
    if (is_canonical) {
        check(none_decoded->structs.empty());
    }

    // diff against a partial state vector (every clock halved): decodes, and merging it back into
    // the rest keeps the state vector.
    y::StateVector half = *sv_decoded;
    for (auto& e : half.entries) {
        e.clock /= 2;
    }
    auto part = y::diff_update(input, y::encode_state_vector(half));
    check(part.ok());
    check(y::decode_update(*part).ok());
    if (is_canonical) {
        const std::vector<std::span<const std::uint8_t>> both{input, *part};
        auto rejoined = y::merge_updates(std::span<const std::span<const std::uint8_t>>(both));
        check(rejoined.ok());
        auto rejoined_sv = y::encode_state_vector_from_update(*rejoined);
        check(rejoined_sv.ok() && *rejoined_sv == *sv);
    }
    return 0;
}
