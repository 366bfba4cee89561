#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "net/static_files.hpp"

using huddle::net::read_static_file;
using huddle::net::static_content_type;
using huddle::net::static_file_path;

namespace fs = std::filesystem;

TEST(StaticFilePath, RootAndFoldersMeanIndexHtml) {
    EXPECT_EQ(static_file_path("/"), "index.html");
    EXPECT_EQ(static_file_path("/docs/"), "docs/index.html");
    EXPECT_EQ(static_file_path("/chat.html"), "chat.html");
    EXPECT_EQ(static_file_path("/assets/editor.js"), "assets/editor.js");
}

TEST(StaticFilePath, PercentEscapesAreDecoded) {
    EXPECT_EQ(static_file_path("/my%20page.html"), "my page.html");
    EXPECT_EQ(static_file_path("/a%2Fb.js"), "a/b.js");
    EXPECT_EQ(static_file_path("/caf%C3%A9.html"), "café.html");
}

TEST(StaticFilePath, TraversalIsRefused) {
    for (const char* path :
         {"/..", "/../etc/passwd", "/assets/../../secret", "/a/..", "/%2e%2e/etc/passwd",
          "/%2E%2E%2Fetc%2Fpasswd", "/assets/%2e%2e/x", "/./index.html", "/a/./b"}) {
        EXPECT_EQ(static_file_path(path), std::nullopt) << path;
    }
}

TEST(StaticFilePath, AbsoluteAndOddPathsAreRefused) {
    for (const char* path :
         {"", "index.html", "//etc/passwd", "/a//b", "/%2Fetc/passwd", "/a\\..\\b", "/a%5c..%5cb",
          "/x%00.html", "/x%0a", "/%", "/%4", "/%zz", "/.env", "/.git/config", "/assets/.hidden"}) {
        EXPECT_EQ(static_file_path(path), std::nullopt) << path;
    }
}

TEST(StaticContentType, ByExtension) {
    EXPECT_EQ(static_content_type("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(static_content_type("assets/editor.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(static_content_type("assets/app.css"), "text/css; charset=utf-8");
    EXPECT_EQ(static_content_type("logo.svg"), "image/svg+xml");
    EXPECT_EQ(static_content_type("assets/editor.js.map"), "application/json");
    EXPECT_EQ(static_content_type("README"), "application/octet-stream");
    EXPECT_EQ(static_content_type("v1.2/file"), "application/octet-stream");
    EXPECT_EQ(static_content_type("archive.tar.gz"), "application/octet-stream");
}

namespace {

// A served folder with a file, a subfolder, and links inside and outside, next to a secret.
class ServedFolder : public ::testing::Test {
  protected:
    void SetUp() override {
        base_ = fs::temp_directory_path() / ("huddle_static_" + std::to_string(::getpid()));
        fs::remove_all(base_);
        fs::create_directories(base_ / "site" / "assets");
        write(base_ / "site" / "index.html", "<h1>hi</h1>");
        write(base_ / "site" / "assets" / "app.js", "console.log(1)");
        write(base_ / "secret.txt", "top secret");
        fs::create_symlink(base_ / "secret.txt", base_ / "site" / "leak.txt");
        fs::create_symlink(base_, base_ / "site" / "up");
        fs::create_symlink(base_ / "site" / "index.html", base_ / "site" / "home.html");
    }
    void TearDown() override { fs::remove_all(base_); }

    static void write(const fs::path& path, const std::string& text) {
        std::ofstream(path, std::ios::binary) << text;
    }
    fs::path site() const { return base_ / "site"; }

    fs::path base_;
};

}  // namespace

TEST_F(ServedFolder, ReadsFilesInside) {
    EXPECT_EQ(read_static_file(site(), "index.html"), "<h1>hi</h1>");
    EXPECT_EQ(read_static_file(site(), "assets/app.js"), "console.log(1)");
    EXPECT_EQ(read_static_file(site(), "home.html"), "<h1>hi</h1>");  // a link that stays inside
}

TEST_F(ServedFolder, RefusesMissingFilesFoldersAndLinksOut) {
    EXPECT_EQ(read_static_file(site(), "missing.html"), std::nullopt);
    EXPECT_EQ(read_static_file(site(), "assets"), std::nullopt);
    EXPECT_EQ(read_static_file(site(), "leak.txt"), std::nullopt);
    EXPECT_EQ(read_static_file(site(), "up/secret.txt"), std::nullopt);
    EXPECT_EQ(read_static_file(site(), "../secret.txt"), std::nullopt);
    EXPECT_EQ(read_static_file(base_ / "no-such-folder", "index.html"), std::nullopt);
}

TEST_F(ServedFolder, AFolderNamedLikeThePrefixOfAnotherIsNotInside) {
    // "site2/x" starts with the text "site" but is not inside site/.
    fs::create_directories(base_ / "site2");
    write(base_ / "site2" / "x.html", "other");
    fs::create_symlink(base_ / "site2" / "x.html", base_ / "site" / "x.html");
    EXPECT_EQ(read_static_file(site(), "x.html"), std::nullopt);
}
