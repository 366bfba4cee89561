// Limits: message rate, failed authentications and handshakes per IP, connections per user, rooms
// per connection, message size, slow consumers, heartbeat. Each limit gets its own server.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import { closeAll, connect, connectUser } from '../lib/client.mjs';
import { SKIP, roomCount, roomResults, sleep, test, waitFor, waitForConnections } from '../lib/harness.mjs';
import { OP, rawConnect } from '../lib/raw.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';
import { mint, token } from '../lib/tokens.mjs';

function withServer(env, fn) {
    return () => {
        const ctx = { srv: null };
        before(async () => { if (!SKIP) ctx.srv = await startServer({ env }); });
        after(async () => { await stopAndCheck(ctx.srv); });
        fn(ctx);
    };
}

async function expectRefused(c, errorCode, closeCode) {
    const err = await c.next('error', 3000);
    assert.equal(err.payload.code, errorCode, JSON.stringify(err));
    const { code } = await c.closed(3000);
    assert.equal(code, closeCode);
    assert.equal(c.history.some((m) => m.type === 'connection.ack'), false, 'connection.ack sent to a refused connection');
}

describe('messages per minute = 5', withServer({ HUDDLE_LIMITS_MESSAGES_PER_MINUTE: '5' }, (ctx) => {
    test('the 6th message of a burst gets RATE_LIMIT_EXCEEDED with retryAfterMs; the connection stays open', async () => {
        const c = await connectUser(ctx.srv, 'alice');
        const other = await connectUser(ctx.srv, 'alice', { name: 'alice-other' });
        try {
            // subscribe requests (application pings may be exempt from the budget)
            for (let i = 1; i <= 7; i++) c.send({ action: 'subscribe', rooms: ['team:rl'], id: i });
            for (let i = 1; i <= 5; i++) {
                const a = await c.next({ id: i });
                assert.equal(a.type, 'subscribed', JSON.stringify(a));
            }
            for (const id of [6, 7]) {
                const e = await c.next({ id });
                assert.equal(e.type, 'error', JSON.stringify(e));
                assert.equal(e.payload.code, 'RATE_LIMIT_EXCEEDED');
                assert.equal(typeof e.payload.retryAfterMs, 'number');
                assert.ok(e.payload.retryAfterMs > 0 && e.payload.retryAfterMs <= 12000, `retryAfterMs ${e.payload.retryAfterMs} not in (0, 12000]`);
            }
            await sleep(200);
            assert.equal(c.isOpen, true, 'rate-limited connection was closed');
            await c.ping(); // still answered
            // the limit is per connection
            const o = await other.request({ action: 'subscribe', rooms: ['team:rl'] });
            assert.equal(o.type, 'subscribed', JSON.stringify(o));
        } finally { await closeAll(c, other); }
    });
}));

describe('messages per minute = 60', withServer({ HUDDLE_LIMITS_MESSAGES_PER_MINUTE: '60' }, (ctx) => {
    test('after a burst is refused, one more message is accepted once retryAfterMs has passed', async () => {
        const c = await connectUser(ctx.srv, 'alice');
        try {
            for (let i = 1; i <= 61; i++) c.send({ action: 'subscribe', rooms: ['team:rl'], id: i });
            for (let i = 1; i <= 60; i++) assert.equal((await c.next({ id: i })).type, 'subscribed', `message ${i}`);
            const e = await c.next({ id: 61 });
            assert.equal(e.payload?.code, 'RATE_LIMIT_EXCEEDED', JSON.stringify(e));
            const wait = e.payload.retryAfterMs;
            assert.ok(wait > 0 && wait <= 1000, `retryAfterMs ${wait} not in (0, 1000]`);
            await sleep(wait + 50);
            const a = await c.request({ action: 'subscribe', rooms: ['team:rl'], id: 'after-wait' });
            assert.equal(a.type, 'subscribed', JSON.stringify(a));
        } finally { await c.close(); }
    });
}));

describe('failed auths per IP per minute = 3', withServer({ HUDDLE_LIMITS_FAILED_AUTHS_PER_IP_PER_MINUTE: '3' }, (ctx) => {
    test('after 3 bad tokens, a good token is refused with RATE_LIMIT_EXCEEDED / 4029', async () => {
        const bad = await mint({ sub: 'alice', secret: 'wrong-secret-wrong-secret-wrong-secret-0000' });
        for (let i = 0; i < 3; i++) {
            const c = await connect(ctx.srv.wsUrl(bad), { name: `bad${i}` });
            await expectRefused(c, 'UNAUTHORIZED', 4401);
        }
        const good = await connect(ctx.srv.wsUrl(await token('alice')), { name: 'good' });
        await expectRefused(good, 'RATE_LIMIT_EXCEEDED', 4029);
        // the HTTP side is not affected
        assert.equal((await ctx.srv.http('GET', '/health')).status, 200);
    });
}));

