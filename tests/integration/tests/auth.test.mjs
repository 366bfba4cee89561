// Tokens: every accepted algorithm, and every kind of bad token answered by
// {"type":"error","payload":{"code":"UNAUTHORIZED"}} followed by close 4401.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe } from 'node:test';

import { connect, connectUser } from '../lib/client.mjs';
import { SKIP, test } from '../lib/harness.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';
import { badTokens, keys, mint } from '../lib/tokens.mjs';

const ISS = 'https://issuer.test';
const AUD = 'huddle-test';

async function expectUnauthorized(c) {
    const err = await c.next('error', 3000);
    assert.equal(err.payload.code, 'UNAUTHORIZED', JSON.stringify(err));
    assert.equal(typeof err.payload.message, 'string');
    const { code } = await c.closed(3000);
    assert.equal(code, 4401);
    assert.equal(c.history.some((m) => m.type === 'connection.ack'), false, 'got connection.ack with a bad token');
}

describe('tokens (HS256/384/512, RS256, ES256 allowed; iss and aud required)', () => {
    let srv;
    let observer;
    const used = [];
    before(async () => {
        if (SKIP) return;
        const k = await keys();
        srv = await startServer({ env: { ...k.env, HUDDLE_AUTH_ISSUER: ISS, HUDDLE_AUTH_AUDIENCE: AUD } });
        const t = await mint({ sub: 'observer', claims: { iss: ISS, aud: AUD } });
        used.push(t);
        observer = await connectUser(srv, 'observer', { token: t });
    });
    after(async () => {
        if (observer) await observer.close();
        // Tokens never appear in logs.
        if (srv) {
            const text = srv.logs.join('\n');
            for (const t of used) {
                if (t.length < 20) continue;
                assert.equal(text.includes(t), false, 'a token appears in the server log');
                assert.equal(text.includes(t.split('.')[2] || '\u0000'), false, 'a token signature appears in the server log');
            }
        }
        await stopAndCheck(srv);
    });
    afterEach(async () => { if (observer) await observer.ping(); });

    for (const alg of ['HS256', 'HS384', 'HS512', 'RS256', 'ES256']) {
        test(`a valid ${alg} token is accepted`, async () => {
            const t = await mint({ sub: `user-${alg}`, alg, claims: { iss: ISS, aud: AUD } });
            used.push(t);
            const c = await connectUser(srv, null, { token: t, name: alg });
            try {
                assert.equal(c.ack.payload.userId, `user-${alg}`);
                await c.ping();
            } finally { await c.close(); }
        });
    }

    test('aud given as an array containing the audience is accepted', async () => {
        const t = await mint({ sub: 'arr', claims: { iss: ISS, aud: ['other', AUD] } });
        used.push(t);
        const c = await connectUser(srv, null, { token: t });
        try { assert.equal(c.ack.payload.userId, 'arr'); } finally { await c.close(); }
    });

    test('no token at all: UNAUTHORIZED then 4401', async () => {
        const c = await connect(srv.wsUrl());
        await expectUnauthorized(c);
    });

    test('empty ?token=: UNAUTHORIZED then 4401', async () => {
        const c = await connect(srv.wsUrl(''));
        await expectUnauthorized(c);
    });

    test('bad tokens in ?token=: each UNAUTHORIZED then 4401', async () => {
        const bad = await badTokens({ iss: ISS, aud: AUD });
        for (const [what, t] of Object.entries(bad)) {
            used.push(t);
            const c = await connect(srv.wsUrl(t), { name: what });
            try {
                await expectUnauthorized(c);
            } catch (e) {
                e.message = `[${what}] ${e.message}`;
                throw e;
            }
        }
    });

    test('bad tokens in Authorization: Bearer: each UNAUTHORIZED then 4401', async () => {
        const bad = await badTokens({ iss: ISS, aud: AUD });
        for (const what of ['expired', 'alg none', 'HS256 signed with the RSA public key (alg confusion)', 'wrong aud']) {
            const c = await connect(srv.wsUrl(), { name: what, headers: { Authorization: `Bearer ${bad[what]}` } });
            try {
                await expectUnauthorized(c);
            } catch (e) {
                e.message = `[${what}] ${e.message}`;
                throw e;
            }
        }
    });

    test('a token without iss/aud is refused when issuer and audience are configured', async () => {
        const t = await mint({ sub: 'alice' });
        used.push(t);
        await expectUnauthorized(await connect(srv.wsUrl(t)));
    });

    test('a token without sub is refused', async () => {
        const t = await mint({ sub: null, claims: { iss: ISS, aud: AUD } });
        used.push(t);
        await expectUnauthorized(await connect(srv.wsUrl(t)));
    });
});

describe('algorithm allow-list (default: HS256 only)', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer(); });
    after(async () => { await stopAndCheck(srv); });

    test('HS256 accepted; HS384, HS512, RS256, ES256 refused with UNAUTHORIZED/4401', async () => {
        const ok = await connectUser(srv, 'alice');
        await ok.close();
        for (const alg of ['HS384', 'HS512', 'RS256', 'ES256']) {
            const c = await connect(srv.wsUrl(await mint({ sub: 'alice', alg })), { name: alg });
            try {
                await expectUnauthorized(c);
            } catch (e) {
                e.message = `[${alg}] ${e.message}`;
                throw e;
            }
        }
    });
});
