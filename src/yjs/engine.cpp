// Y.mergeUpdates, Y.diffUpdate and Y.encodeStateVectorFromUpdate over decoded v1 updates.
//
// The algorithms follow Yjs's src/utils/updates.js step by step (same order of structs, same
// slicing, same joining of GC runs, same delete-set normalisation), so that for the same input the
// output bytes are the same as Yjs's.
#include "yjs/lib0.hpp"
#include "yjs/yjs.hpp"

#include <algorithm>
#include <map>
#include <sstream>

namespace huddle::yjs {

namespace {

using lib0::Reader;
using lib0::Writer;

constexpr std::uint8_t kReplacementChar[] = {0xef, 0xbf, 0xbd};  // U+FFFD in UTF-8

void write_string_view(Writer& w, std::string_view s) {
    w.write_var_uint(s.size());
    w.write_bytes({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

// Writes the string content from UTF-16 unit `offset` on. A cut inside a surrogate pair leaves a
// lone low surrogate in JavaScript, which its UTF-8 encoder writes as U+FFFD: so do we.
void write_string_from(Writer& w, std::span<const std::uint8_t> utf8, std::uint64_t offset) {
    std::size_t i = 0;
    std::uint64_t units = 0;
    bool cut_pair = false;
    while (i < utf8.size() && units < offset) {
        const std::uint8_t b0 = utf8[i];
        std::size_t len = 1;
        if (b0 >= 0xf0U) {
            len = 4;
        } else if (b0 >= 0xe0U) {
            len = 3;
        } else if (b0 >= 0xc0U) {
            len = 2;
        }
        if (len == 4) {
            if (units + 1 == offset) {
                cut_pair = true;
                units = offset;
                i += 4;
                break;
            }
            units += 2;
        } else {
            units += 1;
        }
        i += len;
    }
    const auto rest = utf8.subspan(i);
    w.write_var_uint(rest.size() + (cut_pair ? 3 : 0));
    if (cut_pair) {
        w.write_bytes(kReplacementChar);
    }
    w.write_bytes(rest);
}

// Writes an item's content, leaving out its first `offset` clock units.
void write_content(Writer& w, const Struct& s, std::uint64_t offset) {
    const auto bytes = s.content_bytes();
    if (offset == 0) {
        w.write_bytes(bytes);
        return;
    }
    Reader r(bytes);
    switch (s.content) {
        case ContentRef::deleted:
            w.write_var_uint(s.length - offset);
            return;
        case ContentRef::json:
        case ContentRef::any: {
            std::uint64_t count = 0;
            (void)r.read_var_uint(count);  // validated at decode
            for (std::uint64_t i = 0; i < offset; ++i) {
                if (s.content == ContentRef::json) {
                    std::span<const std::uint8_t> ignored;
                    (void)r.read_var_string(ignored);
                } else {
                    (void)r.skip_any();
                }
            }
            w.write_var_uint(count - offset);
            w.write_bytes(bytes.subspan(r.pos()));
            return;
        }
        case ContentRef::string: {
            std::span<const std::uint8_t> str;
            (void)r.read_var_bytes(str);
            write_string_from(w, str, offset);
            return;
        }
        default:  // contents of length 1 are never cut
            w.write_bytes(bytes);
            return;
    }
}

// Item.write / GC.write / Skip.write of Yjs with an offset.
void write_struct(Writer& w, const Struct& s, std::uint64_t offset) {
    switch (s.kind) {
        case StructKind::gc:
            w.write_u8(0);
            w.write_var_uint(s.length - offset);
            return;
        case StructKind::skip:
            w.write_u8(10);
            w.write_var_uint(s.length - offset);
            return;
        case StructKind::item:
            break;
    }
    const bool has_origin = offset > 0 || s.has_origin;
    const Id origin = offset > 0 ? Id{s.client, s.clock + offset - 1} : s.origin;
    std::uint8_t info = static_cast<std::uint8_t>(s.content);
    if (has_origin) {
        info |= 0x80U;
    }
    if (s.has_right_origin) {
        info |= 0x40U;
    }
    if (s.has_parent_sub) {
        info |= 0x20U;
    }
    w.write_u8(info);
    if (has_origin) {
        w.write_var_uint(origin.client);
        w.write_var_uint(origin.clock);
    }
    if (s.has_right_origin) {
        w.write_var_uint(s.right_origin.client);
        w.write_var_uint(s.right_origin.clock);
    }
    if (!has_origin && !s.has_right_origin) {
        if (s.parent_kind == ParentKind::root) {
            w.write_var_uint(1);
            write_string_view(w, s.parent_key());
        } else {
            w.write_var_uint(0);
            w.write_var_uint(s.parent_id.client);
            w.write_var_uint(s.parent_id.clock);
        }
        if (s.has_parent_sub) {
            write_string_view(w, s.parent_sub());
        }
    }
    write_content(w, s, offset);
}

// A struct waiting to be written: a (possibly cut) struct of an input, a GC run that joined
// several, or a Skip that fills a gap.
struct Pending {
    StructKind kind = StructKind::gc;
    std::uint64_t client = 0;
    std::uint64_t clock = 0;
    std::uint64_t length = 0;
    const Struct* source = nullptr;  // for items: the struct cut at `offset`
    std::uint64_t offset = 0;

    [[nodiscard]] std::uint64_t end() const { return clock + length; }

    static Pending of(const Struct& s) {
        return Pending{s.kind, s.client, s.clock, s.length, &s, 0};
    }
    // sliceStruct(this, diff): the right part, `diff` units in.
    void cut(std::uint64_t diff) {
        clock += diff;
        length -= diff;
        offset += diff;
    }
};

// LazyStructWriter: structs grouped in sections of one client each; the section count and each
// section's struct count are only known at the end.
class LazyWriter {
  public:
    void write(const Struct& s, std::uint64_t offset) {
        begin(s.client, s.clock + offset);
        write_struct(w_, s, offset);
    }

    void write(const Pending& p) {
        begin(p.client, p.clock);
        if (p.kind == StructKind::item) {
            write_struct(w_, *p.source, p.offset);
        } else {
            w_.write_u8(p.kind == StructKind::gc ? 0 : 10);
            w_.write_var_uint(p.length);
        }
    }

    // Appends the sections to `out` (which then takes the delete set).
    void finish(Writer& out) {
        flush();
        out.write_var_uint(sections_.size());
        for (const auto& sec : sections_) {
            out.write_var_uint(sec.count);
            out.write_bytes(
                std::span<const std::uint8_t>(body_).subspan(sec.begin, sec.end - sec.begin));
        }
    }

  private:
    struct Section {
        std::size_t begin;
        std::size_t end;
        std::uint64_t count;
    };

    void begin(std::uint64_t client, std::uint64_t clock) {
        if (written_ > 0 && client_ != client) {
            flush();
        }
        if (written_ == 0) {
            client_ = client;
            begin_ = body_.size();
            w_.write_var_uint(client);
            w_.write_var_uint(clock);
        }
        ++written_;
    }

    void flush() {
        if (written_ > 0) {
            sections_.push_back(Section{begin_, body_.size(), written_});
            written_ = 0;
        }
    }

    Bytes body_;
    Writer w_{body_};
    std::vector<Section> sections_;
    std::uint64_t client_ = 0;
    std::uint64_t written_ = 0;
    std::size_t begin_ = 0;
};

void write_delete_set_sorted(Writer& w, std::vector<const ClientDeletes*> clients) {
    std::sort(clients.begin(), clients.end(),
              [](const ClientDeletes* a, const ClientDeletes* b) { return a->client > b->client; });
    w.write_var_uint(clients.size());
    for (const ClientDeletes* c : clients) {
        w.write_var_uint(c->client);
        w.write_var_uint(c->ranges.size());
        for (const DeleteRange& r : c->ranges) {
            w.write_var_uint(r.clock);
            w.write_var_uint(r.length);
        }
    }
}

// mergeDeleteSets: all ranges of a client, sorted by clock, overlapping or touching ones joined.
std::vector<ClientDeletes> merge_delete_sets(const std::vector<DecodedUpdate>& updates) {
    std::map<std::uint64_t, std::vector<DeleteRange>> by_client;
    for (const auto& u : updates) {
        for (const auto& c : u.delete_set.clients) {
            auto& ranges = by_client[c.client];
            ranges.insert(ranges.end(), c.ranges.begin(), c.ranges.end());
        }
    }
    std::vector<ClientDeletes> out;
    out.reserve(by_client.size());
    for (auto& [client, ranges] : by_client) {
        std::stable_sort(
            ranges.begin(), ranges.end(),
            [](const DeleteRange& a, const DeleteRange& b) { return a.clock < b.clock; });
        std::size_t j = 1;
        for (std::size_t i = 1; i < ranges.size(); ++i) {
            DeleteRange& left = ranges[j - 1];
            const DeleteRange& right = ranges[i];
            if (left.clock + left.length >= right.clock) {
                left.length = std::max(left.length, right.clock + right.length - left.clock);
            } else {
                ranges[j++] = right;
            }
        }
        ranges.resize(std::min(j, ranges.size()));
        out.push_back(ClientDeletes{client, std::move(ranges)});
    }
    return out;
}

// LazyStructReader with filterSkips: a cursor over one decoded update.
struct Cursor {
    const std::vector<Struct>* structs;
    std::size_t index;

    [[nodiscard]] const Struct* curr() const {
        return index < structs->size() ? &(*structs)[index] : nullptr;
    }
    void skip_skips() {
        while (index < structs->size() && (*structs)[index].kind == StructKind::skip) {
            ++index;
        }
    }
    const Struct* next() {
        ++index;
        skip_skips();
        return curr();
    }
};

// The order in which mergeUpdates takes the decoders: higher clients first, then lower clocks.
bool cursor_less(const Cursor& a, const Cursor& b) {
    const Struct* x = a.curr();
    const Struct* y = b.curr();
    if (x->client == y->client) {
        return x->clock < y->clock;
    }
    return x->client > y->client;
}

Result<std::vector<DecodedUpdate>> decode_all(std::span<const std::span<const std::uint8_t>> in) {
    std::vector<DecodedUpdate> decoded;
    decoded.reserve(in.size());
    std::size_t total = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        auto d = decode_update(in[i]);
        if (!d) {
            return Error{"update " + std::to_string(i) + ": " + d.error().message};
        }
        total += d->structs.size();
        if (total > kMaxStructs) {
            return Error{"too many structs in the updates"};
        }
        decoded.push_back(std::move(*d));
    }
    return decoded;
}

}  // namespace

Result<Bytes> merge_updates(std::span<const std::span<const std::uint8_t>> updates) {
    auto decoded_result = decode_all(updates);
    if (!decoded_result) {
        return decoded_result.error();
    }
    if (updates.size() == 1) {
        return Bytes(updates[0].begin(), updates[0].end());
    }
    const std::vector<DecodedUpdate>& decoded = *decoded_result;

    std::vector<Cursor> decs;
    decs.reserve(decoded.size());
    for (const auto& d : decoded) {
        Cursor c{&d.structs, 0};
        c.skip_skips();
        if (c.curr() != nullptr) {
            decs.push_back(c);
        }
    }
    std::stable_sort(decs.begin(), decs.end(), cursor_less);

    LazyWriter writer;
    bool have_write = false;
    Pending cw;

    // decs[head..] are the live cursors: dropping the first one is O(1).
    std::size_t head = 0;
    while (head < decs.size()) {
        Cursor& cd = decs[head];
        const std::uint64_t first_client = cd.curr()->client;
        bool run_tail = true;
        if (have_write) {
            const Struct* curr = cd.curr();
            bool iterated = false;
            // Skip what has been written already (higher clients are written first).
            while (curr != nullptr && curr->end() <= cw.end() && curr->client >= cw.client) {
                curr = cd.next();
                iterated = true;
            }
            if (curr == nullptr || curr->client != first_client ||
                (iterated && curr->clock > cw.end())) {
                run_tail = false;
            } else if (first_client != cw.client) {
                writer.write(cw);
                cw = Pending::of(*curr);
                cd.next();
            } else if (cw.end() < curr->clock) {
                if (cw.kind == StructKind::skip) {
                    cw.length = curr->end() - cw.clock;
                } else {
                    writer.write(cw);
                    const std::uint64_t gap = curr->clock - cw.end();
                    cw = Pending{StructKind::skip, first_client, cw.end(), gap, nullptr, 0};
                }
            } else {
                Pending p = Pending::of(*curr);
                const std::uint64_t diff = cw.end() - curr->clock;
                if (diff > 0) {
                    if (cw.kind == StructKind::skip) {
                        cw.length -= diff;
                    } else {
                        p.cut(diff);
                    }
                }
                // mergeWith: only runs of GC join here (decoded items never do).
                if (cw.kind == p.kind && cw.kind != StructKind::item) {
                    cw.length += p.length;
                } else {
                    writer.write(cw);
                    cw = p;
                    cd.next();
                }
            }
        } else {
            cw = Pending::of(*cd.curr());
            have_write = true;
            cd.next();
        }
        if (run_tail) {
            for (const Struct* next = cd.curr();
                 next != nullptr && next->client == first_client && next->clock == cw.end() &&
                 next->kind != StructKind::skip;
                 next = cd.next()) {
                writer.write(cw);
                cw = Pending::of(*next);
            }
        }
        // Only the first cursor moved: drop it if done, else put it back in order (stable: before
        // cursors that compare equal).
        if (decs[head].curr() == nullptr) {
            ++head;
        } else {
            std::size_t j = head + 1;
            while (j < decs.size() && cursor_less(decs[j], decs[head])) {
                ++j;
            }
            std::rotate(decs.begin() + static_cast<std::ptrdiff_t>(head),
                        decs.begin() + static_cast<std::ptrdiff_t>(head + 1),
                        decs.begin() + static_cast<std::ptrdiff_t>(j));
        }
    }
    if (have_write) {
        writer.write(cw);
    }

    Bytes out;
    Writer w(out);
    writer.finish(w);
    const auto merged_ds = merge_delete_sets(decoded);
    std::vector<const ClientDeletes*> ptrs;
    ptrs.reserve(merged_ds.size());
    for (const auto& c : merged_ds) {
        ptrs.push_back(&c);
    }
    write_delete_set_sorted(w, std::move(ptrs));
    return out;
}

Result<Bytes> merge_updates(const std::vector<Bytes>& updates) {
    std::vector<std::span<const std::uint8_t>> spans(updates.begin(), updates.end());
    return merge_updates(std::span<const std::span<const std::uint8_t>>(spans));
}

StateVector state_vector_of(const DecodedUpdate& update) {
    StateVector sv;
    const auto& structs = update.structs;
    if (structs.empty()) {
        return sv;
    }
    std::uint64_t client = structs[0].client;
    bool stop = structs[0].clock != 0;  // must start at 0
    std::uint64_t clock = stop ? 0 : structs[0].end();
    for (const Struct& s : structs) {
        if (s.client != client) {
            if (clock != 0) {
                sv.entries.push_back({client, clock});
            }
            client = s.client;
            clock = 0;
            stop = s.clock != 0;
        }
        if (s.kind == StructKind::skip) {
            stop = true;
        }
        if (!stop) {
            clock = s.end();
        }
    }
    if (clock != 0) {
        sv.entries.push_back({client, clock});
    }
    return sv;
}

Result<Bytes> encode_state_vector_from_update(std::span<const std::uint8_t> update) {
    auto decoded = decode_update(update);
    if (!decoded) {
        return decoded.error();
    }
    const StateVector sv = state_vector_of(*decoded);
    Bytes out;
    Writer w(out);
    w.write_var_uint(sv.entries.size());
    for (const auto& e : sv.entries) {
        w.write_var_uint(e.client);
        w.write_var_uint(e.clock);
    }
    return out;
}

Bytes encode_state_vector(const StateVector& sv) {
    // Last entry of a client wins, as when Yjs reads it into a Map.
    std::map<std::uint64_t, std::uint64_t, std::greater<>> sorted;
    for (const auto& e : sv.entries) {
        sorted[e.client] = e.clock;
    }
    Bytes out;
    Writer w(out);
    w.write_var_uint(sorted.size());
    for (const auto& [client, clock] : sorted) {
        w.write_var_uint(client);
        w.write_var_uint(clock);
    }
    return out;
}

Result<Bytes> diff_update(std::span<const std::uint8_t> update,
                          std::span<const std::uint8_t> state_vector) {
    auto sv_result = decode_state_vector(state_vector);
    if (!sv_result) {
        return Error{"state vector: " + sv_result.error().message};
    }
    auto decoded = decode_update(update);
    if (!decoded) {
        return decoded.error();
    }
    // client -> clock, last entry wins.
    std::vector<StateVectorEntry> sv = sv_result->entries;
    std::reverse(sv.begin(), sv.end());
    std::stable_sort(sv.begin(), sv.end(),
                     [](const auto& a, const auto& b) { return a.client < b.client; });
    const auto clock_of = [&sv](std::uint64_t client) -> std::uint64_t {
        auto it = std::lower_bound(
            sv.begin(), sv.end(), client,
            [](const StateVectorEntry& e, std::uint64_t c) { return e.client < c; });
        return it != sv.end() && it->client == client ? it->clock : 0;
    };

    LazyWriter writer;
    const auto& structs = decoded->structs;
    std::size_t i = 0;
    const std::size_t n = structs.size();
    while (i < n) {
        const Struct& curr = structs[i];
        if (curr.kind == StructKind::skip) {
            ++i;  // the first written struct shouldn't be a skip
            continue;
        }
        const std::uint64_t client = curr.client;
        const std::uint64_t sv_clock = clock_of(client);
        if (curr.end() > sv_clock) {
            writer.write(curr, sv_clock > curr.clock ? sv_clock - curr.clock : 0);
            ++i;
            while (i < n && structs[i].client == client) {
                writer.write(structs[i], 0);
                ++i;
            }
        } else {
            while (i < n && structs[i].client == client && structs[i].end() <= sv_clock) {
                ++i;
            }
        }
    }
    Bytes out;
    Writer w(out);
    writer.finish(w);
    std::vector<const ClientDeletes*> ptrs;
    for (const auto& c : decoded->delete_set.clients) {
        ptrs.push_back(&c);
    }
    write_delete_set_sorted(w, std::move(ptrs));
    return out;
}

Bytes encode_update(const DecodedUpdate& update) {
    LazyWriter writer;
    for (const Struct& s : update.structs) {
        writer.write(s, 0);
    }
    Bytes out;
    Writer w(out);
    writer.finish(w);
    std::vector<const ClientDeletes*> ptrs;
    for (const auto& c : update.delete_set.clients) {
        ptrs.push_back(&c);
    }
    write_delete_set_sorted(w, std::move(ptrs));
    return out;
}

std::string dump_update(const DecodedUpdate& update) {
    std::ostringstream os;
    static constexpr char kHex[] = "0123456789abcdef";
    const auto hex = [&os](std::span<const std::uint8_t> bytes) {
        for (std::uint8_t b : bytes) {
            os << kHex[b >> 4U] << kHex[b & 15U];
        }
    };
    for (const Struct& s : update.structs) {
        os << s.client << ':' << s.clock << '+' << s.length << ' ';
        if (s.kind == StructKind::gc) {
            os << "GC\n";
            continue;
        }
        if (s.kind == StructKind::skip) {
            os << "Skip\n";
            continue;
        }
        os << "Item ref=" << static_cast<int>(s.content);
        if (s.has_origin) {
            os << " origin=" << s.origin.client << ':' << s.origin.clock;
        }
        if (s.has_right_origin) {
            os << " right=" << s.right_origin.client << ':' << s.right_origin.clock;
        }
        if (!s.has_origin && !s.has_right_origin) {
            if (s.parent_kind == ParentKind::root) {
                os << " parent=\"" << s.parent_key() << '"';
            } else {
                os << " parent=" << s.parent_id.client << ':' << s.parent_id.clock;
            }
            if (s.has_parent_sub) {
                os << " key=\"" << s.parent_sub() << '"';
            }
        }
        os << " content=";
        hex(s.content_bytes());
        os << '\n';
    }
    std::vector<const ClientDeletes*> clients;
    for (const auto& c : update.delete_set.clients) {
        clients.push_back(&c);
    }
    std::sort(clients.begin(), clients.end(),
              [](const ClientDeletes* a, const ClientDeletes* b) { return a->client > b->client; });
    for (const ClientDeletes* c : clients) {
        os << "delete " << c->client << ':';
        for (const auto& r : c->ranges) {
            os << ' ' << r.clock << '+' << r.length;
        }
        os << '\n';
    }
    return os.str();
}

}  // namespace huddle::yjs
