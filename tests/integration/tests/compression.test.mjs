// permessage-deflate (server.permessage_deflate = true): negotiated with `ws`, compressed traffic in
// both directions, clients without compression in the same rooms, and compressed abuse.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe } from 'node:test';

import { closeAll, connectUser } from '../lib/client.mjs';
import { SKIP, assertNearNow, test } from '../lib/harness.mjs';
import { OP, rawConnect } from '../lib/raw.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';
import { token } from '../lib/tokens.mjs';

describe('permessage-deflate', () => {
    let srv;
    before(async () => {
        if (!SKIP) {
            srv = await startServer({
                env: { HUDDLE_SERVER_PERMESSAGE_DEFLATE: 'true', HUDDLE_LIMITS_MAX_MESSAGE_BYTES: '4096' },
                config: '[[namespaces]]\nname = "team"\nclient_publish = true\n',
            });
        }
    });
    after(async () => { await stopAndCheck(srv); });
    afterEach(async () => {
        if (!srv) return;
        const c = await connectUser(srv, 'after', { perMessageDeflate: false });
        try { await c.ping(); } finally { await c.close(); }
    });

    // threshold 0: ws compresses every message it sends
    const deflating = (sub) => connectUser(srv, sub, { perMessageDeflate: { threshold: 0 } });

    test('negotiated when the client offers it; compressed requests are answered', async () => {
        const c = await deflating('alice');
        try {
            assert.match(c.ws.extensions, /permessage-deflate/);
            const r = await c.request({ action: 'subscribe', rooms: ['team:z1', 'issue:z2'] });
            assert.equal(r.type, 'subscribed');
            assert.deepEqual(r.rooms.map((x) => x.ok), [true, true]);
            await c.ping();
        } finally { await c.close(); }
    });

    test('large compressible events reach compressing and plain clients intact, in order', async () => {
        const z = await deflating('alice');
        const plain = await connectUser(srv, 'bob', { perMessageDeflate: false });
        try {
            assert.equal(plain.ws.extensions, '');
            await z.subscribe(['team:big']);
            await plain.subscribe(['team:big']);
            const payload = { text: 'lorem ipsum dolor sit amet '.repeat(2000), list: Array.from({ length: 500 }, (_, i) => ({ i, s: `item-${i}` })) };
            const r = await srv.api('POST', '/api/publish', { room: 'team:big', type: 'doc.snapshot', payload });
            assert.equal(r.status, 200, r.text);
            for (const c of [z, plain]) {
                const ev = await c.next('doc.snapshot');
                assert.deepEqual(ev.payload, payload);
                assertNearNow(ev.timestamp);
            }
            // many events: the compression context carries over from message to message
            for (let i = 0; i < 40; i++) {
                const rr = await srv.api('POST', '/api/publish', { room: 'team:big', type: 'seq', payload: { i, text: `event number ${i} `.repeat(20) } });
                assert.equal(rr.status, 200);
            }
            for (const c of [z, plain]) {
                for (let i = 0; i < 40; i++) {
                    const ev = await c.next('seq');
                    assert.equal(ev.payload.i, i);
                    assert.equal(ev.payload.text, `event number ${i} `.repeat(20));
                }
            }
        } finally { await closeAll(z, plain); }
    });

    test('a compressed client publish reaches the others decompressed', async () => {
        const a = await deflating('alice');
        const b = await connectUser(srv, 'bob', { perMessageDeflate: false });
        const c = await deflating('carol');
        try {
            for (const x of [a, b, c]) await x.subscribe(['team:zp']);
            const payload = { note: 'compress me '.repeat(100) };
            const ans = await a.request({ action: 'publish', room: 'team:zp', type: 'note', payload });
            assert.equal(ans.type, 'published', JSON.stringify(ans));
            for (const x of [b, c]) {
                const ev = await x.next('note');
                assert.deepEqual(ev.payload, payload);
                assert.equal(ev.userId, 'alice');
            }
        } finally { await closeAll(a, b, c); }
    });

    test('a compressed message that inflates past max_message_bytes: close 1009 (no decompression bomb)', async () => {
        const c = await deflating('bomber');
        const msg = JSON.stringify({ type: 'ping', pad: 'a'.repeat(200000) }); // ~200 KB, deflates to a few hundred bytes
        c.sendText(msg);
        const { code } = await c.closed(3000);
        assert.equal(code, 1009);
    });

    test('raw: invalid deflate data in an RSV1 frame fails the connection (1007 or 1002)', async () => {
        const r = await rawConnect(srv.port, { token: await token('raw'), headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
        try {
            assert.match(r.responseHead, /^sec-websocket-extensions:\s*permessage-deflate/im);
            await r.nextFrame((f) => f.opcode === OP.TEXT); // the ack (maybe compressed)
            r.send(OP.TEXT, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x12, 0x34]), { rsv: 4 });
            const cf = await r.closeFrame(3000);
            assert.ok([1002, 1007].includes(cf.code), `close code ${cf.code}`);
            await r.waitEnd(3000);
        } finally { r.destroy(); }
    });

    test('raw: RSV1 on a control frame is a protocol error (1002) even with deflate', async () => {
        const r = await rawConnect(srv.port, { token: await token('raw2'), headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
        try {
            await r.nextFrame((f) => f.opcode === OP.TEXT);
            r.send(OP.PING, Buffer.from('x'), { rsv: 4 });
            const cf = await r.closeFrame(3000);
            assert.equal(cf.code, 1002);
        } finally { r.destroy(); }
    });
});
