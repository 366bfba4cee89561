// The client's API against the real server: connect, rooms, events, publish, presence, typing,
// errors with the server's codes, and a clean close.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import { HuddleClient, HuddleError } from '../huddle-client.js';
import {
    CONFIG, SKIP, WebSocket, apiPublish, closeClients, collect, makeClient, mint, nextEvent, sleep,
    startServer, stopAndCheck, test, token, waitFor,
} from './helpers.mjs';

describe('client API', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer({ config: CONFIG }); });
    after(async () => { await closeClients(); await stopAndCheck(srv); });

    test('connect: states, the acknowledged user, events by type and *', async () => {
        const c = makeClient(srv, { token: await token('alice') });
        assert.equal(c.state, 'idle');
        assert.equal(await c.connect(), c);
        assert.deepEqual(c.log.states, ['connecting', 'connected']);
        assert.equal(c.userId, 'alice');
        assert.equal(typeof c.connectionId, 'string');

        const room = await c.subscribe('team:42');
        assert.equal(room.subscribed, true);
        assert.equal(await c.subscribe('team:42'), room, 'the same Room for the same name');
        const created = collect(room, 'issue.created');
        const all = [];
        room.on('*', (type, data) => all.push([type, data]));
        await apiPublish(srv, 'team:42', 'issue.created', { id: 'I-7' }, { userId: 'bob' });
        await apiPublish(srv, 'team:42', 'issue.closed', { id: 'I-7' });
        await waitFor(() => all.length === 2, { what: 'two events' });
        assert.deepEqual(created.map((x) => x.data), [{ id: 'I-7' }]);
        assert.equal(created[0].event.userId, 'bob');
        assert.equal(created[0].event.room, 'team:42');
        assert.ok(Math.abs(created[0].event.timestamp - Date.now()) < 5000);
        assert.deepEqual(all, [['issue.created', { id: 'I-7' }], ['issue.closed', { id: 'I-7' }]]);

        await c.close();
        assert.equal(c.state, 'closed');
        assert.deepEqual(c.log.states, ['connecting', 'connected', 'closed']);
    });

    test('publish resolves with the answer; the other members get the event', async () => {
        const a = makeClient(srv, { token: await token('ann') });
        const b = makeClient(srv, { token: await token('ben') });
        await Promise.all([a.connect(), b.connect()]);
        const ra = await a.subscribe('team:p');
        const rb = await b.subscribe('team:p');
        const got = collect(rb, 'CHAT_MESSAGE');
        const mine = collect(ra, 'CHAT_MESSAGE');
        const answer = await ra.publish('CHAT_MESSAGE', { text: 'hi' });
        assert.equal(answer.type, 'published');
        assert.equal(answer.room, 'team:p');
        await waitFor(() => got.length === 1, { what: 'event at ben' });
        assert.deepEqual(got[0].data, { text: 'hi' });
        assert.equal(got[0].event.userId, 'ann');
        await sleep(100);
        assert.equal(mine.length, 0, 'the sender does not get its own event');
    });

    test('errors carry the server code: forbidden room, publish not allowed, presence not enabled', async () => {
        const c = makeClient(srv, { token: await token('carl') });
        await c.connect();
        await assert.rejects(c.subscribe('user:bob'), (e) => e instanceof HuddleError && e.code === 'FORBIDDEN');
        assert.equal(c.rooms.has('user:bob'), false, 'a refused room is not kept');
        await assert.rejects(c.subscribe('bad room!'), { code: 'INVALID_ROOM' });
        const news = await c.subscribe('news:1');
        await assert.rejects(news.publish('x', {}), { name: 'HuddleError', code: 'PUBLISH_NOT_ALLOWED' });
        await assert.rejects(news.presence(), { code: 'PRESENCE_NOT_ENABLED' });
        // the connection is kept after errors
        assert.equal(c.state, 'connected');
        const team = await c.subscribe('team:left');
        await team.unsubscribe();
        assert.equal(c.rooms.has('team:left'), false);
        await assert.rejects(team.publish('x', {}), { code: 'FORBIDDEN' });
        assert.equal(c.log.retries.length, 0);
    });

    test('presence list, join and leave events, typing notices', async () => {
        const d = makeClient(srv, { token: await mint({ sub: 'dora', claims: { name: 'Dora' } }) });
        const e = makeClient(srv, { token: await mint({ sub: 'emil', claims: { name: 'Emil' } }), typingTimeoutMs: 300 });
        await Promise.all([d.connect(), e.connect()]);
        const rd = await d.subscribe('chat:lobby');
        const joined = nextEvent(rd, 'join');
        const re = await e.subscribe('chat:lobby');
        const [user, event] = await joined;
        assert.deepEqual(user, { userId: 'emil', info: { name: 'Emil' } });
        assert.equal(event.type, 'user.joined');

        const users = await re.presence();
        assert.deepEqual(users.map((u) => u.userId).sort(), ['dora', 'emil']);
        assert.deepEqual(users.find((u) => u.userId === 'dora').info, { name: 'Dora' });

        const typing = collect(rd, 'typing');
        re.typing(true);
        re.typing(true); // unchanged: not sent again
        await waitFor(() => typing.length === 1, { what: 'typing notice' });
        assert.deepEqual(typing[0].data, { userId: 'emil', typing: true });
        // typing(true) turns itself off after typingTimeoutMs
        await waitFor(() => typing.length === 2, { what: 'typing off', timeoutMs: 2000 });
        assert.deepEqual(typing[1].data, { userId: 'emil', typing: false });

        const left = nextEvent(rd, 'leave');
        await re.unsubscribe();
        assert.deepEqual((await left)[0], { userId: 'emil' });
    });

    test('history rooms: events carry offsets; the room keeps the last one it saw', async () => {
        const c = makeClient(srv, { token: await token('fay') });
        await c.connect();
        const room = await c.subscribe('room:h1');
        await waitFor(() => room.epoch !== null, { what: 'room.position' });
        assert.equal(room.offset, 0);
        const got = collect(room, 'msg');
        const r = await apiPublish(srv, 'room:h1', 'msg', { i: 1 });
        await waitFor(() => got.length === 1, { what: 'event' });
        assert.equal(got[0].event.offset, r.offsets['room:h1']);
        assert.equal(room.offset, r.offsets['room:h1']);
        assert.equal(got[0].event.epoch, room.epoch);
    });

    test('backend removal: the room says removed and is not resubscribed', async () => {
        const c = makeClient(srv, { token: await token('gus') });
        await c.connect();
        const room = await c.subscribe('team:rm');
        const removed = nextEvent(room, 'removed');
        const r = await srv.api('POST', '/api/users/gus/rooms/remove', { room: 'team:rm', reason: 'bye' });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual((await removed)[0], { reason: 'bye' });
        assert.equal(room.subscribed, false);
        assert.equal(c.rooms.has('team:rm'), false);
    });

    test('a bad token: connect rejects with UNAUTHORIZED and the client stays closed', async () => {
        const c = makeClient(srv, { token: 'not.a.token', reconnect: { initialDelayMs: 20 } });
        await assert.rejects(c.connect(), (e) => e.code === 'UNAUTHORIZED' && e.closeCode === 4401);
        assert.equal(c.state, 'closed');
        await sleep(200);
        assert.equal(c.log.retries.length, 0, 'a fixed token that is refused is not retried');
        await assert.rejects(c.subscribe('team:1'), { code: 'NOT_CONNECTED' });
    });

    test('requests made while connecting wait for the connection; close rejects what is pending', async () => {
        const c = makeClient(srv, { token: await token('hal') });
        const connecting = c.connect();
        const subscribing = c.subscribe('team:early');
        await connecting;
        const room = await subscribing;
        assert.equal(room.subscribed, true);
        const closing = c.close();
        await assert.rejects(room.publish('x', {}), { code: 'NOT_CONNECTED' });
        await closing;
        assert.equal(c.state, 'closed');
    });

    test('the backend disconnect (4403) is final: no reconnect', async () => {
        const c = makeClient(srv, { token: async () => token('ida'), reconnect: { initialDelayMs: 20 } });
        await c.connect();
        const r = await srv.api('POST', '/api/users/ida/disconnect', { reason: 'banned' });
        assert.equal(r.status, 200, r.text);
        await waitFor(() => c.state === 'closed', { what: 'closed' });
        await sleep(200);
        assert.equal(c.log.retries.length, 0);
        assert.equal(c.log.errors.at(-1).closeCode, 4403);
    });

    test('without a WebSocket implementation the constructor says what to pass', () => {
        if (globalThis.WebSocket) return; // Node 22+ has one
        assert.throws(() => new HuddleClient('ws://127.0.0.1:1/ws'), /options\.WebSocket/);
        assert.ok(new HuddleClient('ws://127.0.0.1:1/ws', { WebSocket }));
    });
});
