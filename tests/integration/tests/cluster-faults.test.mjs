// Faults in a cluster of three nodes with a private redis-server and a private PostgreSQL, behind a
// plain TCP load balancer (lib/balancer.mjs) that the clients know instead of the nodes:
// - a node killed with -9 while chat clients (clients/js, a history room) publish and y-websocket
//   providers edit one document: its clients come back through the balancer on the other nodes,
//   recover by offset, and nothing acknowledged or delivered is lost, repeated or reordered;
// - PostgreSQL stopped (immediate) and started again while two nodes store document updates:
//   the writes wait and resume, and a node that loads the document afterwards has every edit;
// - two faults these found (fixed), each shown deterministically: a client's publish was
//   acknowledged before the node handed it to Redis (lost when the node died then), and a client
//   joining a history room on a node missed the events fanned out there while its join waited.
// Every chat message and every edit carries a unique marker, so that losses and repeats are
// counted, not guessed.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import WebSocket from 'ws';

import { HuddleClient } from '../../../clients/js/huddle-client.js';
import { startBalancer } from '../lib/balancer.mjs';
import {
    closeDocPeers, NO_REDIS, openDocPeer, PG_BIN, redisCommand, startClusterNode, startPostgres,
    startRedisReady, subscribers,
} from '../lib/cluster-services.mjs';
import { SKIP, test, waitFor } from '../lib/harness.mjs';
import { freePort, sleep, stopAndCheck } from '../lib/server.mjs';
import { token } from '../lib/tokens.mjs';

const NO_PG = !PG_BIN && 'PostgreSQL server binaries are missing (scripts/install-deps.sh installs them)';

const CONFIG = `
[[namespaces]]
name = "chat"
client_publish = true
history = 1000
`;

// Markers: chat payloads {m: "p3.17"}, document text "<d3.17>".
const docMarkers = (text) => text.match(/<[a-z]\d+\.\d+>/g) ?? [];

function countsOf(items) {
    const counts = new Map();
    for (const x of items) counts.set(x, (counts.get(x) ?? 0) + 1);
    return counts;
}