describe('handshakes per IP per minute = 3', withServer({ HUDDLE_LIMITS_HANDSHAKES_PER_IP_PER_MINUTE: '3' }, (ctx) => {
    test('the 4th handshake in a minute is refused with RATE_LIMIT_EXCEEDED / 4029; open ones keep working', async () => {
        const ok = [];
        try {
            for (let i = 0; i < 3; i++) ok.push(await connectUser(ctx.srv, `u${i}`));
            const c = await connect(ctx.srv.wsUrl(await token('u3')), { name: 'fourth' });
            await expectRefused(c, 'RATE_LIMIT_EXCEEDED', 4029);
            for (const o of ok) await o.ping();
        } finally { await closeAll(ok); }
    });
}));

describe('connections per user = 2', withServer({ HUDDLE_LIMITS_MAX_CONNECTIONS_PER_USER: '2' }, (ctx) => {
    test('the 3rd connection of a user gets CONNECTION_LIMIT / 4029; the others keep working', async () => {
        const a1 = await connectUser(ctx.srv, 'alice', { name: 'a1' });
        const a2 = await connectUser(ctx.srv, 'alice', { name: 'a2' });
        const bob = await connectUser(ctx.srv, 'bob');
        let a4;
        try {
            const a3 = await connect(ctx.srv.wsUrl(await token('alice')), { name: 'a3' });
            await expectRefused(a3, 'CONNECTION_LIMIT', 4029);
            await a1.ping();
            await a2.ping();
            await bob.ping();
            const bob2 = await connectUser(ctx.srv, 'bob', { name: 'bob2' });
            await bob2.close();
            // a slot freed by a close can be used again
            await a1.close();
            a4 = await waitFor(async () => connectUser(ctx.srv, 'alice', { name: 'a4' }), { timeoutMs: 3000, intervalMs: 100, what: 'alice reconnects after closing one connection' });
            await a4.ping();
        } finally { await closeAll(a1, a2, bob, a4); }
    });
}));

describe('connections per IP = 3', withServer({ HUDDLE_LIMITS_MAX_CONNECTIONS_PER_IP: '3' }, (ctx) => {
    test('the 4th connection from one IP gets CONNECTION_LIMIT / 4029; a freed slot can be reused', async () => {
        const open = [];
        let again;
        try {
            for (const u of ['a', 'b', 'c']) open.push(await connectUser(ctx.srv, u));
            const d = await connect(ctx.srv.wsUrl(await token('d')), { name: 'd' });
            await expectRefused(d, 'CONNECTION_LIMIT', 4029);
            for (const o of open) await o.ping();
            await open.shift().close();
            again = await waitFor(async () => connectUser(ctx.srv, 'd', { name: 'd-again' }), { timeoutMs: 3000, intervalMs: 100, what: 'a new connection once one closed' });
            await again.ping();
        } finally { await closeAll(open, again); }
    });
}));

describe('namespace publish_per_minute = 3', () => {
    const ctx = { srv: null };
    before(async () => {
        if (!SKIP) {
            ctx.srv = await startServer({
                config: '[[namespaces]]\nname = "typing"\nclient_publish = true\npublish_per_minute = 3\n\n[[namespaces]]\nname = "team"\nclient_publish = true\n',
            });
        }
    });
    after(async () => { await stopAndCheck(ctx.srv); });

    test('the 4th client publish into the namespace gets RATE_LIMIT_EXCEEDED; other namespaces are unaffected', async () => {
        const a = await connectUser(ctx.srv, 'alice');
        const b = await connectUser(ctx.srv, 'bob');
        try {
            await a.subscribe(['typing:doc1', 'typing:doc2', 'team:t']);
            await b.subscribe(['typing:doc1', 'typing:doc2', 'team:t']);
            for (let i = 1; i <= 3; i++) {
                const r = await a.request({ action: 'publish', room: i === 3 ? 'typing:doc2' : 'typing:doc1', type: 'typing', payload: { i } });
                assert.equal(r.type, 'published', JSON.stringify(r));
            }
            const e = await a.request({ action: 'publish', room: 'typing:doc2', type: 'typing', payload: { i: 4 } });
            assert.equal(e.type, 'error', JSON.stringify(e));
            assert.equal(e.payload.code, 'RATE_LIMIT_EXCEEDED');
            assert.ok(e.payload.retryAfterMs > 0 && e.payload.retryAfterMs <= 20000, `retryAfterMs ${e.payload.retryAfterMs}`);
            for (let i = 1; i <= 3; i++) assert.equal((await b.next('typing')).payload.i, i);
            await b.expectNone('typing', 150);
            // another namespace and another connection are not limited
            assert.equal((await a.request({ action: 'publish', room: 'team:t', type: 'x', payload: {} })).type, 'published');
            assert.equal((await b.request({ action: 'publish', room: 'typing:doc1', type: 'typing', payload: { from: 'bob' } })).type, 'published');
            assert.equal(a.isOpen, true);
        } finally { await closeAll(a, b); }
    });
});

