// A document update the store completed, on its way back to the document's owner loop to be
// applied and relayed (or its failure told): what the loop's inbox holds (net/loop_inbox.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "store/store.hpp"

namespace huddle::net {

class EventLoop;

struct StoredDocumentUpdate {
    std::string document;
    store::AppendResult result;
    std::uint64_t connection = 0;  // the sender, which does not get its own update
    EventLoop* reply_loop = nullptr;
    std::function<void(std::string)> finished;
    bool report_success = false;
};

}  // namespace huddle::net
