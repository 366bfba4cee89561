// Yjs v1 update layout written here (see ywire.hpp):
//   varuint clients (1), varuint structs (1), varuint client, varuint clock,
//   info byte: content ref 4 (string) | 0x80 when an origin follows,
//   origin (varuint client, varuint clock) or, without origin, parent: varuint 1 + varstring "t",
//   content: varstring, then the delete set: varuint 0.
#include "ywire.hpp"

namespace loadgen::ywire {

namespace {

constexpr std::uint8_t kInfoString = 4;
constexpr std::uint8_t kHasOrigin = 0x80;
constexpr std::uint8_t kHasRightOrigin = 0x40;
constexpr std::uint8_t kHasParentSub = 0x20;
constexpr std::uint8_t kMessageAwareness = 1;
constexpr std::uint8_t kMessageAuth = 2;
constexpr std::uint8_t kMessageSyncReply = 4;  // Hocuspocus
constexpr std::uint8_t kAuthToken = 0;

std::size_t varuint_size(std::uint64_t v) {
    std::size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

void put_varuint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>(0x80 | (v & 0x7f)));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

class Reader {
  public:
    Reader(const std::uint8_t* p, std::size_t n) : p_(p), end_(p + n) {}
    bool varuint(std::uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
            const std::uint8_t b = *p_++;
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
                return true;
        }
        return false;
    }
    bool byte(std::uint8_t& b) {
        if (p_ >= end_)
            return false;
        b = *p_++;
        return true;
    }
    // Skips a varstring; its bytes are returned through p/n.
    bool string(const std::uint8_t*& p, std::uint64_t& n) {
        if (!varuint(n) || n > static_cast<std::uint64_t>(end_ - p_))
            return false;
        p = p_;
        p_ += n;
        return true;
    }

  private:
    const std::uint8_t* p_;
    const std::uint8_t* end_;
};

bool parse_update(const std::uint8_t* p, std::size_t n, Update& u) {
    Reader r(p, n);
    std::uint64_t clients = 0;
    std::uint64_t structs = 0;
    std::uint8_t info = 0;
    if (!r.varuint(clients) || clients != 1 || !r.varuint(structs) || structs != 1 ||
        !r.varuint(u.client) || !r.varuint(u.clock) || !r.byte(info)) {
        return false;
    }
    std::uint64_t skip = 0;
    const std::uint8_t* s = nullptr;
    std::uint64_t len = 0;
    if (info & kHasOrigin) {
        if (!r.varuint(skip) || !r.varuint(skip))
            return false;
    }
    if (info & kHasRightOrigin) {
        if (!r.varuint(skip) || !r.varuint(skip))
            return false;
    }
    if ((info & (kHasOrigin | kHasRightOrigin)) == 0) {
        std::uint64_t parent_is_key = 0;
        if (!r.varuint(parent_is_key))
            return false;
        if (parent_is_key == 1 ? !r.string(s, len) : (!r.varuint(skip) || !r.varuint(skip)))
            return false;
        if ((info & kHasParentSub) && !r.string(s, len))
            return false;
    }
    if ((info & 0x1f) != kInfoString || !r.string(s, len) || len != kContentLength)
        return false;
    std::uint64_t ts = 0;
    for (std::uint64_t i = 0; i < len; ++i) {
        const std::uint8_t c = s[i];
        std::uint64_t d = 0;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else {
            return false;
        }
        ts = (ts << 4) | d;
    }
    u.ts = ts;
    return true;
}

}  // namespace

void append_varstring(std::string& out, std::string_view s) {
    put_varuint(out, s.size());
    out.append(s);
}

void append_auth(std::string& out, std::string_view prefix, std::string_view token) {
    out.append(prefix);
    out.push_back(static_cast<char>(kMessageAuth));
    out.push_back(static_cast<char>(kAuthToken));
    append_varstring(out, token);
}

void append_sync_step1(std::string& out, std::string_view prefix) {
    out.append(prefix);
    out.push_back(static_cast<char>(kMessageSync));
    out.push_back(static_cast<char>(kSyncStep1));
    out.push_back(1);  // the state vector's length in bytes
    out.push_back(0);  // ... which holds 0 clients
}

void append_update(std::string& out, std::string_view prefix, std::uint64_t client,
                   std::uint64_t clock, std::uint64_t ts) {
    static constexpr char kHex[] = "0123456789abcdef";
    const std::size_t body = 2 + varuint_size(client) + varuint_size(clock) + 1 +
                             (clock == 0 ? 3 : varuint_size(client) + varuint_size(clock - 1)) + 1 +
                             kContentLength + 1;
    out.append(prefix);
    out.push_back(static_cast<char>(kMessageSync));
    out.push_back(static_cast<char>(kSyncUpdate));
    put_varuint(out, body);
    out.push_back(1);  // one client
    out.push_back(1);  // one struct
    put_varuint(out, client);
    put_varuint(out, clock);
    if (clock == 0) {
        out.push_back(static_cast<char>(kInfoString));
        out.push_back(1);  // the parent is a root type, named:
        out.push_back(1);
        out.push_back('t');
    } else {
        out.push_back(static_cast<char>(kInfoString | kHasOrigin));
        put_varuint(out, client);
        put_varuint(out, clock - 1);
    }
    out.push_back(static_cast<char>(kContentLength));
    for (int shift = 60; shift >= 0; shift -= 4)
        out.push_back(kHex[(ts >> shift) & 0xf]);
    out.push_back(0);  // empty delete set
}

Kind parse(const std::uint8_t* p, std::size_t n, bool prefixed, Update& u) {
    if (prefixed) {
        Reader r(p, n);
        const std::uint8_t* name = nullptr;
        std::uint64_t len = 0;
        if (!r.string(name, len))
            return Kind::Other;
        const std::size_t skip = static_cast<std::size_t>(name + len - p);
        p += skip;
        n -= skip;
    }
    if (n >= 1 && p[0] == kMessageAwareness)
        return Kind::Awareness;
    if (n < 2 || (p[0] != kMessageSync && !(prefixed && p[0] == kMessageSyncReply)))
        return Kind::Other;
    switch (p[1]) {
        case kSyncStep1:
            return Kind::SyncStep1;
        case kSyncStep2:
            return Kind::SyncStep2;
        case kSyncUpdate: {
            Reader r(p + 2, n - 2);
            std::uint64_t len = 0;
            const std::uint8_t* body = nullptr;
            if (!r.string(body, len) || !parse_update(body, len, u))
                return Kind::Other;
            return Kind::Update;
        }
        default:
            return Kind::Other;
    }
}

}  // namespace loadgen::ywire
