#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/room_registry.hpp"

namespace {

struct Member;
using Registry = huddle::core::RoomRegistry<Member>;

struct Member {
    explicit Member(int member_id) : id(member_id) {}
    int id;
    Registry::Memberships mine;
    Registry::Memberships& memberships() { return mine; }
};

std::vector<int> member_ids(const Registry& registry, const std::string& room) {
    std::vector<int> ids;
    if (const Registry::Room* found = registry.find(room)) {
        for (const Member* member : found->members)
            ids.push_back(member->id);
    }
    return ids;
}

std::vector<int> sorted(std::vector<int> ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
}

// Every back-index of every member points at that member, and every member of every room knows
// it is there: the two indexes agree.
void expect_consistent(const Registry& registry, const std::vector<Member*>& members) {
    std::size_t memberships = 0;
    for (Member* member : members) {
        std::set<const Registry::Room*> seen;
        for (const Registry::Membership& entry : member->memberships()) {
            ++memberships;
            ASSERT_NE(entry.room, nullptr);
            EXPECT_TRUE(seen.insert(entry.room).second)
                << "member " << member->id << " is twice in " << entry.room->name;
            EXPECT_EQ(registry.find(entry.room->name), entry.room);
            ASSERT_LT(entry.index, entry.room->members.size())
                << "member " << member->id << " room " << entry.room->name;
            EXPECT_EQ(entry.room->members[entry.index], member)
                << "member " << member->id << " room " << entry.room->name << " index "
                << entry.index;
        }
    }
    std::size_t slots = 0;
    registry.for_each_room([&](const Registry::Room& room) {
        EXPECT_FALSE(room.members.empty()) << "empty room " << room.name << " kept";
        slots += room.members.size();
    });
    EXPECT_EQ(memberships, slots);
}

}  // namespace

TEST(RoomRegistry, JoinCreatesTheRoom) {
    Registry registry;
    Member alice(1);
    EXPECT_EQ(registry.room_count(), 0u);
    EXPECT_EQ(registry.find("team:1"), nullptr);
    EXPECT_TRUE(registry.join(alice, "team:1"));
    EXPECT_EQ(registry.room_count(), 1u);
    const Registry::Room* room = registry.find("team:1");
    ASSERT_NE(room, nullptr);
    EXPECT_EQ(room->name, "team:1");
    EXPECT_EQ(member_ids(registry, "team:1"), std::vector<int>{1});
    ASSERT_EQ(alice.mine.size(), 1u);
    EXPECT_EQ(alice.mine[0].room, room);
    EXPECT_EQ(alice.mine[0].index, 0u);
}

TEST(RoomRegistry, DoubleJoinReturnsFalseAndChangesNothing) {
    Registry registry;
    Member alice(1);
    ASSERT_TRUE(registry.join(alice, "team:1"));
    EXPECT_FALSE(registry.join(alice, "team:1"));
    EXPECT_EQ(member_ids(registry, "team:1"), std::vector<int>{1});
    EXPECT_EQ(alice.mine.size(), 1u);
}

TEST(RoomRegistry, SeveralMembersShareARoom) {
    Registry registry;
    Member a(1), b(2), c(3);
    ASSERT_TRUE(registry.join(a, "r"));
    ASSERT_TRUE(registry.join(b, "r"));
    ASSERT_TRUE(registry.join(c, "r"));
    EXPECT_EQ(registry.room_count(), 1u);
    EXPECT_EQ(member_ids(registry, "r"), (std::vector<int>{1, 2, 3}));
    expect_consistent(registry, {&a, &b, &c});
}

TEST(RoomRegistry, RoomNameIsCopied) {
    Registry registry;
    Member a(1);
    {
        std::string name = "team:temporary";
        ASSERT_TRUE(registry.join(a, name));
        name.assign("overwritten!!!");
    }
    EXPECT_NE(registry.find("team:temporary"), nullptr);
    EXPECT_EQ(registry.find("overwritten!!!"), nullptr);
}

TEST(RoomRegistry, LeaveRemovesAndFreesEmptyRoom) {
    Registry registry;
    Member a(1), b(2);
    ASSERT_TRUE(registry.join(a, "r"));
    ASSERT_TRUE(registry.join(b, "r"));
    EXPECT_TRUE(registry.leave(a, "r"));
    EXPECT_EQ(member_ids(registry, "r"), std::vector<int>{2});
    EXPECT_TRUE(a.mine.empty());
    EXPECT_EQ(registry.room_count(), 1u);
    EXPECT_TRUE(registry.leave(b, "r"));
    EXPECT_EQ(registry.room_count(), 0u);
    EXPECT_EQ(registry.find("r"), nullptr);
}

