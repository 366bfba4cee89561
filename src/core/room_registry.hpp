// Rooms of one event loop and their members, indexed both ways so that joining, leaving and
// dropping a member are O(rooms of that member), whatever the size of the room. Empty rooms are
// freed at once: memory follows the live rooms.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace huddle::core {

template <class Member>
class RoomRegistry {
  public:
    struct Room {
        std::string name;
        std::vector<Member*> members;
    };
    // Where a member sits: the room and its index in the room's member vector.
    struct Membership {
        Room* room;
        std::uint32_t index;
    };
    // Each member owns one of these; the registry keeps it in step.
    using Memberships = std::vector<Membership>;

    // Member must offer `Memberships& memberships()`.
    bool join(Member& member, std::string_view room_name) {
        Memberships& mine = member.memberships();
        for (const Membership& entry : mine) {
            if (entry.room->name == room_name)
                return false;
        }
        Room& room = find_or_create(room_name);
        mine.push_back({&room, static_cast<std::uint32_t>(room.members.size())});
        room.members.push_back(&member);
        return true;
    }

    bool leave(Member& member, std::string_view room_name) {
        Memberships& mine = member.memberships();
        for (std::size_t i = 0; i < mine.size(); ++i) {
            if (mine[i].room->name != room_name)
                continue;
            const Membership gone = mine[i];
            mine[i] = mine.back();
            mine.pop_back();
            remove_from_room(gone);
            return true;
        }
        return false;
    }

    void leave_all(Member& member) {
        Memberships& mine = member.memberships();
        while (!mine.empty()) {
            const Membership gone = mine.back();
            mine.pop_back();
            remove_from_room(gone);
        }
        Memberships().swap(mine);
    }

    const Room* find(std::string_view room_name) const {
        const auto it = rooms_.find(room_name);
        return it == rooms_.end() ? nullptr : it->second.get();
    }

    std::size_t room_count() const { return rooms_.size(); }

    template <class Visit>
    void for_each_room(Visit&& visit) const {
        for (const auto& [name, room] : rooms_)
            visit(*room);
    }

  private:
    Room& find_or_create(std::string_view room_name) {
        if (auto it = rooms_.find(room_name); it != rooms_.end())
            return *it->second;
        auto room = std::make_unique<Room>();
        room->name.assign(room_name);
        Room& ref = *room;
        rooms_.emplace(std::string_view(ref.name), std::move(room));
        return ref;
    }

    // Swap-remove from the room's vector and fix the moved member's back-index.
    void remove_from_room(const Membership& gone) {
        Room& room = *gone.room;
        Member* moved = room.members.back();
        room.members[gone.index] = moved;
        room.members.pop_back();
        if (moved != nullptr && gone.index < room.members.size()) {
            for (Membership& entry : moved->memberships()) {
                if (entry.room == &room) {
                    entry.index = gone.index;
                    break;
                }
            }
        }
        if (room.members.empty())
            rooms_.erase(rooms_.find(std::string_view(room.name)));
    }

    struct NameHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view name) const {
            return std::hash<std::string_view>{}(name);
        }
    };
    // Keys view the name held by the Room itself (rooms are heap-allocated and never move).
    std::unordered_map<std::string_view, std::unique_ptr<Room>, NameHash, std::equal_to<>> rooms_;
};

}  // namespace huddle::core
