// Bad input from clients: each case gets a clear error and, unless the protocol says otherwise,
// the connection is kept. After every test another client still gets a ping answered.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe } from 'node:test';

import { connectUser } from '../lib/client.mjs';
import { NAMESPACES_TOML } from '../lib/config.mjs';
import { SKIP, roomResults, sleep, test } from '../lib/harness.mjs';
import { tcpConnect } from '../lib/raw.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';
import { token } from '../lib/tokens.mjs';

describe('bad messages', () => {
    let srv;
    let observer;
    let n = 0;
    before(async () => {
        if (SKIP) return;
        srv = await startServer({
            config: NAMESPACES_TOML,
            env: {
                HUDDLE_LIMITS_MAX_MESSAGE_BYTES: '1024',
                HUDDLE_LIMITS_MAX_ROOMS_PER_CONNECTION: '3',
                HUDDLE_LIMITS_MESSAGES_PER_MINUTE: '30',
            },
        });
        observer = await connectUser(srv, 'observer');
    });
    after(async () => {
        if (observer) await observer.close();
        await stopAndCheck(srv);
    });
    afterEach(async () => {
        if (!observer) return;
        assert.equal(observer.isOpen, true, 'the observer connection was closed');
        await observer.ping();
    });

    const fresh = () => connectUser(srv, `u${++n}`);

    // Sends raw text, expects an error with `code`, then checks the connection still works.
    async function expectError(c, text, code, { id } = {}) {
        c.sendText(text);
        const e = await c.next((m) => m.type === 'error' || m.type === 'subscribed' || m.type === 'pong', 3000);
        assert.equal(e.type, 'error', `answer to ${text.slice(0, 80)}: ${JSON.stringify(e)}`);
        const codes = Array.isArray(code) ? code : [code];
        assert.ok(codes.includes(e.payload?.code), `answer to ${text.slice(0, 80)}: ${JSON.stringify(e)} (expected ${codes.join(' or ')})`);
        assert.equal(typeof e.payload.message, 'string');
        if (id !== undefined) assert.equal(e.id, id);
        return e;
    }
    async function stillWorks(c) {
        assert.equal(c.isOpen, true, 'connection was closed');
        await c.ping();
    }

    test('invalid JSON: INVALID_MESSAGE, connection kept', async () => {
        const c = await fresh();
        try {
            for (const text of ['{"action":', 'not json', '{"action":"subscribe",}', '{\'a\':1}', '']) {
                await expectError(c, text, 'INVALID_MESSAGE');
            }
            await stillWorks(c);
        } finally { await c.close(); }
    });

    test('JSON that is not an object (array, number, string, null, true): INVALID_MESSAGE', async () => {
        const c = await fresh();
        try {
            for (const text of ['[1,2,3]', '[]', '42', '"subscribe"', 'null', 'true']) await expectError(c, text, 'INVALID_MESSAGE');
            await stillWorks(c);
        } finally { await c.close(); }
    });

    test('deeply nested JSON within the size limit: INVALID_MESSAGE, no crash', async () => {
        const c = await fresh();
        try {
            await expectError(c, '['.repeat(500) + ']'.repeat(500), 'INVALID_MESSAGE');
            // nested rooms: refused as a whole (INVALID_MESSAGE) or per room (INVALID_ROOM)
            c.sendText(`{"action":"subscribe","rooms":[${'['.repeat(400)}${']'.repeat(400)}],"id":"deep"}`);
            const a = await c.next((m) => m.type === 'error' || m.id === 'deep');
            if (a.type === 'error') assert.equal(a.payload.code, 'INVALID_MESSAGE', JSON.stringify(a));
            else assert.equal(a.rooms?.[0]?.error?.code, 'INVALID_ROOM', JSON.stringify(a));
            await stillWorks(c);
        } finally { await c.close(); }
    });

    test('unknown action and unknown type: UNKNOWN_ACTION with the id', async () => {
        const c = await fresh();
        try {
            await expectError(c, JSON.stringify({ action: 'dance', id: 'a1' }), 'UNKNOWN_ACTION', { id: 'a1' });
            await expectError(c, JSON.stringify({ type: 'dance', id: 'a2' }), 'UNKNOWN_ACTION', { id: 'a2' });
            await expectError(c, JSON.stringify({ action: 'SUBSCRIBE', rooms: ['team:1'], id: 3 }), 'UNKNOWN_ACTION', { id: 3 });
            await expectError(c, JSON.stringify({ id: 'none', rooms: ['team:1'] }), ['INVALID_MESSAGE', 'UNKNOWN_ACTION'], { id: 'none' });
            await expectError(c, JSON.stringify({ action: 42, id: 'num' }), ['INVALID_MESSAGE', 'UNKNOWN_ACTION'], { id: 'num' });
            await stillWorks(c);
        } finally { await c.close(); }
    });

    test('subscribe with rooms missing, not an array, or holding a non-string: INVALID_MESSAGE', async () => {
        const c = await fresh();
        try {
            await expectError(c, JSON.stringify({ action: 'subscribe', id: 'm' }), 'INVALID_MESSAGE', { id: 'm' });
            await expectError(c, JSON.stringify({ action: 'subscribe', rooms: 'team:1', id: 's' }), 'INVALID_MESSAGE', { id: 's' });
            await expectError(c, JSON.stringify({ action: 'subscribe', rooms: { room: 'team:1' }, id: 'o' }), 'INVALID_MESSAGE', { id: 'o' });
            await expectError(c, JSON.stringify({ action: 'subscribe', rooms: null, id: 'n' }), 'INVALID_MESSAGE', { id: 'n' });
            await expectError(c, JSON.stringify({ action: 'unsubscribe', rooms: 7, id: 'u' }), 'INVALID_MESSAGE', { id: 'u' });
            // a non-string room: a whole-message INVALID_MESSAGE, or that room refused as INVALID_ROOM
            c.send({ action: 'subscribe', rooms: [42, 'team:1'], id: 'ns' });
            const a = await c.next({ id: 'ns' });
            if (a.type === 'error') assert.equal(a.payload.code, 'INVALID_MESSAGE', JSON.stringify(a));
            else {
                assert.equal(a.type, 'subscribed', JSON.stringify(a));
                assert.equal(a.rooms.length, 2);
                assert.equal(a.rooms[0].ok, false);
                assert.equal(a.rooms[0].error.code, 'INVALID_ROOM');
                assert.deepEqual(a.rooms[1], { room: 'team:1', ok: true });
            }
            await stillWorks(c);
        } finally { await c.close(); }
    });

    test('publish without room, without type, or with wrong types: INVALID_MESSAGE', async () => {
        const c = await fresh();
        try {
            await c.subscribe(['team:p']);
            await expectError(c, JSON.stringify({ action: 'publish', type: 't', payload: {}, id: 1 }), 'INVALID_MESSAGE', { id: 1 });
            await expectError(c, JSON.stringify({ action: 'publish', room: 'team:p', payload: {}, id: 2 }), 'INVALID_MESSAGE', { id: 2 });
            await expectError(c, JSON.stringify({ action: 'publish', room: 5, type: 't', id: 3 }), 'INVALID_MESSAGE', { id: 3 });
            await expectError(c, JSON.stringify({ action: 'publish', room: 'team:p', type: ['t'], id: 4 }), 'INVALID_MESSAGE', { id: 4 });
            await stillWorks(c);
        } finally { await c.close(); }
    });

    test('binary frame: INVALID_MESSAGE, connection kept', async () => {
        const c = await fresh();
        try {
            c.sendBinary(Buffer.from(JSON.stringify({ type: 'ping', id: 'bin' })));
            const e = await c.next('error');
            assert.equal(e.payload.code, 'INVALID_MESSAGE', JSON.stringify(e));
            c.sendBinary(Buffer.from([0, 1, 2, 255]));
            assert.equal((await c.next('error')).payload.code, 'INVALID_MESSAGE');
            await stillWorks(c);
        } finally { await c.close(); }
    });

    test('a frame over max_message_bytes: close 1009', async () => {
        const c = await fresh();
        c.sendText(JSON.stringify({ type: 'ping', pad: 'y'.repeat(3000) }));
        const { code } = await c.closed(3000);
        assert.equal(code, 1009);
    });

    test('room names: 128 bytes ok; 129 bytes, empty, space, #, non-ASCII, control chars: INVALID_ROOM', async () => {
        const c = await fresh();
        try {
            const ok128 = `team:${'a'.repeat(123)}`;
            assert.equal(ok128.length, 128);
            const long129 = `team:${'a'.repeat(124)}`;
            const allowed = 'team:Az09_-.:@/=+';
            // max 3 rooms per connection here: the valid ones first, two at a time
            const r1 = await c.request({ action: 'subscribe', rooms: [ok128, long129, '', 'team:a b', 'team:#1'] });
            assert.deepEqual(r1.rooms.map((x) => x.room), [ok128, long129, '', 'team:a b', 'team:#1']);
            assert.deepEqual(r1.rooms.map((x) => (x.ok ? 'ok' : x.error.code)), ['ok', 'INVALID_ROOM', 'INVALID_ROOM', 'INVALID_ROOM', 'INVALID_ROOM']);
            const r2 = await c.request({ action: 'subscribe', rooms: [allowed, 'team:é', 'team:日本', 'team:a\nb', 'team:a\u0000b', 'team:<x>', 'team:a%20b'] });
            assert.deepEqual(r2.rooms.map((x) => (x.ok ? 'ok' : x.error.code)), ['ok', 'INVALID_ROOM', 'INVALID_ROOM', 'INVALID_ROOM', 'INVALID_ROOM', 'INVALID_ROOM', 'INVALID_ROOM']);
            await stillWorks(c);
        } finally { await c.close(); }
    });

    test('too many rooms: TOO_MANY_ROOMS per room, connection kept', async () => {
        const c = await fresh();
        try {
            const r = await c.request({ action: 'subscribe', rooms: ['issue:1', 'issue:2', 'issue:3', 'issue:4', 'issue:5'] });
            assert.deepEqual(roomResults(r), { 'issue:1': 'ok', 'issue:2': 'ok', 'issue:3': 'ok', 'issue:4': 'TOO_MANY_ROOMS', 'issue:5': 'TOO_MANY_ROOMS' });
            await stillWorks(c);
        } finally { await c.close(); }
    });

    test('publishing where it is not allowed: PUBLISH_NOT_ALLOWED, connection kept', async () => {
        const c = await fresh();
        try {
            await c.subscribe(['issue:np']);
            await expectError(c, JSON.stringify({ action: 'publish', room: 'issue:np', type: 'x', payload: {}, id: 'np' }), 'PUBLISH_NOT_ALLOWED', { id: 'np' });
            await stillWorks(c);
        } finally { await c.close(); }
    });

    test('flood over the rate limit: RATE_LIMIT_EXCEEDED for the excess, connection kept', async () => {
        const c = await fresh();
        try {
            const N = 45;
            // subscribe requests: application pings may be exempt from the budget
            for (let i = 0; i < N; i++) c.send({ action: 'subscribe', rooms: ['issue:flood'], id: i });
            const answers = [];
            for (let i = 0; i < N; i++) answers.push(await c.next({ id: i }));
            const ok = answers.filter((a) => a.type === 'subscribed').length;
            const limited = answers.filter((a) => a.type === 'error' && a.payload.code === 'RATE_LIMIT_EXCEEDED');
            assert.equal(ok, 30, `answered: ${ok}`);
            assert.equal(limited.length, N - 30);
            for (const e of limited) assert.ok(e.payload.retryAfterMs > 0, JSON.stringify(e));
            // answers in order: first the accepted ones, then the refusals
            assert.deepEqual(answers.map((a) => a.type), [...Array(30).fill('subscribed'), ...Array(N - 30).fill('error')]);
            await sleep(100);
            assert.equal(c.isOpen, true);
            await c.ping(); // pings still answered
        } finally { await c.close(); }
    });

    test('strings with lone surrogates and NUL escapes: refused or answered with valid JSON', async () => {
        const c = await fresh();
        try {
            c.sendText('{"type":"ping","id":"\\ud800"}');
            const a = await c.next((m) => m.__raw !== undefined || m.type === 'pong' || m.type === 'error');
            assert.equal(a.__raw, undefined, `the answer is not JSON: ${a.__raw}`);
            if (a.type === 'error') assert.equal(a.payload.code, 'INVALID_MESSAGE');
            c.sendText('{"action":"subscribe","rooms":["team:\\u0000"],"id":"nul"}');
            const b = await c.next({ id: 'nul' });
            assert.equal(b.type, 'subscribed');
            assert.equal(b.rooms[0].ok, false);
            assert.equal(b.rooms[0].error.code, 'INVALID_ROOM');
            await stillWorks(c);
        } finally { await c.close(); }
    });

    test('a number id that overflows a double (1e400): refused, or echoed as valid JSON', async () => {
        const c = await fresh();
        try {
            c.sendText('{"type":"ping","id":1e400}');
            const big = await c.next((m) => m.__raw !== undefined || m.type === 'pong' || m.type === 'error');
            assert.equal(big.__raw, undefined, `the answer to id 1e400 is not JSON: ${big.__raw}`);
            await stillWorks(c);
        } finally { await c.close(); }
    });
});

