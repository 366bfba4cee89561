// Access rules that ask elsewhere: subscription tokens (a second JWT per room from the app's
// backend) and the webhook rule (the app's backend answers an HTTP POST), with its failures:
// refusals with the app's own code, timeouts, 500s, garbage, an unreachable backend, caching.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, describe } from 'node:test';

import { closeAll, connect, connectUser } from '../lib/client.mjs';
import { SKIP, roomResults, test } from '../lib/harness.mjs';
import { freePort, startServer, stopAndCheck } from '../lib/server.mjs';
import { mint, token } from '../lib/tokens.mjs';

const WEBHOOK_SECRET = 'webhook-signing-secret';

// The app's backend: decides by project id; records every call.
function startBackend() {
    const calls = [];
    const server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            const call = { path: req.url, body: JSON.parse(body), signature: req.headers['x-huddle-signature'], raw: body };
            calls.push(call);
            const room = call.body.room;
            if (room.endsWith(':slow')) return; // never answers: the server must time out
            if (room.endsWith(':broken')) { res.writeHead(500); res.end('oops'); return; }
            if (room.endsWith(':garbage')) { res.writeHead(403); res.end('<html>no'); return; }
            if (room === 'project:p1' || room === 'project:cached' || room === 'doc:allowed') { res.writeHead(200); res.end('{}'); return; }
            res.writeHead(403, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ code: 'PROJECT_ACCESS_DENIED', message: 'not a member of this project' }));
        });
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, calls, port: server.address().port })));
}

describe('access rules: subscription tokens and webhooks', () => {
    let srv;
    let backend;
    let deadPort;
    before(async () => {
        if (SKIP) return;
        backend = await startBackend();
        deadPort = await freePort();
        srv = await startServer({
            env: { HUDDLE_WEBHOOKS_TIMEOUT: '300ms', HUDDLE_WEBHOOKS_SECRET: WEBHOOK_SECRET, HUDDLE_WEBHOOKS_CACHE_TTL: '30s' },
            config: `
[[namespaces]]
name = "doc"
access = "subscription-token"

[[namespaces]]
name = "project"
access = "webhook"
webhook_url = "http://127.0.0.1:${backend.port}/huddle/authorize"

[[namespaces]]
name = "gone"
access = "webhook"
webhook_url = "http://127.0.0.1:${deadPort}/authorize"
`,
        });
    });
    after(async () => {
        try { await stopAndCheck(srv); } finally { if (backend) backend.server.close(); }
    });

    test('subscription token: granted for its room and user only; missing, forged, expired refused', async () => {
        const alice = await connectUser(srv, 'alice');
        try {
            const good = await mint({ sub: 'alice', claims: { room: 'doc:1' } });
            const pattern = await mint({ sub: 'alice', claims: { rooms: ['doc:2*'] } });
            const forBob = await mint({ sub: 'bob', claims: { room: 'doc:3' } });
            const expired = await mint({ sub: 'alice', claims: { room: 'doc:4', exp: Math.floor(Date.now() / 1000) - 3600 } });
            const forged = await mint({ sub: 'alice', claims: { room: 'doc:5' }, secret: 'not-the-secret-not-the-secret-not-the-secret' });
            const r = await alice.request({
                action: 'subscribe',
                rooms: ['doc:1', 'doc:20', 'doc:3', 'doc:4', 'doc:5', 'doc:6', 'doc:7'],
                tokens: { 'doc:1': good, 'doc:20': pattern, 'doc:3': forBob, 'doc:4': expired, 'doc:5': forged, 'doc:7': good },
            });
            assert.deepEqual(roomResults(r), {
                'doc:1': 'ok', 'doc:20': 'ok', 'doc:3': 'INVALID_SUBSCRIPTION_TOKEN', 'doc:4': 'INVALID_SUBSCRIPTION_TOKEN',
                'doc:5': 'INVALID_SUBSCRIPTION_TOKEN', 'doc:6': 'SUBSCRIPTION_TOKEN_REQUIRED', 'doc:7': 'INVALID_SUBSCRIPTION_TOKEN',
            });
            const bad = await alice.request({ action: 'subscribe', rooms: ['doc:1'], tokens: ['x'] });
            assert.equal(bad.payload.code, 'INVALID_MESSAGE');
        } finally { await alice.close(); }
    });

    test('webhook: the backend allows p1 and refuses p2 with its own code; the call is signed', async () => {
        const c = await connectUser(srv, 'carol', { token: await token('carol', { claims: { firmId: 'f1' } }) });
        try {
            const r = await c.request({ action: 'subscribe', rooms: ['project:p1', 'project:p2'] });
            assert.equal(r.rooms[0].ok, true);
            assert.equal(r.rooms[1].ok, false);
            assert.equal(r.rooms[1].error.code, 'PROJECT_ACCESS_DENIED');
            assert.equal(r.rooms[1].error.message, 'not a member of this project');
            const call = backend.calls.find((x) => x.body.room === 'project:p1' && x.body.userId === 'carol');
            assert.ok(call, 'the backend was asked');
            assert.equal(call.path, '/huddle/authorize');
            assert.equal(call.body.action, 'subscribe');
            assert.equal(call.body.claims.firmId, 'f1');
            const expected = 'sha256=' + crypto.createHmac('sha256', WEBHOOK_SECRET).update(call.raw).digest('hex');
            assert.equal(call.signature, expected);
            // the members of project:p1 get events
            await srv.api('POST', '/api/publish', { room: 'project:p1', type: 'story_uploaded', payload: { id: 's1' } });
            assert.deepEqual((await c.next('story_uploaded')).payload, { id: 's1' });
        } finally { await c.close(); }
    });

    test('webhook answers are cached: a second subscribe does not call the backend again', async () => {
        const before1 = backend.calls.filter((x) => x.body.room === 'project:cached').length;
        const a = await connectUser(srv, 'dora');
        try {
            assert.equal((await a.request({ action: 'subscribe', rooms: ['project:cached'] })).rooms[0].ok, true);
            await a.request({ action: 'unsubscribe', rooms: ['project:cached'] });
            assert.equal((await a.request({ action: 'subscribe', rooms: ['project:cached'] })).rooms[0].ok, true);
        } finally { await a.close(); }
        assert.equal(backend.calls.filter((x) => x.body.room === 'project:cached').length - before1, 1);
    });

    test('webhook failures: timeout, 500, garbage, unreachable; the connection and others are unaffected', async () => {
        const c = await connectUser(srv, 'erik');
        const other = await connectUser(srv, 'fay');
        try {
            const started = Date.now();
            const r = await c.request({ action: 'subscribe', rooms: ['project:slow', 'project:broken', 'project:garbage', 'gone:x', 'team:ok'] }, 5000);
            assert.ok(Date.now() - started < 3000, 'a slow backend is bounded by webhooks.timeout');
            assert.deepEqual(roomResults(r), {
                'project:slow': 'ACCESS_CHECK_FAILED', 'project:broken': 'ACCESS_CHECK_FAILED',
                'project:garbage': 'FORBIDDEN', 'gone:x': 'ACCESS_CHECK_FAILED', 'team:ok': 'ok',
            });
            assert.match(r.rooms[0].error.message, /timed out/);
            await other.ping();
            await c.ping();
        } finally { await closeAll(c, other); }
    });
});

