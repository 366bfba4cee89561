// The S2 (community chat) and S4 (family stories) flows of DESIGN.md end to end, each with the
// configuration such an app would write.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe } from 'node:test';

import { closeAll, connectUser } from '../lib/client.mjs';
import { SKIP, roomResults, test, waitFor } from '../lib/harness.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';
import { token } from '../lib/tokens.mjs';

describe('S2 community chat', () => {
    let srv;
    before(async () => {
        if (SKIP) return;
        srv = await startServer({
            env: { HUDDLE_LIMITS_MAX_CONNECTIONS_PER_USER: '3' },
            config: `
[[namespaces]]
name = "room"
access = "claim"              # the token lists the rooms and groups the user belongs to
client_publish = true
presence_events = true
presence_claims = ["name"]
history = 500

[[namespaces]]
name = "group"
access = "claim"
presence_events = true
history = 500
`,
        });
    });
    after(async () => { await stopAndCheck(srv); });

    const member = (sub, name) => token(sub, { claims: { name, rooms: ['room:1', 'group:7'] } });

    test('messages from the app API reach members; non-members cannot subscribe; blocked users are skipped', async () => {
        const ann = await connectUser(srv, 'ann', { token: await member('ann', 'Ann') });
        const ben = await connectUser(srv, 'ben', { token: await member('ben', 'Ben') });
        const eve = await connectUser(srv, 'eve', { token: await token('eve', { claims: { rooms: ['room:2'] } }) });
        try {
            for (const c of [ann, ben]) {
                const r = await c.request({ action: 'subscribe', rooms: ['room:1', 'group:7'] });
                assert.deepEqual(roomResults(r), { 'room:1': 'ok', 'group:7': 'ok' });
            }
            assert.deepEqual(roomResults(await eve.request({ action: 'subscribe', rooms: ['room:1', 'group:7'] })),
                { 'room:1': 'FORBIDDEN', 'group:7': 'FORBIDDEN' });
            for (const [type, payload] of [['CHAT_MESSAGE', { id: 'm1', text: 'hi' }], ['MESSAGE_EDIT', { id: 'm1', text: 'hi!' }], ['MESSAGE_DELETE', { id: 'm1' }]]) {
                const r = await srv.api('POST', '/api/publish', { rooms: ['room:1', 'group:7'], type, payload, userId: 'ann' });
                assert.equal(r.status, 200, r.text);
                for (const c of [ann, ben]) {
                    const inRoom = await c.next((m) => m.type === type && m.room === 'room:1');
                    const inGroup = await c.next((m) => m.type === type && m.room === 'group:7');
                    assert.deepEqual(inRoom.payload, payload);
                    assert.deepEqual(inGroup.payload, payload);
                }
            }
            await eve.expectNone('CHAT_MESSAGE', 100);
            // ben blocked ann: the app excludes ben from ann's message
            await srv.api('POST', '/api/publish', { room: 'room:1', type: 'CHAT_MESSAGE', payload: { id: 'm2' }, userId: 'ann', excludeUserIds: ['ben'] });
            assert.equal((await ann.next('CHAT_MESSAGE')).payload.id, 'm2');
            await ben.expectNone('CHAT_MESSAGE', 200);
        } finally { await closeAll(ann, ben, eve); }
    });

    test('TYPING relayed, online list with names, join and leave once per user', async () => {
        const ann = await connectUser(srv, 'ann', { token: await member('ann', 'Ann') });
        const ben = await connectUser(srv, 'ben', { token: await member('ben', 'Ben') });
        try {
            await ann.subscribe(['room:1']);
            await ann.next('room.position');
            await ben.subscribe(['room:1']);
            const joined = await ann.next('user.joined');
            assert.deepEqual(joined.payload, { userId: 'ben', info: { name: 'Ben' } });
            const online = await ann.request({ action: 'presence', room: 'room:1' });
            assert.deepEqual(online.users.map((u) => [u.userId, u.info.name]), [['ann', 'Ann'], ['ben', 'Ben']]);
            ben.send({ action: 'typing', room: 'room:1', typing: true });
            assert.deepEqual((await ann.next('user.typing')).payload, { userId: 'ben', typing: true });
            await ben.close();
            assert.deepEqual((await ann.next('user.typing')).payload, { userId: 'ben', typing: false });
            assert.deepEqual((await ann.next('user.left')).payload, { userId: 'ben' });
        } finally { await closeAll(ann, ben); }
    });

    test('per-user connection limit, and an offline client catches up from its offset', async () => {
        const tabs = [];
        for (let i = 0; i < 3; i++) tabs.push(await connectUser(srv, 'cid', { token: await member('cid', 'Cid') }));
        const fourth = await connectUser(srv, 'cid', { token: await member('cid', 'Cid') }).catch((e) => e);
        assert.ok(fourth instanceof Error && /CONNECTION_LIMIT/.test(fourth.message), String(fourth));
        const phone = tabs[0];
        await phone.subscribe(['room:1']);
        const start = await phone.next('room.position');
        await closeAll(...tabs);
        for (let i = 1; i <= 4; i++) await srv.api('POST', '/api/publish', { room: 'room:1', type: 'CHAT_MESSAGE', payload: { n: i } });
        const back = await connectUser(srv, 'cid', { token: await member('cid', 'Cid') });
        try {
            back.send({ action: 'subscribe', rooms: ['room:1'], recover: { 'room:1': { offset: start.offset, epoch: start.epoch } } });
            const missed = [];
            for (let i = 0; i < 4; i++) missed.push((await back.next('CHAT_MESSAGE')).payload.n);
            assert.deepEqual(missed, [1, 2, 3, 4]);
            const position = await back.next('room.position');
            assert.equal(position.recovered, true);
        } finally { await back.close(); }
    });
});

