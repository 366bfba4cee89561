// The y-websocket wire protocol: byte-exact encodings (computed by hand from y-protocols' sync.js,
// awareness.js and auth.js over lib0's encoding, and cross-checked once against lib0 in Node),
// round trips, and refusal of malformed input.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "endpoints/yws/protocol.hpp"

namespace yws = huddle::endpoints::yws;
using Bytes = std::vector<std::uint8_t>;

namespace {

Bytes bytes_of(std::string_view text) {
    return Bytes(text.begin(), text.end());
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& part : parts) {
        out.insert(out.end(), part.begin(), part.end());
    }
    return out;
}

yws::Decoded decode_ok(const Bytes& input) {
    auto result = yws::decode_message(input);
    if (const auto* e = std::get_if<yws::DecodeError>(&result)) {
        ADD_FAILURE() << "unexpected decode error: " << e->message;
        return yws::Decoded{};
    }
    return std::get<yws::Decoded>(result);
}

std::string decode_error(const Bytes& input) {
    auto result = yws::decode_message(input);
    if (std::holds_alternative<yws::Decoded>(result)) {
        ADD_FAILURE() << "decoded what should be refused (" << input.size() << " bytes)";
        return {};
    }
    std::string message = std::get<yws::DecodeError>(result).message;
    EXPECT_FALSE(message.empty());
    return message;
}

Bytes span_bytes(std::span<const std::uint8_t> s) {
    return Bytes(s.begin(), s.end());
}

}  // namespace

// ---- encodings, byte for byte ------------------------------------------------------------------

TEST(YwsEncode, SyncStep1WithEmptyStateVector) {
    // messageSync, messageYjsSyncStep1, varUint8Array([0]) (Y.encodeStateVector of an empty doc).
    EXPECT_EQ(yws::encode_sync_step1(Bytes{0}), (Bytes{0, 0, 1, 0}));
}

TEST(YwsEncode, SyncStep2WithEmptyUpdate) {
    // Y.encodeStateAsUpdate of an empty doc is [0, 0] (no structs, empty delete set).
    EXPECT_EQ(yws::encode_sync_step2(Bytes{0, 0}), (Bytes{0, 1, 2, 0, 0}));
}

TEST(YwsEncode, Update) {
    EXPECT_EQ(yws::encode_update(Bytes{1, 2, 3}), (Bytes{0, 2, 3, 1, 2, 3}));
}

TEST(YwsEncode, LongPayloadLengthIsAVarUint) {
    const Bytes payload(200, 7);
    const Bytes encoded = yws::encode_update(payload);
    ASSERT_EQ(encoded.size(), 4 + payload.size());
    EXPECT_EQ((Bytes{encoded[0], encoded[1], encoded[2], encoded[3]}), (Bytes{0, 2, 0xc8, 0x01}));
    EXPECT_EQ(Bytes(encoded.begin() + 4, encoded.end()), payload);
}

TEST(YwsEncode, SyncPrefixIsWhatTheMessagePutsBeforeItsPayload) {
    const Bytes payload(200, 7);
    const Bytes encoded = yws::encode_update(payload);
    const yws::SyncPrefix prefix = yws::sync_prefix(yws::SyncType::update, payload.size());
    EXPECT_EQ(Bytes(prefix.view().begin(), prefix.view().end()),
              Bytes(encoded.begin(), encoded.end() - static_cast<std::ptrdiff_t>(payload.size())));
    const yws::SyncPrefix huge = yws::sync_prefix(yws::SyncType::step2, std::size_t{1} << 40);
    EXPECT_EQ(Bytes(huge.view().begin(), huge.view().end()),
              (Bytes{0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20}));
}

TEST(YwsEncode, AwarenessOneClient) {
    const yws::AwarenessEntry entries[] = {{1, 2, R"({"a":1})"}};
    // update: count 1, clientID 1, clock 2, varString of 7 bytes.
    const Bytes update = concat({{1, 1, 2, 7}, bytes_of(R"({"a":1})")});
    EXPECT_EQ(yws::encode_awareness_update(entries), update);
    EXPECT_EQ(yws::encode_awareness(entries), concat({{1, 11}, update}));
}

