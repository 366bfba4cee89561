// DocumentState against the reference vectors written by the JavaScript Yjs (tests/yjs-vectors),
// and its limits, errors and compaction bookkeeping.
#include "core/document_state.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../yjs/yjs_test_helpers.hpp"
#include "yjs/yjs.hpp"

namespace huddle::core {
namespace {

namespace json = boost::json;
using Bytes = DocumentState::Bytes;
using Code = DocumentError::Code;
using yjs::dump_of;
using yjs::to_hex;

struct VectorCase {
    std::string name;
    json::object data;
};

std::vector<VectorCase> load_cases() {
    std::vector<VectorCase> out;
    for (const auto& entry : std::filesystem::directory_iterator(HUDDLE_YJS_VECTORS_DIR)) {
        if (entry.path().extension() != ".json") {
            continue;
        }
        std::ifstream in(entry.path());
        std::stringstream ss;
        ss << in.rdbuf();
        out.push_back({entry.path().stem().string(), json::parse(ss.str()).as_object()});
    }
    std::sort(out.begin(), out.end(),
              [](const VectorCase& a, const VectorCase& b) { return a.name < b.name; });
    return out;
}

const std::vector<VectorCase>& cases() {
    static const std::vector<VectorCase> all = load_cases();
    return all;
}

const json::object& case_named(const std::string& name) {
    for (const auto& c : cases()) {
        if (c.name == name) {
            return c.data;
        }
    }
    throw std::runtime_error("no vector case " + name);
}

Bytes hex_of(const json::value& v) {
    return yjs::from_hex(std::string(v.as_string()));
}

std::vector<Bytes> hex_list(const json::value& v) {
    std::vector<Bytes> out;
    for (const auto& e : v.as_array()) {
        out.push_back(hex_of(e));
    }
    return out;
}

// The state vector as Y.encodeStateVector writes it (sorted by client, descending).
std::string sorted_sv_hex(const Bytes& sv) {
    auto decoded = yjs::decode_state_vector(sv);
    EXPECT_TRUE(decoded.ok());
    return decoded ? to_hex(yjs::encode_state_vector(*decoded)) : "";
}

template <class T>
T value_of(const DocumentResult<T>& r) {
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : T{};
}

std::string sv_hex(const DocumentState& doc) {
    return to_hex(value_of(doc.state_vector()));
}

// Validates and applies, as the server does (the store sits between the two).
void apply_checked(DocumentState& doc, const Bytes& update) {
    auto refused = doc.validate(update);
    ASSERT_FALSE(refused.has_value()) << refused->message;
    doc.apply(update);
}

class DocumentVectors : public ::testing::TestWithParam<std::size_t> {
  protected:
    const json::object& d() const { return cases().at(GetParam()).data; }
    std::string expected_sv() const { return std::string(d().at("doc_sv").as_string()); }
};

TEST(DocumentVectorsFolder, HasCases) {
    EXPECT_GE(cases().size(), 10U);
}

TEST_P(DocumentVectors, LoadedStateMatchesYjs) {
    const auto updates = hex_list(d().at("updates"));
    DocumentState doc;
    ASSERT_FALSE(doc.load(updates).has_value());
    EXPECT_EQ(doc.update_count(), updates.size());
    EXPECT_EQ(sv_hex(doc), expected_sv());
    EXPECT_EQ(sv_hex(doc), sorted_sv_hex(hex_of(d().at("merged_sv"))));

    // The full state is Y.mergeUpdates of everything, byte for byte, and decodes.
    const Bytes full = value_of(doc.full_state());
    EXPECT_EQ(to_hex(full), std::string(d().at("merged").as_string()));
    auto full_sv = yjs::encode_state_vector_from_update(full);
    ASSERT_TRUE(full_sv.ok()) << full_sv.error().message;
    EXPECT_EQ(sorted_sv_hex(*full_sv), expected_sv());
}

TEST_P(DocumentVectors, DiffsMatchYjs) {
    DocumentState doc;
    ASSERT_FALSE(doc.load(hex_list(d().at("updates"))).has_value());
    for (const auto& entry : d().at("diffs").as_array()) {
        const auto& o = entry.as_object();
        const Bytes sv = hex_of(o.at("sv"));
        const Bytes diff = value_of(doc.diff(sv));
        EXPECT_EQ(to_hex(diff), std::string(o.at("diff").as_string())) << "sv " << to_hex(sv);
    }
    // A client that has everything gets an update with nothing in it.
    const Bytes none = value_of(doc.diff(value_of(doc.state_vector())));
    auto decoded = yjs::decode_update(none);
    ASSERT_TRUE(decoded.ok());
    EXPECT_TRUE(decoded->structs.empty());
    // A new client (empty state vector) gets the whole document.
    EXPECT_EQ(dump_of(value_of(doc.diff(Bytes{0}))), dump_of(value_of(doc.full_state())));
}

TEST_P(DocumentVectors, AppliedOneByOneMatchesLoaded) {
    const auto updates = hex_list(d().at("updates"));
    DocumentState loaded;
    ASSERT_FALSE(loaded.load(updates).has_value());

    // Queries at irregular points merge what is pending; the result must not depend on them.
    DocumentState doc;
    ASSERT_FALSE(doc.load({}).has_value());
    for (std::size_t i = 0; i < updates.size(); ++i) {
        apply_checked(doc, updates[i]);
        if (i % 7 == 3) {
            (void)value_of(doc.state_vector());
            EXPECT_EQ(doc.pending_count(), 0U);
        }
    }
    EXPECT_EQ(doc.update_count(), updates.size());
    EXPECT_EQ(sv_hex(doc), expected_sv());
    EXPECT_EQ(dump_of(value_of(doc.full_state())), dump_of(value_of(loaded.full_state())));
    for (const auto& entry : d().at("diffs").as_array()) {
        const Bytes sv = hex_of(entry.as_object().at("sv"));
        EXPECT_EQ(dump_of(value_of(doc.diff(sv))), dump_of(value_of(loaded.diff(sv))));
    }

    // Another order of arrival reaches the same state.
    DocumentState reversed;
    for (auto it = updates.rbegin(); it != updates.rend(); ++it) {
        apply_checked(reversed, *it);
    }
    EXPECT_EQ(sv_hex(reversed), expected_sv());
}

TEST_P(DocumentVectors, CompactionKeepsTheState) {
    const auto updates = hex_list(d().at("updates"));
    const std::size_t half = updates.size() / 2;
    DocumentState doc;
    ASSERT_FALSE(doc.load(std::vector<Bytes>(updates.begin(), updates.begin() + half)).has_value());
    for (std::size_t i = half; i < updates.size(); ++i) {
        apply_checked(doc, updates[i]);
    }
    const Bytes before_full = value_of(doc.full_state());
    const std::string before_sv = sv_hex(doc);

    auto compaction = doc.compact();
    ASSERT_TRUE(compaction.ok()) << compaction.error().message;
    EXPECT_EQ(compaction->replaced, updates.size());
    EXPECT_EQ(dump_of(compaction->merged), dump_of(before_full));

    // Updates arriving while the store compacts follow the replaced ones.
    apply_checked(doc, updates.front());
    doc.finish_compaction(*compaction, true);
    EXPECT_EQ(doc.update_count(), 2U);
    EXPECT_EQ(sv_hex(doc), before_sv);
    EXPECT_EQ(dump_of(value_of(doc.full_state())), dump_of(before_full));

    // What the store now holds loads into the same document.
    DocumentState reloaded;
    ASSERT_FALSE(reloaded.load({compaction->merged, updates.front()}).has_value());
    EXPECT_EQ(sv_hex(reloaded), before_sv);
    EXPECT_EQ(dump_of(value_of(reloaded.full_state())), dump_of(before_full));
}

TEST_P(DocumentVectors, TruncatedUpdatesAreRefused) {
    const Bytes state = hex_of(d().at("doc_state"));
    DocumentState doc;
    ASSERT_FALSE(doc.load(hex_list(d().at("updates"))).has_value());
    const std::string sv_before = sv_hex(doc);
    // Every strict prefix (a sample of them for the larger documents).
    const std::size_t step = std::max<std::size_t>(1, state.size() / 200);
    for (std::size_t n = 0; n < state.size(); n += step) {
        auto refused = doc.validate(std::span<const std::uint8_t>(state.data(), n));
        ASSERT_TRUE(refused.has_value()) << "prefix of " << n << " bytes";
        EXPECT_EQ(refused->code, Code::invalid_update);
        EXPECT_EQ(refused->code_name(), "INVALID_UPDATE");
    }
    EXPECT_FALSE(doc.validate(state).has_value());
    EXPECT_EQ(sv_hex(doc), sv_before);
    EXPECT_EQ(doc.update_count(), hex_list(d().at("updates")).size());
}

TEST_P(DocumentVectors, CorruptStoredUpdateRefusesTheDocument) {
    const auto updates = hex_list(d().at("updates"));
    DocumentState doc;
    ASSERT_FALSE(doc.load({hex_of(d().at("merged"))}).has_value());
    const std::string sv_before = sv_hex(doc);

    auto stored = updates;
    const Bytes& last = stored.back();
    stored.back() = Bytes(last.begin(), last.end() - 1);
    auto refused = doc.load(stored);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->code, Code::corrupt_document);
    EXPECT_NE(refused->message.find("stored update " + std::to_string(stored.size()) + " of " +
                                    std::to_string(stored.size())),
              std::string::npos)
        << refused->message;
    // The previous state is untouched.
    EXPECT_EQ(sv_hex(doc), sv_before);
    EXPECT_EQ(doc.update_count(), 1U);
}

std::string case_name(const ::testing::TestParamInfo<std::size_t>& info) {
    return cases().at(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(DocumentYjs, DocumentVectors,
                         ::testing::Range<std::size_t>(0, cases().size()), case_name);

// ---------------------------------------------------------------------------------------------

std::vector<Bytes> text_updates() {
    return hex_list(case_named("text_basic").at("updates"));
}

TEST(DocumentState, EmptyDocument) {
    DocumentState doc;
    EXPECT_EQ(to_hex(value_of(doc.state_vector())), "00");
    EXPECT_EQ(to_hex(value_of(doc.full_state())), "0000");
    EXPECT_EQ(to_hex(value_of(doc.diff(Bytes{0}))), "0000");
    EXPECT_EQ(doc.update_count(), 0U);
    EXPECT_EQ(doc.byte_size(), 2U);
    EXPECT_FALSE(doc.needs_compaction());
    ASSERT_FALSE(doc.load({}).has_value());
    EXPECT_EQ(to_hex(value_of(doc.full_state())), "0000");
}

TEST(DocumentState, InvalidStateVectorIsAClearError) {
    DocumentState doc;
    ASSERT_FALSE(doc.load(text_updates()).has_value());
    for (const Bytes& bad : {Bytes{}, Bytes{0xff}, Bytes{0x02, 0x01}, Bytes{0x01, 0x80}}) {
        auto r = doc.diff(bad);
        ASSERT_FALSE(r.ok()) << to_hex(bad);
        EXPECT_EQ(r.error().code, Code::invalid_state_vector);
        EXPECT_EQ(r.error().code_name(), "INVALID_STATE_VECTOR");
    }
    // The document still answers.
    EXPECT_EQ(sv_hex(doc), std::string(case_named("text_basic").at("doc_sv").as_string()));
}

TEST(DocumentState, GarbageUpdatesAreRefused) {
    DocumentState doc;
    for (const Bytes& bad : {Bytes{}, Bytes{0xff, 0xff, 0xff}, Bytes{0x01, 0x01}, Bytes{0x00}}) {
        auto refused = doc.validate(bad);
        ASSERT_TRUE(refused.has_value()) << to_hex(bad);
        EXPECT_EQ(refused->code, Code::invalid_update);
    }
    EXPECT_FALSE(doc.validate(Bytes{0, 0}).has_value());
}

TEST(DocumentState, OversizeUpdateIsRefused) {
    const auto updates = text_updates();
    const Bytes& big =
        *std::max_element(updates.begin(), updates.end(),
                          [](const Bytes& a, const Bytes& b) { return a.size() < b.size(); });
    DocumentState::Limits limits;
    limits.max_update_bytes = big.size() - 1;
    DocumentState doc(limits);
    auto refused = doc.validate(big);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->code, Code::update_too_large);
    EXPECT_EQ(refused->code_name(), "UPDATE_TOO_LARGE");

    limits.max_update_bytes = big.size();
    EXPECT_FALSE(DocumentState(limits).validate(big).has_value());
}

TEST(DocumentState, DocumentSizeIsBounded) {
    const auto updates = text_updates();
    DocumentState probe;
    ASSERT_FALSE(probe.load(updates).has_value());
    const std::size_t merged_size = value_of(probe.full_state()).size();

    // Room for the document, not for much more.
    DocumentState::Limits limits;
    limits.max_document_bytes = merged_size + 8;
    DocumentState doc(limits);
    ASSERT_FALSE(doc.load(updates).has_value());
    EXPECT_EQ(doc.byte_size(), merged_size);
    Bytes extra = hex_of(case_named("map_nested").at("merged"));
    auto refused = doc.validate(extra);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->code, Code::document_too_large);
    EXPECT_EQ(refused->code_name(), "DOCUMENT_TOO_LARGE");

    // Updates that repeat what the document holds are merged away before refusing.
    limits.max_document_bytes = merged_size * 3;
    DocumentState dup(limits);
    ASSERT_FALSE(dup.load(updates).has_value());
    const Bytes whole = value_of(dup.full_state());
    for (int i = 0; i < 6; ++i) {
        auto r = dup.validate(whole);
        ASSERT_FALSE(r.has_value()) << "round " << i << ": " << r->message;
        dup.apply(whole);
        EXPECT_LE(dup.byte_size(), limits.max_document_bytes);
    }
    EXPECT_EQ(dump_of(value_of(dup.full_state())), dump_of(whole));
}

TEST(DocumentState, OversizeStoredDocumentStillLoads) {
    DocumentState::Limits limits;
    limits.max_document_bytes = 4;
    DocumentState doc(limits);
    ASSERT_FALSE(doc.load(text_updates()).has_value());
    EXPECT_EQ(sv_hex(doc), std::string(case_named("text_basic").at("doc_sv").as_string()));
    auto refused = doc.validate(Bytes{0, 0});
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->code, Code::document_too_large);
}

