// S3 end to end: subscribe to the issue tracker's rooms, events from the backend API and from
// clients, unsubscribe, id echo, ordering, presence events.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import { closeAll, connectUser } from '../lib/client.mjs';
import { SKIP, assertNearNow, roomCount, roomResults, test, waitFor } from '../lib/harness.mjs';
import { NAMESPACES_TOML } from '../lib/config.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';


const S3_ROOMS = ['workspace:w1', 'team:t1', 'issue:i1', 'project:p1', 'cycle:c1'];

describe('rooms (S3 flows)', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer({ config: NAMESPACES_TOML }); });
    after(async () => { await stopAndCheck(srv); });

    test('subscribe to workspace/team/issue/project/cycle rooms: one answer, per room ok, in order', async () => {
        const c = await connectUser(srv, 'alice');
        try {
            const r = await c.request({ action: 'subscribe', rooms: S3_ROOMS, id: 1 });
            assert.equal(r.type, 'subscribed');
            assert.equal(r.id, 1);
            assert.deepEqual(r.rooms.map((x) => x.room), S3_ROOMS);
            for (const x of r.rooms) assert.equal(x.ok, true, JSON.stringify(x));
            await c.expectNone('subscribed', 100); // answered once
            // subscribing again is not an error
            const again = await c.request({ action: 'subscribe', rooms: ['team:t1'], id: 2 });
            assert.deepEqual(roomResults(again), { 'team:t1': 'ok' });
            for (const room of S3_ROOMS) assert.equal(await roomCount(srv, room), 1, room);
        } finally { await c.close(); }
        await waitFor(async () => (await roomCount(srv, 'issue:i1')) === 0, { what: 'issue:i1 empty after close' });
    });

    test('backend publish reaches members only, with type, room, payload, timestamp and userId', async () => {
        const alice = await connectUser(srv, 'alice');
        const bob = await connectUser(srv, 'bob');
        const eve = await connectUser(srv, 'eve');
        try {
            await alice.subscribe(['issue:i1', 'team:t1']);
            await bob.subscribe(['issue:i1']);
            await eve.subscribe(['issue:i2']);
            const payload = { id: 'I-7', title: 'Crash on save', labels: ['bug'], n: 3, nested: { ok: true } };
            const r = await srv.api('POST', '/api/publish', { room: 'issue:i1', type: 'issue.created', payload, userId: 'svc-backend' });
            assert.equal(r.status, 200, r.text);
            assert.deepEqual(r.json, { ok: true, rooms: ['issue:i1'] });
            for (const c of [alice, bob]) {
                const ev = await c.next('issue.created');
                assert.equal(ev.room, 'issue:i1');
                assert.deepEqual(ev.payload, payload);
                assert.equal(ev.userId, 'svc-backend');
                assertNearNow(ev.timestamp);
            }
            await eve.expectNone('issue.created', 200);
            // without userId: the field is absent
            const r2 = await srv.api('POST', '/api/publish', { room: 'issue:i1', type: 'issue.updated', payload: { id: 'I-7' } });
            assert.equal(r2.status, 200, r2.text);
            const ev2 = await bob.next('issue.updated');
            assert.equal(ev2.room, 'issue:i1');
            assert.deepEqual(ev2.payload, { id: 'I-7' });
            assert.equal(ev2.userId, undefined, JSON.stringify(ev2));
            assertNearNow(ev2.timestamp);
            await eve.expectNone('issue.updated', 100);
        } finally { await closeAll(alice, bob, eve); }
    });

    test('backend publish to several rooms at once: one event per room', async () => {
        const alice = await connectUser(srv, 'alice');
        try {
            await alice.subscribe(['project:p1', 'cycle:c1']);
            const r = await srv.api('POST', '/api/publish', { rooms: ['project:p1', 'cycle:c1', 'cycle:nobody'], type: 'cycle.closed', payload: { c: 1 } });
            assert.equal(r.status, 200, r.text);
            assert.equal(r.json.ok, true);
            assert.deepEqual(r.json.rooms, ['project:p1', 'cycle:c1', 'cycle:nobody']);
            const a = await alice.next({ type: 'cycle.closed', room: 'project:p1' });
            const b = await alice.next({ type: 'cycle.closed', room: 'cycle:c1' });
            assert.deepEqual(a.payload, { c: 1 });
            assert.deepEqual(b.payload, { c: 1 });
            await alice.expectNone('cycle.closed', 150);
        } finally { await alice.close(); }
    });

    test('a publish without an id is fire-and-forget: delivered, not answered; a later one with an id is', async () => {
        const alice = await connectUser(srv, 'alice');
        const bob = await connectUser(srv, 'bob');
        try {
            for (const c of [alice, bob]) await c.subscribe(['team:43']);
            alice.send({ action: 'publish', room: 'team:43', type: 'note', payload: { n: 1 } });
            const ev = await bob.next('note');
            assert.deepEqual(ev.payload, { n: 1 });
            const ans = await alice.request({ action: 'publish', room: 'team:43', type: 'note', payload: { n: 2 }, id: 'p2' });
            assert.equal(ans.type, 'published');
            assert.deepEqual((await bob.next('note')).payload, { n: 2 });
            // The first publish got no answer of its own: nothing but p2's has arrived.
            await alice.expectNone((m) => m.type === 'published' && m.id !== 'p2', 200);
            // Errors are answered with or without an id.
            alice.send({ action: 'publish', room: 'team:not-joined', type: 'note', payload: {} });
            assert.equal((await alice.next('error')).payload.code, 'FORBIDDEN');
        } finally { await closeAll(alice, bob); }
    });

    test('client publish (client_publish=true): others get the event, the sender gets published', async () => {
        const alice = await connectUser(srv, 'alice');
        const bob = await connectUser(srv, 'bob');
        const carol = await connectUser(srv, 'carol');
        try {
            for (const c of [alice, bob, carol]) await c.subscribe(['team:42']);
            const ans = await alice.request({ action: 'publish', room: 'team:42', type: 'issue.typing', payload: { issueId: 'I-1' }, id: 'p1' });
            assert.deepEqual({ type: ans.type, id: ans.id, room: ans.room }, { type: 'published', id: 'p1', room: 'team:42' });
            for (const c of [bob, carol]) {
                const ev = await c.next('issue.typing');
                assert.equal(ev.room, 'team:42');
                assert.deepEqual(ev.payload, { issueId: 'I-1' });
                assert.equal(ev.userId, 'alice');
                assertNearNow(ev.timestamp);
            }
            await alice.expectNone('issue.typing', 200);
        } finally { await closeAll(alice, bob, carol); }
    });

    test('client publish where the namespace does not allow it: PUBLISH_NOT_ALLOWED, nobody gets it', async () => {
        const alice = await connectUser(srv, 'alice');
        const bob = await connectUser(srv, 'bob');
        try {
            await alice.subscribe(['workspace:w1']);
            await bob.subscribe(['workspace:w1']);
            const ans = await alice.request({ action: 'publish', room: 'workspace:w1', type: 'x', payload: {}, id: 'np' });
            assert.equal(ans.type, 'error');
            assert.equal(ans.id, 'np');
            assert.equal(ans.payload.code, 'PUBLISH_NOT_ALLOWED');
            await bob.expectNone('x', 150);
            assert.equal(alice.isOpen, true);
        } finally { await closeAll(alice, bob); }
    });

    test('client publish to a room the connection is not subscribed to: FORBIDDEN', async () => {
        const alice = await connectUser(srv, 'alice');
        const bob = await connectUser(srv, 'bob');
        try {
            await bob.subscribe(['team:99']);
            const ans = await alice.request({ action: 'publish', room: 'team:99', type: 'sneaky', payload: {}, id: 'f' });
            assert.equal(ans.type, 'error');
            assert.equal(ans.id, 'f');
            assert.equal(ans.payload.code, 'FORBIDDEN');
            await bob.expectNone('sneaky', 150);
        } finally { await closeAll(alice, bob); }
    });

    test('send to a user reaches every connection of that user and no one else', async () => {
        const a1 = await connectUser(srv, 'alice', { name: 'alice1' });
        const a2 = await connectUser(srv, 'alice', { name: 'alice2' });
        const bob = await connectUser(srv, 'bob');
        try {
            const r = await srv.api('POST', '/api/users/alice/send', { type: 'notification', payload: { text: 'assigned I-7' } });
            assert.equal(r.status, 200, r.text);
            assert.deepEqual(r.json, { ok: true });
            for (const c of [a1, a2]) {
                const ev = await c.next('notification');
                assert.deepEqual(ev.payload, { text: 'assigned I-7' });
                assertNearNow(ev.timestamp);
            }
            await bob.expectNone('notification', 200);
            // a user with no connection: still ok
            const r2 = await srv.api('POST', '/api/users/nobody-here/send', { type: 'notification', payload: {} });
            assert.equal(r2.status, 200, r2.text);
        } finally { await closeAll(a1, a2, bob); }
    });

    test('unsubscribe: answered per room, then no more events from that room', async () => {
        const alice = await connectUser(srv, 'alice');
        const bob = await connectUser(srv, 'bob');
        try {
            await alice.subscribe(['issue:u1', 'issue:u2']);
            await bob.subscribe(['issue:u1']);
            const u = await alice.request({ action: 'unsubscribe', rooms: ['issue:u1'], id: 'u' });
            assert.equal(u.type, 'unsubscribed');
            assert.equal(u.id, 'u');
            assert.deepEqual(roomResults(u), { 'issue:u1': 'ok' });
            await srv.api('POST', '/api/publish', { room: 'issue:u1', type: 'issue.updated', payload: { v: 1 } });
            await srv.api('POST', '/api/publish', { room: 'issue:u2', type: 'issue.updated', payload: { v: 2 } });
            assert.deepEqual((await bob.next('issue.updated')).payload, { v: 1 }); // it was sent
            const ev = await alice.next('issue.updated');
            assert.equal(ev.room, 'issue:u2');
            await alice.expectNone({ type: 'issue.updated', room: 'issue:u1' }, 150);
            assert.equal(await roomCount(srv, 'issue:u1'), 1);
        } finally { await closeAll(alice, bob); }
    });

    test('every kind of answer echoes the id (numbers and strings)', async () => {
        const c = await connectUser(srv, 'alice');
        try {
            const cases = [
                [{ action: 'subscribe', rooms: ['team:echo'], id: 101 }, 'subscribed'],
                [{ action: 'publish', room: 'team:echo', type: 't', payload: {}, id: 'pub-1' }, 'published'],
                [{ action: 'unsubscribe', rooms: ['team:echo'], id: 'unsub-1' }, 'unsubscribed'],
                [{ type: 'ping', id: 0 }, 'pong'],
                [{ type: 'PING', id: 'P' }, 'PONG'],
                [{ action: 'no-such-action', id: 'e1' }, 'error'],
                [{ action: 'publish', room: 'workspace:w1', type: 't', id: 555 }, 'error'],
                [{ action: 'subscribe', rooms: 'team:1', id: 'bad-rooms' }, 'error'],
            ];
            for (const [msg, type] of cases) {
                const ans = await c.request(msg);
                assert.equal(ans.type, type, `answer to ${JSON.stringify(msg)}: ${JSON.stringify(ans)}`);
                assert.equal(ans.id, msg.id);
            }
        } finally { await c.close(); }
    });

    test('events of one room reach every member in the same order', async () => {
        const a = await connectUser(srv, 'alice');
        const b = await connectUser(srv, 'bob');
        try {
            await a.subscribe(['team:order']);
            await b.subscribe(['team:order']);
            const N = 40;
            // several publishers at once: the server's order is whatever it accepted, but the same for all
            const pubs = [];
            for (let i = 0; i < N; i++) pubs.push(srv.api('POST', '/api/publish', { room: 'team:order', type: 'seq', payload: { i } }));
            for (const r of await Promise.all(pubs)) assert.equal(r.status, 200, r.text);
            const seqA = [];
            const seqB = [];
            for (let i = 0; i < N; i++) seqA.push((await a.next('seq')).payload.i);
            for (let i = 0; i < N; i++) seqB.push((await b.next('seq')).payload.i);
            assert.deepEqual(seqA, seqB);
            assert.deepEqual([...seqA].sort((x, y) => x - y), [...Array(N).keys()]);
            // sequential publishes arrive in publish order
            for (let i = 0; i < 10; i++) {
                const r = await srv.api('POST', '/api/publish', { room: 'team:order', type: 'seq2', payload: { i } });
                assert.equal(r.status, 200);
            }
            for (let i = 0; i < 10; i++) assert.equal((await a.next('seq2')).payload.i, i);
        } finally { await closeAll(a, b); }
    });

    test('fan-out to 60 connections (across event loops): everyone gets every event in the same order', { timeout: 30000 }, async () => {
        const N = 60;
        const clients = [];
        try {
            for (let i = 0; i < N; i += 10) {
                clients.push(...await Promise.all(Array.from({ length: 10 }, (_, k) => connectUser(srv, `fan${i + k}`))));
            }
            await Promise.all(clients.map((c) => c.subscribe(['workspace:fan'])));
            assert.equal(await roomCount(srv, 'workspace:fan'), N);
            const E = 20;
            const pubs = [];
            for (let e = 0; e < E; e++) pubs.push(srv.api('POST', '/api/publish', { room: 'workspace:fan', type: 'fan', payload: { e } }));
            for (const r of await Promise.all(pubs)) assert.equal(r.status, 200, r.text);
            const orders = await Promise.all(clients.map(async (c) => {
                const got = [];
                for (let e = 0; e < E; e++) got.push((await c.next('fan', 10000)).payload.e);
                return got.join(',');
            }));
            assert.equal(new Set(orders).size, 1, `different orders: ${[...new Set(orders)].slice(0, 3).join(' | ')}`);
            assert.deepEqual(orders[0].split(',').map(Number).sort((x, y) => x - y), [...Array(E).keys()]);
            for (const c of clients) await c.expectNone('fan', 0);
        } finally { await closeAll(clients); }
    });

    test('GET /api/rooms lists rooms with connection counts', async () => {
        const a1 = await connectUser(srv, 'alice');
        const a2 = await connectUser(srv, 'alice');
        const bob = await connectUser(srv, 'bob');
        try {
            await a1.subscribe(['team:count', 'issue:count']);
            await a2.subscribe(['team:count']);
            await bob.subscribe(['team:count']);
            const r = await srv.api('GET', '/api/rooms');
            assert.equal(r.status, 200, r.text);
            const m = Object.fromEntries(r.json.rooms.map((x) => [x.room, x.connections]));
            assert.equal(m['team:count'], 3);
            assert.equal(m['issue:count'], 1);
            // private user rooms are not listed
            assert.equal(m['user:alice'], undefined);
            assert.equal(m['user:bob'], undefined);
            await a2.request({ action: 'unsubscribe', rooms: ['team:count'] });
            assert.equal(await roomCount(srv, 'team:count'), 2);
        } finally { await closeAll(a1, a2, bob); }
    });

    test('presence_events namespace: user.joined and user.left go to the other members', async () => {
        const alice = await connectUser(srv, 'alice');
        const bob = await connectUser(srv, 'bob');
        try {
            await alice.subscribe(['chat:lobby']);
            await bob.subscribe(['chat:lobby']);
            const j = await alice.next('user.joined');
            assert.equal(j.room, 'chat:lobby');
            assert.equal(j.payload.userId, 'bob');
            assertNearNow(j.timestamp);
            await bob.expectNone((m) => m.type === 'user.joined' && m.payload?.userId === 'bob', 150);
            // unsubscribe → user.left
            await bob.request({ action: 'unsubscribe', rooms: ['chat:lobby'] });
            const l = await alice.next('user.left');
            assert.equal(l.room, 'chat:lobby');
            assert.equal(l.payload.userId, 'bob');
            // resubscribe, then disconnect → user.left
            await bob.subscribe(['chat:lobby']);
            assert.equal((await alice.next('user.joined')).payload.userId, 'bob');
            await bob.close();
            const l2 = await alice.next('user.left');
            assert.equal(l2.room, 'chat:lobby');
            assert.equal(l2.payload.userId, 'bob');
            // the default namespaces send no presence events
            const carol = await connectUser(srv, 'carol');
            await alice.subscribe(['team:quiet']);
            await carol.subscribe(['team:quiet']);
            await alice.expectNone((m) => m.type === 'user.joined' && m.room === 'team:quiet', 150);
            await carol.close();
        } finally { await closeAll(alice, bob); }
    });
});