TEST(RoomRegistry, LeaveOfARoomNotJoinedReturnsFalse) {
    Registry registry;
    Member a(1), b(2);
    EXPECT_FALSE(registry.leave(a, "r"));
    ASSERT_TRUE(registry.join(b, "r"));
    EXPECT_FALSE(registry.leave(a, "r"));
    EXPECT_FALSE(registry.leave(b, "other"));
    EXPECT_EQ(member_ids(registry, "r"), std::vector<int>{2});
    ASSERT_TRUE(registry.leave(b, "r"));
    EXPECT_FALSE(registry.leave(b, "r"));
}

TEST(RoomRegistry, RejoinAfterLeave) {
    Registry registry;
    Member a(1);
    ASSERT_TRUE(registry.join(a, "r"));
    ASSERT_TRUE(registry.leave(a, "r"));
    EXPECT_TRUE(registry.join(a, "r"));
    EXPECT_EQ(member_ids(registry, "r"), std::vector<int>{1});
    expect_consistent(registry, {&a});
}

TEST(RoomRegistry, LeaveAllLeavesEveryRoomAndFreesEmptyOnes) {
    Registry registry;
    Member a(1), b(2);
    for (const char* room : {"r1", "r2", "r3"})
        ASSERT_TRUE(registry.join(a, room));
    ASSERT_TRUE(registry.join(b, "r2"));
    ASSERT_EQ(registry.room_count(), 3u);
    registry.leave_all(a);
    EXPECT_TRUE(a.mine.empty());
    EXPECT_EQ(registry.room_count(), 1u);
    EXPECT_EQ(registry.find("r1"), nullptr);
    EXPECT_EQ(registry.find("r3"), nullptr);
    EXPECT_EQ(member_ids(registry, "r2"), std::vector<int>{2});
    expect_consistent(registry, {&a, &b});
    registry.leave_all(a);  // nothing left: a no-op
    EXPECT_EQ(registry.room_count(), 1u);
}

TEST(RoomRegistry, LeaveKeepsTheMembersOtherRooms) {
    Registry registry;
    Member a(1);
    for (const char* room : {"r1", "r2", "r3", "r4"})
        ASSERT_TRUE(registry.join(a, room));
    ASSERT_TRUE(registry.leave(a, "r2"));
    std::vector<std::string> rooms;
    for (const auto& entry : a.mine)
        rooms.push_back(entry.room->name);
    std::sort(rooms.begin(), rooms.end());
    EXPECT_EQ(rooms, (std::vector<std::string>{"r1", "r3", "r4"}));
    expect_consistent(registry, {&a});
}

// Five members in one room; remove some in each order and check the room's content and every
// back-index after each step.
TEST(RoomRegistry, SwapRemoveKeepsBackIndexesInEveryRemovalOrder) {
    std::vector<int> order = {0, 1, 2, 3, 4};
    int permutations = 0;
    do {
        Registry registry;
        std::vector<std::unique_ptr<Member>> owned;
        std::vector<Member*> members;
        for (int i = 0; i < 5; ++i) {
            owned.push_back(std::make_unique<Member>(i));
            members.push_back(owned.back().get());
            // A second room too, so members have more than one membership to search.
            ASSERT_TRUE(registry.join(*members.back(), i % 2 == 0 ? "even" : "odd"));
            ASSERT_TRUE(registry.join(*members.back(), "all"));
        }
        std::set<int> expected = {0, 1, 2, 3, 4};
        for (int index : order) {
            ASSERT_TRUE(registry.leave(*members[static_cast<std::size_t>(index)], "all"));
            expected.erase(index);
            const std::vector<int> actual = sorted(member_ids(registry, "all"));
            EXPECT_EQ(actual, std::vector<int>(expected.begin(), expected.end()));
            expect_consistent(registry, members);
            if (testing::Test::HasFailure()) {
                ADD_FAILURE() << "removal order " << order[0] << order[1] << order[2] << order[3]
                              << order[4];
                return;
            }
        }
        EXPECT_EQ(registry.find("all"), nullptr);
        EXPECT_EQ(registry.room_count(), 2u);
        ++permutations;
    } while (std::next_permutation(order.begin(), order.end()));
    EXPECT_EQ(permutations, 120);
}

