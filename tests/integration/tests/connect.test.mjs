// Connecting: the three ways to carry the token, connection.ack, the user's private room,
// application pings, allowed origins, and a client that vanishes without a close.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import { closeAll, connect, connectUser } from '../lib/client.mjs';
import { SKIP, assertNearNow, roomCount, roomResults, stats, test, waitForConnections } from '../lib/harness.mjs';
import { rawConnect } from '../lib/raw.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';
import { mint, token } from '../lib/tokens.mjs';

describe('connect', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer(); });
    after(async () => { await stopAndCheck(srv); });

    function assertAck(ack, userId) {
        assert.equal(ack.type, 'connection.ack');
        assert.equal(typeof ack.payload.connectionId, 'string');
        assert.ok(ack.payload.connectionId.length > 0, 'empty connectionId');
        assert.equal(ack.payload.userId, userId);
        assertNearNow(ack.timestamp);
    }

    test('token in ?token= gives connection.ack with connectionId and userId = sub', async () => {
        const c = await connect(srv.wsUrl(await token('alice')));
        try {
            assertAck(await c.next('connection.ack'), 'alice');
        } finally { await c.close(); }
    });

    test('token in Authorization: Bearer header', async () => {
        const c = await connect(srv.wsUrl(), { headers: { Authorization: `Bearer ${await token('bob')}` } });
        try {
            assertAck(await c.next('connection.ack'), 'bob');
        } finally { await c.close(); }
    });

    test('token in the huddle_token cookie (among other cookies)', async () => {
        const c = await connect(srv.wsUrl(), { headers: { Cookie: `theme=dark; huddle_token=${await token('carol')}; lang=en` } });
        try {
            assertAck(await c.next('connection.ack'), 'carol');
        } finally { await c.close(); }
    });

    test('two connections of one user get distinct connection ids', async () => {
        const a = await connectUser(srv, 'dave');
        const b = await connectUser(srv, 'dave');
        try {
            assert.notEqual(a.ack.payload.connectionId, b.ack.payload.connectionId);
            assert.equal(a.ack.payload.userId, 'dave');
            assert.equal(b.ack.payload.userId, 'dave');
        } finally { await closeAll(a, b); }
    });

    test('a connection is a member of user:{sub} from the start (the backend reaches it without a subscribe)', async () => {
        await waitForConnections(srv, 0);
        const a = await connectUser(srv, 'erin');
        const b = await connectUser(srv, 'erin');
        const other = await connectUser(srv, 'frank');
        try {
            const s = await stats(srv);
            assert.equal(s.connections, 3);
            assert.equal(s.users, 2);
            const r = await srv.api('POST', '/api/publish', { room: 'user:erin', type: 'direct', payload: { x: 1 } });
            assert.equal(r.status, 200, r.text);
            for (const c of [a, b]) {
                const ev = await c.next('direct');
                assert.equal(ev.room, 'user:erin');
                assert.deepEqual(ev.payload, { x: 1 });
            }
            await other.expectNone('direct', 150);
            // the private room cannot be left
            const u = await a.request({ action: 'unsubscribe', rooms: ['user:erin'] });
            assert.equal(u.type, 'unsubscribed');
            assert.deepEqual(roomResults(u), { 'user:erin': 'FORBIDDEN' });
            await a.close();
            await waitForConnections(srv, 2);
            await srv.api('POST', '/api/publish', { room: 'user:erin', type: 'direct2', payload: {} });
            assert.equal((await b.next('direct2')).room, 'user:erin');
        } finally { await closeAll(a, b, other); }
        await waitForConnections(srv, 0);
        assert.equal((await stats(srv)).users, 0);
    });

    test('own user room: alice may subscribe to user:alice, bob may not', async () => {
        const alice = await connectUser(srv, 'alice');
        const bob = await connectUser(srv, 'bob');
        try {
            const ra = await alice.request({ action: 'subscribe', rooms: ['user:alice'], id: 'ua' });
            assert.equal(ra.type, 'subscribed');
            assert.equal(ra.id, 'ua');
            assert.deepEqual(roomResults(ra), { 'user:alice': 'ok' });
            const rb = await bob.request({ action: 'subscribe', rooms: ['user:alice'], id: 'ub' });
            assert.equal(rb.type, 'subscribed');
            assert.equal(rb.id, 'ub');
            assert.deepEqual(roomResults(rb), { 'user:alice': 'FORBIDDEN' });
            assert.equal(rb.rooms[0].ok, false);
            assert.equal(typeof rb.rooms[0].error.message, 'string');
            // bob did not become a member: a send to alice does not reach him
            const r = await srv.api('POST', '/api/users/alice/send', { type: 'notification', payload: { n: 1 } });
            assert.equal(r.status, 200, r.text);
            const got = await alice.next('notification');
            assert.deepEqual(got.payload, { n: 1 });
            await bob.expectNone('notification', 200);
        } finally { await closeAll(alice, bob); }
    });

    test('application pings: ping, action ping and PING are answered with the same id', async () => {
        const c = await connectUser(srv, 'alice');
        try {
            const a = await c.request({ type: 'ping', id: 7 });
            assert.equal(a.type, 'pong');
            assert.equal(a.id, 7);
            const b = await c.request({ action: 'ping', id: 'p-2' });
            assert.equal(b.type, 'pong');
            assert.equal(b.id, 'p-2');
            const d = await c.request({ type: 'PING', id: 'S2' });
            assert.equal(d.type, 'PONG');
            assert.equal(d.id, 'S2');
            // without an id the answer still comes
            c.send({ type: 'ping' });
            const e = await c.next('pong');
            assert.equal(e.id, undefined);
        } finally { await c.close(); }
    });

    test('a client that vanishes without a close frame is cleaned up; the server keeps serving', async () => {
        const raw = await rawConnect(srv.port, { token: await token('ghost') });
        const ack = await raw.nextJson({ type: 'connection.ack' });
        assert.equal(ack.payload.userId, 'ghost');
        raw.sendJson({ action: 'subscribe', rooms: ['team:ghosts'], id: 1 });
        assert.deepEqual(roomResults(await raw.nextJson({ id: 1 })), { 'team:ghosts': 'ok' });
        await waitForConnections(srv, 1);
        assert.equal(await roomCount(srv, 'team:ghosts'), 1);
        raw.socket.resetAndDestroy(); // RST, no close frame
        await waitForConnections(srv, 0, 5000);
        assert.equal(await roomCount(srv, 'team:ghosts'), 0);
        // the same with a FIN and no close frame
        const raw2 = await rawConnect(srv.port, { token: await token('ghost2') });
        await raw2.nextJson({ type: 'connection.ack' });
        await waitForConnections(srv, 1);
        raw2.destroy();
        await waitForConnections(srv, 0, 5000);
        const c = await connectUser(srv, 'alice');
        try {
            await c.ping();
        } finally { await c.close(); }
    });
});

