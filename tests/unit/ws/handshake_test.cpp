#include "net/ws/handshake.hpp"

#include <gtest/gtest.h>

namespace huddle::ws {
namespace {

constexpr std::string_view kBase = "permessage-deflate; server_no_context_takeover";

TEST(Handshake, AcceptKeyRfcExample) {
    // RFC 6455 §1.3.
    EXPECT_EQ(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, ValidKeys) {
    EXPECT_TRUE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_TRUE(is_valid_websocket_key("AAAAAAAAAAAAAAAAAAAAAA=="));
    EXPECT_FALSE(is_valid_websocket_key(""));
    EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ="));
    EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ==="));
    EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZ!=="));
    EXPECT_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQQQ"));
}

TEST(Negotiate, BrowserOffer) {
    // Chrome and Node's ws send this by default.
    const auto agreement =
        negotiate_permessage_deflate("permessage-deflate; client_max_window_bits", true);
    EXPECT_TRUE(agreement.enabled);
    EXPECT_FALSE(agreement.client_no_context_takeover);
    EXPECT_EQ(agreement.response_header_value, kBase);
    EXPECT_EQ(agreement.client_max_window_bits, 15);
    EXPECT_EQ(agreement.server_max_window_bits, 15);
}

TEST(Negotiate, FirefoxOffer) {
    const auto agreement = negotiate_permessage_deflate("permessage-deflate", true);
    EXPECT_TRUE(agreement.enabled);
    EXPECT_EQ(agreement.response_header_value, kBase);
}

TEST(Negotiate, NodeWsOfferWithOptions) {
    // ws with { clientNoContextTakeover: true, serverNoContextTakeover: true, clientMaxWindowBits:
    // 10 }.
    const auto agreement = negotiate_permessage_deflate(
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
        "client_max_window_bits=10",
        true);
    EXPECT_TRUE(agreement.enabled);
    EXPECT_TRUE(agreement.client_no_context_takeover);
    EXPECT_EQ(agreement.response_header_value,
              std::string(kBase) + "; client_no_context_takeover; client_max_window_bits=10");
    EXPECT_EQ(agreement.client_max_window_bits, 10);
}

TEST(Negotiate, NoOfferOrServerDisallows) {
    EXPECT_FALSE(negotiate_permessage_deflate("", true).enabled);
    EXPECT_FALSE(negotiate_permessage_deflate("x-webkit-deflate-frame", true).enabled);
    const auto refused =
        negotiate_permessage_deflate("permessage-deflate; client_max_window_bits", false);
    EXPECT_FALSE(refused.enabled);
    EXPECT_TRUE(refused.response_header_value.empty());
}

TEST(Negotiate, ClientNoContextTakeoverIsEchoed) {
    const auto agreement =
        negotiate_permessage_deflate("permessage-deflate; client_no_context_takeover", true);
    EXPECT_TRUE(agreement.client_no_context_takeover);
    EXPECT_EQ(agreement.response_header_value, std::string(kBase) + "; client_no_context_takeover");
}

TEST(Negotiate, ServerMayRequireClientNoContextTakeover) {
    DeflateOptions options;
    options.require_client_no_context_takeover = true;
    const auto agreement = negotiate_permessage_deflate("permessage-deflate", true, options);
    EXPECT_TRUE(agreement.client_no_context_takeover);
    EXPECT_EQ(agreement.response_header_value, std::string(kBase) + "; client_no_context_takeover");
}

TEST(Negotiate, ServerWindowBelow15DeclinedByDefault) {
    EXPECT_FALSE(negotiate_permessage_deflate("permessage-deflate; server_max_window_bits=10", true)
                     .enabled);
    // The next offer is taken instead.
    const auto agreement = negotiate_permessage_deflate(
        "permessage-deflate; server_max_window_bits=10, permessage-deflate", true);
    EXPECT_TRUE(agreement.enabled);
    EXPECT_EQ(agreement.response_header_value, kBase);
    // 15 is what we use anyway.
    const auto fifteen =
        negotiate_permessage_deflate("permessage-deflate; server_max_window_bits=15", true);
    EXPECT_TRUE(fifteen.enabled);
    EXPECT_EQ(fifteen.response_header_value, std::string(kBase) + "; server_max_window_bits=15");
}

TEST(Negotiate, ServerWindowHonouredWhenAllowed) {
    DeflateOptions options;
    options.min_server_max_window_bits = 9;
    const auto agreement = negotiate_permessage_deflate(
        "permessage-deflate; server_max_window_bits=10", true, options);
    EXPECT_TRUE(agreement.enabled);
    EXPECT_EQ(agreement.server_max_window_bits, 10);
    EXPECT_EQ(agreement.response_header_value, std::string(kBase) + "; server_max_window_bits=10");
    // zlib cannot produce an 8-bit window: always declined.
    EXPECT_FALSE(
        negotiate_permessage_deflate("permessage-deflate; server_max_window_bits=8", true, options)
            .enabled);
}

TEST(Negotiate, ClientWindowPreference) {
    DeflateOptions options;
    options.client_max_window_bits = 10;
    const auto valueless =
        negotiate_permessage_deflate("permessage-deflate; client_max_window_bits", true, options);
    EXPECT_EQ(valueless.response_header_value, std::string(kBase) + "; client_max_window_bits=10");
    EXPECT_EQ(valueless.client_max_window_bits, 10);
    const auto smaller =
        negotiate_permessage_deflate("permessage-deflate; client_max_window_bits=9", true, options);
    EXPECT_EQ(smaller.response_header_value, std::string(kBase) + "; client_max_window_bits=9");
    // Not offered: the response must not contain it, whatever we prefer.
    const auto absent = negotiate_permessage_deflate("permessage-deflate", true, options);
    EXPECT_EQ(absent.response_header_value, kBase);
    EXPECT_EQ(absent.client_max_window_bits, 15);
}

TEST(Negotiate, ClientWindowValues) {
    const auto fifteen =
        negotiate_permessage_deflate("permessage-deflate; client_max_window_bits=15", true);
    EXPECT_EQ(fifteen.response_header_value, kBase);
    const auto quoted =
        negotiate_permessage_deflate("permessage-deflate; client_max_window_bits=\"12\"", true);
    EXPECT_TRUE(quoted.enabled);
    EXPECT_EQ(quoted.response_header_value, std::string(kBase) + "; client_max_window_bits=12");
    EXPECT_EQ(quoted.client_max_window_bits, 12);
    for (const char* bad : {"16", "7", "08", "015", "1a", "\"\"", "-9"}) {
        EXPECT_FALSE(negotiate_permessage_deflate(
                         std::string("permessage-deflate; client_max_window_bits=") + bad, true)
                         .enabled)
            << bad;
    }
}

TEST(Negotiate, InvalidOffersAreDeclined) {
    for (const char* offer : {
             "permessage-deflate; unknown_param",
             "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
             "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
             "permessage-deflate; server_max_window_bits",
             "permessage-deflate; server_no_context_takeover=1",
             "permessage-deflate; client_no_context_takeover=\"\"",
             "permessage-deflate;",
             "permessage-deflate; =10",
             "permessage-deflate; client_max_window_bits=\"10",
             "permessage-deflate x",
         }) {
        EXPECT_FALSE(negotiate_permessage_deflate(offer, true).enabled) << offer;
    }
}

TEST(Negotiate, SkipsOtherAndMalformedOffers) {
    const auto agreement = negotiate_permessage_deflate(
        "x-custom; a=\"quoted, with comma\", , bad;;, permessage-deflate; unknown, "
        "PerMessage-Deflate ;\tclient_no_context_takeover ",
        true);
    EXPECT_TRUE(agreement.enabled);
    EXPECT_TRUE(agreement.client_no_context_takeover);
}

TEST(Negotiate, WhitespaceAroundParameters) {
    const auto agreement = negotiate_permessage_deflate(
        "  permessage-deflate ; client_max_window_bits = 11 ;server_no_context_takeover  ", true);
    EXPECT_TRUE(agreement.enabled);
    EXPECT_EQ(agreement.response_header_value, std::string(kBase) + "; client_max_window_bits=11");
}

}  // namespace
}  // namespace huddle::ws
