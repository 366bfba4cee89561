// A cluster: three huddle nodes with the same broker.url, and a private redis-server started here
// on a free loopback port. Real clients spread over the nodes: events reach every node in one
// order with the same offsets, a client recovers on another node, send-to-user and disconnect
// work cluster-wide, a node subscribes only to rooms with local members, /health and /metrics show
// the broker, and a Redis restart degrades the nodes without stopping their local rooms.
// Presence (its own describe, with a short broker.presence_ttl): the online list merges the
// nodes, user.joined / user.left go out once per user cluster-wide, and a node killed with -9
// leaves presence within the TTL.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import { closeAll, connect, connectUser } from '../lib/client.mjs';
import {
    brokerState, closeDocPeers, metric, NO_REDIS, openDocPeer, PG_BIN, startClusterNode,
    startPostgres, startRedis, startRedisReady, subscribers,
} from '../lib/cluster-services.mjs';
import { SKIP, test, waitFor } from '../lib/harness.mjs';
import { freePort, sleep, stopAndCheck } from '../lib/server.mjs';
import { token } from '../lib/tokens.mjs';

const CONFIG = `
[[namespaces]]
name = "room"
client_publish = true
history = 100

[[namespaces]]
name = "live"
client_publish = true

[[namespaces]]
name = "aged"
client_publish = true
history = 100
history_max_age = "1s"
`;

