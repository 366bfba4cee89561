#include "broker/broker.hpp"

namespace huddle::broker {

std::string_view to_string(BrokerState state) {
    switch (state) {
        case BrokerState::connected:
            return "connected";
        case BrokerState::degraded:
            return "degraded";
        case BrokerState::reconnecting:
            return "reconnecting";
        case BrokerState::closed:
            return "closed";
    }
    return "unknown";
}

std::string_view to_string(PublishStatus status) {
    switch (status) {
        case PublishStatus::ok:
            return "ok";
        case PublishStatus::duplicate:
            return "duplicate";
        case PublishStatus::queue_full:
            return "queue_full";
        case PublishStatus::failed:
            return "failed";
        case PublishStatus::timed_out:
            return "timed_out";
        case PublishStatus::closed:
            return "closed";
    }
    return "unknown";
}

}  // namespace huddle::broker