describe('user ids', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer(); });
    after(async () => { await stopAndCheck(srv); });

    // Identity providers issue subs such as "auth0|5f7c8e" or "google-oauth2|1234"; a server that
    // accepts the token must let the backend reach that user.
    for (const sub of ['alice@example.com', 'auth0|5f7c8ec7c33c6c004bbafe82', 'Jane Doe', 'jörg']) {
        test(`sub ${JSON.stringify(sub)}: acknowledged, reachable by send-to-user and disconnect`, async () => {
            const c = await connectUser(srv, sub);
            try {
                assert.equal(c.ack.payload.userId, sub);
                const path = `/api/users/${encodeURIComponent(sub)}`;
                const r = await srv.api('POST', `${path}/send`, { type: 'notification', payload: { to: sub } });
                assert.equal(r.status, 200, `send: ${r.text}`);
                assert.deepEqual((await c.next('notification')).payload, { to: sub });
                const d = await srv.api('POST', `${path}/disconnect`);
                assert.equal(d.status, 200, `disconnect: ${d.text}`);
                assert.deepEqual(d.json, { ok: true, connections: 1 });
                assert.equal((await c.closed()).code, 4403);
            } finally { await c.close(); }
        });
    }

    test('a token too large for the request headers is refused with an HTTP error; the server keeps serving', async () => {
        const huge = await mint({ sub: 'x', claims: { pad: 'p'.repeat(20000) } });
        await assert.rejects(connect(srv.wsUrl(huge)), (e) => {
            assert.ok(e.statusCode >= 400 && e.statusCode < 500, e.message);
            return true;
        });
        const c = await connectUser(srv, 'after-huge');
        try { await c.ping(); } finally { await c.close(); }
    });

    test('an upgrade on another path than /ws: HTTP 404', async () => {
        await assert.rejects(connect(srv.wsUrl(await token('alice'), { path: '/nope' })), (e) => {
            assert.equal(e.statusCode, 404, e.message);
            return true;
        });
    });
});

describe('allowed origins', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer({ env: { HUDDLE_SERVER_ALLOWED_ORIGINS: 'https://app.example' } }); });
    after(async () => { await stopAndCheck(srv); });

    test('an Origin not in server.allowed_origins gets HTTP 403 before any upgrade', async () => {
        const tok = await token('alice');
        await assert.rejects(connect(srv.wsUrl(tok), { origin: 'https://evil.example' }), (e) => {
            assert.equal(e.statusCode, 403, e.message);
            return true;
        });
        await assert.rejects(connect(srv.wsUrl(tok), { origin: 'https://app.example.evil.example' }), (e) => e.statusCode === 403);
        await assert.rejects(connect(srv.wsUrl(tok), { origin: 'http://app.example' }), (e) => e.statusCode === 403);
    });

    test('the allowed Origin connects', async () => {
        const c = await connect(srv.wsUrl(await token('alice')), { origin: 'https://app.example' });
        try {
            const ack = await c.next('connection.ack');
            assert.equal(ack.payload.userId, 'alice');
            await c.ping();
        } finally { await c.close(); }
    });
});