TEST(DocumentState, ApplyDoesNotMergeUntilAsked) {
    const auto updates = text_updates();
    DocumentState doc;
    std::size_t bytes = 2;
    for (const auto& u : updates) {
        apply_checked(doc, u);
        bytes += u.size();
    }
    EXPECT_EQ(doc.pending_count(), updates.size());
    EXPECT_EQ(doc.byte_size(), bytes);
    (void)value_of(doc.state_vector());
    EXPECT_EQ(doc.pending_count(), 0U);
    EXPECT_EQ(doc.update_count(), updates.size());
}

TEST(DocumentState, PendingUpdatesAreMergedWhenTheyPileUp) {
    const auto updates = hex_list(case_named("random_2_clients").at("updates"));
    DocumentState::Limits limits;
    limits.compact_after_updates = 10;
    DocumentState doc(limits);
    for (std::size_t i = 0; i < 25; ++i) {
        apply_checked(doc, updates[i]);
    }
    EXPECT_EQ(doc.pending_count(), 5U);
    EXPECT_EQ(doc.update_count(), 25U);
}

TEST(DocumentState, CompactionBookkeeping) {
    const auto updates = hex_list(case_named("random_2_clients").at("updates"));
    DocumentState::Limits limits;
    limits.compact_after_updates = 4;
    // A new document: its first compaction is due on the count alone (the state it would replace
    // is empty; see LargeDocumentIsCompactedOnceTheLogDoublesIt for the size condition).
    DocumentState doc(limits);
    for (std::size_t i = 0; i < 3; ++i) {
        apply_checked(doc, updates[i]);
    }
    EXPECT_FALSE(doc.needs_compaction());
    apply_checked(doc, updates[3]);
    EXPECT_FALSE(doc.needs_compaction());  // 4 stored: not more than 4
    apply_checked(doc, updates[4]);
    ASSERT_TRUE(doc.needs_compaction());

    auto first = doc.compact();
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->replaced, 5U);
    EXPECT_TRUE(doc.compaction_in_flight());
    EXPECT_FALSE(doc.needs_compaction());  // one at a time
    apply_checked(doc, updates[5]);
    EXPECT_FALSE(doc.needs_compaction());

    // The store refused (e.g. another writer): wait for compact_after_updates more updates.
    doc.finish_compaction(*first, false);
    EXPECT_FALSE(doc.compaction_in_flight());
    EXPECT_EQ(doc.update_count(), 6U);
    EXPECT_FALSE(doc.needs_compaction());
    for (std::size_t i = 6; i < 9; ++i) {
        apply_checked(doc, updates[i]);
        EXPECT_FALSE(doc.needs_compaction()) << i;
    }
    apply_checked(doc, updates[9]);
    ASSERT_TRUE(doc.needs_compaction());

    auto second = doc.compact();
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second->replaced, 10U);
    apply_checked(doc, updates[10]);
    apply_checked(doc, updates[11]);
    doc.finish_compaction(*second, true);
    EXPECT_EQ(doc.update_count(), 3U);  // the merged update and the two applied meanwhile
    EXPECT_FALSE(doc.needs_compaction());

    DocumentState reference;
    ASSERT_FALSE(
        reference.load(std::vector<Bytes>(updates.begin(), updates.begin() + 12)).has_value());
    EXPECT_EQ(sv_hex(doc), sv_hex(reference));
    EXPECT_EQ(dump_of(value_of(doc.full_state())), dump_of(value_of(reference.full_state())));
}

