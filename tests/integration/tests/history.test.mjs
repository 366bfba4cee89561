// History and recovery: events of history namespaces get increasing offsets within an epoch, are
// stored before anyone receives them, survive kill -9, and a client that comes back with its last
// offset gets exactly what it missed, in order, before new events — or is told to resync.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import { closeAll, connectUser } from '../lib/client.mjs';
import { SKIP, test, waitFor } from '../lib/harness.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';

const CONFIG = `
[[namespaces]]
name = "room"
client_publish = true
history = 50

[[namespaces]]
name = "live"
client_publish = true
`;

async function publish(srv, room, type, payload, extra = {}) {
    const r = await srv.api('POST', '/api/publish', { room, type, payload, ...extra });
    assert.equal(r.status, 200, r.text);
    return r.json;
}

describe('history and recovery', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer({ config: CONFIG }); });
    after(async () => { await stopAndCheck(srv); });

    test('events get offsets within an epoch; joining says where the room stands', async () => {
        const c = await connectUser(srv, 'alice');
        try {
            const answer = await c.request({ action: 'subscribe', rooms: ['room:a'] });
            assert.equal(answer.rooms[0].ok, true);
            const position = await c.next('room.position');
            assert.equal(position.room, 'room:a');
            assert.equal(position.offset, 0);
            assert.equal(typeof position.epoch, 'string');
            assert.ok(position.epoch.length > 0);
            assert.equal(position.recovered, undefined);
            const r1 = await publish(srv, 'room:a', 'CHAT_MESSAGE', { text: 'one' });
            assert.deepEqual(r1.offsets, { 'room:a': 1 });
            const e1 = await c.next('CHAT_MESSAGE');
            assert.equal(e1.offset, 1);
            assert.equal(e1.epoch, position.epoch);
            await publish(srv, 'room:a', 'CHAT_MESSAGE', { text: 'two' });
            assert.equal((await c.next('CHAT_MESSAGE')).offset, 2);
            // a client's own publish is answered once stored, with the event's offset
            const own = await c.request({ action: 'publish', room: 'room:a', type: 'CHAT_MESSAGE', payload: { text: 'three' } });
            assert.equal(own.type, 'published');
            assert.equal(own.offset, 3);
            // rooms without history carry no offsets
            await c.subscribe(['live:x']);
            await publish(srv, 'live:x', 'tick', {});
            const live = await c.next('tick');
            assert.equal(live.offset, undefined);
        } finally { await c.close(); }
    });

    test('a client back with its last offset gets exactly what it missed, in order, then new events', async () => {
        const writer = await connectUser(srv, 'writer');
        const reader = await connectUser(srv, 'reader');
        try {
            await writer.subscribe(['room:b']);
            await writer.next('room.position');
            await reader.subscribe(['room:b']);
            const start = await reader.next('room.position');
            for (let i = 1; i <= 3; i++) await publish(srv, 'room:b', 'msg', { i });
            let last;
            for (let i = 1; i <= 3; i++) last = await reader.next('msg');
            await reader.close();
            for (let i = 4; i <= 8; i++) await publish(srv, 'room:b', 'msg', { i });
            const back = await connectUser(srv, 'reader');
            try {
                back.send({ action: 'subscribe', rooms: ['room:b'], recover: { 'room:b': { offset: last.offset, epoch: start.epoch } }, id: 'r' });
                const answer = await back.next((m) => m.id === 'r');
                assert.equal(answer.rooms[0].ok, true);
                const replayed = [];
                for (let i = 0; i < 5; i++) replayed.push(await back.next('msg'));
                assert.deepEqual(replayed.map((e) => e.payload.i), [4, 5, 6, 7, 8]);
                assert.deepEqual(replayed.map((e) => e.offset), [4, 5, 6, 7, 8].map((x) => x + last.offset - 3));
                const position = await back.next('room.position');
                assert.equal(position.recovered, true);
                assert.equal(position.missed, 5);
                assert.equal(position.offset, replayed[4].offset);
                await publish(srv, 'room:b', 'msg', { i: 9 });
                const fresh = await back.next('msg');
                assert.equal(fresh.payload.i, 9);
                assert.equal(fresh.offset, position.offset + 1);
                await back.expectNone('msg', 150);
            } finally { await back.close(); }
        } finally { await closeAll(writer, reader); }
    });

    test('recovery impossible: another epoch, an offset from the future, trimmed history', async () => {
        const c = await connectUser(srv, 'carl');
        try {
            await c.subscribe(['room:c']);
            const pos = await c.next('room.position');
            await publish(srv, 'room:c', 'msg', { i: 1 });
            await c.next('msg');
            await c.request({ action: 'unsubscribe', rooms: ['room:c'] });
            const cases = [
                [{ offset: 0, epoch: 'not-the-epoch' }, /epoch/],
                [{ offset: 99, epoch: pos.epoch }, /ahead/],
            ];
            for (const [from, reason] of cases) {
                c.send({ action: 'subscribe', rooms: ['room:c'], recover: { 'room:c': from } });
                const p = await c.next('room.position');
                assert.equal(p.recovered, false);
                assert.match(p.reason, reason);
                await c.request({ action: 'unsubscribe', rooms: ['room:c'] });
            }
            const bad = await c.request({ action: 'subscribe', rooms: ['room:c'], recover: { 'room:c': { offset: -1, epoch: pos.epoch } } });
            assert.equal(bad.payload.code, 'INVALID_MESSAGE');
            // history keeps 50 events: 130 more and offset 1 is long gone (trimmed every 64 appends)
            for (let i = 0; i < 130; i++) await publish(srv, 'room:c', 'msg', { i });
            await waitFor(async () => {
                const h = await srv.api('GET', '/api/rooms/room:c/history?after=0&limit=1');
                return h.json.events.length === 1 && h.json.events[0].offset > 2;
            }, { what: 'history trimmed', timeoutMs: 5000 });
            c.send({ action: 'subscribe', rooms: ['room:c'], recover: { 'room:c': { offset: 1, epoch: pos.epoch } } });
            const trimmed = await c.next('room.position');
            assert.equal(trimmed.recovered, false);
            assert.match(trimmed.reason, /no longer kept/);
        } finally { await c.close(); }
    });

    test('history API pages through stored events; idempotency keys deliver once', async () => {
        const c = await connectUser(srv, 'dina');
        try {
            await c.subscribe(['room:d']);
            await c.next('room.position');
            for (let i = 1; i <= 5; i++) await publish(srv, 'room:d', 'msg', { i });
            const page1 = await srv.api('GET', '/api/rooms/room:d/history?after=0&limit=2');
            assert.equal(page1.status, 200);
            assert.deepEqual(page1.json.events.map((e) => e.payload.i), [1, 2]);
            assert.equal(page1.json.lastOffset, 5);
            const page2 = await srv.api('GET', `/api/rooms/room:d/history?after=${page1.json.next}&limit=10`);
            assert.deepEqual(page2.json.events.map((e) => e.payload.i), [3, 4, 5]);
            const past = await srv.api('GET', '/api/rooms/room:d/history?after=500');
            assert.deepEqual(past.json.events, []);
            assert.equal((await srv.api('GET', '/api/rooms/room:d/history?limit=0')).status, 400);
            for (let i = 1; i <= 5; i++) await c.next('msg');
            const first = await publish(srv, 'room:d', 'CHAT_MESSAGE', { text: 'once' }, { idempotencyKey: 'msg-42' });
            const again = await publish(srv, 'room:d', 'CHAT_MESSAGE', { text: 'once' }, { idempotencyKey: 'msg-42' });
            assert.equal(first.duplicate, undefined);
            assert.equal(again.duplicate, true);
            assert.deepEqual((await c.next('CHAT_MESSAGE')).payload, { text: 'once' });
            await c.expectNone('CHAT_MESSAGE', 250);
        } finally { await c.close(); }
    });
});

describe('history survives kill -9', () => {
    test('every acknowledged event is there after a crash and a restart', async () => {
        if (SKIP) return;
        const first = await startServer({ config: CONFIG });
        const acked = [];
        for (let i = 1; i <= 20; i++) acked.push((await publish(first, 'room:k', 'msg', { i })).offsets['room:k']);
        await first.kill9();
        const second = await startServer({ config: CONFIG, cwd: first.cwd });
        try {
            const h = await second.api('GET', '/api/rooms/room:k/history?after=0&limit=100');
            assert.deepEqual(h.json.events.map((e) => e.offset), acked);
            assert.deepEqual(h.json.events.map((e) => e.payload.i), acked.map((_, i) => i + 1));
        } finally { await stopAndCheck(second); }
    });
});