describe('rooms per connection = 3', withServer({ HUDDLE_LIMITS_MAX_ROOMS_PER_CONNECTION: '3' }, (ctx) => {
    test('the 4th room is TOO_MANY_ROOMS; re-subscribing is ok; unsubscribing frees a slot', async () => {
        const c = await connectUser(ctx.srv, 'alice');
        const d = await connectUser(ctx.srv, 'bob');
        try {
            const r = await c.request({ action: 'subscribe', rooms: ['team:1', 'team:2', 'team:3', 'team:4'] });
            assert.deepEqual(roomResults(r), { 'team:1': 'ok', 'team:2': 'ok', 'team:3': 'ok', 'team:4': 'TOO_MANY_ROOMS' });
            assert.equal(await roomCount(ctx.srv, 'team:4'), 0);
            assert.deepEqual(roomResults(await c.request({ action: 'subscribe', rooms: ['team:2'] })), { 'team:2': 'ok' });
            assert.deepEqual(roomResults(await c.request({ action: 'subscribe', rooms: ['team:5'] })), { 'team:5': 'TOO_MANY_ROOMS' });
            assert.deepEqual(roomResults(await c.request({ action: 'unsubscribe', rooms: ['team:1'] })), { 'team:1': 'ok' });
            assert.deepEqual(roomResults(await c.request({ action: 'subscribe', rooms: ['team:5'] })), { 'team:5': 'ok' });
            assert.equal(c.isOpen, true);
            // another connection has its own count
            assert.deepEqual(roomResults(await d.request({ action: 'subscribe', rooms: ['team:1', 'team:2', 'team:3'] })), { 'team:1': 'ok', 'team:2': 'ok', 'team:3': 'ok' });
        } finally { await closeAll(c, d); }
    });
}));

describe('max message bytes = 1024', withServer({ HUDDLE_LIMITS_MAX_MESSAGE_BYTES: '1024' }, (ctx) => {
    test('a 2000-byte message closes that connection with 1009; others are unaffected', async () => {
        const c = await connectUser(ctx.srv, 'alice');
        const other = await connectUser(ctx.srv, 'bob');
        try {
            const small = JSON.stringify({ type: 'ping', id: 'small', pad: 'x'.repeat(900) });
            assert.ok(small.length < 1024);
            c.sendText(small);
            assert.equal((await c.next({ id: 'small' })).type, 'pong');
            const head = JSON.stringify({ type: 'ping', id: 'big', pad: '' });
            const big = head.replace('"pad":""', `"pad":"${'x'.repeat(2000 - head.length)}"`);
            assert.equal(big.length, 2000);
            c.sendText(big);
            const { code } = await c.closed(3000);
            assert.equal(code, 1009);
            const err = c.history.find((m) => m.type === 'error');
            assert.equal(err?.payload?.code, 'MESSAGE_TOO_LARGE', `MESSAGE_TOO_LARGE error before the close; got ${JSON.stringify(c.history)}`);
            await other.ping();
        } finally { await closeAll(c, other); }
    });
}));

