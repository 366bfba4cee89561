// Awareness bookkeeping for one document (pure; no sockets, no clocks of its own): the latest clock
// and state of every client, which connection announced which client, the snapshot a newly
// connected client is sent, and the removal message when a connection goes away.
//
// Acceptance follows y-protocols' applyAwarenessUpdate: an entry is applied when its clock is newer
// than the known one (an unknown client counts as clock 0), or when it has the same clock, a null
// state, and the client currently has a state. Entries that do not qualify are stale and ignored.
//
// Removal on disconnect follows the y-websocket server (removeAwarenessStates): the clients of the
// connection are announced with state null and their *current* clock. Receivers accept that (same
// clock, null, state present), and a client that reconnects with the same clientID becomes visible
// again with its next clock; announcing clock+1 instead would hide it for one more renewal.
//
// Memory is bounded by the limits below: entries beyond them are refused, not stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "endpoints/yws/protocol.hpp"

namespace huddle::endpoints::yws {

struct AwarenessLimits {
    std::size_t max_clients = 10'000;             // clients with a state or a tombstone
    std::size_t max_clients_per_connection = 64;  // a browser tab announces one
    std::size_t max_state_bytes = 64 * 1024;      // JSON text of one state
};

struct AwarenessApplied {
    // Clients whose entry was accepted and announced, ascending, each once.
    std::vector<std::uint64_t> changed;
    std::size_t stale = 0;    // entries ignored for an old clock
    std::size_t refused = 0;  // entries over a limit
    // The awareness message to send to every connection of the document (including the sender, as
    // y-websocket does), carrying the accepted clients; empty when nothing was accepted.
    std::vector<std::uint8_t> message;
};

class AwarenessTable {
  public:
    AwarenessTable() = default;
    explicit AwarenessTable(AwarenessLimits limits) : limits_(limits) {}

    // Applies the entries connection `conn` announced (see the acceptance rule above). An accepted
    // entry makes `conn` the owner of that client id; a null state keeps a tombstone (its clock)
    // until the owner disconnects, so that a late older state cannot resurrect the client.
    AwarenessApplied apply(std::uint64_t conn, std::span<const AwarenessEntry> entries);

    // One awareness message with every client that has a state (ascending client id), for a newly
    // connected client; empty when there is none.
    [[nodiscard]] std::vector<std::uint8_t> snapshot() const;

    // The message telling everyone that the clients of `conn` are gone (state null, current clock),
    // or empty when none of them had a state. Forgets the connection and its clients.
    std::vector<std::uint8_t> remove_connection(std::uint64_t conn);

    // An awareness message with the current clock and state (null when removed) of `clients`; ids
    // that the table does not know are skipped. Empty when none is known.
    [[nodiscard]] std::vector<std::uint8_t> encode_clients(
        std::span<const std::uint64_t> clients) const;

    // Clients with a (non-null) state.
    [[nodiscard]] std::size_t size() const { return live_; }
    // Clients known, including tombstones.
    [[nodiscard]] std::size_t known() const { return clients_.size(); }
    [[nodiscard]] std::size_t connections() const { return conns_.size(); }

    struct Client {
        std::uint64_t clock = 0;
        std::optional<std::string> state;  // JSON; nullopt: removed (tombstone)
        std::uint64_t owner = 0;
    };
    [[nodiscard]] const Client* find(std::uint64_t client_id) const;

  private:
    void set_owner(std::uint64_t client_id, Client& client, std::uint64_t conn);

    AwarenessLimits limits_{};
    std::map<std::uint64_t, Client> clients_;
    std::map<std::uint64_t, std::set<std::uint64_t>> conns_;
    std::size_t live_ = 0;
};

}  // namespace huddle::endpoints::yws