describe('S4 family stories', () => {
    let srv;
    let backend;
    before(async () => {
        if (SKIP) return;
        backend = http.createServer((req, res) => {
            const chunks = [];
            req.on('data', (c) => chunks.push(c));
            req.on('end', () => {
                const { userId, room } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
                if (room === `project:${userId}-family`) { res.writeHead(200); res.end('{}'); return; }
                res.writeHead(403, { 'content-type': 'application/json' });
                res.end(JSON.stringify({ code: 'PROJECT_ACCESS_DENIED', message: 'you are not part of this project' }));
            });
        });
        await new Promise((r) => backend.listen(0, '127.0.0.1', r));
        srv = await startServer({
            env: { HUDDLE_SERVER_PERMESSAGE_DEFLATE: 'true', HUDDLE_SERVER_ALLOWED_ORIGINS: 'https://stories.example', HUDDLE_LIMITS_MESSAGES_PER_MINUTE: '100' },
            config: `
[[namespaces]]
name = "project"
access = "webhook"
webhook_url = "http://127.0.0.1:${backend.address().port}/can-join"
`,
        });
    });
    after(async () => {
        try { await stopAndCheck(srv); } finally { if (backend) backend.close(); }
    });

    test('join an allowed project, refused one answered PROJECT_ACCESS_DENIED; events; stats; shutdown notice', async () => {
        const opts = { headers: { Origin: 'https://stories.example' }, perMessageDeflate: true };
        const gran = await connectUser(srv, 'gran', opts);
        const kid = await connectUser(srv, 'kid', opts);
        try {
            const joined = await gran.request({ action: 'subscribe', rooms: ['project:gran-family', 'project:kid-family'] });
            assert.equal(joined.type, 'subscribed');
            assert.equal(joined.rooms[0].ok, true);
            assert.equal(joined.rooms[1].error.code, 'PROJECT_ACCESS_DENIED');
            await kid.request({ action: 'subscribe', rooms: ['project:kid-family'] });
            for (const [type, payload] of [['story_uploaded', { storyId: 's1', title: 'The farm' }], ['export_progress', { exportId: 'e1', percent: 40 }]]) {
                await srv.api('POST', '/api/publish', { room: 'project:gran-family', type, payload });
                assert.deepEqual((await gran.next(type)).payload, payload);
            }
            await kid.expectNone('story_uploaded', 100);
            const stats = await srv.api('GET', '/stats');
            assert.equal(stats.status, 200);
            assert.equal(stats.json.clientsPerRoom['project:gran-family'], 1);
            assert.equal(stats.json.clientsPerRoom['project:kid-family'], 1);
            assert.ok('messages' in stats.json.rateLimits && 'handshakes' in stats.json.rateLimits);
            const left = await gran.request({ action: 'unsubscribe', rooms: ['project:gran-family'] });
            assert.deepEqual(roomResults(left), { 'project:gran-family': 'ok' });
            await waitFor(async () => (await srv.api('GET', '/stats')).json.clientsPerRoom['project:gran-family'] === undefined, { what: 'left' });
            const stopping = srv.stop('SIGTERM');
            assert.equal((await kid.next('server_shutdown')).type, 'server_shutdown');
            assert.equal((await kid.closed(5000)).code, 1001);
            assert.equal((await stopping).code, 0);
            srv = null; // stopped here, on purpose
        } finally { await closeAll(gran, kid); }
    });
});
