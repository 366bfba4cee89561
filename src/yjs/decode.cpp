// Decoding and validation of Yjs v1 updates and state vectors.
//
// Update layout (v1): varUint #client-blocks, then per block: varUint #structs, varUint client,
// varUint first clock, the structs; then the delete set: varUint #clients, per client: varUint
// client, varUint #ranges, per range varUint clock, varUint length.
// A struct starts with an info byte: 10 = Skip (varUint length), low 5 bits 0 = GC (varUint
// length), otherwise an Item whose content ref is the low 5 bits; bit 8 = origin ID follows, bit 7
// = right origin ID follows, and with neither, the parent follows (varUint 1 + root type name, or
// an ID) and, with bit 6, the map key (parentSub).
#include "yjs/lib0.hpp"
#include "yjs/yjs.hpp"

#include <optional>
#include <unordered_map>

namespace huddle::yjs {

namespace {

using lib0::Reader;

Error make_error(const Reader& r, const char* fallback) {
    std::string message = r.error() != nullptr ? r.error() : fallback;
    message += " (at byte " + std::to_string(r.pos()) + ")";
    return Error{std::move(message)};
}

bool read_id(Reader& r, Id& id) {
    return r.read_var_uint(id.client) && r.read_var_uint(id.clock);
}

std::uint32_t offset_in(const Reader& r, std::span<const std::uint8_t> part) {
    return static_cast<std::uint32_t>(part.data() - r.data().data());
}

// Reads an item's content; sets s.length.
bool read_content(Reader& r, Struct& s, std::uint8_t ref) {
    const std::size_t start = r.pos();
    switch (ref) {
        case 1: {  // ContentDeleted
            if (!r.read_var_uint(s.length)) {
                return false;
            }
            break;
        }
        case 2: {  // ContentJSON: count, then JSON.stringify'd strings
            std::uint64_t count = 0;
            if (!r.read_var_uint(count)) {
                return false;
            }
            if (count > r.remaining()) {
                return r.fail("content longer than the update");
            }
            for (std::uint64_t i = 0; i < count; ++i) {
                std::span<const std::uint8_t> str;
                if (!r.read_var_string(str)) {
                    return false;
                }
            }
            s.length = count;
            break;
        }
        case 3: {  // ContentBinary
            std::span<const std::uint8_t> buf;
            if (!r.read_var_bytes(buf)) {
                return false;
            }
            s.length = 1;
            break;
        }
        case 4: {  // ContentString: length in UTF-16 units
            std::span<const std::uint8_t> str;
            if (!r.read_var_string(str, &s.length)) {
                return false;
            }
            break;
        }
        case 5: {  // ContentEmbed: JSON string
            std::span<const std::uint8_t> str;
            if (!r.read_var_string(str)) {
                return false;
            }
            s.length = 1;
            break;
        }
        case 6: {  // ContentFormat: key, JSON value
            std::span<const std::uint8_t> key;
            std::span<const std::uint8_t> value;
            if (!r.read_var_string(key) || !r.read_var_string(value)) {
                return false;
            }
            s.length = 1;
            break;
        }
        case 7: {  // ContentType: type ref; XmlElement and XmlHook carry a name
            std::uint64_t type_ref = 0;
            if (!r.read_var_uint(type_ref)) {
                return false;
            }
            if (type_ref > 6) {
                return r.fail("unknown type ref in ContentType");
            }
            if (type_ref == 3 || type_ref == 5) {
                std::span<const std::uint8_t> name;
                if (!r.read_var_string(name)) {
                    return false;
                }
            }
            s.length = 1;
            break;
        }
        case 8: {  // ContentAny: count, then any-encoded values
            std::uint64_t count = 0;
            if (!r.read_var_uint(count)) {
                return false;
            }
            if (count > r.remaining()) {
                return r.fail("content longer than the update");
            }
            for (std::uint64_t i = 0; i < count; ++i) {
                if (!r.skip_any()) {
                    return false;
                }
            }
            s.length = count;
            break;
        }
        case 9: {  // ContentDoc: guid, any-encoded options
            std::span<const std::uint8_t> guid;
            if (!r.read_var_string(guid) || !r.skip_any()) {
                return false;
            }
            s.length = 1;
            break;
        }
        default:
            return r.fail("unknown content ref");
    }
    s.content = static_cast<ContentRef>(ref);
    s.content_off = static_cast<std::uint32_t>(start);
    s.content_len = static_cast<std::uint32_t>(r.pos() - start);
    return true;
}

bool read_struct(Reader& r, Struct& s) {
    std::uint8_t info = 0;
    if (!r.read_u8(info)) {
        return false;
    }
    if (info == 10) {
        s.kind = StructKind::skip;
        return r.read_var_uint(s.length);
    }
    const std::uint8_t ref = info & 0x1fU;
    if (ref == 0) {
        s.kind = StructKind::gc;
        return r.read_var_uint(s.length);
    }
    s.kind = StructKind::item;
    s.has_origin = (info & 0x80U) != 0;
    s.has_right_origin = (info & 0x40U) != 0;
    if (s.has_origin && !read_id(r, s.origin)) {
        return false;
    }
    if (s.has_right_origin && !read_id(r, s.right_origin)) {
        return false;
    }
    if (!s.has_origin && !s.has_right_origin) {
        std::uint64_t parent_info = 0;
        if (!r.read_var_uint(parent_info)) {
            return false;
        }
        if (parent_info == 1) {
            std::span<const std::uint8_t> key;
            if (!r.read_var_string(key)) {
                return false;
            }
            s.parent_kind = ParentKind::root;
            s.parent_key_off = offset_in(r, key);
            s.parent_key_len = static_cast<std::uint32_t>(key.size());
        } else {
            if (!read_id(r, s.parent_id)) {
                return false;
            }
            s.parent_kind = ParentKind::id;
        }
        if ((info & 0x20U) != 0) {
            std::span<const std::uint8_t> sub;
            if (!r.read_var_string(sub)) {
                return false;
            }
            s.has_parent_sub = true;
            s.parent_sub_off = offset_in(r, sub);
            s.parent_sub_len = static_cast<std::uint32_t>(sub.size());
        }
    }
    return read_content(r, s, ref);
}

// Reads the delete set into `ds`, or only checks it when `ds` is null.
bool read_delete_set(Reader& r, DeleteSet* ds) {
    std::uint64_t clients = 0;
    if (!r.read_var_uint(clients)) {
        return false;
    }
    if (clients > r.remaining()) {
        return r.fail("delete set longer than the update");
    }
    std::unordered_map<std::uint64_t, std::size_t> index;
    std::size_t total = 0;
    for (std::uint64_t i = 0; i < clients; ++i) {
        std::uint64_t client = 0;
        std::uint64_t count = 0;
        if (!r.read_var_uint(client) || !r.read_var_uint(count)) {
            return false;
        }
        if (count > r.remaining()) {
            return r.fail("delete set longer than the update");
        }
        if (count == 0) {
            continue;
        }
        total += static_cast<std::size_t>(count);
        if (total > kMaxDeleteRanges) {
            return r.fail("too many delete ranges");
        }
        std::vector<DeleteRange>* ranges = nullptr;
        if (ds != nullptr) {
            auto [it, inserted] = index.try_emplace(client, ds->clients.size());
            if (inserted) {
                ds->clients.push_back(ClientDeletes{client, {}});
            }
            ranges = &ds->clients[it->second].ranges;
        }
        for (std::uint64_t k = 0; k < count; ++k) {
            DeleteRange range;
            if (!r.read_var_uint(range.clock) || !r.read_var_uint(range.length)) {
                return false;
            }
            if (range.clock + range.length > lib0::kMaxSafeInteger) {
                return r.fail("delete range past the largest clock");
            }
            if (ranges != nullptr) {
                ranges->push_back(range);
            }
        }
    }
    return true;
}

// Decodes `update` into `out`, or only checks it when `out` is null: one reading for both, so
// that what is accepted cannot differ.
std::optional<Error> read_update(std::span<const std::uint8_t> update, DecodedUpdate* out) {
    if (update.size() > kMaxUpdateBytes) {
        return Error{"update too large"};
    }
    Reader r(update);
    std::uint64_t blocks = 0;
    if (!r.read_var_uint(blocks)) {
        return make_error(r, "bad update");
    }
    if (blocks > r.remaining()) {
        return Error{"more client blocks than bytes in the update"};
    }
    std::size_t structs = 0;
    for (std::uint64_t b = 0; b < blocks; ++b) {
        ClientBlock block;
        std::uint64_t count = 0;
        if (!r.read_var_uint(count) || !r.read_var_uint(block.client) ||
            !r.read_var_uint(block.clock)) {
            return make_error(r, "bad client block");
        }
        if (count > r.remaining()) {
            return Error{"more structs than bytes in the update"};
        }
        if (structs + count > kMaxStructs) {
            return Error{"too many structs in the update"};
        }
        block.first = structs;
        block.count = static_cast<std::size_t>(count);
        std::uint64_t clock = block.clock;
        for (std::uint64_t i = 0; i < count; ++i) {
            Struct s;
            s.base = update.data();
            s.client = block.client;
            s.clock = clock;
            if (!read_struct(r, s)) {
                return make_error(r, "bad struct");
            }
            if (s.length == 0) {
                return Error{"struct of length 0 (at byte " + std::to_string(r.pos()) + ")"};
            }
            if (s.length > lib0::kMaxSafeInteger - clock) {
                return Error{"struct past the largest clock"};
            }
            clock += s.length;
            ++structs;
            if (out != nullptr) {
                out->structs.push_back(s);
            }
        }
        if (out != nullptr) {
            out->blocks.push_back(block);
        }
    }
    if (!read_delete_set(r, out != nullptr ? &out->delete_set : nullptr)) {
        return make_error(r, "bad delete set");
    }
    return std::nullopt;
}

}  // namespace

std::uint64_t StateVector::clock_of(std::uint64_t client) const {
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        if (it->client == client) {
            return it->clock;
        }
    }
    return 0;
}

Result<DecodedUpdate> decode_update(std::span<const std::uint8_t> update) {
    DecodedUpdate out;
    if (auto error = read_update(update, &out)) {
        return std::move(*error);
    }
    return out;
}

std::optional<Error> check_update(std::span<const std::uint8_t> update) {
    return read_update(update, nullptr);
}

Result<StateVector> decode_state_vector(std::span<const std::uint8_t> state_vector) {
    Reader r(state_vector);
    StateVector sv;
    std::uint64_t count = 0;
    if (!r.read_var_uint(count)) {
        return make_error(r, "bad state vector");
    }
    if (count > r.remaining()) {
        return Error{"state vector longer than its bytes"};
    }
    sv.entries.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) {
        StateVectorEntry e;
        if (!r.read_var_uint(e.client) || !r.read_var_uint(e.clock)) {
            return make_error(r, "bad state vector");
        }
        sv.entries.push_back(e);
    }
    return sv;
}

}  // namespace huddle::yjs