// A large document edited in small updates: merging it (in memory or in the store) every few
// updates would cost its whole size each time, so both wait until the new updates weigh as much.
TEST(DocumentState, LargeDocumentIsCompactedOnceTheLogDoublesIt) {
    const auto& vectors = case_named("random_12_clients");
    const Bytes state = hex_of(vectors.at("merged"));
    const auto updates = hex_list(vectors.at("updates"));  // re-applied: updates are idempotent
    DocumentState::Limits limits;
    limits.compact_after_updates = 4;
    DocumentState doc(limits);
    ASSERT_FALSE(doc.load({state}).has_value());
    std::size_t logged = state.size();
    std::size_t applied = 0;
    while (logged + updates.at(applied).size() < 2 * state.size()) {
        apply_checked(doc, updates.at(applied));
        logged += updates.at(applied).size();
        ++applied;
        EXPECT_FALSE(doc.needs_compaction()) << applied << " updates, " << logged << " bytes";
    }
    ASSERT_GT(applied, 2 * limits.compact_after_updates);  // the size held it back, not the count
    EXPECT_EQ(doc.pending_count(), applied);               // not merged in memory either
    apply_checked(doc, updates.at(applied));
    logged += updates.at(applied).size();
    ASSERT_TRUE(doc.needs_compaction());

    auto compaction = doc.compact();
    ASSERT_TRUE(compaction.ok());
    EXPECT_EQ(compaction->replaced, applied + 2);  // the loaded state and the updates
    EXPECT_EQ(compaction->replaced_bytes, logged);
    doc.finish_compaction(*compaction, true);
    EXPECT_EQ(doc.update_count(), 1U);
    // Again only once the updates weigh as much as the state just stored.
    for (std::size_t i = 0; i < 2 * limits.compact_after_updates; ++i) {
        apply_checked(doc, updates.at(i));
        EXPECT_FALSE(doc.needs_compaction()) << i;
    }
}

TEST(DocumentState, ValidateLeavesTheStateAlone) {
    const auto updates = text_updates();
    DocumentState doc;
    ASSERT_FALSE(doc.load({updates[0]}).has_value());
    const std::string sv_before = sv_hex(doc);
    EXPECT_FALSE(doc.validate(updates[1]).has_value());
    EXPECT_EQ(doc.update_count(), 1U);
    EXPECT_EQ(sv_hex(doc), sv_before);
}

TEST(DocumentError, CodeNames) {
    EXPECT_EQ((DocumentError{Code::corrupt_document, ""}.code_name()), "CORRUPT_DOCUMENT");
    EXPECT_EQ((DocumentError{Code::internal, ""}.code_name()), "INTERNAL_ERROR");
}

}  // namespace
}  // namespace huddle::core
