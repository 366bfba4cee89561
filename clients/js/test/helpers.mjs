// Shared by the client tests: the integration harness (real binary, free port, API key, tokens) is
// imported from tests/integration/lib, not copied; `ws` is this package's devDependency.
import WebSocket from 'ws';

import { HuddleClient } from '../huddle-client.js';

export { startServer, stopAndCheck, freePort, sleep, HUDDLE_BIN } from '../../../tests/integration/lib/server.mjs';
export { test, waitFor, SKIP } from '../../../tests/integration/lib/harness.mjs';
export { mint, token } from '../../../tests/integration/lib/tokens.mjs';
export { WebSocket };

const clients = new Set();

// A client on `srv` with `ws` as its WebSocket; `log` records state changes, retries and errors.
export function makeClient(srv, options = {}) {
    const client = new HuddleClient(`ws://127.0.0.1:${srv.port}/ws`, { WebSocket, ...options });
    client.log = { states: [], retries: [], errors: [] };
    client.on('state', (s) => client.log.states.push(s));
    client.on('retry', (r) => client.log.retries.push({ ...r, at: performance.now() }));
    client.on('error', (e) => client.log.errors.push(e));
    clients.add(client);
    return client;
}

export async function closeClients() {
    await Promise.all([...clients].map((c) => c.close()));
    clients.clear();
}

// Resolves with the arguments of the next `name` event on `emitter` that `pred` accepts.
export function nextEvent(emitter, name, { pred = () => true, timeoutMs = 5000 } = {}) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { off(); reject(new Error(`no '${name}' event within ${timeoutMs} ms`)); }, timeoutMs);
        const off = emitter.on(name, (...args) => {
            if (!pred(...args)) return;
            clearTimeout(timer);
            off();
            resolve(args);
        });
    });
}

// Collects every (data, event) a room delivers for `type`.
export function collect(room, type) {
    const got = [];
    room.on(type, (data, event) => got.push({ data, event }));
    return got;
}

// Backend publish through the HTTP API; returns the answer (offsets for history rooms).
export async function apiPublish(srv, room, type, payload, extra = {}) {
    const r = await srv.api('POST', '/api/publish', { room, type, payload, ...extra });
    if (r.status !== 200) throw new Error(`POST /api/publish: ${r.status} ${r.text}`);
    return r.json;
}

// TOML of the test servers: a history room namespace, a presence namespace, a read-only one.
export const CONFIG = `
[[namespaces]]
name = "user"
access = "own-user"

[[namespaces]]
name = "room"
client_publish = true
history = 100

[[namespaces]]
name = "chat"
client_publish = true
presence_events = true
presence_claims = ["name"]

[[namespaces]]
name = "news"

[[namespaces]]
name = "*"
client_publish = true
`;
