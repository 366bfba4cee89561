// Reconnects against the real server: kill -9 and a restart on the same port, recovery of what was
// published meanwhile (exactly once, in order), recovery refused by the server, backoff timing.
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';

import { Room } from '../huddle-client.js';
import {
    CONFIG, SKIP, WebSocket, apiPublish, closeClients, collect, freePort, makeClient, nextEvent,
    startServer, stopAndCheck, test, token, waitFor,
} from './helpers.mjs';

// A WebSocket that records when each attempt starts and, while `blocked`, aims at a closed port:
// to the client that is the server being down, while the test publishes on the real one.
async function gatedWebSocket() {
    const dead = `ws://127.0.0.1:${await freePort()}/ws`;
    const gate = { blocked: false, attempts: [] };
    gate.WebSocket = class extends WebSocket {
        constructor(url, ...rest) {
            gate.attempts.push(performance.now());
            super(gate.blocked ? dead : url, ...rest);
        }
    };
    return gate;
}

const servers = [];
async function start(opts = {}) {
    const srv = await startServer({ config: CONFIG, ...opts });
    servers.push(srv);
    return srv;
}

describe('reconnect and recovery', () => {
    after(async () => {
        await closeClients();
        for (const srv of servers) if (!srv.exitInfo) await stopAndCheck(srv);
    });

    test('kill -9 and restart on the same port and data: resubscribed, missed events recovered once, in order', { timeout: 40000 }, async () => {
        if (SKIP) return;
        const first = await start();
        const gate = await gatedWebSocket();
        let tokenCalls = 0;
        const c = makeClient(first, {
            WebSocket: gate.WebSocket,
            token: async () => { tokenCalls++; return token('rita'); },
            reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
        });
        await c.connect();
        const room = await c.subscribe('room:r');
        const live = await c.subscribe('team:t');   // no history: cannot be recovered
        await waitFor(() => room.epoch !== null, { what: 'room.position' });
        const msgs = collect(room, 'msg');
        const recoveries = { room: [], live: [] };
        room.on('recovery', (r) => recoveries.room.push(r));
        live.on('recovery', (r) => recoveries.live.push(r));
        for (let i = 1; i <= 3; i++) await apiPublish(first, 'room:r', 'msg', { i });
        await waitFor(() => msgs.length === 3, { what: 'three live events' });
        const epoch = room.epoch;

        gate.blocked = true;
        await first.kill9();
        await waitFor(() => c.state !== 'connected', { what: 'connection lost' });
        const second = await start({ cwd: first.cwd, port: first.port });
        const offsets = [];
        for (let i = 4; i <= 8; i++) offsets.push((await apiPublish(second, 'room:r', 'msg', { i })).offsets['room:r']);
        await apiPublish(second, 'team:t', 'lost', {});
        assert.deepEqual(offsets, [4, 5, 6, 7, 8], 'the restarted server continues the room');
        const callsBefore = tokenCalls;
        gate.blocked = false;

        await waitFor(() => recoveries.room.length === 1 && recoveries.live.length === 1, { what: 'recovery events', timeoutMs: 5000 });
        assert.equal(c.state, 'connected');
        assert.deepEqual(recoveries.room[0], { recovered: true, missed: 5, reason: undefined, epoch, offset: 8 });
        assert.equal(recoveries.live[0].recovered, false);
        assert.ok(tokenCalls > callsBefore, 'the token function is called again to reconnect');
        assert.equal(tokenCalls, gate.attempts.length, 'one token call per connection attempt');
        assert.ok(c.log.states.includes('disconnected') && c.log.states.includes('reconnecting'));
        assert.equal(c.log.states.at(-1), 'connected');

        await apiPublish(second, 'room:r', 'msg', { i: 9 });
        await waitFor(() => msgs.length >= 9, { what: 'nine events' });
        await new Promise((r) => setTimeout(r, 150));
        assert.deepEqual(msgs.map((m) => m.data.i), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'each event once, in order');
        assert.deepEqual(msgs.map((m) => m.event.offset), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        // the rooms really are subscribed again on the new server
        const answer = await live.publish('after', {});
        assert.equal(answer.type, 'published');
    });

    test('recovery impossible (the server lost its data): recovered:false with the reason, then live events', { timeout: 30000 }, async () => {
        if (SKIP) return;
        const first = await start();
        const c = makeClient(first, { token: await token('sam'), reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
        await c.connect();
        const room = await c.subscribe('room:x');
        const msgs = collect(room, 'msg');
        for (let i = 1; i <= 2; i++) await apiPublish(first, 'room:x', 'msg', { i });
        await waitFor(() => msgs.length === 2, { what: 'two events' });
        const oldEpoch = room.epoch;
        const recovery = nextEvent(room, 'recovery', { timeoutMs: 15000 });
        await first.kill9();
        const second = await start({ port: first.port });   // a new data directory: another epoch
        const [info] = await recovery;
        assert.equal(info.recovered, false);
        assert.match(info.reason, /epoch/);
        assert.notEqual(room.epoch, oldEpoch);
        assert.equal(room.offset, 0);
        // offset 1 of the new epoch is below the old offset 2 yet new: it is delivered
        await apiPublish(second, 'room:x', 'msg', { i: 'new' });
        await waitFor(() => msgs.length === 3, { what: 'event of the new epoch' });
        assert.equal(msgs[2].event.offset, 1);
        assert.equal(msgs[2].event.epoch, room.epoch);
    });

    test('backoff while the server is down: delays grow, stay under the cap, are jittered; reset after a connection', { timeout: 30000 }, async () => {
        if (SKIP) return;
        const first = await start();
        const gate = await gatedWebSocket();
        const reconnect = { initialDelayMs: 100, factor: 2, maxDelayMs: 800, jitter: 0.5 };
        const c = makeClient(first, { WebSocket: gate.WebSocket, token: async () => token('ted'), reconnect });
        await c.connect();
        await first.kill9();
        const attemptsBefore = gate.attempts.length;
        const n = 8;
        await waitFor(() => c.log.retries.length >= n + 1, { what: `${n} failed attempts`, timeoutMs: 15000, intervalMs: 10 });
        const retries = c.log.retries.slice(0, n);
        const attempts = gate.attempts.slice(attemptsBefore, attemptsBefore + n);
        const ratios = [];
        for (let i = 0; i < n; i++) {
            const base = Math.min(reconnect.maxDelayMs, reconnect.initialDelayMs * reconnect.factor ** i);
            const { delayMs, at } = retries[i];
            assert.equal(retries[i].attempt, i + 1);
            assert.ok(delayMs >= base * (1 - reconnect.jitter) && delayMs <= base, `delay ${i} = ${delayMs} outside [${base / 2}, ${base}]`);
            ratios.push(delayMs / base);
            // the attempt starts when the delay says (timers may fire a little late, never much)
            const waited = attempts[i] - at;
            assert.ok(waited >= delayMs - 2 && waited <= delayMs + 80, `attempt ${i} after ${waited.toFixed(1)} ms, delay ${delayMs.toFixed(1)}`);
        }
        // measured intervals between attempts: growing while under the cap, never over it
        const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
        for (let i = 1; i < 3; i++) assert.ok(gaps[i] >= gaps[i - 1] - 10, `gaps should grow: ${gaps.map(Math.round)}`);
        assert.ok(gaps.every((g) => g <= reconnect.maxDelayMs + 80), `gaps over the cap: ${gaps.map(Math.round)}`);
        // the last three are capped ([400, 800] each), the first two are not ([100, 200] + [200, 400])
        const sum = (xs) => xs.reduce((x, y) => x + y, 0);
        assert.ok(sum(gaps.slice(-3)) > 1.5 * sum(gaps.slice(0, 2)), `no growth: ${gaps.map(Math.round)}`);
        assert.ok(Math.max(...ratios) - Math.min(...ratios) > 0.01, `no jitter: ${ratios}`);
        assert.ok(c.log.retries.every((r) => r.delayMs <= reconnect.maxDelayMs));

        // back up: connected again, and the next loss starts from the initial delay
        const srv2 = await start({ port: first.port });
        await waitFor(() => c.state === 'connected', { what: 'reconnected', timeoutMs: 5000 });
        const count = c.log.retries.length;
        gate.blocked = true;
        const r = await srv2.api('POST', '/api/users/ted/disconnect', { code: 4000, reason: 'test' });  // a transient code
        assert.equal(r.status, 200, r.text);
        await waitFor(() => c.log.retries.length > count, { what: 'retry after the second loss' });
        assert.ok(c.log.retries[count].delayMs <= reconnect.initialDelayMs, `not reset: ${c.log.retries[count].delayMs}`);
        assert.equal(c.log.retries[count].attempt, 1);
    });

    // Guards the server's recovery join: an event published while a connection rejoins must
    // arrive either in the replay or live, never neither (the owner loop answers the join before
    // it fans out the next event).
    test('reconnects while events are published: every event exactly once', { timeout: 20000 }, async () => {
        if (SKIP) return;
        const srv = await start();
        const c = makeClient(srv, { token: async () => token('zed'), reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
        await c.connect();
        const room = await c.subscribe('room:stress');
        const got = [];
        room.on('msg', (data, event) => got.push(event.offset));
        let published = 0;
        const stop = Date.now() + 4000;
        const publisher = (async () => {
            while (Date.now() < stop && published < 20000) await apiPublish(srv, 'room:stress', 'msg', { i: ++published });
        })();
        while (Date.now() < stop) {
            await new Promise((r) => setTimeout(r, 40 + Math.random() * 40));
            await srv.api('POST', '/api/users/zed/disconnect', { code: 4000 });
        }
        await publisher;
        await waitFor(() => c.state === 'connected', { what: 'connected' });
        await waitFor(() => got.at(-1) === published, { what: 'the last event', timeoutMs: 3000 }).catch(() => {});
        const missing = [];
        for (let i = 1; i <= published; i++) if (!got.includes(i)) missing.push(i);
        assert.deepEqual(missing, [], `${missing.length} of ${published} events never delivered`);
        assert.equal(new Set(got).size, got.length, 'no event twice');
    });

    test('dedupe by offset: an event at or below the last offset of the same epoch is dropped', () => {
        const room = new Room({}, 'room:d', {});
        const got = collect(room, 'msg');
        const ev = (offset, epoch = 'e1') => ({ type: 'msg', room: 'room:d', payload: { offset }, offset, epoch });
        for (const m of [ev(1), ev(2), ev(2), ev(1), ev(3), ev(1, 'e2'), ev(1, 'e2'), ev(2, 'e2')]) room._event(m);
        assert.deepEqual(got.map((g) => `${g.event.epoch}:${g.data.offset}`), ['e1:1', 'e1:2', 'e1:3', 'e2:1', 'e2:2']);
    });
});