describe('documents follow the same rules: subscription tokens and webhooks', () => {
    let tokenSrv;
    let hookSrv;
    let backend;
    before(async () => {
        if (SKIP) return;
        backend = await startBackend();
        tokenSrv = await startServer({ config: '[[namespaces]]\nname = "doc"\naccess = "subscription-token"\n' });
        hookSrv = await startServer({
            env: { HUDDLE_WEBHOOKS_TIMEOUT: '300ms' },
            config: `[[namespaces]]\nname = "doc"\naccess = "webhook"\nwebhook_url = "http://127.0.0.1:${backend.port}/authorize"\n`,
        });
    });
    after(async () => {
        try { await stopAndCheck(tokenSrv); await stopAndCheck(hookSrv); } finally { if (backend) backend.server.close(); }
    });

    const draftUrl = (srv, draftId, tok, extra = '') =>
        `ws://127.0.0.1:${srv.port}/ws/drafts?draftId=${draftId}&token=${tok}${extra}`;

    test('a document of a subscription-token namespace needs the token for that document', async () => {
        const granted = await mint({ sub: 'alice', claims: { room: 'doc:letter-1' } });
        const ok = await connect(draftUrl(tokenSrv, 'letter-1', await token('alice'), `&subscriptionToken=${granted}`));
        assert.equal((await ok.next('yjs-state-response')).draftId, 'letter-1');
        await ok.close();
        for (const [extra, code] of [['', 'SUBSCRIPTION_TOKEN_REQUIRED'], [`&subscriptionToken=${granted}`, 'INVALID_SUBSCRIPTION_TOKEN']]) {
            const refused = await connect(draftUrl(tokenSrv, 'letter-2', await token('alice'), extra));
            assert.equal((await refused.next('error')).payload.code, code);
            assert.equal((await refused.closed()).code, 4403);
            assert.equal(refused.history.filter((m) => m.type === 'yjs-state-response').length, 0, 'no data');
        }
    });

    test('a document of a webhook namespace is decided by the backend, with its own code', async () => {
        const ok = await connect(draftUrl(hookSrv, 'allowed', await token('bob')));
        assert.equal((await ok.next('yjs-state-response')).draftId, 'allowed');
        await ok.close();
        assert.ok(backend.calls.some((x) => x.body.room === 'doc:allowed' && x.body.userId === 'bob'));
        const refused = await connect(draftUrl(hookSrv, 'secret', await token('bob')));
        const err = await refused.next('error');
        assert.equal(err.payload.code, 'PROJECT_ACCESS_DENIED');
        assert.equal((await refused.closed()).code, 4403);
        const slow = await connect(draftUrl(hookSrv, 'x:slow', await token('bob')), { timeoutMs: 5000 });
        assert.equal((await slow.next('error', 3000)).payload.code, 'ACCESS_CHECK_FAILED');
        assert.equal((await slow.closed()).code, 4403);
    });
});
