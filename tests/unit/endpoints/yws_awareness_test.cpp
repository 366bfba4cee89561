// Awareness bookkeeping for one document: y-protocols' acceptance rule, ownership by connection,
// the snapshot for new clients, the removal message when a connection goes away, and the limits.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "endpoints/yws/awareness.hpp"
#include "endpoints/yws/protocol.hpp"

namespace yws = huddle::endpoints::yws;
using Bytes = std::vector<std::uint8_t>;
using Ids = std::vector<std::uint64_t>;

namespace {

// The entries of an awareness message (views into `message`, which must outlive them), or a
// failure.
std::vector<yws::AwarenessEntry> entries_of(const Bytes& message) {
    auto result = yws::decode_message(message);
    if (const auto* e = std::get_if<yws::DecodeError>(&result)) {
        ADD_FAILURE() << e->message;
        return {};
    }
    auto& decoded = std::get<yws::Decoded>(result);
    if (!decoded.awareness) {
        ADD_FAILURE() << "not an awareness message";
        return {};
    }
    return decoded.awareness->entries;
}

yws::AwarenessApplied apply_one(yws::AwarenessTable& table, std::uint64_t conn,
                                std::uint64_t client, std::uint64_t clock, std::string_view state) {
    const yws::AwarenessEntry entries[] = {{client, clock, state}};
    return table.apply(conn, entries);
}

}  // namespace

TEST(YwsAwareness, NewClientIsAcceptedAndAnnounced) {
    yws::AwarenessTable table;
    const auto applied = apply_one(table, 1, 10, 1, R"({"user":"ann"})");
    EXPECT_EQ(applied.changed, (Ids{10}));
    EXPECT_EQ(applied.stale, 0U);
    const yws::AwarenessEntry expected[] = {{10, 1, R"({"user":"ann"})"}};
    EXPECT_EQ(applied.message, yws::encode_awareness(expected));
    EXPECT_EQ(table.size(), 1U);
    EXPECT_EQ(table.connections(), 1U);
    ASSERT_NE(table.find(10), nullptr);
    EXPECT_EQ(table.find(10)->owner, 1U);
}

TEST(YwsAwareness, UnknownClientAtClockZeroIsStaleLikeYProtocols) {
    // applyAwarenessUpdate takes an unknown client's clock as 0 and needs a newer one.
    yws::AwarenessTable table;
    const auto applied = apply_one(table, 1, 10, 0, "{}");
    EXPECT_TRUE(applied.changed.empty());
    EXPECT_EQ(applied.stale, 1U);
    EXPECT_TRUE(applied.message.empty());
    EXPECT_EQ(table.size(), 0U);
    EXPECT_TRUE(table.snapshot().empty());
}

TEST(YwsAwareness, StaleClocksAreIgnored) {
    yws::AwarenessTable table;
    apply_one(table, 1, 10, 5, R"({"v":5})");
    for (const std::uint64_t clock : {1, 4, 5}) {
        const auto applied = apply_one(table, 1, 10, clock, R"({"v":"old"})");
        EXPECT_EQ(applied.stale, 1U) << clock;
        EXPECT_TRUE(applied.changed.empty());
        EXPECT_TRUE(applied.message.empty());
    }
    EXPECT_EQ(*table.find(10)->state, R"({"v":5})");
    EXPECT_EQ(table.find(10)->clock, 5U);
}

TEST(YwsAwareness, RenewalWithTheSameStateIsAnnounced) {
    // y-websocket relays "updated" clients even when the state is unchanged (keep-alive).
    yws::AwarenessTable table;
    apply_one(table, 1, 10, 1, "{}");
    const auto applied = apply_one(table, 1, 10, 2, "{}");
    EXPECT_EQ(applied.changed, (Ids{10}));
    const yws::AwarenessEntry expected[] = {{10, 2, "{}"}};
    EXPECT_EQ(applied.message, yws::encode_awareness(expected));
}

