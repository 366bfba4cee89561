// The prose of `huddle --help` and of its subcommands (the settings table comes from config).
#pragma once

namespace huddle::app {

inline constexpr const char* kDescription =
    "Huddle: a real-time collaboration server. Clients connect over WebSocket (JWT) to rooms\n"
    "with presence, history and Yjs documents; the app's backend publishes over HTTP.";

inline constexpr const char* kMainFooter =
    R"(Each subcommand has its own --help (huddle token --help, huddle check-config --help).

Examples:
  huddle                                    port 3000, development secret and API key
  huddle --config /etc/huddle/huddle.toml   settings from a file (or HUDDLE_CONFIG=...)
  HUDDLE_PORT=4000 huddle --set log.format=json
  huddle token --sub alice --claim name=Alice --ttl 1h
  huddle check-config /etc/huddle/huddle.toml
  huddle --config /etc/huddle/huddle.toml --print-config

Once listening, huddle prints on stdout its URLs, where the data lives (SQLite file or
PostgreSQL URL, password hidden), the demo pages' URL and, while the development secret is
in use, a development token. Logs go to stderr. On SIGTERM or SIGINT it stops accepting,
tells clients (server_shutdown, close 1001) and exits 0 within server.shutdown_deadline.

Exit codes: 0 success or clean shutdown; 1 the server could not start (port taken, store,
TLS files); 2 wrong usage or configuration errors (every one is printed).

Documentation: docs/getting-started.md, docs/configuration.md, docs/operations.md.
)";

inline constexpr const char* kTokenFooter =
    R"(The token is signed like the server expects it: with auth.secret and the first HS256,
HS384 or HS512 of auth.algorithms, with iss and aud when auth.issuer and auth.audience are
set. The settings come from the same places as the server's: --config FILE (or
HUDDLE_CONFIG), HUDDLE_* variables (e.g. HUDDLE_SECRET), --set. It is printed alone on stdout.
Claim values that are JSON numbers, booleans, arrays or objects keep their type; anything
else is a string.

Examples:
  huddle token --sub alice
  huddle token --sub alice --claim firmId=f1 --claim 'rooms=["project:p1"]' --ttl 15m
  TOKEN=$(HUDDLE_SECRET=my-secret huddle token --sub bob --ttl 7d)
  huddle token --sub carol --config /etc/huddle/huddle.toml

Exit codes: 0 printed; 2 wrong option or no HMAC secret configured.
)";

inline constexpr const char* kCheckConfigFooter =
    R"(Reads the file alone (not the environment, not flags) and checks it as the server would:
TOML syntax, unknown keys (with a suggestion), wrong types, values out of range, namespaces,
then the settings as a whole (TLS files, algorithms and their keys, origins, heartbeat).
Every error is printed on stderr as FILE:LINE: message; "FILE: OK" on stdout when there is
none. To see the settings a start would use, environment and flags included:
huddle --config FILE --print-config.

Exit codes: 0 no error; 1 errors found.
)";

}  // namespace huddle::app