describe('bad connections', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer({ env: { HUDDLE_LIMITS_HANDSHAKE_TIMEOUT: '500ms' } }); });
    after(async () => { await stopAndCheck(srv); });
    afterEach(async () => {
        if (!srv) return;
        const c = await connectUser(srv, 'after');
        try { await c.ping(); } finally { await c.close(); }
    });

    function closedWithin(sock, ms) {
        return new Promise((resolve, reject) => {
            const t0 = Date.now();
            const t = setTimeout(() => { sock.destroy(); reject(new Error(`socket still open after ${ms} ms`)); }, ms);
            sock.on('error', () => { /* RST is fine */ });
            sock.on('data', () => { /* an error answer is fine */ });
            sock.once('close', () => { clearTimeout(t); resolve(Date.now() - t0); });
        });
    }

    test('half an HTTP upgrade request is dropped after the handshake timeout (500 ms)', async () => {
        const s = await tcpConnect(srv.port);
        s.write(`GET /ws?token=${await token('half')} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n`);
        const ms = await closedWithin(s, 2500);
        assert.ok(ms >= 300, `closed after ${ms} ms, before the handshake timeout`);
    });

    test('a TCP connection that sends nothing is dropped after the handshake timeout', async () => {
        const s = await tcpConnect(srv.port);
        const ms = await closedWithin(s, 2500);
        assert.ok(ms >= 300, `closed after ${ms} ms`);
    });

    test('garbage instead of HTTP: answered 400 or closed; server keeps serving', async () => {
        const s = await tcpConnect(srv.port);
        let got = '';
        s.on('data', (d) => { got += d.toString('latin1'); });
        s.write('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n');
        await closedWithin(s, 2500);
        if (got) assert.match(got, /^HTTP\/1\.1 4\d\d /);
    });

    test('an upgrade request with a bad Sec-WebSocket-Version is refused with an HTTP error', async () => {
        const s = await tcpConnect(srv.port);
        let got = '';
        s.on('data', (d) => { got += d.toString('latin1'); });
        s.write(`GET /ws?token=${await token('v')} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n`);
        const deadline = Date.now() + 2000;
        while (!got.includes('\r\n\r\n') && Date.now() < deadline) await sleep(20);
        s.destroy();
        assert.match(got, /^HTTP\/1\.1 (400|426) /);
    });
});
