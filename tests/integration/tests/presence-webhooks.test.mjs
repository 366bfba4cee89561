// Online/offline notices to the app's backend: online at the first connection, offline once the
// last one has been gone for the grace period (a reload is not an offline), batched and signed,
// retried when the backend fails, and not sent for every user when the server shuts down.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, describe } from 'node:test';

import { connectUser } from '../lib/client.mjs';
import { SKIP, test, waitFor } from '../lib/harness.mjs';
import { sleep, startServer, stopAndCheck } from '../lib/server.mjs';

const SECRET = 'presence-secret';

describe('presence webhooks', () => {
    let srv;
    let backend;
    const notices = [];
    let failNext = 0;
    let requests = 0;
    before(async () => {
        if (SKIP) return;
        backend = http.createServer((req, res) => {
            const chunks = [];
            req.on('data', (c) => chunks.push(c));
            req.on('end', () => {
                requests++;
                const raw = Buffer.concat(chunks).toString('utf8');
                if (failNext > 0) { failNext--; res.writeHead(503); res.end(); return; }
                const expected = 'sha256=' + crypto.createHmac('sha256', SECRET).update(raw).digest('hex');
                assert.equal(req.headers['x-huddle-signature'], expected);
                for (const e of JSON.parse(raw).events) notices.push(e);
                res.writeHead(204);
                res.end();
            });
        });
        await new Promise((r) => backend.listen(0, '127.0.0.1', r));
        srv = await startServer({ env: {
            HUDDLE_WEBHOOKS_PRESENCE_URL: `http://127.0.0.1:${backend.address().port}/presence`,
            HUDDLE_WEBHOOKS_SECRET: SECRET,
            HUDDLE_WEBHOOKS_OFFLINE_GRACE: '400ms',
        } });
    });
    after(async () => {
        try { await stopAndCheck(srv); } finally { if (backend) backend.close(); }
    });

    const of = (user) => notices.filter((n) => n.userId === user).map((n) => n.type);

    test('online once for two tabs; a reload within the grace is no offline; offline after it', async () => {
        const tab1 = await connectUser(srv, 'olga');
        const tab2 = await connectUser(srv, 'olga');
        await waitFor(() => of('olga').length === 1, { what: 'online notice' });
        assert.deepEqual(of('olga'), ['user.online']);
        await tab1.close();
        await tab2.close();
        const again = await connectUser(srv, 'olga'); // the "reload"
        await sleep(700);
        assert.deepEqual(of('olga'), ['user.online']);
        await again.close();
        await waitFor(() => of('olga').length === 2, { what: 'offline notice' });
        assert.deepEqual(of('olga'), ['user.online', 'user.offline']);
        const n = notices.find((x) => x.userId === 'olga');
        assert.ok(Math.abs(n.timestamp - Date.now()) < 10000);
    });

    test('many users at once make few requests; a failing backend gets the notices on a retry', async () => {
        failNext = 1;
        const before1 = requests;
        const clients = [];
        for (let i = 0; i < 30; i++) clients.push(await connectUser(srv, `u${i}`));
        await waitFor(() => clients.every((_, i) => of(`u${i}`).length === 1), { what: '30 online notices', timeoutMs: 5000 });
        assert.ok(requests - before1 <= 10, `${requests - before1} requests for 30 users`);
        for (const c of clients) await c.close();
    });

    test('a shutdown does not report every user offline', async () => {
        const c = await connectUser(srv, 'sam');
        await waitFor(() => of('sam').length === 1, { what: 'online notice' });
        await stopAndCheck(srv);
        srv = null;
        await sleep(600);
        assert.deepEqual(of('sam'), ['user.online']);
        c.terminate?.();
    });
});