describe('slow consumer (max pending bytes = 64 KiB)', withServer({ HUDDLE_LIMITS_MAX_PENDING_BYTES: '65536' }, (ctx) => {
    test('a client that never reads is dropped while a normal member receives every event', { timeout: 50000 }, async () => {
        const srv = ctx.srv;
        // One API call publishes to all these rooms: 8 events per HTTP request, ~8 KiB per request
        // and per member, so that a member that does read never has 64 KiB queued at once.
        const rooms = Array.from({ length: 8 }, (_, i) => `team:flood${i}`);
        const fast = await connectUser(srv, 'fast');
        const slow = await rawConnect(srv.port, { token: await token('slow'), name: 'slow' });
        try {
            await slow.nextJson({ type: 'connection.ack' });
            slow.sendJson({ action: 'subscribe', rooms, id: 's' });
            const sub = await slow.nextJson({ id: 's' });
            assert.ok(sub.rooms.every((r) => r.ok), JSON.stringify(sub));
            await fast.subscribe(rooms);
            let received = 0;
            const seen = new Set();
            fast.ws.on('message', (d) => {
                // counted here, not through the inbox, to keep memory flat
                const m = JSON.parse(d.toString());
                if (m.type === 'flood') { received++; seen.add(`${m.room}/${m.payload.i}`); }
            });
            slow.pause(); // stop reading: the kernel buffers fill, then the server's queue grows

            const pad = 'x'.repeat(1000);
            const MAX_REQUESTS = 5000;   // 40000 events of ~1 KiB at most
            const CONCURRENCY = 4;
            const deadline = Date.now() + 30000;
            let requests = 0;
            let dropped = false;
            while (requests < MAX_REQUESTS && Date.now() < deadline) {
                const batch = [];
                for (let k = 0; k < CONCURRENCY; k++) {
                    batch.push(srv.api('POST', '/api/publish', { rooms, type: 'flood', payload: { i: requests + k, pad } }));
                }
                for (const r of await Promise.all(batch)) assert.equal(r.status, 200, r.text);
                requests += CONCURRENCY;
                fast.drain('flood');
                if (requests % 200 === 0 && (await roomCount(srv, rooms[0])) === 1) { dropped = true; break; }
            }
            const sent = requests * rooms.length;
            if (!dropped) dropped = await waitFor(async () => (await roomCount(srv, rooms[0])) === 1, { timeoutMs: 5000, what: 'slow consumer dropped' }).catch(() => false);
            assert.equal(dropped, true, `slow consumer still a member after ${sent} events of 1 KiB`);
            // closed (after at most the close grace period, as its close frame cannot be delivered)
            await waitForConnections(srv, 1, 5000);
            const st = await srv.api('GET', '/stats');
            assert.equal(st.json.slowConsumerDrops, 1, st.text);
            // the normal member gets everything
            await waitFor(() => received >= sent, { timeoutMs: 15000, intervalMs: 50, what: `fast member received ${sent} events` })
                .catch((e) => { throw new Error(`${e.message}; it has ${received}; fast open: ${fast.isOpen} ${JSON.stringify(fast.closeInfo)}`); });
            assert.equal(received, sent);
            assert.equal(seen.size, sent);
            assert.equal(fast.isOpen, true);
            fast.drain('flood');
            // The slow client's TCP connection is closed; if the close frame got through, it says 4008.
            slow.resume();
            await slow.waitEnd(10000);
            const cf = slow.frames.find((f) => f.opcode === OP.CLOSE);
            if (cf) assert.equal(cf.code, 4008, `close frame code ${cf.code}`);
            slow.frames = []; // drop the flood it had buffered
        } finally {
            slow.destroy();
            await fast.close();
        }
    });
}));

describe('heartbeat (ping every 200 ms, pong timeout 600 ms)', withServer({ HUDDLE_HEARTBEAT_PING_INTERVAL: '200ms', HUDDLE_HEARTBEAT_PONG_TIMEOUT: '600ms' }, (ctx) => {
    test('a client that never answers pings is closed with 4000; one that answers stays', async () => {
        const mute = await rawConnect(ctx.srv.port, { token: await token('mute'), name: 'mute' });
        const polite = await rawConnect(ctx.srv.port, { token: await token('polite'), name: 'polite' });
        const wsClient = await connectUser(ctx.srv, 'wsuser');
        // polite answers every ping with a pong carrying the same payload
        polite.socket.on('data', () => {
            for (let f; (f = polite.frames.findIndex((x) => x.opcode === OP.PING)) >= 0;) {
                const [ping] = polite.frames.splice(f, 1);
                polite.send(OP.PONG, ping.payload);
            }
        });
        try {
            await mute.nextJson({ type: 'connection.ack' });
            await polite.nextJson({ type: 'connection.ack' });
            const t0 = Date.now();
            const ping = await mute.nextFrame((f) => f.opcode === OP.PING, 1500);
            assert.ok(ping, 'server sent a WebSocket ping');
            const cf = await mute.closeFrame(2500);
            assert.equal(cf.code, 4000);
            const elapsed = Date.now() - t0;
            assert.ok(elapsed >= 300, `closed after only ${elapsed} ms`);
            await mute.waitEnd(2000);
            await sleep(300);
            assert.equal(polite.ended, false, 'a client that answers pings was closed');
            assert.equal(polite.allFrames.some((f) => f.opcode === OP.CLOSE), false);
            assert.equal(wsClient.isOpen, true, 'the ws client (auto pong) was closed');
            await wsClient.ping();
        } finally {
            mute.destroy();
            polite.destroy();
            await wsClient.close();
        }
    });
}));