TEST(RoomRegistry, SwapRemoveMiddleMembersExplicitly) {
    Registry registry;
    Member m0(0), m1(1), m2(2), m3(3), m4(4);
    std::vector<Member*> members = {&m0, &m1, &m2, &m3, &m4};
    for (Member* m : members)
        ASSERT_TRUE(registry.join(*m, "room"));
    ASSERT_TRUE(registry.leave(m2, "room"));  // m4 moves into slot 2
    EXPECT_EQ(member_ids(registry, "room"), (std::vector<int>{0, 1, 4, 3}));
    EXPECT_EQ(m4.mine[0].index, 2u);
    ASSERT_TRUE(registry.leave(m1, "room"));  // m3 moves into slot 1
    EXPECT_EQ(member_ids(registry, "room"), (std::vector<int>{0, 3, 4}));
    EXPECT_EQ(m3.mine[0].index, 1u);
    ASSERT_TRUE(registry.leave(m4, "room"));  // the last one: nobody moves
    EXPECT_EQ(member_ids(registry, "room"), (std::vector<int>{0, 3}));
    expect_consistent(registry, members);
}

TEST(RoomRegistry, LeaveAllOfMiddleMembersKeepsOtherIndexes) {
    Registry registry;
    std::vector<std::unique_ptr<Member>> owned;
    std::vector<Member*> members;
    for (int i = 0; i < 6; ++i) {
        owned.push_back(std::make_unique<Member>(i));
        members.push_back(owned.back().get());
        for (const char* room : {"a", "b", "c"})
            ASSERT_TRUE(registry.join(*members.back(), room));
    }
    registry.leave_all(*members[2]);
    registry.leave_all(*members[0]);
    registry.leave_all(*members[4]);
    for (const char* room : {"a", "b", "c"})
        EXPECT_EQ(sorted(member_ids(registry, room)), (std::vector<int>{1, 3, 5})) << room;
    expect_consistent(registry, members);
}

// Thousands of random joins, leaves and leave_alls checked against a plain map of sets.
TEST(RoomRegistry, RandomOperationsMatchAReferenceModel) {
    constexpr int kMembers = 24;
    constexpr int kRooms = 12;
    constexpr int kOperations = 20'000;
    std::mt19937 rng(0xC0FFEE);
    std::uniform_int_distribution<int> pick_member(0, kMembers - 1);
    std::uniform_int_distribution<int> pick_room(0, kRooms - 1);
    std::uniform_int_distribution<int> pick_op(0, 99);

    Registry registry;
    std::vector<std::unique_ptr<Member>> owned;
    std::vector<Member*> members;
    for (int i = 0; i < kMembers; ++i) {
        owned.push_back(std::make_unique<Member>(i));
        members.push_back(owned.back().get());
    }
    std::map<std::string, std::set<int>> model;

    for (int step = 0; step < kOperations; ++step) {
        const int who = pick_member(rng);
        Member& member = *members[static_cast<std::size_t>(who)];
        const std::string room = "room:" + std::to_string(pick_room(rng));
        const int op = pick_op(rng);
        if (op < 55) {
            const bool expected = model[room].insert(who).second;
            ASSERT_EQ(registry.join(member, room), expected) << "step " << step;
        } else if (op < 95) {
            auto it = model.find(room);
            const bool expected = it != model.end() && it->second.erase(who) == 1;
            if (it != model.end() && it->second.empty())
                model.erase(it);
            ASSERT_EQ(registry.leave(member, room), expected) << "step " << step;
        } else {
            for (auto it = model.begin(); it != model.end();) {
                it->second.erase(who);
                it = it->second.empty() ? model.erase(it) : std::next(it);
            }
            registry.leave_all(member);
            ASSERT_TRUE(member.mine.empty());
        }
        // Drop rooms the model created by a failed lookup.
        for (auto it = model.begin(); it != model.end();)
            it = it->second.empty() ? model.erase(it) : std::next(it);

        ASSERT_EQ(registry.room_count(), model.size()) << "step " << step;
        if (step % 97 == 0 || step == kOperations - 1) {
            for (const auto& [name, ids] : model) {
                ASSERT_EQ(sorted(member_ids(registry, name)),
                          std::vector<int>(ids.begin(), ids.end()))
                    << "step " << step << " room " << name;
            }
            expect_consistent(registry, members);
            ASSERT_FALSE(testing::Test::HasFailure()) << "step " << step;
        }
    }
    // Every member's view agrees with the model too.
    for (Member* member : members) {
        std::set<std::string> rooms;
        for (const auto& entry : member->memberships())
            rooms.insert(entry.room->name);
        std::set<std::string> expected;
        for (const auto& [name, ids] : model) {
            if (ids.count(member->id) != 0)
                expected.insert(name);
        }
        EXPECT_EQ(rooms, expected) << "member " << member->id;
    }
}