describe('cluster faults: three nodes behind a balancer, one Redis, one PostgreSQL', { skip: NO_REDIS || NO_PG }, () => {
    let redisPort;
    let redis;
    let postgres;
    const nodes = [];   // every node started by a test, stopped (or found killed) in after()
    const killed = new Set();

    before(async () => {
        if (SKIP || NO_REDIS || NO_PG) return;
        redisPort = await freePort();
        redis = await startRedisReady(redisPort);
        postgres = startPostgres(await freePort());
    });
    after(async () => {
        try {
            for (const node of nodes) {
                if (!killed.has(node)) { await stopAndCheck(node); continue; }
                await node.kill9();
                const report = node.sanitizerReport();
                if (report) throw new Error(`killed node ${node.id} printed a sanitizer report:\n${report}`);
            }
        } finally {
            if (redis) { redis.child.kill('SIGKILL'); await redis.exited; }
            if (postgres) postgres.stop();
        }
    });

    // Stops a node that should still be alive and checks that it exits cleanly.
    async function retire(node) {
        nodes.splice(nodes.indexOf(node), 1);
        await stopAndCheck(node);
    }

    async function startNodes(count) {
        const started = [];
        for (let i = 0; i < count; i++) {
            const node = await startClusterNode({
                config: CONFIG,
                env: {
                    HUDDLE_BROKER_URL: `redis://127.0.0.1:${redisPort}`,
                    HUDDLE_STORE_URL: postgres.url,
                    HUDDLE_DOCUMENTS_IDLE_UNLOAD: '300ms',
                    HUDDLE_LIMITS_MESSAGES_PER_MINUTE: '0',
                },
            });
            nodes.push(node);
            started.push(node);
        }
        return started;
    }

    // A chat member (the client library) of `target` (the balancer or a node). `received`: every
    // `msg` event as {offset, epoch, m}.
    async function chatMember(target, name, tok, roomName = 'chat:faults') {
        const client = new HuddleClient(`ws://127.0.0.1:${target.port}/ws`, {
            token: tok, WebSocket, reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
            requestTimeoutMs: 8000, connectTimeoutMs: 3000,
        });
        const member = { name, client, received: [], recoveries: [], acked: [], unacked: [], states: [] };
        client.on('state', (s) => member.states.push(s));
        await client.connect();
        member.room = await client.subscribe(roomName);
        member.room.on('msg', (payload, event) => member.received.push({ offset: event.offset, epoch: event.epoch, m: payload.m }));
        member.room.on('recovery', (r) => member.recoveries.push(r));
        return member;
    }

    test('a node killed with -9 while clients edit a document and chat: clients reconnect to another node and lose nothing acknowledged or delivered',
        { timeout: 45000 }, async (t) => {
            const cluster = await startNodes(3);
            const victim = cluster[1];
            const survivors = [cluster[0], cluster[2]];
            const lb = await startBalancer(cluster.map((n) => n.port));
            const members = [];
            const peers = [];
            const document = `faults/kill-${process.pid}`;
            try {
                // The room's epoch exists before anyone joins, so every client has a position.
                const seed = await cluster[0].api('POST', '/api/publish', { room: 'chat:faults', type: 'seed', payload: {} });
                assert.equal(seed.status, 200, seed.text);

                // Round robin: connection k goes to node k % 3, so each node gets two publishers
                // and one listener, then two editors.
                const publishers = [];
                const listeners = [];
                for (let k = 0; k < 9; k++) {
                    const listener = k >= 3 && k < 6;
                    const name = listener ? `l${k - 3}` : `p${k < 3 ? k : k - 3}`;
                    const m = await chatMember(lb, name, await token(`faults-${name}`));
                    members.push(m);
                    (listener ? listeners : publishers).push(m);
                }
                const editorToken = await token('faults-editor');
                for (let k = 0; k < 6; k++) {
                    const p = openDocPeer(lb, document, editorToken, `d${k}`);
                    peers.push(p);
                    p.provider.on('status', ({ status }) => { if (status === 'disconnected') p.dropped = true; });
                    await waitFor(() => p.provider.synced, { what: `${p.name} synced`, timeoutMs: 5000 });
                }
                const spread = lb.connectionsPerBackend();
                for (const node of cluster) assert.equal(spread.get(node.port), 5, `5 connections on each node: ${JSON.stringify([...spread])}`);
                await waitFor(async () => (await subscribers(redisPort, 'chat:faults')) === 3,
                    { what: 'every node subscribed to chat:faults' });
                // Every join answered (room.position) before the load: the last test shows why.
                await waitFor(() => members.every((m) => m.room.epoch !== null), { what: 'every chat join answered' });
                await waitFor(async () => (await subscribers(redisPort, `#doc:${document}`)) === 3,
                    { what: 'every node subscribed to the document' });

                // Bounded load: a fixed count per client, and a deadline.
                const PER_PUBLISHER = 100;
                const PER_EDITOR = 60;
                const deadline = Date.now() + 15000;
                const chatting = publishers.map(async (p) => {
                    for (let i = 0; i < PER_PUBLISHER && Date.now() < deadline; i++) {
                        const m = `${p.name}.${i}`;
                        try {
                            await p.room.publish('msg', { m });
                            p.acked.push(m);
                        } catch (err) {
                            // DISCONNECTED: sent, but the answer was lost with the node (may or may
                            // not have been published); it is not acknowledged.
                            p.unacked.push(`${m}:${err.code}`);
                        }
                        await sleep(10);
                    }
                });
                const written = new Map(peers.map((p) => [p.name, []]));
                const editing = peers.map(async (p, k) => {
                    for (let i = 0; i < PER_EDITOR && Date.now() < deadline; i++) {
                        const marker = `<${p.name}.${i}>`;
                        // Only at the ends: a marker inserted inside another would split it.
                        p.text.insert(k % 2 ? 0 : p.text.length, marker);
                        written.get(p.name).push(marker);
                        await sleep(15);
                    }
                });

                await waitFor(() => publishers.every((p) => p.acked.length >= 25), { what: 'publishing under way', timeoutMs: 8000 });
                const before = members.map((m) => m.received.map((e) => e.m));
                const seenBefore = new Set(before.flat());
                const docBefore = new Set(peers.flatMap((p) => docMarkers(p.text.toString())));
                await victim.kill9();
                killed.add(victim);
                const killedAt = Date.now();

                await Promise.all([...chatting, ...editing]);
                t.diagnostic(`publishing and editing ended ${Date.now() - killedAt} ms after the kill`);
                assert.ok(Date.now() < deadline, 'the load finished within its deadline');

                // Clients of the victim came back through the balancer on the survivors.
                await waitFor(() => members.every((m) => m.client.state === 'connected') &&
                    peers.every((p) => p.provider.wsconnected && p.provider.synced),
                { what: 'every client connected again', timeoutMs: 10000 });
                const after = lb.connectionsPerBackend();
                assert.equal(after.get(victim.port), undefined, 'nothing routed to the killed node');
                assert.equal([...after.values()].reduce((a, b) => a + b, 0), 15, JSON.stringify([...after]));
                const moved = members.filter((m) => m.states.includes('disconnected'));
                assert.equal(moved.length, 3, `three chat clients were on the killed node: ${moved.map((m) => m.name)}`);
                assert.deepEqual(peers.filter((p) => p.dropped).map((p) => p.name), ['d1', 'd4'], 'two providers were on the killed node');

                // --- chat -----------------------------------------------------------------------
                // Every client delivers up to the room's last offset (a publisher never gets its
                // own last events live, so it is done at the last offset of someone else's).
                const meta = async () => Number(await redisCommand(redisPort, ['HGET', 'huddle:{chat:faults}:meta', 'last']));
                const last = await meta();
                await waitFor(() => listeners.every((l) => l.received.at(-1)?.offset === last),
                    { what: `listeners delivered up to offset ${last}`, timeoutMs: 10000 })
                    .catch((e) => { throw new Error(`${e.message}: ${listeners.map((l) => `${l.name}=${l.received.at(-1)?.offset}`)}`); });
                assert.equal(await meta(), last, 'nothing was published after the load ended');

                for (const m of members) {
                    assert.deepEqual(m.recoveries.filter((r) => !r.recovered), [],
                        `${m.name} was told to resync: the history in Redis covers the outage`);
                    const offsets = m.received.map((e) => e.offset);
                    for (let i = 1; i < offsets.length; i++) {
                        assert.ok(offsets[i] > offsets[i - 1], `${m.name}: offset ${offsets[i]} after ${offsets[i - 1]} (repeat or disorder)`);
                    }
                    assert.equal(new Set(m.received.map((e) => e.epoch)).size, 1, `${m.name}: one epoch`);
                }
                for (const m of moved) {
                    assert.ok(m.recoveries.some((r) => r.recovered), `${m.name} recovered after the kill: ${JSON.stringify(m.recoveries)}`);
                }
                // The listeners' lists are the room: every offset from the first after the seed, once.
                const canonical = listeners[0].received;
                assert.deepEqual(canonical.map((e) => e.offset), Array.from({ length: canonical.length }, (_, i) => i + 2),
                    'offsets 2..last without a gap');
                for (const l of listeners.slice(1)) assert.deepEqual(l.received, canonical, `${l.name} = ${listeners[0].name}`);
                const byOffset = new Map(canonical.map((e) => [e.offset, e.m]));
                const inRoom = new Set(canonical.map((e) => e.m));
                assert.equal(inRoom.size, canonical.length, 'no message published twice');
                const missingAt = (p) => {
                    const got = new Set(p.received.map((e) => e.m));
                    return canonical.filter((e) => !e.m.startsWith(`${p.name}.`) && !got.has(e.m));
                };
                // A publisher's last events of others may still be on their way.
                await waitFor(() => publishers.every((p) => missingAt(p).length === 0),
                    { what: 'every publisher delivered the events of the others', timeoutMs: 5000 }).catch(() => {});
                for (const p of publishers) {
                    for (const e of p.received) assert.equal(byOffset.get(e.offset), e.m, `${p.name}: offset ${e.offset} holds what the listeners got`);
                    assert.deepEqual(missingAt(p), [], `${p.name} missed events of others`);
                }
                const ackedLost = publishers.flatMap((p) => p.acked.filter((m) => !inRoom.has(m)));
                const deliveredLost = [...seenBefore].filter((m) => !inRoom.has(m));
                const unacked = publishers.flatMap((p) => p.unacked);
                t.diagnostic(`chat: ${canonical.length} events, ${publishers.reduce((a, p) => a + p.acked.length, 0)} acknowledged, ` +
                    `not acknowledged: ${JSON.stringify(unacked)} (in the room: ${unacked.filter((u) => inRoom.has(u.split(':')[0])).length})`);
                assert.deepEqual(deliveredLost, [], 'every message delivered before the kill is in the room');
                assert.deepEqual(ackedLost, [], 'every acknowledged publish is in the room');
                for (const [i, list] of before.entries()) {
                    for (const m of list) assert.ok(members[i].received.some((e) => e.m === m));
                }

                // --- document -------------------------------------------------------------------
                const all = [...written.values()].flat();
                const complete = (p) => {
                    const counts = countsOf(docMarkers(p.text.toString()));
                    return counts.size === all.length && [...counts.values()].every((c) => c === 1);
                };
                await waitFor(() => peers.every(complete) && peers.every((p) => p.text.toString() === peers[0].text.toString()),
                    { what: `every provider has all ${all.length} edits once, in one order`, timeoutMs: 10000 })
                    .catch((e) => { throw new Error(`${e.message}: ${peers.map((p) => `${p.name}=${docMarkers(p.text.toString()).length}`)}`); });
                for (const m of docBefore) assert.ok(peers[0].text.toString().includes(m), `${m}, seen before the kill, is in the document`);
                const finalText = peers[0].text.toString();
                await closeDocPeers(...peers.splice(0));
                // Unloaded everywhere: the next open reads PostgreSQL, not a node's memory.
                await waitFor(async () => (await subscribers(redisPort, `#doc:${document}`)) === 0,
                    { what: 'the survivors unloaded the document', timeoutMs: 5000 });
                for (const node of survivors) {
                    const fresh = openDocPeer(node, document, editorToken, `fresh-${node.id}`);
                    peers.push(fresh);
                    await waitFor(() => fresh.provider.synced && fresh.text.length === finalText.length,
                        { what: `a fresh provider on node ${node.id} loaded the document`, timeoutMs: 5000 })
                        .catch((e) => { throw new Error(`${e.message}: ${fresh.text.length} of ${finalText.length} characters`); });
                    assert.equal(fresh.text.toString(), finalText);
                    await closeDocPeers(...peers.splice(0));
                }
            } finally {
                await closeDocPeers(...peers);
                await Promise.all(members.map((m) => m.client.close()));
                await lb.close();
                for (const node of survivors) await retire(node);
            }
        });

    test('PostgreSQL restarts while nodes store document updates: writes wait and resume, nothing acknowledged is lost',
        { timeout: 40000 }, async (t) => {
            const [n0, n1, n2] = await startNodes(3);
            const document = `faults/pg-${process.pid}`;
            const tok = await token('faults-pg');
            const a = openDocPeer(n0, document, tok, 'a');
            const b = openDocPeer(n1, document, tok, 'b');
            const peers = [a, b];
            let halted = false;
            try {
                for (const p of [a, b]) await waitFor(() => p.provider.synced, { what: `${p.name} synced`, timeoutMs: 5000 });
                await waitFor(async () => (await subscribers(redisPort, `#doc:${document}`)) === 2,
                    { what: 'both nodes subscribed to the document' });

                const PER_EDITOR = 80;
                const deadline = Date.now() + 20000;
                const written = { a: [], b: [] };
                const editing = [a, b].map(async (p, k) => {
                    for (let i = 0; i < PER_EDITOR && Date.now() < deadline; i++) {
                        const marker = `<${p.name}${k}.${i}>`;
                        p.text.insert(k ? p.text.length : 0, marker);
                        written[p.name].push(marker);
                        await sleep(20);
                    }
                });
                await waitFor(() => written.a.length >= 15, { what: 'editing under way' });
                await postgres.halt();
                halted = true;
                const haltedAt = Date.now();
                const writtenAtHalt = written.a.length;
                // Down for a while, editing on; the nodes keep answering.
                const health = new Map();
                while (Date.now() - haltedAt < 1500) {
                    for (const node of [n0, n1, n2]) {
                        const r = await node.http('GET', '/health');
                        assert.equal(r.status, 200, `node ${node.id} /health while PostgreSQL is down: ${r.status} ${r.text}`);
                        const said = `${r.json?.status}/broker ${r.json?.broker?.state}/store ${r.json?.store?.state ?? 'reachable'}`;
                        health.set(said, (health.get(said) ?? 0) + 1);
                    }
                    await sleep(100);
                }
                // Relayed only once stored: nothing a wrote after the halt can have reached b.
                const early = written.a.slice(writtenAtHalt).filter((m) => b.text.toString().includes(m));
                const madeWhileDown = written.a.length - writtenAtHalt;
                await postgres.resume();
                halted = false;
                t.diagnostic(`/health while PostgreSQL was down: ${JSON.stringify([...health])}`);
                // The writers retried while it was down: their nodes said so.
                assert.ok([...health.keys()].some((k) => k === 'degraded/broker connected/store unreachable'),
                    `some /health reported the database unreachable: ${JSON.stringify([...health])}`);
                assert.ok(madeWhileDown >= 20, `a edited while PostgreSQL was down (${madeWhileDown} edits)`);
                assert.deepEqual(early, [], 'edits made while PostgreSQL was down reached the other node before they were stored');
                await Promise.all(editing);
                assert.ok(Date.now() < deadline, 'the edits finished within their deadline');

                const all = [...written.a, ...written.b];
                const complete = (p) => {
                    const counts = countsOf(docMarkers(p.text.toString()));
                    return counts.size === all.length && [...counts.values()].every((c) => c === 1);
                };
                await waitFor(() => complete(a) && complete(b) && a.text.toString() === b.text.toString(),
                    { what: `both editors have all ${all.length} edits once, in one order`, timeoutMs: 15000 })
                    .catch((e) => { throw new Error(`${e.message}: a=${docMarkers(a.text.toString()).length} b=${docMarkers(b.text.toString()).length}`); });
                for (const node of [n0, n1, n2]) {
                    const r = await node.http('GET', '/health');
                    assert.equal(r.status, 200, r.text);
                    assert.equal(r.json.status, 'ok', r.text);
                }
                const finalText = a.text.toString();
                // A node that never had the document reads it from PostgreSQL.
                const fresh = openDocPeer(n2, document, tok, 'fresh');
                peers.push(fresh);
                await waitFor(() => fresh.provider.synced && fresh.text.toString() === finalText,
                    { what: 'a fresh provider on node 2 loaded every edit', timeoutMs: 5000 })
                    .catch((e) => { throw new Error(`${e.message}: ${docMarkers(fresh.text.toString()).length} of ${all.length} edits`); });
                // And so do the editors' nodes, once they unloaded it.
                await closeDocPeers(...peers.splice(0));
                await waitFor(async () => (await subscribers(redisPort, `#doc:${document}`)) === 0,
                    { what: 'every node unloaded the document', timeoutMs: 5000 });
                const again = openDocPeer(n0, document, tok, 'again');
                peers.push(again);
                await waitFor(() => again.provider.synced && again.text.toString() === finalText,
                    { what: 'a fresh provider on node 0 loaded every edit', timeoutMs: 5000 });
            } finally {
                await closeDocPeers(...peers);
                if (halted) await postgres.resume();
                for (const node of [n0, n1, n2]) await retire(node);
            }
        });

    // The acknowledgement of a client's publish (`published`) must mean the event is in the room:
    // the client library rejects a publish whose answer was lost (DISCONNECTED), and only that
    // one may be missing. Redis holding writes back for a moment (CLIENT PAUSE WRITE) widens the
    // window between the answer and the broker taking the event, then the node dies in it.
    test('an acknowledged client publish is in the room even when its node dies right after answering',
        { timeout: 20000 }, async (t) => {
            const [n0, n1] = await startNodes(2);
            const room = 'chat:ack';
            const members = [];
            let paused = false;
            try {
                const seed = await n1.api('POST', '/api/publish', { room, type: 'seed', payload: {} });
                assert.equal(seed.status, 200, seed.text);
                const listener = await chatMember(n1, 'listener', await token('faults-listener'), room);
                const publisher = await chatMember(n0, 'publisher', await token('faults-publisher'), room);
                members.push(listener, publisher);
                // Both joins answered (room.position): see the next test for why that matters.
                await waitFor(() => listener.room.epoch !== null && publisher.room.epoch !== null, { what: 'both joins answered' });
                await publisher.room.publish('msg', { m: 'before' });
                await waitFor(() => listener.received.some((e) => e.m === 'before'), { what: 'the first event crossed' });

                await redisCommand(redisPort, ['CLIENT', 'PAUSE', '3000', 'WRITE']);
                paused = true;
                const outcome = await Promise.race([
                    publisher.room.publish('msg', { m: 'during' }).then(() => 'acknowledged', (err) => err.code),
                    sleep(500).then(() => 'waiting'),
                ]);
                await n0.kill9();
                killed.add(n0);
                await redisCommand(redisPort, ['CLIENT', 'UNPAUSE']);
                paused = false;
                t.diagnostic(`the publish was ${outcome} when its node was killed`);

                const later = await n1.api('POST', '/api/publish', { room, type: 'msg', payload: { m: 'after' } });
                assert.equal(later.status, 200, later.text);
                await waitFor(() => listener.received.some((e) => e.m === 'after'), { what: 'the last event crossed', timeoutMs: 5000 });
                const got = listener.received.map((e) => e.m);
                if (outcome === 'acknowledged') {
                    assert.deepEqual(got, ['before', 'during', 'after'],
                        'the publish was acknowledged to the client, so it must be in the room');
                } else {
                    assert.ok(['waiting', 'DISCONNECTED'].includes(outcome), outcome);
                }
            } finally {
                if (paused) await redisCommand(redisPort, ['CLIENT', 'UNPAUSE']);
                await Promise.all(members.map((m) => m.client.close()));
                await retire(n1);
            }
        });

    // A subscribe to a history room is answered at once (`subscribed`, presence announced) and
    // the node then joins the client once its subscription is proven and the history read: the
    // events published after the answer must reach the client, as on a single node.
    test('a client subscribing to a history room gets every event published after its subscribe was answered',
        { timeout: 20000 }, async () => {
            const [n0, n1] = await startNodes(2);
            const room = 'chat:fresh';
            let listener;
            let stop = false;
            try {
                const seed = await n0.api('POST', '/api/publish', { room, type: 'seed', payload: {} });
                assert.equal(seed.status, 200, seed.text);
                const sent = [];
                const publishing = (async () => {
                    for (let i = 0; i < 400 && !stop; i++) {
                        const startedAt = Date.now();
                        const r = await n0.api('POST', '/api/publish', { room, type: 'msg', payload: { m: `e${i}` } });
                        assert.equal(r.status, 200, r.text);
                        sent.push({ m: `e${i}`, startedAt, offset: r.json.offsets[room] });
                        await sleep(2);
                    }
                })();
                await waitFor(() => sent.length >= 5, { what: 'publishing under way' });
                listener = await chatMember(n1, 'fresh', await token('faults-fresh'), room);
                const answeredAt = Date.now();
                await waitFor(() => listener.room.epoch !== null, { what: 'the join answered', timeoutMs: 5000 });
                await sleep(100);
                stop = true;
                await publishing;
                const lastOffset = sent.at(-1).offset;
                await waitFor(() => listener.received.at(-1)?.offset === lastOffset, { what: 'the listener got the last event', timeoutMs: 5000 });
                const got = new Set(listener.received.map((e) => e.m));
                const due = sent.filter((e) => e.startedAt > answeredAt);
                const lost = due.filter((e) => !got.has(e.m)).map((e) => `${e.m}@${e.offset}`);
                assert.ok(due.length >= 10, `events published after the answer: ${due.length}`);
                assert.deepEqual(lost, [], `published after the subscribe was answered, never delivered (the client's room.position ` +
                    `is ${listener.room.offset}, first event delivered: ${listener.received[0]?.offset})`);
            } finally {
                stop = true;
                if (listener) await listener.client.close();
                await retire(n0);
                await retire(n1);
            }
        });
});
