#include "endpoints/yws/awareness.hpp"

#include <algorithm>

namespace huddle::endpoints::yws {

const AwarenessTable::Client* AwarenessTable::find(std::uint64_t client_id) const {
    const auto it = clients_.find(client_id);
    return it == clients_.end() ? nullptr : &it->second;
}

void AwarenessTable::set_owner(std::uint64_t client_id, Client& client, std::uint64_t conn) {
    if (client.owner == conn) {
        return;
    }
    const auto old = conns_.find(client.owner);
    if (old != conns_.end()) {
        old->second.erase(client_id);
        if (old->second.empty()) {
            conns_.erase(old);
        }
    }
    conns_[conn].insert(client_id);
    client.owner = conn;
}

AwarenessApplied AwarenessTable::apply(std::uint64_t conn,
                                       std::span<const AwarenessEntry> entries) {
    AwarenessApplied result;
    for (const auto& entry : entries) {
        const bool removing = entry.removed();
        auto it = clients_.find(entry.client_id);
        const bool known = it != clients_.end();
        const std::uint64_t current_clock = known ? it->second.clock : 0;
        const bool has_state = known && it->second.state.has_value();
        if (!(current_clock < entry.clock ||
              (current_clock == entry.clock && removing && has_state))) {
            ++result.stale;
            continue;
        }
        if (!removing && entry.state_json.size() > limits_.max_state_bytes) {
            ++result.refused;
            continue;
        }
        const bool owned_here = known && it->second.owner == conn;
        if (!owned_here) {
            const auto mine = conns_.find(conn);
            const std::size_t owned = mine == conns_.end() ? 0 : mine->second.size();
            if (owned >= limits_.max_clients_per_connection ||
                (!known && clients_.size() >= limits_.max_clients)) {
                ++result.refused;
                continue;
            }
        }
        if (!known) {
            it = clients_.emplace(entry.client_id, Client{}).first;
            it->second.owner = conn;
            conns_[conn].insert(entry.client_id);
        } else {
            set_owner(entry.client_id, it->second, conn);
        }
        Client& client = it->second;
        client.clock = entry.clock;
        if (removing) {
            if (client.state) {
                client.state.reset();
                --live_;
            }
        } else {
            if (!client.state) {
                ++live_;
            }
            client.state.emplace(entry.state_json);
        }
        // y-protocols announces added, updated (renewals too) and removed clients; a null state for
        // a client never seen before is recorded silently.
        if (known || !removing) {
            result.changed.push_back(entry.client_id);
        }
    }
    std::sort(result.changed.begin(), result.changed.end());
    result.changed.erase(std::unique(result.changed.begin(), result.changed.end()),
                         result.changed.end());
    result.message = encode_clients(result.changed);
    return result;
}

std::vector<std::uint8_t> AwarenessTable::encode_clients(
    std::span<const std::uint64_t> clients) const {
    std::vector<AwarenessEntry> entries;
    entries.reserve(clients.size());
    for (const std::uint64_t id : clients) {
        const Client* client = find(id);
        if (client == nullptr) {
            continue;
        }
        entries.push_back(AwarenessEntry{
            id, client->clock,
            client->state ? std::string_view(*client->state) : std::string_view("null")});
    }
    if (entries.empty()) {
        return {};
    }
    return encode_awareness(entries);
}

std::vector<std::uint8_t> AwarenessTable::snapshot() const {
    std::vector<AwarenessEntry> entries;
    entries.reserve(live_);
    for (const auto& [id, client] : clients_) {
        if (client.state) {
            entries.push_back(AwarenessEntry{id, client.clock, *client.state});
        }
    }
    if (entries.empty()) {
        return {};
    }
    return encode_awareness(entries);
}

std::vector<std::uint8_t> AwarenessTable::remove_connection(std::uint64_t conn) {
    const auto it = conns_.find(conn);
    if (it == conns_.end()) {
        return {};
    }
    std::vector<AwarenessEntry> gone;
    for (const std::uint64_t id : it->second) {
        const auto client = clients_.find(id);
        if (client == clients_.end()) {
            continue;
        }
        if (client->second.state) {
            gone.push_back(AwarenessEntry{id, client->second.clock, "null"});
            --live_;
        }
        clients_.erase(client);
    }
    conns_.erase(it);
    if (gone.empty()) {
        return {};
    }
    return encode_awareness(gone);
}

}  // namespace huddle::endpoints::yws