TEST(YwsEncode, AwarenessSeveralClientsWithLargeIds) {
    const yws::AwarenessEntry entries[] = {{300, 0, "{}"}, {3'000'000'000ULL, 129, "null"}};
    // 300 = AC 02; 3e9 = 80 BC C1 96 0B; 129 = 81 01.
    const Bytes update = concat({{2, 0xac, 0x02, 0, 2},
                                 bytes_of("{}"),
                                 {0x80, 0xbc, 0xc1, 0x96, 0x0b, 0x81, 0x01, 4},
                                 bytes_of("null")});
    EXPECT_EQ(yws::encode_awareness_update(entries), update);
    EXPECT_EQ(yws::encode_awareness(entries),
              concat({{1, static_cast<std::uint8_t>(update.size())}, update}));
}

TEST(YwsEncode, AwarenessUtf8StateMatchesLib0) {
    // encodeAwarenessUpdate(awareness, [1234567]) for this state, as lib0 0.2 writes it in Node.
    const std::string state = R"({"user":{"name":"Zoë 👋","color":"#30bced"},"cursor":null})";
    const yws::AwarenessEntry entries[] = {{1234567, 3, state}};
    EXPECT_EQ(
        yws::encode_awareness_update(entries),
        (Bytes{1,   135, 173, 75,  3,   61,  123, 34,  117, 115, 101, 114, 34,  58,  123, 34,  110,
               97,  109, 101, 34,  58,  34,  90,  111, 195, 171, 32,  240, 159, 145, 139, 34,  44,
               34,  99,  111, 108, 111, 114, 34,  58,  34,  35,  51,  48,  98,  99,  101, 100, 34,
               125, 44,  34,  99,  117, 114, 115, 111, 114, 34,  58,  110, 117, 108, 108, 125}));
}

TEST(YwsEncode, AwarenessWithNoClients) {
    EXPECT_EQ(yws::encode_awareness({}), (Bytes{1, 1, 0}));
}

TEST(YwsEncode, AwarenessRaw) {
    const Bytes update = {1, 5, 1, 4, 'n', 'u', 'l', 'l'};
    EXPECT_EQ(yws::encode_awareness_raw(update), concat({{1, 8}, update}));
}

TEST(YwsEncode, AuthDenied) {
    // messageAuth, messagePermissionDenied, varString reason.
    EXPECT_EQ(yws::encode_auth_denied("no"), (Bytes{2, 0, 2, 'n', 'o'}));
    EXPECT_EQ(yws::encode_auth_denied(""), (Bytes{2, 0, 0}));
}

TEST(YwsEncode, QueryAwareness) {
    EXPECT_EQ(yws::encode_query_awareness(), (Bytes{3}));
}

// ---- round trips -------------------------------------------------------------------------------

TEST(YwsDecode, SyncMessagesRoundTrip) {
    const Bytes state_vector = {1, 0xac, 0x02, 5};
    const Bytes update(300, 9);
    struct Case {
        Bytes message;
        yws::SyncType type;
        const Bytes* payload;
    };
    const Case cases[] = {
        {yws::encode_sync_step1(state_vector), yws::SyncType::step1, &state_vector},
        {yws::encode_sync_step2(update), yws::SyncType::step2, &update},
        {yws::encode_update(update), yws::SyncType::update, &update},
    };
    for (const auto& c : cases) {
        const yws::Decoded decoded = decode_ok(c.message);
        EXPECT_EQ(decoded.type, yws::MessageType::sync);
        ASSERT_TRUE(decoded.sync.has_value());
        EXPECT_EQ(decoded.sync->type, c.type);
        EXPECT_EQ(span_bytes(decoded.sync->payload), *c.payload);
        // A view into the input, not a copy.
        EXPECT_EQ(decoded.sync->payload.data() + decoded.sync->payload.size(),
                  c.message.data() + c.message.size());
        EXPECT_FALSE(decoded.awareness.has_value());
        EXPECT_FALSE(decoded.auth_denied_reason.has_value());
    }
}

TEST(YwsDecode, EmptySyncPayloads) {
    const yws::Decoded decoded = decode_ok(Bytes{0, 2, 0});
    ASSERT_TRUE(decoded.sync.has_value());
    EXPECT_EQ(decoded.sync->type, yws::SyncType::update);
    EXPECT_TRUE(decoded.sync->payload.empty());
}

TEST(YwsDecode, AwarenessRoundTrip) {
    const std::string state = R"({"user":{"name":"Zoë 👋","color":"#30bced"},"cursor":null})";
    const yws::AwarenessEntry entries[] = {
        {1234567, 3, state}, {42, 9, "null"}, {0, 1, "[1,2.5,true,false,\"x\"]"}};
    const Bytes message = yws::encode_awareness(entries);
    const yws::Decoded decoded = decode_ok(message);
    EXPECT_EQ(decoded.type, yws::MessageType::awareness);
    ASSERT_TRUE(decoded.awareness.has_value());
    EXPECT_EQ(span_bytes(decoded.awareness->raw_update), yws::encode_awareness_update(entries));
    ASSERT_EQ(decoded.awareness->entries.size(), 3U);
    EXPECT_EQ(decoded.awareness->entries[0].client_id, 1234567U);
    EXPECT_EQ(decoded.awareness->entries[0].clock, 3U);
    EXPECT_EQ(decoded.awareness->entries[0].state_json, state);
    EXPECT_FALSE(decoded.awareness->entries[0].removed());
    EXPECT_EQ(decoded.awareness->entries[1].client_id, 42U);
    EXPECT_TRUE(decoded.awareness->entries[1].removed());
    EXPECT_EQ(decoded.awareness->entries[2].state_json, "[1,2.5,true,false,\"x\"]");
    // Relaying as received gives the same message back.
    EXPECT_EQ(yws::encode_awareness_raw(decoded.awareness->raw_update), message);
    // Re-encoding the decoded entries gives the same bytes.
    EXPECT_EQ(yws::encode_awareness(decoded.awareness->entries), message);
}

TEST(YwsDecode, AwarenessNullWithWhitespaceIsNormalized) {
    const yws::AwarenessEntry entries[] = {{7, 2, " \n null\t"}};
    const Bytes message = yws::encode_awareness(entries);
    const yws::Decoded decoded = decode_ok(message);
    ASSERT_TRUE(decoded.awareness.has_value());
    ASSERT_EQ(decoded.awareness->entries.size(), 1U);
    EXPECT_EQ(decoded.awareness->entries[0].state_json, "null");
    EXPECT_TRUE(decoded.awareness->entries[0].removed());
}

TEST(YwsDecode, AwarenessWithNoClients) {
    const yws::Decoded decoded = decode_ok(Bytes{1, 1, 0});
    ASSERT_TRUE(decoded.awareness.has_value());
    EXPECT_TRUE(decoded.awareness->entries.empty());
}

TEST(YwsDecode, AuthRoundTrip) {
    const Bytes message = yws::encode_auth_denied("firm mismatch");
    const yws::Decoded decoded = decode_ok(message);
    EXPECT_EQ(decoded.type, yws::MessageType::auth);
    ASSERT_TRUE(decoded.auth_denied_reason.has_value());
    EXPECT_EQ(*decoded.auth_denied_reason, "firm mismatch");
}

TEST(YwsDecode, QueryAwareness) {
    const yws::Decoded decoded = decode_ok(yws::encode_query_awareness());
    EXPECT_EQ(decoded.type, yws::MessageType::query_awareness);
    EXPECT_FALSE(decoded.sync || decoded.awareness || decoded.auth_denied_reason);
}

TEST(YwsDecode, MessageTypeAsMultiByteVarUint) {
    // lib0 accepts non-minimal varints (0x80 0x00 is 0); so do we.
    const yws::Decoded decoded = decode_ok(Bytes{0x80, 0x00, 0, 1, 0});
    EXPECT_EQ(decoded.type, yws::MessageType::sync);
    ASSERT_TRUE(decoded.sync.has_value());
    EXPECT_EQ(decoded.sync->type, yws::SyncType::step1);
}

// ---- refused input -----------------------------------------------------------------------------

TEST(YwsDecode, RefusesEmptyAndTruncated) {
    decode_error({});
    decode_error({0});              // no sync type
    decode_error({0, 0});           // no payload length
    decode_error({0, 0, 5, 1, 2});  // payload shorter than its length
    decode_error({0, 2, 0x80});     // truncated length varint
    decode_error({0x80});           // truncated message type
    decode_error({1});              // no awareness update
    decode_error({1, 4, 1, 1});     // update shorter than its length
    decode_error({2});              // no auth type
    decode_error({2, 0});           // no reason
    decode_error({2, 0, 3, 'a'});   // reason shorter than its length
}

TEST(YwsDecode, RefusesUnknownTypes) {
    EXPECT_NE(decode_error({4}).find("unknown message type 4"), std::string::npos);
    EXPECT_NE(decode_error({0xff, 0x01}).find("unknown message type"), std::string::npos);
    EXPECT_NE(decode_error({0, 3, 0}).find("unknown sync type 3"), std::string::npos);
    EXPECT_NE(decode_error({2, 1, 0}).find("unknown auth type 1"), std::string::npos);
}

TEST(YwsDecode, RefusesOversizedVarints) {
    // 2^53 and beyond (lib0 refuses integers above Number.MAX_SAFE_INTEGER).
    decode_error({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10});
    decode_error({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
    // A payload length of 2^40 in a short message.
    decode_error({0, 2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 1, 2});
    // An awareness clock of 2^60.
    decode_error(concat(
        {{1, 14, 1, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 2}, bytes_of("{}")}));
}

TEST(YwsDecode, RefusesTrailingBytes) {
    decode_error({0, 0, 1, 0, 9});
    decode_error({3, 0});
    decode_error({2, 0, 1, 'x', 0});
    decode_error(concat({yws::encode_awareness({}), {0}}));
    // Bytes inside the awareness update after its last client.
    decode_error({1, 2, 0, 0});
}

TEST(YwsDecode, RefusesTooManyAwarenessClients) {
    // 10,001 clients announced (varUint 10001 = 91 4E).
    Bytes update = {0x91, 0x4e};
    for (int i = 0; i < 10'001; ++i) {
        update.insert(update.end(), {1, 1, 2, '{', '}'});
    }
    const std::string message = decode_error(yws::encode_awareness_raw(update));
    EXPECT_NE(message.find("at most 10000"), std::string::npos) << message;
    // 10,000 is fine.
    update[0] = 0x90;  // 10000 = 90 4E
    update.resize(update.size() - 5);
    const yws::Decoded decoded = decode_ok(yws::encode_awareness_raw(update));
    ASSERT_TRUE(decoded.awareness.has_value());
    EXPECT_EQ(decoded.awareness->entries.size(), 10'000U);
}

TEST(YwsDecode, RefusesAwarenessCountBeyondTheBytes) {
    // 5,000 clients announced in a 4-byte update: refused before anything is reserved.
    const std::string message = decode_error(yws::encode_awareness_raw(Bytes{0x88, 0x27, 1, 1}));
    EXPECT_NE(message.find("do not fit"), std::string::npos) << message;
}

TEST(YwsDecode, RefusesBadAwarenessStates) {
    const auto with_state = [](const Bytes& state) {
        return yws::encode_awareness_raw(
            concat({{1, 5, 1, static_cast<std::uint8_t>(state.size())}, state}));
    };
    decode_error(with_state({0xc3, 0x28}));            // invalid UTF-8
    decode_error(with_state({0xed, 0xa0, 0x80}));      // a UTF-8-encoded surrogate
    decode_error(with_state(bytes_of("")));            // not JSON: empty
    decode_error(with_state(bytes_of("{")));           // unterminated
    decode_error(with_state(bytes_of("nul")));         // truncated literal
    decode_error(with_state(bytes_of("{} x")));        // trailing garbage
    decode_error(with_state(bytes_of("{}{}")));        // two values
    decode_error(with_state(bytes_of("{'a':1}")));     // single quotes
    decode_error(with_state(bytes_of("[1,]")));        // trailing comma
    decode_error(with_state(bytes_of("// c\nnull")));  // comments
    decode_error(with_state(bytes_of("undefined")));   // not JSON
    // Nesting: 64 levels are fine, 65 are not.
    const std::string deep64 = std::string(64, '[') + std::string(64, ']');
    const std::string deep65 = std::string(65, '[') + std::string(65, ']');
    const yws::AwarenessEntry ok[] = {{1, 1, deep64}};
    const yws::AwarenessEntry too_deep[] = {{1, 1, deep65}};
    decode_ok(yws::encode_awareness(ok));
    decode_error(yws::encode_awareness(too_deep));
}

TEST(YwsDecode, AcceptsJsonScalarsAsStates) {
    for (const std::string_view state : {"0", "-1.5e3", "\"text\"", "true", "{}", "[]", " {} "}) {
        const yws::AwarenessEntry entries[] = {{1, 1, state}};
        const Bytes message = yws::encode_awareness(entries);
        const yws::Decoded decoded = decode_ok(message);
        ASSERT_TRUE(decoded.awareness.has_value()) << state;
        EXPECT_EQ(decoded.awareness->entries[0].state_json, state);
        EXPECT_FALSE(decoded.awareness->entries[0].removed());
    }
}

TEST(YwsDecode, StateJsonFollowsJsonParse) {
    bool is_null = false;
    // Accepted by JSON.parse (V8's JSON.stringify writes lone surrogates as escapes).
    for (const std::string_view ok :
         {R"("\ud83d")", R"({"name":"a\udc00b"})", R"("\"\\\/\b\f\n\r\t\u00E9")", "-0", "0.5e-3",
          "1E+2", "1e400", R"({"a":{"b":[{}]}})", "\t{}\r\n", R"({"a":1,"a":2})"}) {
        EXPECT_TRUE(yws::validate_state_json(ok, is_null)) << ok;
    }
    // Refused by JSON.parse.
    for (const std::string_view bad :
         {"01",    "1.",       ".5",        "-",         "+1",       "1e",    "1e+",     "0x10",
          "NaN",   "Infinity", R"("\u12")", R"("\x41")", "\"a\tb\"", "\"abc", "{\"a\"}", "{\"a\":}",
          "{a:1}", "[1 2]",    "[,]",       "{,}",       "tru",      "nulll", "\v{}",    "{}\f"}) {
        EXPECT_FALSE(yws::validate_state_json(bad, is_null)) << bad;
    }
    const std::string deep_objects = [] {
        std::string s;
        for (int i = 0; i < 64; ++i) {
            s += R"({"a":)";
        }
        s += "1";
        s += std::string(64, '}');
        return s;
    }();
    EXPECT_TRUE(yws::validate_state_json(deep_objects, is_null));
    EXPECT_FALSE(yws::validate_state_json("[" + deep_objects + "]", is_null));
}

TEST(YwsDecode, RefusesInvalidUtf8AuthReason) {
    decode_error({2, 0, 1, 0xff});
}

TEST(YwsDecode, ValidateStateJson) {
    bool is_null = false;
    EXPECT_TRUE(yws::validate_state_json("null", is_null));
    EXPECT_TRUE(is_null);
    EXPECT_TRUE(yws::validate_state_json("[null]", is_null));
    EXPECT_FALSE(is_null);
    EXPECT_TRUE(yws::validate_state_json(R"({"a":null})", is_null));
    EXPECT_FALSE(is_null);
    EXPECT_FALSE(yws::validate_state_json("", is_null));
    EXPECT_FALSE(yws::validate_state_json("NULL", is_null));
}

TEST(YwsDecode, EveryPrefixOfValidMessagesIsRefused) {
    const yws::AwarenessEntry entries[] = {{99, 5, R"({"user":{"name":"a"}})"}, {100, 1, "null"}};
    const Bytes messages[] = {yws::encode_sync_step1(Bytes{1, 5, 3}),
                              yws::encode_update(Bytes(150, 1)), yws::encode_awareness(entries),
                              yws::encode_auth_denied("nope")};
    for (const Bytes& message : messages) {
        decode_ok(message);
        for (std::size_t n = 0; n < message.size(); ++n) {
            decode_error(Bytes(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(n)));
        }
    }
}
