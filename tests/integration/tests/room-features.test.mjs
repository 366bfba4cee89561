// Issue 4 features on the native protocol: claim-based access, presence once per user with user
// info, typing (relayed, rate-limited, cleared on close), in-band token refresh and expiry,
// backend revocation and publishes that exclude users.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import { closeAll, connectUser } from '../lib/client.mjs';
import { SKIP, roomResults, test } from '../lib/harness.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';
import { mint, token } from '../lib/tokens.mjs';

const CONFIG = `
[[namespaces]]
name = "firm"
access = "claim"
room_pattern = "firm:{firmId}/*"

[[namespaces]]
name = "project"
access = "claim"

[[namespaces]]
name = "chat"
client_publish = true
presence_events = true
presence_claims = ["name", "avatar"]

[[namespaces]]
name = "room"
client_publish = true
`;

describe('room features', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer({ config: CONFIG }); });
    after(async () => { await stopAndCheck(srv); });

    test('claim rule: firm:{firmId}/* admits only the own firm; a rooms claim lists allowed patterns', async () => {
        const alice = await connectUser(srv, 'alice', { token: await token('alice', { claims: { firmId: 'f7', rooms: ['project:p1', 'project:x*'] } }) });
        const bob = await connectUser(srv, 'bob', { token: await token('bob', { claims: { firmId: 8 } }) });
        try {
            const a = await alice.request({ action: 'subscribe', rooms: ['firm:f7/draft-42', 'firm:f8/draft-1', 'firm:f7', 'project:p1', 'project:xyz', 'project:p2'] });
            assert.deepEqual(roomResults(a), {
                'firm:f7/draft-42': 'ok', 'firm:f8/draft-1': 'FORBIDDEN', 'firm:f7': 'FORBIDDEN',
                'project:p1': 'ok', 'project:xyz': 'ok', 'project:p2': 'FORBIDDEN',
            });
            const b = await bob.request({ action: 'subscribe', rooms: ['firm:8/doc', 'firm:f7/draft-42', 'project:p1'] });
            assert.deepEqual(roomResults(b), { 'firm:8/doc': 'ok', 'firm:f7/draft-42': 'FORBIDDEN', 'project:p1': 'FORBIDDEN' });
        } finally { await closeAll(alice, bob); }
    });

    test('presence: join/leave once per user (not per tab), with the claims the namespace names', async () => {
        const watcher = await connectUser(srv, 'watcher');
        const tab1 = await connectUser(srv, 'carol', { token: await token('carol', { claims: { name: 'Carol', avatar: 'c.png', secret: 'no' } }) });
        const tab2 = await connectUser(srv, 'carol', { token: await token('carol', { claims: { name: 'Carol', avatar: 'c.png' } }) });
        try {
            await watcher.subscribe(['chat:lobby']);
            await tab1.subscribe(['chat:lobby']);
            const joined = await watcher.next('user.joined');
            assert.equal(joined.room, 'chat:lobby');
            assert.deepEqual(joined.payload, { userId: 'carol', info: { name: 'Carol', avatar: 'c.png' } });
            await tab2.subscribe(['chat:lobby']);
            await watcher.expectNone('user.joined', 250);
            const list = await watcher.request({ action: 'presence', room: 'chat:lobby' });
            assert.equal(list.type, 'presence');
            assert.deepEqual(list.users, [
                { userId: 'carol', connections: 2, info: { name: 'Carol', avatar: 'c.png' } },
                { userId: 'watcher', connections: 1, info: {} },
            ]);
            const api = await srv.api('GET', '/api/rooms/chat:lobby/presence');
            assert.equal(api.status, 200);
            assert.deepEqual(api.json.users.map((u) => [u.userId, u.connections]), [['carol', 2], ['watcher', 1]]);
            await tab1.close();
            await watcher.expectNone('user.left', 250);
            await tab2.close();
            const left = await watcher.next('user.left');
            assert.deepEqual(left.payload, { userId: 'carol' });
            const notMember = await watcher.request({ action: 'presence', room: 'chat:other' });
            assert.equal(notMember.payload.code, 'FORBIDDEN');
            await watcher.subscribe(['room:plain']);
            const disabled = await watcher.request({ action: 'presence', room: 'room:plain' });
            assert.equal(disabled.payload.code, 'PRESENCE_NOT_ENABLED');
        } finally { await closeAll(watcher, tab1, tab2); }
    });

    test('typing: relayed to the others, not the sender; cleared when the typist leaves; flood refused', async () => {
        const dan = await connectUser(srv, 'dan');
        const erin = await connectUser(srv, 'erin');
        try {
            await dan.subscribe(['room:r1']);
            await erin.subscribe(['room:r1']);
            dan.send({ action: 'typing', room: 'room:r1', typing: true });
            const ev = await erin.next('user.typing');
            assert.deepEqual(ev.payload, { userId: 'dan', typing: true });
            assert.equal(ev.room, 'room:r1');
            await dan.expectNone('user.typing', 150);
            // repeating the same state is not relayed again
            dan.send({ action: 'typing', room: 'room:r1', typing: true });
            await erin.expectNone('user.typing', 150);
            // the typist goes away: everyone is told it stopped
            await dan.close();
            const stopped = await erin.next('user.typing');
            assert.deepEqual(stopped.payload, { userId: 'dan', typing: false });
            const outside = await erin.request({ action: 'typing', room: 'room:other', typing: true });
            assert.equal(outside.payload.code, 'FORBIDDEN');
            let limited = null;
            for (let i = 0; i < 70 && !limited; i++) {
                const r = await erin.request({ action: 'typing', room: 'room:r1', typing: i % 2 === 0 });
                if (r.type === 'error') limited = r;
            }
            assert.ok(limited, 'a typing flood is refused');
            assert.equal(limited.payload.code, 'RATE_LIMIT_EXCEEDED');
            assert.ok(limited.payload.retryAfterMs > 0);
        } finally { await closeAll(dan, erin); }
    });

    test('token refresh in band: same user accepted, another user or a bad token refused', async () => {
        const c = await connectUser(srv, 'frank', { token: await token('frank', { expiresInSec: 120 }) });
        try {
            const fresh = await token('frank', { expiresInSec: 3600 });
            const ok = await c.request({ action: 'refresh', token: fresh });
            assert.equal(ok.type, 'refreshed');
            assert.ok(Math.abs(ok.expiresAt - (Date.now() / 1000 + 3600)) < 60);
            const other = await c.request({ action: 'refresh', token: await token('mallory') });
            assert.equal(other.payload.code, 'UNAUTHORIZED');
            const bad = await c.request({ action: 'refresh', token: 'not.a.token' });
            assert.equal(bad.payload.code, 'UNAUTHORIZED');
            await c.ping(); // still open
        } finally { await c.close(); }
    });

    test('a token that expires without refresh closes the connection with 4401 TOKEN_EXPIRED', async () => {
        // exp 1 s from now; the server allows auth.leeway (set to 0 s for this server below)
        const short = await startServer({ env: { HUDDLE_AUTH_LEEWAY: '0', HUDDLE_HEARTBEAT_PING_INTERVAL: '200ms', HUDDLE_HEARTBEAT_PONG_TIMEOUT: '5s' } });
        try {
            const c = await connectUser(short, 'gina', { token: await mint({ sub: 'gina', expiresInSec: 2 }) });
            const err = await c.next((m) => m.type === 'error', 6000);
            assert.equal(err.payload.code, 'TOKEN_EXPIRED');
            const closed = await c.closed();
            assert.equal(closed.code, 4401);
        } finally { await stopAndCheck(short); }
    });

    test('revocation: the backend removes a user from rooms by name or pattern, at once', async () => {
        const hank = await connectUser(srv, 'hank');
        const ivy = await connectUser(srv, 'ivy');
        try {
            await hank.subscribe(['room:a', 'room:b', 'chat:c']);
            await ivy.subscribe(['room:a']);
            const r = await srv.api('POST', '/api/users/hank/rooms/remove', { pattern: 'room:*', reason: 'left the team' });
            assert.equal(r.status, 200, r.text);
            assert.deepEqual(r.json, { ok: true, removed: 2 });
            const removed = [await hank.next('removed'), await hank.next('removed')].map((e) => e.room).sort();
            assert.deepEqual(removed, ['room:a', 'room:b']);
            await srv.api('POST', '/api/publish', { rooms: ['room:a', 'chat:c'], type: 'news', payload: 1 });
            const got = await hank.next('news');
            assert.equal(got.room, 'chat:c');
            await hank.expectNone((m) => m.type === 'news' && m.room === 'room:a', 200);
            assert.equal((await ivy.next('news')).room, 'room:a');
            const bad = await srv.api('POST', '/api/users/hank/rooms/remove', {});
            assert.equal(bad.status, 400);
        } finally { await closeAll(hank, ivy); }
    });

    test('backend publish with excludeUserIds skips those users only', async () => {
        const jo = await connectUser(srv, 'jo');
        const kim = await connectUser(srv, 'kim');
        try {
            await jo.subscribe(['room:x']);
            await kim.subscribe(['room:x']);
            const r = await srv.api('POST', '/api/publish', { room: 'room:x', type: 'CHAT_MESSAGE', payload: { text: 'hi' }, excludeUserIds: ['kim'] });
            assert.equal(r.status, 200, r.text);
            assert.deepEqual((await jo.next('CHAT_MESSAGE')).payload, { text: 'hi' });
            await kim.expectNone('CHAT_MESSAGE', 250);
            const bad = await srv.api('POST', '/api/publish', { room: 'room:x', type: 't', excludeUserIds: 'kim' });
            assert.equal(bad.status, 400);
        } finally { await closeAll(jo, kim); }
    });
});
