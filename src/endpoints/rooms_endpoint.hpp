// The native rooms protocol: turns decoded requests into room operations under the namespace
// rules and limits, and answers each request (docs/protocol.md).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/namespace_rules.hpp"
#include "endpoints/rooms_context.hpp"
#include "endpoints/rooms_messages.hpp"

namespace huddle::endpoints {

struct RoomsLimits {
    std::uint32_t max_rooms_per_connection = 100;
};

class RoomsEndpoint {
  public:
    RoomsEndpoint(const core::NamespaceTable& namespaces, RoomsLimits limits)
        : namespaces_(namespaces), limits_(limits) {}

    const core::NamespaceTable& namespaces() const { return namespaces_; }

    // A text message from the client.
    void on_text(std::string_view text, RoomsContext& context) const;

    // A binary message: the JSON protocol has none; answered with an error, connection kept.
    void on_binary(RoomsContext& context) const;

  private:
    void subscribe(const Request& request, RoomsContext& context) const;
    void join_and_answer(std::string_view id_json, std::vector<RoomResult> results,
                         const std::vector<Request::Resume>& recover, RoomsContext& context) const;
    void unsubscribe(const Request& request, RoomsContext& context) const;
    void publish(const Request& request, RoomsContext& context) const;
    void typing(const Request& request, RoomsContext& context) const;
    void refresh(const Request& request, RoomsContext& context) const;
    void presence(const Request& request, RoomsContext& context) const;
    bool member_room(const Request& request, RoomsContext& context) const;

    const core::NamespaceTable& namespaces_;
    RoomsLimits limits_;
};

// {"userId":...,"typing":bool}: the payload of user.typing events (also sent when a typing
// connection leaves or closes).
std::string typing_payload(std::string_view user_id, bool typing);

}  // namespace huddle::endpoints
