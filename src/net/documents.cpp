// Yjs documents served over y-websocket: every operation on a document runs on its owner loop, so
// its updates are stored, applied and relayed in one order.
#include <algorithm>
#include <iterator>
#include <optional>

#include <boost/asio/post.hpp>

#include "endpoints/document_formats.hpp"
#include "endpoints/json_text.hpp"
#include "endpoints/yws/protocol.hpp"
#include "net/clock.hpp"
#include "net/cluster.hpp"
#include "net/event_loop.hpp"
#include "net/loop_gather.hpp"
#include "net/server.hpp"
#include "net/store_batch.hpp"
#include "net/ws/frame_writer.hpp"
#include "net/ws_session.hpp"
#include "observability/log.hpp"

namespace huddle::net {
namespace asio = boost::asio;
namespace yws = endpoints::yws;
using observability::log;
using observability::LogLevel;

namespace {

using endpoints::DocumentCast;

std::string_view as_view(std::span<const std::uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string as_text(std::span<const std::uint8_t> bytes) {
    return std::string(as_view(bytes));
}

// Awareness states that came from another node are kept under one pseudo connection per node
// (the high bit set: local connection ids count up from 1 and never get there).
std::uint64_t remote_awareness_owner(std::string_view origin) {
    return (std::uint64_t{1} << 63) | (std::hash<std::string_view>{}(origin) >> 1);
}

// Applies a y-websocket awareness message announced by `owner` (a connection, or another node);
// returns the message carrying what was accepted (empty: nothing).
Server::Bytes apply_awareness(yws::AwarenessTable& table, std::span<const std::uint8_t> message,
                              std::uint64_t owner) {
    auto decoded = yws::decode_message(message);
    const auto* ok = std::get_if<yws::Decoded>(&decoded);
    if (ok == nullptr || !ok->awareness)
        return {};
    return table.apply(owner, ok->awareness->entries).message;
}

SharedFrame binary_frame(std::span<const std::uint8_t> bytes) {
    return std::make_shared<const std::string>(
        ws::encode_frame(ws::Opcode::binary, as_view(bytes)));
}

// Each protocol in use gets the update once, in its own encoding.
std::array<SharedFrame, endpoints::kDocumentFormatCount> update_frames(
    const EventLoop::OwnedDocument* doc, const std::string& document,
    std::span<const std::uint8_t> update) {
    std::array<SharedFrame, endpoints::kDocumentFormatCount> frames;
    if (doc == nullptr)
        return frames;  // not in memory: no connections
    for (std::size_t format = 1; format < frames.size(); ++format) {
        if (doc->connections_by_format[format] == 0)
            continue;
        const endpoints::EncodedUpdate encoded = endpoints::encode_document_update(
            static_cast<endpoints::DocumentFormat>(format), document, update);
        // Written straight into the frame: the update's bytes are copied once, there.
        frames[format] = std::make_shared<const std::string>(
            ws::encode_frame(encoded.text ? ws::Opcode::text : ws::Opcode::binary, encoded.head,
                             as_view(encoded.tail)));
    }
    return frames;
}

std::array<SharedFrame, endpoints::kDocumentFormatCount> only_for(endpoints::DocumentFormat format,
                                                                  SharedFrame frame) {
    std::array<SharedFrame, endpoints::kDocumentFormatCount> frames;
    frames[static_cast<std::size_t>(format)] = std::move(frame);
    return frames;
}

// Hands a loop's batch of document updates to the store (net/store_batch.hpp).
struct SubmitUpdates {
    store::Store& store;
    void operator()(std::vector<store::DocumentStore::UpdateRequest> requests) const {
        store.append_updates(std::move(requests));
    }
};

template <class Done, class... Args>
void answer(EventLoop& reply_loop, Done done, Args... args) {
    asio::post(reply_loop.io(), [done = std::move(done), ... args = std::move(args)]() mutable {
        done(std::move(args)...);
    });
}

}  // namespace

void Server::fan_out_document(std::string room,
                              std::array<SharedFrame, endpoints::kDocumentFormatCount> frames,
                              std::uint64_t excluded_connection) {
    auto delivery = std::make_shared<RoomDelivery>();
    delivery->document_frames = std::move(frames);
    delivery->room = std::move(room);
    delivery->excluded_connection = excluded_connection;
    delivery->accepted_at_us = steady_us();
    deliver_to_loops(std::move(delivery));
}

void Server::document_open(std::string document, DocumentFormat format, EventLoop& reply_loop,
                           std::function<void(std::vector<Bytes>, std::string)> done) {
    on_owner(document, [this, document, format, &reply_loop,
                        done = std::move(done)](EventLoop& owner) mutable {
        auto& documents = owner.documents();
        auto it = documents.find(document);
        if (it == documents.end()) {
            // First use: load what is stored (a read on this loop; documents are read once).
            core::DocumentLimits limits;
            limits.max_update_bytes = settings_.limits.max_document_message_bytes;
            EventLoop::OwnedDocument fresh{core::DocumentState(limits), {}, 0, {}, 0, 0, false};
            try {
                std::vector<Bytes> stored;
                for (auto& update : store_->load(document)) {
                    fresh.last_update_id = std::max(fresh.last_update_id, update.id);
                    stored.push_back(std::move(update.data));
                }
                if (auto error = fresh.state.load(stored)) {
                    log(LogLevel::error, "document.load_failed",
                        {{"document", document}, {"error", error->message}});
                    answer(reply_loop, std::move(done), std::vector<Bytes>{},
                           std::string("the document could not be loaded"));
                    return;
                }
            } catch (const std::exception& error) {
                log(LogLevel::error, "document.load_failed",
                    {{"document", document}, {"error", error.what()}});
                answer(reply_loop, std::move(done), std::vector<Bytes>{},
                       std::string("the document store is unavailable"));
                return;
            }
            it = documents.emplace(document, std::move(fresh)).first;
            if (cluster_)
                cluster_->document_loaded(document, true);
        }
        EventLoop::OwnedDocument& doc = it->second;
        ++doc.connections;
        ++doc.connections_by_format[static_cast<std::size_t>(format)];
        std::vector<Bytes> first;
        if (auto vector = doc.state.state_vector())
            first.push_back(yws::encode_sync_step1(*vector));
        if (Bytes awareness = doc.awareness.snapshot(); !awareness.empty())
            first.push_back(std::move(awareness));
        answer(reply_loop, std::move(done), std::move(first), std::string());
    });
}

void Server::document_sync(std::string document, Bytes state_vector, EventLoop& reply_loop,
                           std::function<void(Bytes, std::string)> done) {
    on_owner(document, [document, state_vector = std::move(state_vector), &reply_loop,
                        done = std::move(done)](EventLoop& owner) mutable {
        auto& documents = owner.documents();
        const auto it = documents.find(document);
        if (it == documents.end()) {
            answer(reply_loop, std::move(done), Bytes{}, std::string("document not open"));
            return;
        }
        auto diff = it->second.state.diff(state_vector);
        if (!diff) {
            answer(reply_loop, std::move(done), Bytes{}, diff.error().message);
            return;
        }
        answer(reply_loop, std::move(done), std::move(*diff), std::string());
    });
}

void Server::document_update(std::string document, Bytes update, std::uint64_t connection,
                             EventLoop& reply_loop, std::function<void(std::string)> failed) {
    // on_owner() without its std::function, which would be allocated for every update: most
    // updates come from a connection of the owner loop (all of them with one loop).
    EventLoop& owner = owner_of(document);
    if (owner.on_this_thread()) {
        store_document_update(owner, document, std::move(update), connection, reply_loop,
                              std::move(failed), false);
        return;
    }
    asio::post(owner.io(),
               [this, &owner, document = std::move(document), update = std::move(update),
                connection, &reply_loop, failed = std::move(failed)]() mutable {
                   store_document_update(owner, document, std::move(update), connection, reply_loop,
                                         std::move(failed), false);
               });
}

void Server::document_apply(std::string document, Bytes update, EventLoop& reply_loop,
                            std::function<void(std::string)> done) {
    on_owner(document, [this, document, update = std::move(update), &reply_loop,
                        done = std::move(done)](EventLoop& owner) mutable {
        store_document_update(owner, document, std::move(update), 0, reply_loop, std::move(done),
                              true);
    });
}

void Server::queue_document_update(EventLoop& owner, const std::string& document, Bytes update,
                                   store::AppendCallback done) {
    add_to_store_batch(owner.io(), owner.update_batch(),
                       {document, std::move(update), std::move(done)}, SubmitUpdates{*store_});
}

void Server::submit_document_updates(EventLoop& owner) {
    SubmitUpdates submit{*store_};
    submit_store_batch(owner.update_batch(), submit);
}

void Server::store_document_update(EventLoop& owner, const std::string& document, Bytes update,
                                   std::uint64_t connection, EventLoop& reply_loop,
                                   std::function<void(std::string)> finished, bool report_success) {
    // An empty update ({0,0}: no structs, no deletions) is what a new client with an empty
    // document answers to sync step 1: nothing to store or relay.
    if (update.size() == 2 && update[0] == 0 && update[1] == 0) {
        if (report_success)
            answer(reply_loop, std::move(finished), std::string());
        return;
    }
    auto& documents = owner.documents();
    const auto it = documents.find(document);
    // A document not in memory (backend API) is checked against an empty state: the update
    // must decode and fit the limits.
    std::optional<core::DocumentState> empty;
    if (it == documents.end()) {
        core::DocumentLimits limits;
        limits.max_update_bytes = settings_.limits.max_document_message_bytes;
        empty.emplace(limits);
    }
    const core::DocumentState& state = empty ? *empty : it->second.state;
    if (auto error = state.validate(update)) {
        answer(reply_loop, std::move(finished), error->message);
        return;
    }
    // Stored first; applied and relayed once durable, in the order the store completes. The
    // store hands the bytes back with the outcome: no copy is kept here meanwhile.
    queue_document_update(
        owner, document, std::move(update),
        [this, &owner, &reply_loop, document, connection, finished = std::move(finished),
         report_success](store::AppendResult result) mutable {
            owner.stored_updates().add(owner.io(),
                                       {std::move(document), std::move(result), connection,
                                        &reply_loop, std::move(finished), report_success},
                                       [this, &owner](StoredDocumentUpdate& stored) {
                                           relay_stored_update(owner, stored);
                                       });
        });
}

void Server::relay_stored_update(EventLoop& owner, StoredDocumentUpdate& stored) {
    const std::string& document = stored.document;
    store::AppendResult& result = stored.result;
    if (!result.ok()) {
        log(LogLevel::error, "document.append_failed",
            {{"document", document}, {"error", result.error}});
        answer(*stored.reply_loop, std::move(stored.finished),
               "the update could not be stored: " + result.error);
        return;
    }
    auto& documents = owner.documents();
    const auto found = documents.find(document);
    EventLoop::OwnedDocument* open = found == documents.end() ? nullptr : &found->second;
    // Encoded before the state takes the bytes.
    auto frames = update_frames(open, document, result.update);
    std::string cast = cluster_ ? as_text(result.update) : std::string();
    if (open != nullptr) {
        open->state.apply(std::move(result.update));
        open->last_update_id = std::max(open->last_update_id, result.update_id);
        if (open->state.needs_compaction() && !open->foreign)
            compact_document(owner, document);
    }
    fan_out_document(document_room(document), std::move(frames), stored.connection);
    // Durable first: a node that hears of it can always find it in the store.
    if (cluster_)
        cluster_->document_publish(document, {DocumentCast::Kind::update, {}, {}, std::move(cast)});
    if (stored.report_success)
        answer(*stored.reply_loop, std::move(stored.finished), std::string());
}

void Server::document_state(std::string document, EventLoop& reply_loop,
                            std::function<void(Bytes, std::string)> done) {
    on_owner(document,
             [this, document, &reply_loop, done = std::move(done)](EventLoop& owner) mutable {
                 auto& documents = owner.documents();
                 core::DocumentLimits limits;
                 limits.max_update_bytes = settings_.limits.max_document_message_bytes;
                 core::DocumentState loaded(limits);
                 const core::DocumentState* state = nullptr;
                 if (const auto it = documents.find(document); it != documents.end()) {
                     state = &it->second.state;
                 } else {
                     try {
                         std::vector<Bytes> stored;
                         for (auto& update : store_->load(document))
                             stored.push_back(std::move(update.data));
                         if (auto error = loaded.load(stored)) {
                             answer(reply_loop, std::move(done), Bytes{}, error->message);
                             return;
                         }
                     } catch (const std::exception& error) {
                         answer(reply_loop, std::move(done), Bytes{}, std::string(error.what()));
                         return;
                     }
                     state = &loaded;
                 }
                 auto full = state->full_state();
                 if (!full) {
                     answer(reply_loop, std::move(done), Bytes{}, full.error().message);
                     return;
                 }
                 answer(reply_loop, std::move(done), std::move(*full), std::string());
             });
}

void Server::document_delete(std::string document, EventLoop& reply_loop,
                             std::function<void(bool)> done) {
    on_owner(
        document, [this, document, &reply_loop, done = std::move(done)](EventLoop& owner) mutable {
            bool existed = false;
            try {
                submit_document_updates(owner);  // the updates before the removal stay before it
                existed = store_->remove(document);
            } catch (const std::exception& error) {
                log(LogLevel::error, "document.delete_failed",
                    {{"document", document}, {"error", error.what()}});
            }
            const bool was_loaded = owner.documents().erase(document) != 0;
            if (was_loaded)
                document_unloaded(document);
            existed = was_loaded || existed;
            close_deleted_document(document);
            if (cluster_)
                cluster_->document_publish(document, {DocumentCast::Kind::deleted, {}, {}, {}});
            answer(reply_loop, std::move(done), existed);
        });
}

void Server::close_deleted_document(const std::string& document) {
    // Its clients would push the content back: they are closed (44xx: do not reconnect).
    const std::string room = document_room(document);
    for (auto& loop : loops_) {
        asio::post(loop->io(), [room, &source = *loop] {
            for (const auto& session : source.members_of(room))
                session->close(4404, "document deleted");
        });
    }
}

void Server::list_documents(EventLoop& reply_loop,
                            std::function<void(std::vector<DocumentInfo>)> done) {
    gather_from_loops<std::vector<DocumentInfo>>(
        loops_, reply_loop,
        [](EventLoop& source) {
            std::vector<DocumentInfo> local;
            for (const auto& [name, doc] : source.documents())
                local.push_back(
                    {name, doc.state.byte_size(), doc.state.update_count(), doc.connections});
            return local;
        },
        [done = std::move(done)](std::vector<std::vector<DocumentInfo>> per_loop) {
            std::vector<DocumentInfo> documents;
            for (auto& local : per_loop)
                std::move(local.begin(), local.end(), std::back_inserter(documents));
            std::sort(documents.begin(), documents.end(),
                      [](const DocumentInfo& a, const DocumentInfo& b) { return a.name < b.name; });
            done(std::move(documents));
        });
}

void Server::document_awareness(std::string document, Bytes message, std::uint64_t connection) {
    on_owner(document, [this, document, message = std::move(message),
                        connection](EventLoop& owner) {
        auto& documents = owner.documents();
        const auto it = documents.find(document);
        if (it == documents.end())
            return;
        const Server::Bytes accepted = apply_awareness(it->second.awareness, message, connection);
        if (accepted.empty())
            return;
        // To every connection, the sender too, as y-websocket does: a lone provider hears its
        // own renewals, which keeps its 30 s no-message watchdog from reconnecting.
        fan_out_document(document_room(document),
                         only_for(DocumentFormat::y_websocket, binary_frame(accepted)), 0);
        if (cluster_)
            cluster_->document_publish(document,
                                       {DocumentCast::Kind::awareness, {}, {}, as_text(accepted)});
    });
}

void Server::document_query_awareness(std::string document, EventLoop& reply_loop,
                                      std::function<void(Bytes)> done) {
    on_owner(document, [document, &reply_loop, done = std::move(done)](EventLoop& owner) mutable {
        auto& documents = owner.documents();
        const auto it = documents.find(document);
        Bytes snapshot = it == documents.end() ? Bytes{} : it->second.awareness.snapshot();
        answer(reply_loop, std::move(done), std::move(snapshot));
    });
}

void Server::document_close(std::string document, DocumentFormat format, std::uint64_t connection) {
    on_owner(document, [this, document, format, connection](EventLoop& owner) {
        auto& documents = owner.documents();
        const auto it = documents.find(document);
        if (it == documents.end())
            return;
        auto& by_format = it->second.connections_by_format[static_cast<std::size_t>(format)];
        by_format -= by_format > 0 ? 1 : 0;
        Bytes removal = it->second.awareness.remove_connection(connection);
        if (!removal.empty()) {
            fan_out_document(document_room(document),
                             only_for(DocumentFormat::y_websocket, binary_frame(removal)),
                             connection);
            if (cluster_)
                cluster_->document_publish(
                    document, {DocumentCast::Kind::awareness, {}, {}, as_text(removal)});
        }
        // Memory follows the documents in use: the state is stored, it is read again on next use
        // after documents.idle_unload.
        if (--it->second.connections == 0)
            it->second.idle_since_ms = steady_ms();  // the loop's sweep unloads it once idle
    });
}

}  // namespace huddle::net

namespace huddle::net {

void Server::document_relay_text(std::string document, DocumentFormat format, std::string text,
                                 std::uint64_t connection) {
    // Through the owner, so that relayed messages keep their order with the document's updates.
    on_owner(document, [this, document, format, text = std::move(text), connection](EventLoop&) {
        fan_out_document(document_room(document), only_for(format, make_text_frame(text)),
                         connection);
        if (cluster_)
            cluster_->document_publish(document, {DocumentCast::Kind::relay, format, {}, text});
    });
}

void Server::document_send_text(std::string document, DocumentFormat format, std::string client,
                                std::string text) {
    on_owner(document, [this, document, format, client = std::move(client),
                        text = std::move(text)](EventLoop&) {
        const std::string room =
            client.empty() ? document_room(document) : document_client_room(document, client);
        fan_out_document(room, only_for(format, make_text_frame(text)), 0);
        if (cluster_)
            cluster_->document_publish(document, {DocumentCast::Kind::send, format, client, text});
    });
}

void Server::document_connections(
    std::string document, EventLoop& reply_loop,
    std::function<void(std::array<std::size_t, endpoints::kDocumentFormatCount>)> done) {
    on_owner(document, [document, &reply_loop, done = std::move(done)](EventLoop& owner) mutable {
        std::array<std::size_t, endpoints::kDocumentFormatCount> counts{};
        if (const auto it = owner.documents().find(document); it != owner.documents().end())
            counts = it->second.connections_by_format;
        answer(reply_loop, std::move(done), counts);
    });
}

}  // namespace huddle::net

namespace huddle::net {

void Server::compact_document(EventLoop& owner, const std::string& document) {
    if (owner.compaction_running)
        return;
    auto& doc = owner.documents().at(document);
    auto compaction = doc.state.compact();
    if (!compaction) {
        log(LogLevel::warn, "document.compaction_failed",
            {{"document", document}, {"error", compaction.error().message}});
        return;
    }
    // The merged state covers exactly the updates up to the last one applied; if the store holds
    // another count up to that id (another node wrote meanwhile), it refuses and we retry later.
    auto shared = std::make_shared<core::DocumentState::Compaction>(std::move(*compaction));
    const std::uint64_t up_to_id = doc.last_update_id;
    owner.compaction_running = true;
    asio::post(maintenance_, [this, &owner, document, shared, up_to_id] {
        bool stored = false;
        try {
            stored = store_->compact(document, up_to_id, shared->replaced, shared->merged);
        } catch (const std::exception& error) {
            log(LogLevel::warn, "document.compaction_failed",
                {{"document", document}, {"error", error.what()}});
        }
        asio::post(owner.io(), [&owner, document, shared, stored] {
            owner.compaction_running = false;
            // The document may have left memory meanwhile: it is reloaded from the store anyway.
            if (auto it = owner.documents().find(document); it != owner.documents().end())
                it->second.state.finish_compaction(*shared, stored);
        });
    });
}

}  // namespace huddle::net

namespace huddle::net {

void Server::document_unloaded(const std::string& document) {
    if (cluster_)
        cluster_->document_loaded(document, false);
}

void Server::document_from_cluster(std::string document, std::string origin, DocumentCast cast) {
    on_owner(document, [this, document, origin = std::move(origin),
                        cast = std::move(cast)](EventLoop& owner) mutable {
        const std::string room = document_room(document);
        switch (cast.kind) {
            case DocumentCast::Kind::relay:
                fan_out_document(room, only_for(cast.format, make_text_frame(cast.body)), 0);
                return;
            case DocumentCast::Kind::send:
                fan_out_document(
                    cast.client.empty() ? room : document_client_room(document, cast.client),
                    only_for(cast.format, make_text_frame(cast.body)), 0);
                return;
            case DocumentCast::Kind::deleted:
                // The node that deleted it removed it from the shared store.
                if (owner.documents().erase(document) != 0)
                    document_unloaded(document);
                close_deleted_document(document);
                return;
            default:
                break;
        }
        const auto it = owner.documents().find(document);
        if (it == owner.documents().end())
            return;  // unloaded meanwhile: the store has it for the next load
        EventLoop::OwnedDocument& doc = it->second;
        const auto* data = reinterpret_cast<const std::uint8_t*>(cast.body.data());
        const std::span<const std::uint8_t> bytes(data, cast.body.size());
        if (cast.kind == DocumentCast::Kind::awareness) {
            // Kept as well as relayed, so that a client opening the document here sees the other
            // nodes' users at once rather than at their next renewal.
            const Server::Bytes accepted =
                apply_awareness(doc.awareness, bytes, remote_awareness_owner(origin));
            if (!accepted.empty())
                fan_out_document(room,
                                 only_for(DocumentFormat::y_websocket, binary_frame(accepted)), 0);
            return;
        }
        const Bytes update(bytes.begin(), bytes.end());
        if (auto error = doc.state.validate(update)) {
            log(LogLevel::warn, "document.cluster_update_refused",
                {{"document", document}, {"error", error->message}});
            return;
        }
        doc.state.apply(update);
        doc.foreign = true;
        fan_out_document(room, update_frames(&doc, document, update), 0);
    });
}

void Server::forget_node_awareness(const std::string& origin) {
    const std::uint64_t owner = remote_awareness_owner(origin);
    for (const auto& loop : loops_) {
        asio::post(loop->io(), [this, owner, &target = *loop] {
            for (auto& [document, doc] : target.documents()) {
                const Bytes removal = doc.awareness.remove_connection(owner);
                if (!removal.empty())
                    fan_out_document(document_room(document),
                                     only_for(DocumentFormat::y_websocket, binary_frame(removal)),
                                     0);
            }
        });
    }
}

void Server::document_catch_up(std::string document) {
    on_owner(document, [this, document](EventLoop& owner) {
        const auto it = owner.documents().find(document);
        if (it == owner.documents().end())
            return;
        EventLoop::OwnedDocument& doc = it->second;
        core::DocumentLimits limits;
        limits.max_update_bytes = settings_.limits.max_document_message_bytes;
        core::DocumentState stored_state(limits);
        try {
            std::vector<Bytes> stored;
            for (auto& update : store_->load(document))
                stored.push_back(std::move(update.data));
            if (auto error = stored_state.load(stored))
                throw std::runtime_error(error->message);
        } catch (const std::exception& error) {
            log(LogLevel::warn, "document.catch_up_failed",
                {{"document", document}, {"error", error.what()}});
            return;
        }
        const auto vector = doc.state.state_vector();
        if (!vector)
            return;
        auto missing = stored_state.diff(*vector);
        // {0,0}: nothing the state lacks.
        if (!missing || (missing->size() == 2 && (*missing)[0] == 0 && (*missing)[1] == 0))
            return;
        doc.state.apply(*missing);
        doc.foreign = true;
        fan_out_document(document_room(document), update_frames(&doc, document, *missing), 0);
    });
}

}  // namespace huddle::net
