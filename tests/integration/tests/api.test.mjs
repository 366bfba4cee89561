// The backend HTTP API and the operations endpoints.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import { closeAll, connectUser } from '../lib/client.mjs';
import { SKIP, roomCount, test, waitFor } from '../lib/harness.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';
import { API_KEY } from '../lib/tokens.mjs';

function assertApiError(r, status, code) {
    assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status}: ${r.text}`);
    assert.match(String(r.headers['content-type']), /application\/json/);
    assert.ok(r.json && r.json.error, `error body is not {"error":{...}}: ${r.text}`);
    assert.equal(r.json.error.code, code, r.text);
    assert.equal(typeof r.json.error.message, 'string');
}

describe('backend API', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer(); });
    after(async () => { await stopAndCheck(srv); });

    test('the API key is accepted as X-API-Key and as Authorization: Bearer', async () => {
        const a = await srv.http('GET', '/api/rooms', undefined, { 'X-API-Key': API_KEY });
        assert.equal(a.status, 200, a.text);
        assert.ok(Array.isArray(a.json.rooms));
        const b = await srv.http('GET', '/api/rooms', undefined, { Authorization: `Bearer ${API_KEY}` });
        assert.equal(b.status, 200, b.text);
        const c = await srv.http('POST', '/api/publish', { room: 'team:k', type: 't', payload: {} }, { Authorization: `Bearer ${API_KEY}` });
        assert.equal(c.status, 200, c.text);
    });

    test('missing or wrong API key: 401 UNAUTHORIZED as JSON', async () => {
        const body = { room: 'team:1', type: 'x', payload: {} };
        assertApiError(await srv.http('POST', '/api/publish', body), 401, 'UNAUTHORIZED');
        assertApiError(await srv.http('POST', '/api/publish', body, { 'X-API-Key': 'wrong' }), 401, 'UNAUTHORIZED');
        assertApiError(await srv.http('POST', '/api/publish', body, { 'X-API-Key': '' }), 401, 'UNAUTHORIZED');
        assertApiError(await srv.http('POST', '/api/publish', body, { Authorization: 'Bearer wrong' }), 401, 'UNAUTHORIZED');
        assertApiError(await srv.http('POST', '/api/publish', body, { 'X-API-Key': API_KEY.slice(0, -1) }), 401, 'UNAUTHORIZED');
        assertApiError(await srv.http('GET', '/api/rooms'), 401, 'UNAUTHORIZED');
        assertApiError(await srv.http('POST', '/api/users/alice/send', { type: 'x' }), 401, 'UNAUTHORIZED');
        assertApiError(await srv.http('POST', '/api/users/alice/disconnect', {}), 401, 'UNAUTHORIZED');
    });

    test('bad JSON body: 400 INVALID_REQUEST', async () => {
        assertApiError(await srv.api('POST', '/api/publish', '{"room":', { 'Content-Type': 'application/json' }), 400, 'INVALID_REQUEST');
        assertApiError(await srv.api('POST', '/api/publish', '[1,2]', { 'Content-Type': 'application/json' }), 400, 'INVALID_REQUEST');
        assertApiError(await srv.api('POST', '/api/publish', '', { 'Content-Type': 'application/json' }), 400, 'INVALID_REQUEST');
        assertApiError(await srv.api('POST', '/api/users/alice/send', 'nope', { 'Content-Type': 'application/json' }), 400, 'INVALID_REQUEST');
    });

    test('publish without type, without room, with an invalid room: 400 INVALID_REQUEST', async () => {
        assertApiError(await srv.api('POST', '/api/publish', { room: 'team:1', payload: {} }), 400, 'INVALID_REQUEST');
        assertApiError(await srv.api('POST', '/api/publish', { room: 'team:1', type: 42, payload: {} }), 400, 'INVALID_REQUEST');
        assertApiError(await srv.api('POST', '/api/publish', { type: 'x', payload: {} }), 400, 'INVALID_REQUEST');
        // a bad room name: 400, code INVALID_REQUEST (docs/protocol.md) or the more precise INVALID_ROOM
        for (const body of [{ room: 'team one' }, { room: '' }, { room: 'r'.repeat(129) }, { rooms: ['team:ok', 'bad#room'] }]) {
            const r = await srv.api('POST', '/api/publish', { ...body, type: 'x', payload: {} });
            assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
            assert.ok(['INVALID_REQUEST', 'INVALID_ROOM'].includes(r.json?.error?.code), `${JSON.stringify(body)}: ${r.text}`);
        }
        assertApiError(await srv.api('POST', '/api/users/alice/send', { payload: {} }), 400, 'INVALID_REQUEST');
    });

    test('unknown path: 404 NOT_FOUND; wrong method: 405 METHOD_NOT_ALLOWED', async () => {
        assertApiError(await srv.api('GET', '/api/nope'), 404, 'NOT_FOUND');
        assertApiError(await srv.api('POST', '/api/users/alice/nope', {}), 404, 'NOT_FOUND');
        assertApiError(await srv.api('GET', '/api/publish'), 405, 'METHOD_NOT_ALLOWED');
        assertApiError(await srv.api('DELETE', '/api/rooms'), 405, 'METHOD_NOT_ALLOWED');
        assertApiError(await srv.api('GET', '/api/users/alice/send'), 405, 'METHOD_NOT_ALLOWED');
        const r = await srv.http('GET', '/no-such-page-here');
        assert.equal(r.status, 404);
    });

    test('a body over 1 MiB: 413 REQUEST_TOO_LARGE', async () => {
        const big = JSON.stringify({ room: 'team:big', type: 'x', payload: { pad: 'x'.repeat(2 * 1024 * 1024) } });
        assertApiError(await srv.api('POST', '/api/publish', big, { 'Content-Type': 'application/json' }), 413, 'REQUEST_TOO_LARGE');
        // the server still answers
        assert.equal((await srv.api('GET', '/api/rooms')).status, 200);
    });

    test('a query string does not change the route', async () => {
        const r = await srv.api('GET', '/api/rooms?verbose=1');
        assert.equal(r.status, 200, r.text);
        assert.ok(Array.isArray(r.json.rooms));
    });

    test('disconnect a user: all of its sockets closed with 4403, others unaffected', async () => {
        const a1 = await connectUser(srv, 'alice', { name: 'alice1' });
        const a2 = await connectUser(srv, 'alice', { name: 'alice2' });
        const bob = await connectUser(srv, 'bob');
        try {
            await bob.subscribe(['team:d']);
            await a1.subscribe(['team:d']);
            const r = await srv.api('POST', '/api/users/alice/disconnect', {});
            assert.equal(r.status, 200, r.text);
            assert.deepEqual(r.json, { ok: true, connections: 2 });
            for (const c of [a1, a2]) {
                const { code } = await c.closed(3000);
                assert.equal(code, 4403);
            }
            assert.equal(bob.isOpen, true);
            await bob.ping();
            await waitFor(async () => (await roomCount(srv, 'team:d')) === 1, { what: 'team:d back to 1 member' });
            // nobody left to disconnect
            const r2 = await srv.api('POST', '/api/users/alice/disconnect');
            assert.equal(r2.status, 200, r2.text);
            assert.deepEqual(r2.json, { ok: true, connections: 0 });
        } finally { await closeAll(a1, a2, bob); }
    });

    test('disconnect with a code of the 4000-4999 range; other codes are 400', async () => {
        const c = await connectUser(srv, 'gina');
        try {
            assertApiError(await srv.api('POST', '/api/users/gina/disconnect', { code: 1000 }), 400, 'INVALID_REQUEST');
            assertApiError(await srv.api('POST', '/api/users/gina/disconnect', { code: 'x' }), 400, 'INVALID_REQUEST');
            assert.equal(c.isOpen, true);
            const r = await srv.api('POST', '/api/users/gina/disconnect', { code: 4100, reason: 'moved' });
            assert.equal(r.status, 200, r.text);
            assert.deepEqual(await c.closed(3000), { code: 4100, reason: 'moved' });
        } finally { await c.close(); }
    });

    test('disconnect with a reason: the reason reaches the client', async () => {
        const c = await connectUser(srv, 'frank');
        try {
            const r = await srv.api('POST', '/api/users/frank/disconnect', { reason: 'account suspended' });
            assert.equal(r.status, 200, r.text);
            assert.equal(r.json.connections, 1);
            const ci = await c.closed(3000);
            assert.equal(ci.code, 4403);
            assert.equal(ci.reason, 'account suspended');
        } finally { await c.close(); }
    });
});

describe('operations endpoints', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer(); });
    after(async () => { await stopAndCheck(srv); });

    test('/health and /ready answer 200 without a key', async () => {
        const h = await srv.http('GET', '/health');
        assert.equal(h.status, 200);
        assert.equal(h.json.status, 'ok');
        const r = await srv.http('GET', '/ready');
        assert.equal(r.status, 200);
        assert.equal(r.json.status, 'ready');
    });

    test('/stats needs the API key and counts connections, users and rooms', async () => {
        assertApiError(await srv.http('GET', '/stats'), 401, 'UNAUTHORIZED');
        assertApiError(await srv.http('GET', '/stats', undefined, { 'X-API-Key': 'wrong' }), 401, 'UNAUTHORIZED');
        const a1 = await connectUser(srv, 'alice');
        const a2 = await connectUser(srv, 'alice');
        const bob = await connectUser(srv, 'bob');
        try {
            await a1.subscribe(['team:s1', 'issue:s2']);
            await bob.subscribe(['team:s1']);
            const s = await srv.api('GET', '/stats');
            assert.equal(s.status, 200, s.text);
            assert.ok(s.json, s.text);
            const b = await srv.http('GET', '/stats', undefined, { Authorization: `Bearer ${API_KEY}` });
            assert.equal(b.status, 200, b.text);
            const st = statsView(s.json);
            for (const k of ['connections', 'users', 'rooms', 'messagesIn', 'messagesOut', 'slowConsumerDrops']) {
                assert.equal(typeof s.json[k], 'number', `${k} in ${s.text}`);
            }
            for (const k of ['messages', 'handshakes', 'connectionLimit', 'authFailures']) {
                assert.equal(typeof s.json.rateLimits?.[k], 'number', `rateLimits.${k} in ${s.text}`);
            }
            assert.equal(s.json.accepting, true);
            // team:s1 and issue:s2 (private user rooms are not counted)
            assert.equal(s.json.rooms, 2, `rooms in ${s.text}`);
            assert.equal(st.room('user:alice'), undefined, `user:alice in ${s.text}`);
            assert.equal(st.connections, 3, `connections in ${s.text}`);
            assert.equal(st.users, 2, `users in ${s.text}`);
            assert.equal(st.room('team:s1'), 2, `team:s1 in ${s.text}`);
            assert.equal(st.room('issue:s2'), 1, `issue:s2 in ${s.text}`);
            await closeAll(a2);
            await waitFor(async () => statsView((await srv.api('GET', '/stats')).json).connections === 2, { what: '/stats connections back to 2' });
        } finally { await closeAll(a1, a2, bob); }
    });

    test('/metrics is Prometheus text with a connections gauge', async () => {
        const a = await connectUser(srv, 'alice');
        try {
            await a.subscribe(['team:m1']);
            // earlier tests' connections may still be closing on the server side
            await waitFor(async () => metricValue((await srv.http('GET', '/metrics')).text, METRIC_CONNECTIONS) === 1, { what: `${METRIC_CONNECTIONS} = 1` });
            const r = await srv.http('GET', '/metrics');
            assert.equal(r.status, 200);
            assert.match(String(r.headers['content-type']), /^text\/plain/);
            const gauge = metricValue(r.text, METRIC_CONNECTIONS);
            assert.equal(gauge, 1, `${METRIC_CONNECTIONS} in:\n${r.text.slice(0, 2000)}`);
            assert.match(r.text, new RegExp(`^# TYPE ${METRIC_CONNECTIONS} gauge$`, 'm'));
            assert.equal(metricValue(r.text, 'huddle_users'), 1);
            assert.equal(metricValue(r.text, 'huddle_rooms'), 1); // team:m1 (private user rooms are not counted)
            assert.equal(metricValue(r.text, 'huddle_ready'), 1);
            assert.ok(metricValue(r.text, 'huddle_connections_total') >= 1);
            assert.match(r.text, /^# TYPE huddle_connections_total counter$/m);
            assert.match(r.text, /^huddle_fanout_latency_seconds_bucket\{le="\+Inf"\} \d+$/m);
            // every sample line is `name{labels} value`
            for (const line of r.text.split('\n')) {
                if (line === '' || line.startsWith('#')) continue;
                assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [0-9.eE+-]+$/, `bad metrics line: ${line}`);
            }
        } finally { await a.close(); }
        await waitFor(async () => metricValue((await srv.http('GET', '/metrics')).text, METRIC_CONNECTIONS) === 0, { what: `${METRIC_CONNECTIONS} back to 0` });
    });
});

// The gauge of open WebSocket connections in /metrics.
const METRIC_CONNECTIONS = 'huddle_connections';

function metricValue(text, name) {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)\\s*$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
}

// /stats: {connections, users, rooms (count), clientsPerRoom: {room: n}, messagesIn, messagesOut,
// rateLimits: {messages, handshakes, connectionLimit, authFailures}, slowConsumerDrops, accepting}.
function statsView(j) {
    return {
        connections: j.connections,
        users: j.users,
        room: (name) => j.clientsPerRoom?.[name],
    };
}