TEST(YwsAwareness, NullWithTheSameClockRemovesAState) {
    yws::AwarenessTable table;
    apply_one(table, 1, 10, 3, "{}");
    const auto applied = apply_one(table, 1, 10, 3, "null");
    EXPECT_EQ(applied.changed, (Ids{10}));
    const yws::AwarenessEntry expected[] = {{10, 3, "null"}};
    EXPECT_EQ(applied.message, yws::encode_awareness(expected));
    EXPECT_EQ(table.size(), 0U);
    EXPECT_EQ(table.known(), 1U);  // the tombstone keeps clock 3
    // The same null again: no state to remove, so stale.
    EXPECT_EQ(apply_one(table, 1, 10, 3, "null").stale, 1U);
    // An older state cannot bring the client back; a newer one can.
    EXPECT_EQ(apply_one(table, 1, 10, 3, "{}").stale, 1U);
    EXPECT_EQ(apply_one(table, 1, 10, 2, "{}").stale, 1U);
    EXPECT_EQ(apply_one(table, 1, 10, 4, "{}").changed, (Ids{10}));
    EXPECT_EQ(table.size(), 1U);
}

TEST(YwsAwareness, NullForAnUnknownClientIsRecordedSilently) {
    yws::AwarenessTable table;
    const auto applied = apply_one(table, 1, 10, 2, "null");
    EXPECT_TRUE(applied.changed.empty());
    EXPECT_EQ(applied.stale, 0U);
    EXPECT_TRUE(applied.message.empty());
    EXPECT_EQ(table.size(), 0U);
    EXPECT_EQ(table.known(), 1U);
    EXPECT_EQ(apply_one(table, 1, 10, 1, "{}").stale, 1U);
    // The tombstone leaves with its connection, and nothing is announced for it.
    EXPECT_TRUE(table.remove_connection(1).empty());
    EXPECT_EQ(table.known(), 0U);
}

TEST(YwsAwareness, OneMessageWithSeveralClientsAndRepeats) {
    yws::AwarenessTable table;
    const yws::AwarenessEntry entries[] = {
        {30, 1, R"({"n":1})"}, {20, 1, "{}"}, {30, 2, R"({"n":2})"}, {30, 2, R"({"n":3})"}};
    const auto applied = table.apply(1, entries);
    EXPECT_EQ(applied.changed, (Ids{20, 30}));
    EXPECT_EQ(applied.stale, 1U);
    const yws::AwarenessEntry expected[] = {{20, 1, "{}"}, {30, 2, R"({"n":2})"}};
    EXPECT_EQ(applied.message, yws::encode_awareness(expected));
    EXPECT_EQ(table.size(), 2U);
}

TEST(YwsAwareness, SnapshotAfterSeveralConnections) {
    yws::AwarenessTable table;
    EXPECT_TRUE(table.snapshot().empty());
    apply_one(table, 1, 300, 4, R"({"user":{"name":"c"}})");
    apply_one(table, 2, 100, 1, R"({"user":{"name":"a"}})");
    apply_one(table, 3, 200, 7, R"({"user":{"name":"b"}})");
    apply_one(table, 3, 201, 1, "{}");
    apply_one(table, 3, 201, 1, "null");  // removed: not in the snapshot
    const yws::AwarenessEntry expected[] = {{100, 1, R"({"user":{"name":"a"}})"},
                                            {200, 7, R"({"user":{"name":"b"}})"},
                                            {300, 4, R"({"user":{"name":"c"}})"}};
    EXPECT_EQ(table.snapshot(), yws::encode_awareness(expected));
    EXPECT_EQ(table.size(), 3U);
    EXPECT_EQ(table.connections(), 3U);
}

TEST(YwsAwareness, RemoveConnectionAnnouncesNullWithTheCurrentClock) {
    yws::AwarenessTable table;
    const yws::AwarenessEntry first[] = {{11, 2, R"({"a":1})"}, {10, 5, R"({"b":2})"}};
    table.apply(1, first);
    apply_one(table, 2, 20, 1, "{}");

    const Bytes removal = table.remove_connection(1);
    // Byte-exact: awareness, length 15, two clients, each (id, clock, "null").
    const Bytes expected = {1, 15, 2, 10, 5, 4, 'n', 'u', 'l', 'l', 11, 2, 4, 'n', 'u', 'l', 'l'};
    EXPECT_EQ(removal, expected);
    const auto entries = entries_of(removal);
    ASSERT_EQ(entries.size(), 2U);
    EXPECT_TRUE(entries[0].removed());
    EXPECT_TRUE(entries[1].removed());

    EXPECT_EQ(table.size(), 1U);
    EXPECT_EQ(table.known(), 1U);
    EXPECT_EQ(table.connections(), 1U);
    EXPECT_EQ(table.find(10), nullptr);
    const yws::AwarenessEntry rest[] = {{20, 1, "{}"}};
    EXPECT_EQ(table.snapshot(), yws::encode_awareness(rest));

    // A second removal, or one for a connection never seen, says nothing.
    EXPECT_TRUE(table.remove_connection(1).empty());
    EXPECT_TRUE(table.remove_connection(99).empty());
}

