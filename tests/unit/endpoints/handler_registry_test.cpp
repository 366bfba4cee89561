#include "endpoints/handler_registry.hpp"

#include <gtest/gtest.h>

namespace huddle::endpoints {
namespace {

TEST(HandlerRegistry, RoutesEachDocumentEndpointByPath) {
    const config::ServerSettings settings;
    const auto yws = match_handler_route("/yjs/firm-7/draft%3A42?token=t", settings);
    ASSERT_TRUE(yws);
    EXPECT_EQ(yws->route->format, DocumentFormat::y_websocket);
    EXPECT_EQ(yws->document, "firm-7/draft:42");
    EXPECT_EQ(yws->error, "");

    const auto drafts = match_handler_route("/ws/drafts?draftId=letter-1&token=t", settings);
    ASSERT_TRUE(drafts);
    EXPECT_EQ(drafts->route->format, DocumentFormat::drafts_json);
    EXPECT_EQ(drafts->document, "letter-1");

    const auto fabric = match_handler_route("/ws/fabric?documentId=page&clientID=tab-1", settings);
    ASSERT_TRUE(fabric);
    EXPECT_EQ(fabric->route->format, DocumentFormat::fabric_json);
    EXPECT_EQ(fabric->document, "page");
    EXPECT_EQ(fabric->client_id, "tab-1");
}

TEST(HandlerRegistry, DocumentNamesInThePathKeepTheirPlusSigns) {
    // The stock provider puts the room name in the path as it is; '+' is a document name
    // character, not a space there.
    const auto match = match_handler_route("/yjs/team+a%2Fnotes", config::ServerSettings{});
    ASSERT_TRUE(match);
    EXPECT_EQ(match->document, "team+a/notes");
    EXPECT_EQ(match->error, "");
    EXPECT_NE(match_handler_route("/yjs/bad%zz", config::ServerSettings{})->error, "");
}

TEST(HandlerRegistry, PathsComeFromTheSettings) {
    config::ServerSettings settings;
    settings.fabric_path = "/collab";
    EXPECT_FALSE(match_handler_route("/ws/fabric?documentId=page", settings));
    const auto moved = match_handler_route("/collab?documentId=page", settings);
    ASSERT_TRUE(moved);
    EXPECT_EQ(moved->route->name, "fabric");
}

TEST(HandlerRegistry, OtherPathsAreNotHandlerRoutes) {
    const config::ServerSettings settings;
    for (const char* target : {"/ws", "/ws?token=x", "/", "/yjs", "/yjsx/doc", "/ws/fabricx"})
        EXPECT_FALSE(match_handler_route(target, settings)) << target;
}

TEST(HandlerRegistry, MalformedDocumentRequestsGetAnError) {
    const config::ServerSettings settings;
    for (const char* target : {"/yjs/", "/yjs/bad name#", "/ws/drafts", "/ws/drafts?draftId=",
                               "/ws/fabric?clientID=x", "/ws/fabric?documentId=a%23b"}) {
        const auto match = match_handler_route(target, settings);
        ASSERT_TRUE(match) << target;
        EXPECT_NE(match->error, "") << target;
    }
    const auto long_client =
        match_handler_route("/ws/fabric?documentId=d&clientID=" + std::string(200, 'x'), settings);
    ASSERT_TRUE(long_client);
    EXPECT_NE(long_client->error, "");
}

}  // namespace
}  // namespace huddle::endpoints
