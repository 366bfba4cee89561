// RFC 6455 conformance with raw frames (the Autobahn suite cannot run here): masking, opcodes,
// RSV bits, fragmentation, control frames, UTF-8, close handshake.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe } from 'node:test';

import { connectUser } from '../lib/client.mjs';
import { SKIP, test } from '../lib/harness.mjs';
import { OP, closePayload, encodeFrame, rawConnect } from '../lib/raw.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';
import { token } from '../lib/tokens.mjs';

describe('WebSocket conformance (raw frames)', () => {
    let srv;
    let n = 0;
    const opened = [];
    before(async () => { if (!SKIP) srv = await startServer({ env: { HUDDLE_LIMITS_MAX_MESSAGE_BYTES: '4096' } }); });
    after(async () => { await stopAndCheck(srv); });
    afterEach(async () => {
        for (const r of opened.splice(0)) r.destroy();
        if (!srv) return;
        const c = await connectUser(srv, 'after');
        try { await c.ping(); } finally { await c.close(); }
    });

    async function open() {
        const r = await rawConnect(srv.port, { token: await token(`raw${++n}`) });
        opened.push(r);
        const ack = await r.nextJson({ type: 'connection.ack' });
        assert.equal(ack.payload.userId, `raw${n}`);
        return r;
    }

    // The server fails the connection with `code`: a close frame with that code, then TCP close.
    async function expectFail(r, code) {
        const cf = await r.closeFrame(3000);
        assert.equal(cf.code, code, `close code ${cf.code} (${cf.reason})`);
        await r.waitEnd(3000);
    }

    test('the upgrade answer is 101 with a correct Sec-WebSocket-Accept', async () => {
        const r = await open();
        assert.match(r.responseHead, /^HTTP\/1\.1 101 /);
        assert.match(r.responseHead, /^upgrade:\s*websocket\s*$/im);
    });

    test('server frames are unmasked and text frames carry UTF-8 JSON', async () => {
        const r = await open();
        r.sendJson({ type: 'ping', id: 'm' });
        const f = await r.nextFrame((x) => x.opcode === OP.TEXT && x.json?.id === 'm');
        assert.equal(f.masked, false);
        assert.equal(f.fin, true);
        assert.equal(f.rsv, 0);
        assert.equal(f.json.type, 'pong');
    });

    test('an unmasked client frame: close 1002', async () => {
        const r = await open();
        r.send(OP.TEXT, Buffer.from(JSON.stringify({ type: 'ping' })), { mask: false });
        await expectFail(r, 1002);
    });

    test('a reserved data opcode (0x3): close 1002', async () => {
        const r = await open();
        r.send(0x3, Buffer.from('x'));
        await expectFail(r, 1002);
    });

    test('a reserved control opcode (0xB): close 1002', async () => {
        const r = await open();
        r.send(0xB, Buffer.from('x'));
        await expectFail(r, 1002);
    });

    test('an RSV1 bit without negotiated permessage-deflate: close 1002', async () => {
        const r = await open();
        r.send(OP.TEXT, Buffer.from(JSON.stringify({ type: 'ping' })), { rsv: 4 });
        await expectFail(r, 1002);
    });

    test('RSV2/RSV3 bits: close 1002', async () => {
        const r = await open();
        r.send(OP.TEXT, Buffer.from('{}'), { rsv: 2 });
        await expectFail(r, 1002);
    });

    test('a fragmented text message is reassembled and answered (with a ping between fragments)', async () => {
        const r = await open();
        const msg = Buffer.from(JSON.stringify({ type: 'ping', id: 'fragmented-message' }));
        r.send(OP.TEXT, msg.subarray(0, 5), { fin: false });
        r.send(OP.CONT, msg.subarray(5, 12), { fin: false });
        r.send(OP.PING, Buffer.from('mid'));
        r.send(OP.CONT, msg.subarray(12), { fin: true });
        const pong = await r.nextFrame((f) => f.opcode === OP.PONG);
        assert.equal(pong.payload.toString(), 'mid');
        const ans = await r.nextJson({ id: 'fragmented-message' });
        assert.equal(ans.type, 'pong');
    });

    test('a continuation frame with no message started: close 1002', async () => {
        const r = await open();
        r.send(OP.CONT, Buffer.from('{}'), { fin: true });
        await expectFail(r, 1002);
    });

    test('a new text frame inside a fragmented message: close 1002', async () => {
        const r = await open();
        r.send(OP.TEXT, Buffer.from('{"type":'), { fin: false });
        r.send(OP.TEXT, Buffer.from('"ping"}'), { fin: true });
        await expectFail(r, 1002);
    });

    test('a fragmented control frame: close 1002', async () => {
        const r = await open();
        r.send(OP.PING, Buffer.from('ab'), { fin: false });
        await expectFail(r, 1002);
    });

    test('a control frame with more than 125 bytes: close 1002', async () => {
        const r = await open();
        r.send(OP.PING, Buffer.alloc(126, 0x61));
        await expectFail(r, 1002);
    });

    test('a ping frame is answered by a pong with the same payload', async () => {
        const r = await open();
        const payload = Buffer.from([0x00, 0xff, 0x10, 0x41, 0x42]);
        r.send(OP.PING, payload);
        const pong = await r.nextFrame((f) => f.opcode === OP.PONG);
        assert.deepEqual(pong.payload, payload);
        r.send(OP.PING, Buffer.alloc(0));
        const empty = await r.nextFrame((f) => f.opcode === OP.PONG);
        assert.equal(empty.payload.length, 0);
        // an unsolicited pong is ignored
        r.send(OP.PONG, Buffer.from('unsolicited'));
        r.sendJson({ type: 'ping', id: 'after-pong' });
        assert.equal((await r.nextJson({ id: 'after-pong' })).type, 'pong');
    });

    test('frames sent in the same write as the upgrade request are answered in order', async () => {
        const early = Buffer.concat([
            encodeFrame(OP.PING, Buffer.from('early')),
            encodeFrame(OP.TEXT, Buffer.from(JSON.stringify({ type: 'ping', id: 'early-json' }))),
        ]);
        const r = await rawConnect(srv.port, { token: await token(`raw${++n}`), earlyBytes: early });
        opened.push(r);
        const pong = await r.nextFrame((f) => f.opcode === OP.PONG);
        assert.equal(pong.payload.toString(), 'early');
        assert.equal((await r.nextJson({ id: 'early-json' })).type, 'pong');
    });

    test('a frame that arrives one byte per read is reassembled, and the next frame too', async () => {
        const r = await open();
        const bytes = Buffer.concat([
            encodeFrame(OP.TEXT, Buffer.from(JSON.stringify({ type: 'ping', id: 'slow-1' }))),
            encodeFrame(OP.TEXT, Buffer.from(JSON.stringify({ type: 'ping', id: 'slow-2' }))),
        ]);
        for (const byte of bytes) {
            r.write(Buffer.from([byte]));
            await new Promise((resolve) => setTimeout(resolve, 2));
        }
        assert.equal((await r.nextJson({ id: 'slow-1' })).type, 'pong');
        assert.equal((await r.nextJson({ id: 'slow-2' })).type, 'pong');
    });

    test('invalid UTF-8 in a text frame: close 1007', async () => {
        const r = await open();
        r.send(OP.TEXT, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])); // {"a":"\xc3("}
        await expectFail(r, 1007);
    });

    test('invalid UTF-8 split across fragments: close 1007', async () => {
        const r = await open();
        r.send(OP.TEXT, Buffer.from([0x7b, 0x22, 0xed]), { fin: false });
        r.send(OP.CONT, Buffer.from([0xa0, 0x80, 0x22, 0x7d]), { fin: true }); // an encoded surrogate
        await expectFail(r, 1007);
    });

    test('a close frame is echoed with the same code and the TCP connection then closed', async () => {
        for (const code of [1000, 4321]) {
            const r = await open();
            r.sendClose(code, 'bye');
            const cf = await r.closeFrame(3000);
            assert.equal(cf.code, code);
            await r.waitEnd(3000);
        }
    });

    test('a close frame with an invalid code (1005, 999) or a 1-byte payload: close 1002', async () => {
        for (const payload of [closePayload(1005), closePayload(999), Buffer.from([0x03])]) {
            const r = await open();
            r.send(OP.CLOSE, payload);
            await expectFail(r, 1002);
        }
    });

    test('a frame over max_message_bytes (4096): close 1009', async () => {
        const r = await open();
        r.send(OP.TEXT, Buffer.from(JSON.stringify({ type: 'ping', pad: 'z'.repeat(5000) })));
        await expectFail(r, 1009);
    });

    test('a message over max_message_bytes in small fragments: close 1009', async () => {
        const r = await open();
        const body = Buffer.from(JSON.stringify({ type: 'ping', pad: 'z'.repeat(6000) }));
        for (let off = 0; off < body.length; off += 1000) {
            const last = off + 1000 >= body.length;
            r.send(off === 0 ? OP.TEXT : OP.CONT, body.subarray(off, off + 1000), { fin: last });
        }
        await expectFail(r, 1009);
    });

    test('a frame header announcing 2^62 bytes: close 1009 without waiting for the body', async () => {
        const r = await open();
        const h = Buffer.alloc(14);
        h[0] = 0x81;
        h[1] = 0x80 | 127;
        h.writeBigUInt64BE(1n << 62n, 2);
        r.write(h);
        await expectFail(r, 1009);
    });
});
