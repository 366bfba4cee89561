// What `huddle` prints on stdout once it listens: the addresses to use, where the data lives, the
// demo pages, and the development token. Everything here is derived from Settings, so that the
// banner needs nothing from the server but the port and loop count it ended up with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/settings.hpp"

namespace huddle::app {

// `url` with its password replaced by "***": the userinfo password of
// postgres://user:password@host/db and any password=... parameter. The rest is kept as given.
std::string hide_password(std::string_view url);

// `text` with every occurrence of the password of `url` replaced by "***" (for error messages
// that might quote the connection string); `text` unchanged when the URL has no password.
std::string scrub_password(std::string_view text, std::string_view url);

// "SQLite /abs/data/huddle.db" or "PostgreSQL postgres://user:***@host/db".
std::string data_location(const config::Settings& settings);

struct ListeningOn {
    std::uint16_t port = 0;
    std::size_t loops = 0;
    bool tls = false;
};

// The multi-line banner; ends with a newline.
std::string startup_banner(const config::Settings& settings, const ListeningOn& listening);

}  // namespace huddle::app