describe('cluster: three nodes, one Redis', { skip: NO_REDIS }, () => {
    let redisPort;
    let redis;
    let redisDir;
    const nodes = [];

    before(async () => {
        if (SKIP || NO_REDIS) return;
        redisPort = await freePort();
        redis = await startRedisReady(redisPort);
        redisDir = redis.dir;
        for (let i = 0; i < 3; i++) {
            nodes.push(await startClusterNode({
                config: CONFIG,
                env: { HUDDLE_BROKER_URL: `redis://127.0.0.1:${redisPort}` },
            }));
        }
    });
    after(async () => {
        try {
            for (const node of nodes) await stopAndCheck(node);
        } finally {
            if (redis) { redis.child.kill('SIGKILL'); await redis.exited; }
        }
    });

    test('/health and /metrics show the broker', async () => {
        const ids = new Set();
        for (const node of nodes) {
            const health = await brokerState(node);
            assert.equal(health.status, 'ok');
            assert.equal(health.broker.state, 'connected');
            ids.add(health.broker.node);
            assert.equal(await metric(node, 'huddle_broker_state{state="connected"}'), 1);
            assert.equal(typeof await metric(node, 'huddle_broker_published_total'), 'number');
        }
        assert.equal(ids.size, 3, 'every node has its own id');
    });

    test('events published concurrently on every node arrive everywhere in one order, with the same offsets', async () => {
        const clients = [];
        try {
            for (let i = 0; i < 3; i++) clients.push(await connectUser(nodes[i], `order${i}`));
            for (const c of clients) {
                await c.subscribe(['room:order']);
                await c.next('room.position');
            }
            await waitFor(async () => (await subscribers(redisPort, 'room:order')) === 3,
                { what: 'three nodes subscribed to room:order' });
            const perNode = 10;
            await Promise.all(nodes.map(async (node, n) => {
                for (let i = 0; i < perNode; i++) {
                    const r = await node.api('POST', '/api/publish', { room: 'room:order', type: 'msg', payload: { n, i } });
                    assert.equal(r.status, 200, r.text);
                    assert.ok(r.json.offsets['room:order'] >= 1);
                }
            }));
            const seen = [];
            for (const c of clients) {
                const events = [];
                for (let k = 0; k < 3 * perNode; k++) events.push(await c.next('msg'));
                seen.push(events.map((e) => `${e.offset}:${e.payload.n}.${e.payload.i}:${e.epoch}`));
                assert.deepEqual(events.map((e) => e.offset), Array.from({ length: 30 }, (_, k) => k + 1));
                // each publisher's own order is kept
                for (let n = 0; n < 3; n++) {
                    assert.deepEqual(events.filter((e) => e.payload.n === n).map((e) => e.payload.i),
                        Array.from({ length: perNode }, (_, k) => k));
                }
            }
            assert.deepEqual(seen[1], seen[0]);
            assert.deepEqual(seen[2], seen[0]);
            for (const c of clients) await c.expectNone('msg', 100);
        } finally { await closeAll(clients); }
    });

    test('a client publishing on one node reaches members on the others, not itself twice', async () => {
        const a = await connectUser(nodes[0], 'pa');
        const b = await connectUser(nodes[1], 'pb');
        try {
            await a.subscribe(['live:chat']);
            await b.subscribe(['live:chat']);
            await waitFor(async () => (await subscribers(redisPort, 'live:chat')) === 2,
                { what: 'two nodes subscribed to live:chat' });
            const ack = await a.request({ action: 'publish', room: 'live:chat', type: 'say', payload: { t: 'hi' } });
            assert.notEqual(ack.type, 'error', JSON.stringify(ack));
            const got = await b.next('say');
            assert.deepEqual(got.payload, { t: 'hi' });
            assert.equal(got.userId, 'pa');
            await a.expectNone('say', 150);
        } finally { await closeAll(a, b); }
    });

    test('a client that reconnects to another node recovers what it missed', async () => {
        const reader = await connectUser(nodes[1], 'reader');
        let back;
        try {
            await reader.subscribe(['room:rec']);
            const start = await reader.next('room.position');
            await waitFor(async () => (await subscribers(redisPort, 'room:rec')) === 1, { what: 'room:rec subscribed' });
            for (let i = 1; i <= 3; i++) await nodes[0].api('POST', '/api/publish', { room: 'room:rec', type: 'msg', payload: { i } });
            let last;
            for (let i = 1; i <= 3; i++) last = await reader.next('msg');
            assert.equal(last.payload.i, 3);
            await reader.close();
            for (let i = 4; i <= 8; i++) await nodes[0].api('POST', '/api/publish', { room: 'room:rec', type: 'msg', payload: { i } });
            back = await connectUser(nodes[2], 'reader');
            back.send({ action: 'subscribe', rooms: ['room:rec'], recover: { 'room:rec': { offset: last.offset, epoch: last.epoch } }, id: 'r' });
            const answer = await back.next((m) => m.id === 'r');
            assert.equal(answer.rooms[0].ok, true);
            const replayed = [];
            for (let i = 0; i < 5; i++) replayed.push(await back.next('msg'));
            assert.deepEqual(replayed.map((e) => e.payload.i), [4, 5, 6, 7, 8]);
            assert.deepEqual(replayed.map((e) => e.offset), [4, 5, 6, 7, 8].map((x) => x + last.offset - 3));
            const position = await back.next('room.position');
            assert.equal(position.recovered, true, JSON.stringify(position));
            assert.equal(position.missed, 5);
            assert.equal(position.offset, replayed[4].offset);
            assert.equal(position.epoch, last.epoch);
            await nodes[1].api('POST', '/api/publish', { room: 'room:rec', type: 'msg', payload: { i: 9 } });
            const fresh = await back.next('msg');
            assert.equal(fresh.offset, position.offset + 1);
            await back.expectNone('msg', 150);
            // another epoch cannot be recovered
            back.send({ action: 'unsubscribe', rooms: ['room:rec'] });
            back.send({ action: 'subscribe', rooms: ['room:rec'], recover: { 'room:rec': { offset: 1, epoch: 'not-it' } } });
            const refused = await back.next('room.position');
            assert.equal(refused.recovered, false);
            assert.match(refused.reason, /epoch/);
            assert.equal(typeof start.offset, 'number');
        } finally { await closeAll(reader, back); }
    });

    test('the history API reads the cluster\'s history on any node; history_max_age drops old events', async () => {
        const room = `room:api-${process.pid}`;
        const offsets = [];
        for (let i = 1; i <= 3; i++) {
            const r = await nodes[0].api('POST', '/api/publish', { room, type: 'msg', payload: { i } });
            assert.equal(r.status, 200, r.text);
            offsets.push(r.json.offsets[room]);
        }
        const page = await nodes[2].api('GET', `/api/rooms/${room}/history`);
        assert.equal(page.status, 200, page.text);
        assert.equal(page.json.lastOffset, offsets[2]);
        assert.deepEqual(page.json.events.map((e) => [e.offset, e.payload.i, e.type, e.room]),
            offsets.map((o, i) => [o, i + 1, 'msg', room]));
        assert.ok(page.json.epoch.length > 0);
        assert.ok(page.json.events.every((e) => e.epoch === page.json.epoch));
        const second = await nodes[1].api('GET', `/api/rooms/${room}/history?after=${offsets[0]}&limit=1`);
        assert.deepEqual(second.json.events.map((e) => e.payload.i), [2]);
        assert.equal(second.json.next, offsets[1]);
        assert.equal((await nodes[1].api('GET', `/api/rooms/${room}/history?limit=0`)).status, 400);

        const aged = `aged:api-${process.pid}`;
        const first = await nodes[1].api('POST', '/api/publish', { room: aged, type: 'msg', payload: { i: 1 } });
        await nodes[1].api('POST', '/api/publish', { room: aged, type: 'msg', payload: { i: 2 } });
        assert.equal((await nodes[2].api('GET', `/api/rooms/${aged}/history`)).json.events.length, 2);
        await sleep(1300);
        const old = await nodes[2].api('GET', `/api/rooms/${aged}/history`);
        assert.equal(old.json.lastOffset, first.json.offsets[aged] + 1);
        assert.deepEqual(old.json.events, [], 'events older than history_max_age are gone');
        // A client that last saw the first event cannot recover what has aged out: told to resync.
        const late = await connectUser(nodes[0], 'late');
        try {
            late.send({ action: 'subscribe', rooms: [aged], id: 'r',
                recover: { [aged]: { offset: first.json.offsets[aged], epoch: old.json.epoch } } });
            const position = await late.next('room.position');
            assert.equal(position.recovered, false, JSON.stringify(position));
            assert.match(position.reason, /no longer kept/);
        } finally { await closeAll(late); }
    });

    test('/stats?scope=cluster merges every live node: connections summed, users and rooms counted once', async () => {
        const room = `live:stats-${process.pid}`;
        const clients = [];
        try {
            // One user on two nodes, one on a third; all in one room, and one more room on node 2.
            for (const [node, user, rooms] of [[0, 'stat-a', [room]], [1, 'stat-a', [room]], [2, 'stat-b', [room, `${room}-2`]]]) {
                const c = await connectUser(nodes[node], user);
                clients.push(c);
                await c.subscribe(rooms);
            }
            const local = await Promise.all(nodes.map(async (n) => (await n.api('GET', '/stats')).json));
            const merged = await nodes[1].api('GET', '/stats?scope=cluster');
            assert.equal(merged.status, 200, merged.text);
            const m = merged.json;
            assert.equal(m.scope, 'cluster');
            assert.deepEqual(m.unanswered, []);
            assert.equal(m.nodes.length, 3);
            assert.equal(new Set(m.nodes.map((n) => n.node)).size, 3);
            assert.equal(m.connections, local.reduce((sum, s) => sum + s.connections, 0));
            assert.equal(m.clientsPerRoom[room], 3);
            assert.equal(m.clientsPerRoom[`${room}-2`], 1);
            const localUsers = local.reduce((sum, s) => sum + s.users, 0);
            assert.ok(m.users < localUsers, `stat-a counted once: ${m.users} < ${localUsers}`);
            assert.deepEqual(m.nodes.map((n) => n.connections).sort(), local.map((s) => s.connections).sort());
            assert.equal((await nodes[0].api('GET', '/stats?scope=planet')).status, 400);
            assert.equal(typeof (await nodes[0].api('GET', '/stats?scope=node')).json.clientsPerRoom, 'object');
        } finally { await closeAll(...clients); }
    });

    test('an idempotency key is honoured across nodes', async () => {
        const r1 = await nodes[0].api('POST', '/api/publish', { room: 'room:idem', type: 'msg', payload: {}, idempotencyKey: 'k-1' });
        const r2 = await nodes[2].api('POST', '/api/publish', { room: 'room:idem', type: 'msg', payload: {}, idempotencyKey: 'k-1' });
        assert.equal(r1.status, 200, r1.text);
        assert.equal(r2.status, 200, r2.text);
        assert.equal(r2.json.duplicate, true, r2.text);
        assert.deepEqual(r2.json.offsets, r1.json.offsets);
    });

    test('send-to-user and disconnect-user reach every node', async () => {
        const zed = await connectUser(nodes[2], 'zed');
        const yan1 = await connectUser(nodes[1], 'yan', { name: 'yan1' });
        const yan2 = await connectUser(nodes[2], 'yan', { name: 'yan2' });
        const other = await connectUser(nodes[1], 'other');
        try {
            await waitFor(async () => (await subscribers(redisPort, 'user:zed')) === 1, { what: 'user:zed subscribed' });
            const sent = await nodes[0].api('POST', '/api/users/zed/send', { type: 'note', payload: { x: 1 } });
            assert.equal(sent.status, 200, sent.text);
            assert.deepEqual((await zed.next('note')).payload, { x: 1 });

            const r = await nodes[0].api('POST', '/api/users/yan/disconnect', {});
            assert.equal(r.status, 200, r.text);
            for (const c of [yan1, yan2]) assert.equal((await c.closed(3000)).code, 4403);
            assert.equal(zed.isOpen, true);
            await other.ping();
        } finally { await closeAll(zed, yan1, yan2, other); }
    });

    test('a node subscribes only to rooms with local members', async () => {
        const solo = await connectUser(nodes[0], 'solo');
        try {
            await solo.subscribe(['live:solo']);
            await waitFor(async () => (await subscribers(redisPort, 'live:solo')) === 1, { what: 'live:solo subscribed once' });
            await sleep(100);
            const before1 = await metric(nodes[1], 'huddle_broker_received_total');
            const before2 = await metric(nodes[2], 'huddle_broker_received_total');
            for (let i = 0; i < 20; i++) await nodes[1].api('POST', '/api/publish', { room: 'live:solo', type: 'tick', payload: { i } });
            for (let i = 0; i < 20; i++) assert.equal((await solo.next('tick')).payload.i, i);
            assert.equal(await metric(nodes[1], 'huddle_broker_received_total'), before1, 'node 1 got no traffic of live:solo');
            assert.equal(await metric(nodes[2], 'huddle_broker_received_total'), before2, 'node 2 got no traffic of live:solo');
            await solo.request({ action: 'unsubscribe', rooms: ['live:solo'] });
            await waitFor(async () => (await subscribers(redisPort, 'live:solo')) === 0, { what: 'live:solo unsubscribed' });
        } finally { await solo.close(); }
    });

    test('Redis stops: nodes report degraded and keep serving local rooms; after a restart they deliver across nodes again', async () => {
        const a = await connectUser(nodes[0], 'ra');
        const b = await connectUser(nodes[0], 'rb');
        const c = await connectUser(nodes[1], 'rc');
        try {
            for (const x of [a, b, c]) await x.subscribe(['live:storm']);
            await waitFor(async () => (await subscribers(redisPort, 'live:storm')) === 2, { what: 'live:storm on two nodes' });
            redis.child.kill('SIGTERM');
            await redis.exited;
            for (const node of nodes) {
                await waitFor(async () => {
                    const h = await brokerState(node);
                    return h.status === 'degraded' && h.broker.state !== 'connected';
                }, { what: 'degraded health', timeoutMs: 8000 });
            }
            // local delivery goes on without Redis
            const r = await nodes[0].api('POST', '/api/publish', { room: 'live:storm', type: 'local', payload: { k: 1 } });
            assert.equal(r.status, 200, r.text);
            assert.deepEqual((await b.next('local')).payload, { k: 1 });
            await a.request({ action: 'publish', room: 'live:storm', type: 'local', payload: { k: 2 } });
            assert.deepEqual((await b.next('local')).payload, { k: 2 });
            await c.expectNone('local', 50);

            redis = startRedis(redisPort, redisDir);
            for (const node of nodes) {
                await waitFor(async () => (await brokerState(node)).broker.state === 'connected',
                    { what: 'broker reconnected', timeoutMs: 12000, intervalMs: 100 });
            }
            await waitFor(async () => (await subscribers(redisPort, 'live:storm')) === 2, { what: 'live:storm resubscribed' });
            assert.ok(await metric(nodes[0], 'huddle_broker_reconnects_total') >= 1);
            // let the nodes prove their subscriptions again before relying on them
            await sleep(200);
            const again = await nodes[2].api('POST', '/api/publish', { room: 'live:storm', type: 'back', payload: { k: 3 } });
            assert.equal(again.status, 200, again.text);
            for (const x of [a, b, c]) assert.deepEqual((await x.next('back', 5000)).payload, { k: 3 });
            // history rooms work again (Redis lost its data: a new epoch starts at 1)
            const h = await nodes[1].api('POST', '/api/publish', { room: 'room:after', type: 'msg', payload: {} });
            assert.equal(h.status, 200, h.text);
            assert.deepEqual(h.json.offsets, { 'room:after': 1 });
        } finally { await closeAll(a, b, c); }
    });
});

