// Test helpers shared by every file: a `test` that prints the servers' output when it fails (or
// times out), bounded polling, and the skip switch for a missing binary.
import assert from 'node:assert/strict';
import { test as nodeTest } from 'node:test';

import { binaryMissingReason, liveServers, writeArtifact } from './server.mjs';

export { sleep } from './server.mjs';

// When the binary is missing the tests fail with "huddle binary not found" (so that CI cannot go
// green without having run anything); HUDDLE_SKIP_MISSING_BIN=1 turns that into skips instead.
export const SKIP = (process.env.HUDDLE_SKIP_MISSING_BIN === '1' && binaryMissingReason()) || false;

// Like node:test's `test`, with its own timeout (default 20 s) and, on failure, the tail of every
// running server's output appended to the error (the full output goes to tests/integration/artifacts/).
export function test(name, opts, fn) {
    if (typeof opts === 'function') { fn = opts; opts = {}; }
    const { timeout = 20000, ...rest } = opts;
    return nodeTest(name, { skip: SKIP, ...rest, timeout: timeout + 5000 }, async (t) => {
        const marks = new Map(liveServers().map((s) => [s, s.logs.length]));
        let timer;
        try {
            await Promise.race([
                fn(t),
                new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`test timed out after ${timeout} ms`)), timeout); }),
            ]);
        } catch (err) {
            const parts = [];
            for (const s of liveServers()) {
                const from = marks.get(s) ?? 0;
                const lines = s.logs.slice(from);
                const file = writeArtifact(`${name}-server${s.id}.log`, s.logs.join('\n'));
                parts.push(`--- server ${s.id} (port ${s.port}) output during the test (${lines.length} lines, last 40; full: ${file}) ---\n` +
                    lines.slice(-40).join('\n'));
            }
            if (parts.length && err && typeof err === 'object') {
                const extra = `\n${parts.join('\n')}`;
                try { err.message = `${err.message}${extra}`; } catch { /* read-only */ }
                try { if (typeof err.stack === 'string') err.stack = `${err.stack}${extra}`; } catch { /* read-only */ }
            }
            throw err;
        } finally {
            clearTimeout(timer);
        }
    });
}
export const it = test;

// Polls `fn` every `intervalMs` until it returns a truthy value; returns it. Fails after timeoutMs
// with the last value or error.
export async function waitFor(fn, { timeoutMs = 3000, intervalMs = 25, what = 'condition' } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last;
    let lastErr;
    for (;;) {
        try {
            last = await fn();
            if (last) return last;
        } catch (e) {
            lastErr = e;
        }
        if (Date.now() > deadline) {
            throw new Error(`${what} not reached within ${timeoutMs} ms (last value: ${JSON.stringify(last)}${lastErr ? `, last error: ${lastErr.message}` : ''})`);
        }
        await new Promise((r) => setTimeout(r, intervalMs));
    }
}

// A millisecond timestamp within `slackMs` of now.
export function assertNearNow(ts, slackMs = 5000) {
    assert.equal(typeof ts, 'number', `timestamp should be a number, got ${JSON.stringify(ts)}`);
    assert.ok(Math.abs(ts - Date.now()) < slackMs, `timestamp ${ts} is not near now (${Date.now()})`);
}

// The per-room results of a `subscribed`/`unsubscribed` answer as {room: ok|errorCode}.
export function roomResults(answer) {
    assert.ok(Array.isArray(answer.rooms), `answer without rooms array: ${JSON.stringify(answer)}`);
    return Object.fromEntries(answer.rooms.map((r) => [r.room, r.ok === true ? 'ok' : (r.error?.code ?? `?${JSON.stringify(r)}`)]));
}

// The /stats answer (JSON), checked to be a 200.
export async function stats(srv) {
    const r = await srv.api('GET', '/stats');
    assert.equal(r.status, 200, `GET /stats: ${r.status} ${r.text}`);
    return r.json;
}

// Waits until /stats reports `n` open connections.
export async function waitForConnections(srv, n, timeoutMs = 3000) {
    let last;
    await waitFor(async () => { last = (await stats(srv)).connections; return last === n; }, { timeoutMs, what: `/stats connections = ${n}` })
        .catch((e) => { throw new Error(`${e.message} (last: ${last})`); });
}

// connections of `room` in GET /api/rooms (0 when not listed). Private user rooms (user:{sub})
// are not listed there.
export async function roomCount(srv, room) {
    const r = await srv.api('GET', '/api/rooms');
    assert.equal(r.status, 200, `GET /api/rooms: ${r.status} ${r.text}`);
    const e = r.json.rooms.find((x) => x.room === room);
    return e ? e.connections : 0;
}
