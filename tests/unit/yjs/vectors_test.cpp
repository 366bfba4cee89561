// The engine against the reference vectors written by the JavaScript Yjs (tests/yjs-vectors).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "yjs/yjs.hpp"
#include "yjs_test_helpers.hpp"

namespace huddle::yjs {
namespace {

namespace json = boost::json;

struct VectorCase {
    std::string name;
    json::object data;
};

std::vector<VectorCase> load_cases() {
    std::vector<VectorCase> cases;
    for (const auto& entry : std::filesystem::directory_iterator(HUDDLE_YJS_VECTORS_DIR)) {
        if (entry.path().extension() != ".json") {
            continue;
        }
        std::ifstream in(entry.path());
        std::stringstream ss;
        ss << in.rdbuf();
        cases.push_back({entry.path().stem().string(), json::parse(ss.str()).as_object()});
    }
    std::sort(cases.begin(), cases.end(),
              [](const VectorCase& a, const VectorCase& b) { return a.name < b.name; });
    return cases;
}

const std::vector<VectorCase>& cases() {
    static const std::vector<VectorCase> all = load_cases();
    return all;
}

Bytes hex_of(const json::value& v) {
    return from_hex(std::string(v.as_string()));
}

std::vector<Bytes> hex_list(const json::value& v) {
    std::vector<Bytes> out;
    for (const auto& e : v.as_array()) {
        out.push_back(hex_of(e));
    }
    return out;
}

// Byte equality, with a structural diff in the failure message.
void expect_same_update(const Bytes& ours, const Bytes& theirs, const std::string& what) {
    if (ours == theirs) {
        SUCCEED();
        return;
    }
    auto a = decode_update(ours);
    auto b = decode_update(theirs);
    ASSERT_TRUE(a.ok()) << what << ": our output does not decode: " << a.error().message;
    ASSERT_TRUE(b.ok()) << what;
    ADD_FAILURE() << what << ": bytes differ\nours:\n"
                  << dump_update(*a) << "yjs:\n"
                  << dump_update(*b) << "ours hex: " << to_hex(ours)
                  << "\nyjs hex:  " << to_hex(theirs);
}

class Vectors : public ::testing::TestWithParam<std::size_t> {
  protected:
    const VectorCase& vc() const { return cases().at(GetParam()); }
    const json::object& d() const { return vc().data; }
};

TEST(VectorsFolder, HasCases) {
    EXPECT_GE(cases().size(), 10U);
}

TEST_P(Vectors, EveryUpdateDecodes) {
    for (const auto& u : hex_list(d().at("updates"))) {
        auto r = decode_update(u);
        EXPECT_TRUE(r.ok()) << r.error().message;
    }
    for (const char* key : {"merged", "merged_reverse", "merged_overlap", "doc_state"}) {
        auto bytes = hex_of(d().at(key));
        auto r = decode_update(bytes);
        ASSERT_TRUE(r.ok()) << key << ": " << r.error().message;
        // Re-encoding gives the same structs.
        EXPECT_EQ(dump_of(encode_update(*r)), dump_update(*r)) << key;
    }
}

TEST_P(Vectors, StateVectorsFromUpdates) {
    const auto updates = hex_list(d().at("updates"));
    const auto svs = hex_list(d().at("update_svs"));
    ASSERT_EQ(updates.size(), svs.size());
    for (std::size_t i = 0; i < updates.size(); ++i) {
        auto sv = encode_state_vector_from_update(updates[i]);
        ASSERT_TRUE(sv.ok()) << sv.error().message;
        EXPECT_EQ(to_hex(*sv), to_hex(svs[i])) << "update " << i;
    }
    auto merged_sv = encode_state_vector_from_update(hex_of(d().at("merged")));
    ASSERT_TRUE(merged_sv.ok());
    EXPECT_EQ(to_hex(*merged_sv), std::string(d().at("merged_sv").as_string()));
    auto state_sv = encode_state_vector_from_update(hex_of(d().at("doc_state")));
    ASSERT_TRUE(state_sv.ok());
    EXPECT_EQ(to_hex(*state_sv), std::string(d().at("doc_state_sv").as_string()));
    // The doc's own state vector (Y.encodeStateVector) is the sorted form of the same thing.
    auto decoded_sv = decode_state_vector(*state_sv);
    ASSERT_TRUE(decoded_sv.ok());
    EXPECT_EQ(to_hex(encode_state_vector(*decoded_sv)), std::string(d().at("doc_sv").as_string()));
    auto decoded = decode_update(hex_of(d().at("doc_state")));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(to_hex(encode_state_vector(state_vector_of(*decoded))),
              std::string(d().at("doc_sv").as_string()));
}

TEST_P(Vectors, MergeUpdates) {
    const auto updates = hex_list(d().at("updates"));
    auto merged = merge_updates(updates);
    ASSERT_TRUE(merged.ok()) << merged.error().message;
    expect_same_update(*merged, hex_of(d().at("merged")), "merge");

    std::vector<Bytes> reversed(updates.rbegin(), updates.rend());
    auto merged_reverse = merge_updates(reversed);
    ASSERT_TRUE(merged_reverse.ok()) << merged_reverse.error().message;
    expect_same_update(*merged_reverse, hex_of(d().at("merged_reverse")), "merge reversed");

    auto overlap = merge_updates(hex_list(d().at("overlap_inputs")));
    ASSERT_TRUE(overlap.ok()) << overlap.error().message;
    expect_same_update(*overlap, hex_of(d().at("merged_overlap")), "merge overlapping");
}

TEST_P(Vectors, DiffUpdates) {
    const auto merged = hex_of(d().at("merged"));
    const auto state = hex_of(d().at("doc_state"));
    for (const auto& entry : d().at("diffs").as_array()) {
        const auto& o = entry.as_object();
        const auto sv = hex_of(o.at("sv"));
        auto diff = diff_update(merged, sv);
        ASSERT_TRUE(diff.ok()) << diff.error().message;
        expect_same_update(*diff, hex_of(o.at("diff")), "diff merged against " + to_hex(sv));
        auto diff_state = diff_update(state, sv);
        ASSERT_TRUE(diff_state.ok()) << diff_state.error().message;
        expect_same_update(*diff_state, hex_of(o.at("diff_state")),
                           "diff state against " + to_hex(sv));
    }
}

TEST_P(Vectors, Invariants) {
    const auto state = hex_of(d().at("doc_state"));
    auto sv = encode_state_vector_from_update(state);
    ASSERT_TRUE(sv.ok());
    // Nothing is missing from a peer that has everything.
    auto nothing = diff_update(state, *sv);
    ASSERT_TRUE(nothing.ok());
    auto decoded = decode_update(*nothing);
    ASSERT_TRUE(decoded.ok());
    EXPECT_TRUE(decoded->structs.empty());
    // Merging an update with itself changes nothing.
    auto twice = merge_updates(std::vector<Bytes>{state, state});
    ASSERT_TRUE(twice.ok());
    EXPECT_EQ(dump_of(*twice), dump_of(state));
    // A diff against the empty state vector is the whole update.
    auto all = diff_update(state, Bytes{0});
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(dump_of(*all), dump_of(state));
}

TEST_P(Vectors, TruncatedInputsAreRejected) {
    const auto state = hex_of(d().at("doc_state"));
    std::size_t rejected = 0;
    for (std::size_t n = 0; n < state.size(); ++n) {
        const std::span<const std::uint8_t> prefix(state.data(), n);
        auto r = decode_update(prefix);
        if (!r.ok()) {
            ++rejected;
            EXPECT_FALSE(
                merge_updates(std::vector<Bytes>{Bytes(prefix.begin(), prefix.end()), state}).ok());
        }
    }
    // Every strict prefix lacks at least the end of the delete set.
    EXPECT_EQ(rejected, state.size());
}

std::string case_name(const ::testing::TestParamInfo<std::size_t>& info) {
    return cases().at(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(Yjs, Vectors, ::testing::Range<std::size_t>(0, cases().size()), case_name);

}  // namespace
}  // namespace huddle::yjs