const PRESENCE_CONFIG = `
[[namespaces]]
name = "chat"
client_publish = true
presence_events = true
presence_claims = ["name"]
`;
const PRESENCE_TTL_MS = 2000;

describe('cluster presence: three nodes, one Redis', { skip: NO_REDIS }, () => {
    let redisPort;
    let redis;
    let redisDir;
    const nodes = [];
    let env;

    const startNode = () => startClusterNode({ config: PRESENCE_CONFIG, env });
    const named = async (node, user, name) =>
        connectUser(node, user, { token: await token(user, { claims: { name } }) });
    const usersOf = (list) => list.map((u) => [u.userId, u.connections, u.info]);

    before(async () => {
        if (SKIP || NO_REDIS) return;
        redisPort = await freePort();
        redis = await startRedisReady(redisPort);
        redisDir = redis.dir;
        env = {
            HUDDLE_BROKER_URL: `redis://127.0.0.1:${redisPort}`,
            HUDDLE_BROKER_PRESENCE_TTL: `${PRESENCE_TTL_MS}ms`,
        };
        for (let i = 0; i < 3; i++) nodes.push(await startNode());
    });
    after(async () => {
        try {
            for (const node of nodes) await stopAndCheck(node);
        } finally {
            if (redis) { redis.child.kill('SIGKILL'); await redis.exited; }
        }
    });

    test('the online list merges the nodes; joins and leaves go out once per user, whatever the node', async () => {
        const w0 = await named(nodes[0], 'w0', 'W0');
        const w2 = await connectUser(nodes[2], 'w2');
        const tab1 = await named(nodes[1], 'carol', 'Carol');
        const tab2 = await named(nodes[2], 'carol', 'Carol');
        try {
            await w0.subscribe(['chat:p']);
            await waitFor(async () => (await subscribers(redisPort, 'chat:p')) === 1, { what: 'chat:p on node 0' });
            await w2.subscribe(['chat:p']);
            const w2joined = await w0.next('user.joined');
            assert.deepEqual(w2joined.payload, { userId: 'w2', info: {} });
            await waitFor(async () => (await subscribers(redisPort, 'chat:p')) === 2, { what: 'chat:p on node 2' });

            await tab1.subscribe(['chat:p']);
            for (const w of [w0, w2]) {
                const joined = await w.next('user.joined');
                assert.equal(joined.room, 'chat:p');
                assert.deepEqual(joined.payload, { userId: 'carol', info: { name: 'Carol' } });
                assert.equal(joined.userId, 'carol');
            }
            // a second tab on another node is not a second join
            await tab2.subscribe(['chat:p']);
            for (const w of [w0, w2]) await w.expectNone('user.joined', 300);

            const expected = [['carol', 2, { name: 'Carol' }], ['w0', 1, { name: 'W0' }], ['w2', 1, {}]];
            for (const c of [w0, w2, tab1]) {
                const list = await c.request({ action: 'presence', room: 'chat:p' });
                assert.equal(list.type, 'presence', JSON.stringify(list));
                assert.deepEqual(usersOf(list.users), expected);
            }
            for (const node of nodes) {
                const api = await node.api('GET', '/api/rooms/chat:p/presence');
                assert.equal(api.status, 200, api.text);
                assert.deepEqual(usersOf(api.json.users), expected);
            }

            // closing one of two tabs is no leave; the last one is one leave everywhere
            await tab1.close();
            for (const w of [w0, w2]) await w.expectNone('user.left', 300);
            const still = await w0.request({ action: 'presence', room: 'chat:p' });
            assert.deepEqual(usersOf(still.users)[0], ['carol', 1, { name: 'Carol' }]);
            await tab2.close();
            for (const w of [w0, w2]) {
                const left = await w.next('user.left');
                assert.deepEqual(left.payload, { userId: 'carol' });
            }
            for (const w of [w0, w2]) await w.expectNone('user.left', 300);
            const after2 = await nodes[1].api('GET', '/api/rooms/chat:p/presence');
            assert.deepEqual(after2.json.users.map((u) => u.userId), ['w0', 'w2']);
        } finally { await closeAll(w0, w2, tab1, tab2); }
    });

    test('a node that stops normally: its users leave at once, not after the TTL', async () => {
        const leaver = await startNode();
        const w = await connectUser(nodes[0], 's0');
        const gus = await connectUser(leaver, 'gus');
        try {
            await w.subscribe(['chat:s']);
            await waitFor(async () => (await subscribers(redisPort, 'chat:s')) === 1, { what: 'chat:s on node 0' });
            await gus.subscribe(['chat:s']);
            assert.deepEqual((await w.next('user.joined')).payload, { userId: 'gus', info: {} });
            const stoppedAt = Date.now();
            const stopping = stopAndCheck(leaver);
            const left = await w.next('user.left', PRESENCE_TTL_MS + 4000);
            const elapsed = Date.now() - stoppedAt;
            assert.deepEqual(left.payload, { userId: 'gus' });
            await stopping;
            // a heartbeat expiry could not come before TTL - TTL/5 after the stop
            assert.ok(elapsed < PRESENCE_TTL_MS - PRESENCE_TTL_MS / 5, `user.left after ${elapsed} ms`);
            await w.expectNone('user.left', 300);
        } finally { await closeAll(w, gus); await leaver.kill9(); }
    });

    test('a node killed with -9 leaves presence within the TTL: its users get one user.left on the others', async () => {
        const victim = await startNode();
        const w0 = await connectUser(nodes[0], 'k0');
        const w1 = await connectUser(nodes[1], 'k1');
        const gone = await named(victim, 'vic', 'Vic');
        const bothHere = await connectUser(nodes[1], 'both');
        const bothThere = await connectUser(victim, 'both');
        try {
            await w0.subscribe(['chat:k']);
            await w1.subscribe(['chat:k']);
            await waitFor(async () => (await subscribers(redisPort, 'chat:k')) === 2, { what: 'chat:k on two nodes' });
            await gone.subscribe(['chat:k']);
            await bothThere.subscribe(['chat:k']);
            await bothHere.subscribe(['chat:k']);
            for (const w of [w0, w1]) {
                const joins = [];
                // k1's own join reaches k0; then vic and both, once each
                while (joins.filter((u) => u !== 'k0' && u !== 'k1').length < 2) {
                    joins.push((await w.next('user.joined')).payload.userId);
                }
                assert.deepEqual(joins.filter((u) => u === 'vic' || u === 'both').sort(), ['both', 'vic']);
                await w.expectNone((m) => m.type === 'user.joined' && ['vic', 'both'].includes(m.payload.userId), 300);
            }
            const before1 = await nodes[1].api('GET', '/api/rooms/chat:k/presence');
            assert.deepEqual(before1.json.users.map((u) => [u.userId, u.connections]),
                [['both', 2], ['k0', 1], ['k1', 1], ['vic', 1]]);

            const killedAt = Date.now();
            await victim.kill9();
            for (const w of [w0, w1]) {
                const left = await w.next('user.left', PRESENCE_TTL_MS + 4000);
                assert.deepEqual(left.payload, { userId: 'vic' });
            }
            const elapsed = Date.now() - killedAt;
            // TTL + one heartbeat of a survivor (TTL / 5) + delivery; a generous margin for the
            // sanitizer build
            assert.ok(elapsed <= PRESENCE_TTL_MS + PRESENCE_TTL_MS / 5 + 1500, `user.left after ${elapsed} ms`);
            // `both` still has a connection on node 1: no leave for it
            for (const w of [w0, w1]) await w.expectNone('user.left', 500);
            const after1 = await nodes[0].api('GET', '/api/rooms/chat:k/presence');
            assert.deepEqual(after1.json.users.map((u) => [u.userId, u.connections]),
                [['both', 1], ['k0', 1], ['k1', 1]]);
            await bothHere.close();
            assert.deepEqual((await w0.next('user.left')).payload, { userId: 'both' });
        } finally {
            await closeAll(w0, w1, bothHere);
            await victim.kill9();
        }
    });

    test('Redis away: a node announces its own joins and leaves to its members and lists its own users', async () => {
        const w = await connectUser(nodes[0], 'r0');
        const far = await connectUser(nodes[1], 'r1');
        const late = await named(nodes[0], 'late', 'Late');
        try {
            await w.subscribe(['chat:r']);
            await waitFor(async () => (await subscribers(redisPort, 'chat:r')) === 1, { what: 'chat:r on node 0' });
            await far.subscribe(['chat:r']);
            await w.next((m) => m.type === 'user.joined' && m.payload.userId === 'r1');
            redis.child.kill('SIGTERM');
            await redis.exited;
            await waitFor(async () => (await brokerState(nodes[0])).broker.state === 'reconnecting',
                { what: 'node 0 lost Redis', timeoutMs: 8000 });
            await late.subscribe(['chat:r']);
            assert.deepEqual((await w.next('user.joined')).payload, { userId: 'late', info: { name: 'Late' } });
            const list = await w.request({ action: 'presence', room: 'chat:r' });
            assert.deepEqual(usersOf(list.users), [['late', 1, { name: 'Late' }], ['r0', 1, {}]]);
            await late.close();
            assert.deepEqual((await w.next('user.left')).payload, { userId: 'late' });

            redis = startRedis(redisPort, redisDir);
            for (const node of nodes) {
                await waitFor(async () => (await brokerState(node)).broker.state === 'connected',
                    { what: 'broker reconnected', timeoutMs: 12000, intervalMs: 100 });
            }
            // Redis lost everything; each node wrote its own figures back
            await waitFor(async () => {
                const r = await nodes[2].api('GET', '/api/rooms/chat:r/presence');
                return JSON.stringify(r.json.users.map((u) => u.userId)) === '["r0","r1"]';
            }, { what: 'presence restored in Redis' });
        } finally { await closeAll(w, far, late); }
    });
});

