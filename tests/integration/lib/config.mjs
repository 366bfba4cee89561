// TOML configs shared by several test files.

// The default namespaces (user = own user only, * = any authenticated user) plus a namespace where
// clients may publish (team) and one with presence events (chat).
export const NAMESPACES_TOML = `
[[namespaces]]
name = "user"
access = "own-user"

[[namespaces]]
name = "team"
client_publish = true

[[namespaces]]
name = "chat"
client_publish = true
presence_events = true

[[namespaces]]
name = "*"
`;
