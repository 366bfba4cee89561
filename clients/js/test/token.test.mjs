// Tokens against the real server with no leeway: a token function keeps a connection alive past
// the expiry of every token it returned (in-band refresh); a fixed token does not.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import {
    CONFIG, SKIP, apiPublish, closeClients, collect, makeClient, mint, sleep, startServer,
    stopAndCheck, test, token, waitFor,
} from './helpers.mjs';

describe('tokens', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer({ config: CONFIG, env: { HUDDLE_AUTH_LEEWAY: '0' } }); });
    after(async () => { await closeClients(); await stopAndCheck(srv); });

    test('a token function refreshes in band before expiry: one connection outlives three tokens', { timeout: 20000 }, async () => {
        const issued = [];
        const c = makeClient(srv, {
            token: async () => {
                const t = await mint({ sub: 'tina', expiresInSec: 3 });
                issued.push({ at: Date.now(), exp: JSON.parse(Buffer.from(t.split('.')[1], 'base64url')).exp * 1000 });
                return t;
            },
        });
        await c.connect();
        const connectionId = c.connectionId;
        const room = await c.subscribe('team:tok');
        await sleep(7500);
        assert.ok(issued.length >= 3, `token function called ${issued.length} times`);
        // each refresh came before the previous token expired
        for (let i = 1; i < issued.length; i++) assert.ok(issued[i].at < issued[i - 1].exp, `token ${i} came after the expiry of token ${i - 1}`);
        assert.ok(Date.now() > issued[0].exp + 3000, 'the first token is long expired');
        assert.deepEqual(c.log.states, ['connecting', 'connected'], 'never disconnected');
        assert.deepEqual(c.log.errors, []);
        assert.equal(c.connectionId, connectionId);
        const got = collect(room, 'still');
        await apiPublish(srv, 'team:tok', 'still', { here: true });
        await waitFor(() => got.length === 1, { what: 'event after the expiries' });
    });

    test('a fixed short token: TOKEN_EXPIRED surfaces and the client closes (no refresh possible)', { timeout: 15000 }, async () => {
        const c = makeClient(srv, { token: await mint({ sub: 'uma', expiresInSec: 2 }), reconnect: { initialDelayMs: 20 } });
        await c.connect();
        await waitFor(() => c.state === 'closed', { what: 'closed at expiry', timeoutMs: 6000 });
        assert.equal(c.log.errors[0].code, 'TOKEN_EXPIRED');
        assert.equal(c.log.retries.length, 0);
    });

    test('a refused refresh is reported; at expiry the client reconnects with a fresh token and resubscribes', { timeout: 20000 }, async () => {
        let calls = 0;
        const c = makeClient(srv, {
            // the second call (the refresh) returns another user's token, which the server refuses
            token: async () => (++calls === 2 ? token('mallory') : mint({ sub: 'vic', expiresInSec: 3 })),
            reconnect: { initialDelayMs: 20 },
        });
        await c.connect();
        const room = await c.subscribe('room:tok');
        await waitFor(() => c.log.errors.some((e) => e.code === 'UNAUTHORIZED'), { what: 'refused refresh', timeoutMs: 5000 });
        await waitFor(() => c.log.errors.some((e) => e.code === 'TOKEN_EXPIRED'), { what: 'expiry', timeoutMs: 5000 });
        await waitFor(() => c.state === 'connected' && c.log.states.includes('reconnecting'), { what: 'reconnected', timeoutMs: 5000 });
        assert.ok(calls >= 3);
        const got = collect(room, 'back');
        await waitFor(async () => (await srv.api('GET', '/api/rooms')).json.rooms.some((r) => r.room === 'room:tok'), { what: 'resubscribed' });
        await apiPublish(srv, 'room:tok', 'back', {});
        await waitFor(() => got.length === 1, { what: 'event after the reconnect' });
    });
});
