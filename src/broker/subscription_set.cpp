#include "broker/subscription_set.hpp"

namespace huddle::broker {

void SubscriptionSet::update(Rooms::iterator it) {
    const Room& state = it->second;
    if (!state.wanted && !state.subscribed && !state.in_flight) {
        rooms_.erase(it);  // forgotten: memory follows the rooms that matter
        return;
    }
    if (state.wanted != state.subscribed && !state.in_flight)
        dirty_.push_back(it->first);
}

void SubscriptionSet::want(std::string_view room) {
    auto [it, added] = rooms_.try_emplace(std::string(room));
    if (it->second.wanted)
        return;
    it->second.wanted = true;
    ++wanted_count_;
    update(it);
}

void SubscriptionSet::unwant(std::string_view room) {
    const auto it = rooms_.find(std::string(room));
    if (it == rooms_.end() || !it->second.wanted)
        return;
    it->second.wanted = false;
    --wanted_count_;
    update(it);
}

SubscriptionSet::Batch SubscriptionSet::take_batch(std::size_t max) {
    Batch batch;
    std::size_t taken = 0;
    std::size_t i = 0;
    for (; i < dirty_.size() && taken < max; ++i) {
        const auto it = rooms_.find(dirty_[i]);
        if (it == rooms_.end())
            continue;
        Room& state = it->second;
        if (state.in_flight || state.wanted == state.subscribed)
            continue;
        state.in_flight = true;
        ++in_flight_count_;
        ++taken;
        (state.wanted ? batch.subscribe : batch.unsubscribe).push_back(it->first);
    }
    dirty_.erase(dirty_.begin(), dirty_.begin() + static_cast<std::ptrdiff_t>(i));
    return batch;
}

void SubscriptionSet::subscribed(std::string_view room) {
    const auto it = rooms_.find(std::string(room));
    if (it == rooms_.end() || !it->second.in_flight || it->second.subscribed)
        return;
    it->second.in_flight = false;
    --in_flight_count_;
    it->second.subscribed = true;
    ++subscribed_count_;
    update(it);
}

void SubscriptionSet::unsubscribed(std::string_view room) {
    const auto it = rooms_.find(std::string(room));
    if (it == rooms_.end() || !it->second.in_flight || !it->second.subscribed)
        return;
    it->second.in_flight = false;
    --in_flight_count_;
    it->second.subscribed = false;
    --subscribed_count_;
    update(it);
}

void SubscriptionSet::connection_lost() {
    dirty_.clear();
    for (auto it = rooms_.begin(); it != rooms_.end();) {
        Room& state = it->second;
        state.subscribed = false;
        state.in_flight = false;
        if (!state.wanted) {
            it = rooms_.erase(it);
            continue;
        }
        dirty_.push_back(it->first);
        ++it;
    }
    subscribed_count_ = 0;
    in_flight_count_ = 0;
}

bool SubscriptionSet::wanted(std::string_view room) const {
    const auto it = rooms_.find(std::string(room));
    return it != rooms_.end() && it->second.wanted;
}

bool SubscriptionSet::settled() const {
    return in_flight_count_ == 0 && subscribed_count_ == wanted_count_ && dirty_.empty();
}

}  // namespace huddle::broker