TEST(YwsAwareness, RemovalIsAcceptedByAPeerHoldingTheState) {
    // What every other client does with the removal message: same clock + null + state held.
    yws::AwarenessTable server;
    yws::AwarenessTable peer;
    const auto announced = apply_one(server, 1, 10, 3, R"({"x":1})");
    peer.apply(0, entries_of(announced.message));
    EXPECT_EQ(peer.size(), 1U);
    const Bytes removal = server.remove_connection(1);
    const auto removal_entries = entries_of(removal);
    const auto applied = peer.apply(0, removal_entries);
    EXPECT_EQ(applied.changed, (Ids{10}));
    EXPECT_EQ(peer.size(), 0U);
}

TEST(YwsAwareness, ForgottenClientCanComeBack) {
    yws::AwarenessTable table;
    apply_one(table, 1, 10, 3, "{}");
    table.remove_connection(1);
    // The provider reconnects with the same clientID and clock.
    const auto applied = apply_one(table, 2, 10, 3, "{}");
    EXPECT_EQ(applied.changed, (Ids{10}));
    EXPECT_EQ(table.find(10)->owner, 2U);
}

TEST(YwsAwareness, ClientsMoveToTheConnectionThatAnnouncedThemLast) {
    yws::AwarenessTable table;
    apply_one(table, 1, 10, 1, "{}");
    apply_one(table, 2, 10, 2, R"({"moved":true})");
    EXPECT_EQ(table.connections(), 1U);
    EXPECT_TRUE(table.remove_connection(1).empty());
    EXPECT_EQ(table.size(), 1U);
    const Bytes removal = table.remove_connection(2);
    const auto entries = entries_of(removal);
    ASSERT_EQ(entries.size(), 1U);
    EXPECT_EQ(entries[0].client_id, 10U);
    EXPECT_EQ(entries[0].clock, 2U);
    EXPECT_TRUE(entries[0].removed());
    EXPECT_EQ(table.size(), 0U);
    EXPECT_EQ(table.known(), 0U);
}

TEST(YwsAwareness, LimitsRefuseEntries) {
    yws::AwarenessTable table(yws::AwarenessLimits{3, 2, 16});
    EXPECT_EQ(apply_one(table, 1, 1, 1, "{}").changed.size(), 1U);
    EXPECT_EQ(apply_one(table, 1, 2, 1, "{}").changed.size(), 1U);
    // A third client for connection 1.
    auto applied = apply_one(table, 1, 3, 1, "{}");
    EXPECT_EQ(applied.refused, 1U);
    EXPECT_TRUE(applied.message.empty());
    // Updating its own clients is still fine.
    EXPECT_EQ(apply_one(table, 1, 2, 2, "[]").changed, (Ids{2}));
    // A state over 16 bytes.
    EXPECT_EQ(apply_one(table, 2, 4, 1, R"({"long":"aaaaaaaaaa"})").refused, 1U);
    EXPECT_EQ(apply_one(table, 2, 4, 1, "{}").changed, (Ids{4}));
    // The table is full (3 clients).
    EXPECT_EQ(apply_one(table, 3, 5, 1, "{}").refused, 1U);
    EXPECT_EQ(table.size(), 3U);
    // Removing a connection makes room.
    table.remove_connection(1);
    EXPECT_EQ(apply_one(table, 3, 5, 1, "{}").changed, (Ids{5}));
}

TEST(YwsAwareness, EncodeClientsSkipsUnknownIds) {
    yws::AwarenessTable table;
    apply_one(table, 1, 10, 1, "{}");
    apply_one(table, 1, 11, 1, "{}");
    apply_one(table, 1, 11, 1, "null");
    const Ids ids = {11, 99, 10};
    const yws::AwarenessEntry expected[] = {{11, 1, "null"}, {10, 1, "{}"}};
    EXPECT_EQ(table.encode_clients(ids), yws::encode_awareness(expected));
    const Ids unknown = {99};
    EXPECT_TRUE(table.encode_clients(unknown).empty());
}
