// Hand-made inputs: malformed updates are refused with an error, never a crash or a big allocation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "yjs/yjs.hpp"
#include "yjs_test_helpers.hpp"

namespace huddle::yjs {
namespace {

// One client (7) with one item in root "t" holding ContentAny [1]; empty delete set.
Bytes good_update() {
    return from_hex("0101070008010174017d0100");
}

// Also holds check_update to the same decision and message as decode_update.
std::string error_of(const Bytes& u) {
    auto r = decode_update(u);
    const auto checked = check_update(u);
    EXPECT_EQ(checked.has_value(), !r.ok());
    if (checked && !r.ok()) {
        EXPECT_EQ(checked->message, r.error().message);
    }
    return r.ok() ? "ok" : r.error().message;
}

TEST(YjsDecode, AcceptsAMinimalUpdate) {
    const Bytes u = good_update();  // the decoded structs point into these bytes
    auto r = decode_update(u);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->structs.size(), 1U);
    EXPECT_EQ(r->structs[0].client, 7U);
    EXPECT_EQ(r->structs[0].length, 1U);
    EXPECT_EQ(r->structs[0].parent_key(), "t");
    EXPECT_EQ(r->structs[0].content, ContentRef::any);
    auto sv = encode_state_vector_from_update(good_update());
    ASSERT_TRUE(sv.ok());
    EXPECT_EQ(to_hex(*sv), "010701");
}

TEST(YjsDecode, EmptyUpdate) {
    EXPECT_EQ(error_of(from_hex("0000")), "ok");
    EXPECT_NE(error_of(from_hex("00")), "ok");  // the delete set is missing
    EXPECT_NE(error_of({}), "ok");
}

TEST(YjsDecode, RefusesBadVarints) {
    EXPECT_NE(error_of(from_hex("ffffffffffffffffffffff01")), "ok");  // too long
    EXPECT_NE(error_of(from_hex("80808080808080800100")), "ok");      // above 2^53
    EXPECT_NE(error_of(from_hex("80")), "ok");                        // truncated
}

TEST(YjsDecode, RefusesCountsPastTheEnd) {
    EXPECT_NE(error_of(from_hex("ffffffff0f00")), "ok");
    EXPECT_NE(error_of(from_hex("01ffffffff0f070000")), "ok");
    EXPECT_NE(error_of(from_hex("00ffffffff0f")), "ok");
}

TEST(YjsDecode, RefusesUnknownContentRefsAndTypes) {
    EXPECT_NE(error_of(from_hex("0101070000")), "ok");          // GC without its length
    EXPECT_NE(error_of(from_hex("010107000b01017400")), "ok");  // content ref 11
    EXPECT_NE(error_of(from_hex("010107004a01017400")), "ok");  // ref 10 with flags
    EXPECT_NE(error_of(from_hex("010107000701017407"
                                "00")),
              "ok");  // type ref 7
    EXPECT_EQ(error_of(from_hex("010107000701017406"
                                "00")),
              "ok");  // type ref 6 (XmlText)
}

TEST(YjsDecode, RefusesBadAnyValues) {
    EXPECT_NE(error_of(from_hex("010107000801017401"
                                "70"
                                "00")),
              "ok");  // tag 112
    // Arrays nested far deeper than any real document: refused, no deep recursion.
    Bytes deep = from_hex("010107000801017401");
    for (int i = 0; i < 5000; ++i) {
        deep.push_back(117);
        deep.push_back(1);
    }
    deep.push_back(126);
    deep.push_back(0);
    EXPECT_NE(error_of(deep), "ok");
}

TEST(YjsDecode, RefusesInvalidUtf8AndEmptyStructs) {
    EXPECT_NE(error_of(from_hex("010107000401017402c3280"
                                "0")),
              "ok");  // bad continuation
    EXPECT_NE(error_of(from_hex("010107000401017403eda080"
                                "00")),
              "ok");                                              // a surrogate
    EXPECT_NE(error_of(from_hex("01010700040101740000")), "ok");  // empty string: length 0
    EXPECT_NE(error_of(from_hex("0101070000"
                                "0000")),
              "ok");  // GC of length 0
}

TEST(YjsDecode, EveryPrefixOfAGoodUpdateIsRefused) {
    const Bytes u = good_update();
    for (std::size_t n = 0; n < u.size(); ++n) {
        EXPECT_NE(error_of(Bytes(u.begin(), u.begin() + static_cast<std::ptrdiff_t>(n))), "ok")
            << n;
    }
}

TEST(YjsStateVector, DecodeAndEncode) {
    auto sv = decode_state_vector(from_hex("020105020a"));
    ASSERT_TRUE(sv.ok());
    ASSERT_EQ(sv->entries.size(), 2U);
    EXPECT_EQ(sv->clock_of(2), 10U);
    EXPECT_EQ(sv->clock_of(3), 0U);
    EXPECT_EQ(to_hex(encode_state_vector(*sv)), "02020a0105");  // sorted by client, descending
    EXPECT_FALSE(decode_state_vector(from_hex("0201")).ok());
    EXPECT_FALSE(decode_state_vector(from_hex("ff01")).ok());
}

TEST(YjsMerge, NoUpdatesGiveTheEmptyUpdate) {
    auto r = merge_updates(std::vector<Bytes>{});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(to_hex(*r), "0000");
}

TEST(YjsMerge, OneUpdateIsReturnedAsIs) {
    auto r = merge_updates(std::vector<Bytes>{good_update()});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, good_update());
}

TEST(YjsMerge, RefusesAnyBadInput) {
    auto r = merge_updates(std::vector<Bytes>{good_update(), from_hex("0101")});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("update 1"), std::string::npos);
}

TEST(YjsDiff, RefusesBadStateVectorsAndUpdates) {
    EXPECT_FALSE(diff_update(good_update(), from_hex("01")).ok());
    EXPECT_FALSE(diff_update(from_hex("01"), from_hex("00")).ok());
    auto all = diff_update(good_update(), from_hex("00"));
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(*all, good_update());
    auto none = diff_update(good_update(), from_hex("010701"));
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(to_hex(*none), "0000");
}

TEST(YjsDiff, CutsStringsInUtf16Units) {
    // Client 1: ContentString "a😀b" (4 UTF-16 units) in root "t".
    const Bytes u = from_hex(
        "01010100040101740661f09f988062"
        "00");
    ASSERT_TRUE(decode_update(u).ok()) << error_of(u);
    // From unit 1: "😀b", origin 1:0.
    auto d1 = diff_update(u, from_hex("010101"));
    ASSERT_TRUE(d1.ok());
    EXPECT_EQ(to_hex(*d1),
              "010101018401000"
              "5f09f988062"
              "00");
    // From unit 2 (inside the surrogate pair): U+FFFD then "b", as JavaScript writes it.
    auto d2 = diff_update(u, from_hex("010102"));
    ASSERT_TRUE(d2.ok());
    EXPECT_EQ(to_hex(*d2),
              "01010102840101"
              "04efbfbd62"
              "00");
}

}  // namespace
}  // namespace huddle::yjs