// Yjs documents across nodes: stock y-websocket providers on different nodes edit one document.
// With a private PostgreSQL (when its server binaries are installed) every node shares one store
// and a node that opens the document later reads what the others stored; without it each node
// keeps its own SQLite file and only live convergence is checked.
describe('cluster documents: three nodes, one Redis', { skip: NO_REDIS }, () => {
    let redisPort;
    let redis;
    let postgres;
    const nodes = [];
    let env;
    const withStore = () => postgres !== undefined;

    before(async () => {
        if (SKIP || NO_REDIS) return;
        redisPort = await freePort();
        redis = await startRedisReady(redisPort);
        if (PG_BIN) postgres = startPostgres(await freePort());
        env = {
            HUDDLE_BROKER_URL: `redis://127.0.0.1:${redisPort}`,
            HUDDLE_DOCUMENTS_IDLE_UNLOAD: '300ms',
        };
        if (postgres) env.HUDDLE_STORE_URL = postgres.url;
        for (let i = 0; i < 3; i++) nodes.push(await startClusterNode({ config: CONFIG, env }));
    });
    after(async () => {
        try {
            for (const node of nodes) await stopAndCheck(node);
        } finally {
            if (redis) { redis.child.kill('SIGKILL'); await redis.exited; }
            if (postgres) postgres.stop();
        }
    });

    test('concurrent edits on two nodes converge, awareness crosses nodes, a late joiner on a third gets everything', async () => {
        const document = `firm-7/cluster-${process.pid}`;
        const tok = await token('editor');
        const a = openDocPeer(nodes[0], document, tok, 'a');
        const b = openDocPeer(nodes[1], document, tok, 'b');
        const peers = [a, b];
        try {
            for (const p of [a, b]) await waitFor(() => p.provider.synced, { what: `${p.name} synced` });
            // Both document subscriptions are live before the burst (the probe proves it).
            await waitFor(async () => (await subscribers(redisPort, `#doc:${document}`)) === 2,
                { what: 'both nodes subscribed to the document' });
            for (let i = 0; i < 40; i++) {
                a.text.insert(0, `a${i};`);
                b.text.insert(b.text.length, `b${i};`);
                if (i % 10 === 0) await sleep(5);
            }
            const complete = (p) => (p.text.toString().match(/[ab]\d+;/g) ?? []).length === 80;
            await waitFor(() => complete(a) && complete(b) && a.text.toString() === b.text.toString(),
                { what: 'both peers have all 80 edits, in one order', timeoutMs: 8000 })
                .catch((e) => { throw new Error(`${e.message}: a=${a.text.length} b=${b.text.length}`); });

            a.provider.awareness.setLocalStateField('user', { name: 'A' });
            await waitFor(() => b.provider.awareness.getStates().get(a.doc.clientID)?.user?.name === 'A',
                { what: 'awareness from node 0 reached node 1' });

            if (withStore()) {
                const late = openDocPeer(nodes[2], document, tok, 'late');
                peers.push(late);
                await waitFor(() => late.provider.synced && late.text.toString() === a.text.toString(),
                    { what: 'the late joiner on node 2 has the whole document', timeoutMs: 8000 });
                late.text.insert(0, 'late;');
                await waitFor(() => a.text.toString().startsWith('late;') && b.text.toString().startsWith('late;'),
                    { what: 'an edit on node 2 reached nodes 0 and 1' });
            }
        } finally { await closeDocPeers(...peers); }
    });

    // Both peers synced, both nodes subscribed to the document, and A's awareness state seen by B.
    async function shareAwareness(a, b, document) {
        for (const p of [a, b]) await waitFor(() => p.provider.synced, { what: `${p.name} synced` });
        await waitFor(async () => (await subscribers(redisPort, `#doc:${document}`)) === 2,
            { what: 'both nodes subscribed to the document' });
        a.provider.awareness.setLocalStateField('user', { name: 'A' });
        await waitFor(() => b.provider.awareness.getStates().get(a.doc.clientID)?.user?.name === 'A',
            { what: `awareness from ${a.name}'s node reached ${b.name}'s` });
    }

    test('awareness from another node is kept: a provider opening later sees it at once, and its removal', async () => {
        const document = `firm-7/cluster-awareness-${process.pid}`;
        const tok = await token('editor');
        const a = openDocPeer(nodes[0], document, tok, 'a');
        const b = openDocPeer(nodes[1], document, tok, 'b');
        const peers = [a, b];
        try {
            await shareAwareness(a, b, document);
            // A renews its state every 15 s; a newcomer on node 1 must not wait for that.
            const c = openDocPeer(nodes[1], document, tok, 'c');
            peers.push(c);
            await waitFor(() => c.provider.awareness.getStates().get(a.doc.clientID)?.user?.name === 'A',
                { what: 'a provider opened on node 1 sees node 0\'s user from the snapshot', timeoutMs: 3000 });
            const api = await nodes[1].api('GET', `/api/documents/${encodeURIComponent(document)}/connections`);
            assert.equal(api.status, 200);
            await closeDocPeers(a);
            peers.shift();
            await waitFor(() => !c.provider.awareness.getStates().has(a.doc.clientID) &&
                !b.provider.awareness.getStates().has(a.doc.clientID),
            { what: 'node 0\'s user removed on node 1 once its connection closed', timeoutMs: 3000 });
        } finally { await closeDocPeers(...peers); }
    });

    test('a node killed with -9: its users\' awareness leaves the other nodes once its heartbeat is gone', async () => {
        const document = `firm-7/cluster-awareness-kill-${process.pid}`;
        const tok = await token('editor');
        // Default broker.presence_ttl (5 s): the victim is taken for dead 5 s after its last
        // heartbeat, and the others look every second.
        const victim = await startClusterNode({ config: CONFIG, env });
        const a = openDocPeer(victim, document, tok, 'a');
        const b = openDocPeer(nodes[1], document, tok, 'b');
        try {
            await shareAwareness(a, b, document);
            const removed = new Promise((resolve) => {
                b.provider.awareness.on('change', ({ removed: ids }) => {
                    if (ids.includes(a.doc.clientID)) resolve(Date.now());
                });
            });
            const killedAt = Date.now();
            await victim.kill9();
            // Well before A's own 30 s awareness timeout on the client.
            const at = await Promise.race([removed, sleep(12000).then(() => null)]);
            assert.ok(at !== null, 'the killed node\'s user was removed on node 1 within 12 s');
            assert.ok(at - killedAt >= 1000, `removed ${at - killedAt} ms after the kill: not before the node could be taken for dead`);
        } finally { await closeDocPeers(a, b); }
    });

    test('S1 relays, backend steps and a delete reach the document\'s clients on every node', async () => {
        const document = `firm-7/cluster-fabric-${process.pid}`;
        const fabricUrl = (node, clientID, tok) => `ws://127.0.0.1:${node.port}/ws/fabric?documentId=` +
            `${encodeURIComponent(document)}&clientID=${clientID}&token=${tok}`;
        const a = await connect(fabricUrl(nodes[0], 'client-a', await token('alice')), { name: 'a' });
        const b = await connect(fabricUrl(nodes[1], 'client-b', await token('bob')), { name: 'b' });
        const draft = await connect(`ws://127.0.0.1:${nodes[2].port}/ws/drafts?draftId=` +
            `${encodeURIComponent(document)}&token=${await token('dora')}`, { name: 'draft' });
        try {
            a.send({ type: 'sync' });
            await a.next('synced');
            b.send({ type: 'sync' });
            await b.next('synced');
            await draft.next('yjs-state-response');
            await waitFor(async () => (await subscribers(redisPort, `#doc:${document}`)) === 3,
                { what: 'three nodes subscribed to the document' });
            for (const type of ['awareness', 'selection', 'steps']) {
                a.send({ type, clientID: 'spoofed', data: { n: 1, type } });
                const got = await b.next(type);
                assert.equal(got.clientID, 'client-a');
                assert.deepEqual(got.data, { n: 1, type });
            }
            await draft.expectNone('steps', 100);
            const steps = (node, body) => node.api('POST', `/api/documents/${encodeURIComponent(document)}/steps`, body);
            assert.equal((await steps(nodes[2], { steps: [{ op: 'insert', at: 3 }] })).status, 202);
            for (const c of [a, b]) assert.deepEqual((await c.next('steps')).steps, [{ op: 'insert', at: 3 }]);
            assert.equal((await steps(nodes[0], { steps: { only: 'b' }, clientID: 'client-b' })).status, 202);
            assert.deepEqual((await b.next('steps')).steps, { only: 'b' });
            await a.expectNone('steps', 150);
            // Deleted on node 2: every node closes its connections of the document and forgets it.
            const deleted = await nodes[2].api('DELETE', `/api/documents/${encodeURIComponent(document)}`);
            assert.equal(deleted.status, 200);
            for (const c of [a, b, draft]) assert.equal((await c.closed(3000)).code, 4404, c.name);
            for (const node of nodes) {
                const listed = await node.api('GET', '/api/documents');
                assert.ok(!JSON.stringify(listed.json).includes(`cluster-fabric-${process.pid}`), `node ${node.port} forgot it`);
            }
        } finally { await closeAll(a, b, draft); }
    });

    test('a node subscribes to a document while it has it loaded, and unsubscribes once it unloads it', async () => {
        const document = `firm-7/cluster-unload-${process.pid}`;
        const a = openDocPeer(nodes[0], document, await token('editor'), 'a');
        try {
            await waitFor(() => a.provider.synced, { what: 'a synced' });
            await waitFor(async () => (await subscribers(redisPort, `#doc:${document}`)) === 1,
                { what: 'node 0 subscribed to the document' });
        } finally { await closeDocPeers(a); }
        await waitFor(async () => (await subscribers(redisPort, `#doc:${document}`)) === 0,
            { what: 'node 0 unsubscribed after unloading the document', timeoutMs: 5000 });
    });
});
