// The y-websocket binary protocol as the documents scenario speaks it: sync step 1, and `update`
// messages that carry one Yjs v1 update inserting a string into the root type "t" (the smallest
// valid update a keystroke produces). The inserted string is the send time, so a receiver gets
// the latency from the bytes alone. Encoding and parsing write into caller buffers: nothing is
// allocated per message.
//
// Hocuspocus multiplexes documents on one connection: each message starts with the document's
// name (a varstring: `prefix` below, empty for y-websocket), the client authenticates first, and
// sync answers may come as SyncReply (4) instead of Sync (0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace loadgen::ywire {

inline constexpr std::uint8_t kMessageSync = 0;
inline constexpr std::uint8_t kSyncStep1 = 0;
inline constexpr std::uint8_t kSyncStep2 = 1;
inline constexpr std::uint8_t kSyncUpdate = 2;
// Clock units (UTF-16 code units) one update inserts: 16 hex digits of the send time.
inline constexpr std::uint64_t kContentLength = 16;
// Client ids are kClientBase + connection index: never 0, and several varuint bytes like real ones.
inline constexpr std::uint64_t kClientBase = 1'000'000;

// The varstring prefix of a Hocuspocus message for `document`.
void append_varstring(std::string& out, std::string_view s);

// Sync step 1 with an empty state vector: "send me everything".
void append_sync_step1(std::string& out, std::string_view prefix);

// Hocuspocus: the Auth message (Auth, Token, varstring token).
void append_auth(std::string& out, std::string_view prefix, std::string_view token);

// An update message [messageSync, messageYjsUpdate, varuint length, update]: the item of `client`
// at `clock` inserted after the same client's previous item (clock - 1), or at the start of "t"
// when clock is 0; its content is `ts` as 16 hex digits.
void append_update(std::string& out, std::string_view prefix, std::uint64_t client,
                   std::uint64_t clock, std::uint64_t ts);

struct Update {
    std::uint64_t client = 0;
    std::uint64_t clock = 0;
    std::uint64_t ts = 0;
};

enum class Kind { Update, SyncStep1, SyncStep2, Awareness, Other };

// Classifies a message (after the document name when `prefixed`); for Kind::Update fills `u` and
// returns Kind::Other when the update is not one of ours (more than one struct, another content,
// bad bytes).
Kind parse(const std::uint8_t* p, std::size_t n, bool prefixed, Update& u);

}  // namespace loadgen::ywire
