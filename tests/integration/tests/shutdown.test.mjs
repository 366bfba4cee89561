// Graceful shutdown: SIGTERM/SIGINT → every client gets server_shutdown then close 1001, new work is
// refused, and the process exits 0 within server.shutdown_deadline.
import assert from 'node:assert/strict';
import { describe } from 'node:test';

import { connect, connectUser } from '../lib/client.mjs';
import { SKIP, sleep, test } from '../lib/harness.mjs';
import { OP, rawConnect } from '../lib/raw.mjs';
import { startServer } from '../lib/server.mjs';
import { token } from '../lib/tokens.mjs';

async function exitWithin(srv, ms) {
    const t0 = Date.now();
    let timer;
    const r = await Promise.race([srv.exited, new Promise((res) => { timer = setTimeout(() => res(null), ms); })]);
    clearTimeout(timer);
    assert.ok(r, `server did not exit within ${ms} ms of the signal`);
    return { ...r, ms: Date.now() - t0 };
}

async function expectShutdownNotice(c) {
    const m = await c.next('server_shutdown', 3000);
    assert.deepEqual(m.payload, { message: 'server is shutting down' });
    const { code } = await c.closed(3000);
    assert.equal(code, 1001);
    // the notice came before the close
    assert.ok(c.history.some((x) => x.type === 'server_shutdown'));
}

function assertCleanExit(srv, res) {
    assert.equal(srv.sanitizerReport(), null, 'sanitizer report in the server output');
    assert.equal(res.signal, null, `server died of ${res.signal}\n${srv.tail(40)}`);
    assert.equal(res.code, 0, `server exit code ${res.code}\n${srv.tail(40)}`);
}

describe('graceful shutdown', () => {
    for (const signal of ['SIGTERM', 'SIGINT']) {
        test(`${signal}: every client gets server_shutdown then 1001; exit 0 within the deadline`, async (t) => {
            const srv = await startServer({ env: { HUDDLE_SERVER_SHUTDOWN_DEADLINE: '3s' } });
            t.after(() => srv.kill9());
            const clients = [
                await connectUser(srv, 'alice', { name: 'alice1' }),
                await connectUser(srv, 'alice', { name: 'alice2' }),
                await connectUser(srv, 'bob'),
            ];
            await clients[0].subscribe(['team:t1', 'issue:i1']);
            await clients[2].subscribe(['team:t1']);
            srv.child.kill(signal);
            await Promise.all(clients.map(expectShutdownNotice));
            const res = await exitWithin(srv, 3000 + 2000);
            assertCleanExit(srv, res);
        });
    }

    test('a client that never completes the close handshake does not hold the exit past the deadline', { skip: SKIP }, async (t) => {
        const srv = await startServer({ env: { HUDDLE_SERVER_SHUTDOWN_DEADLINE: '1s' } });
        t.after(() => srv.kill9());
        const stubborn = await rawConnect(srv.port, { token: await token('stubborn') });
        t.after(() => stubborn.destroy());
        await stubborn.nextJson({ type: 'connection.ack' });
        const polite = await connectUser(srv, 'polite');
        srv.child.kill('SIGTERM');
        const notice = await stubborn.nextJson({ type: 'server_shutdown' });
        assert.deepEqual(notice.payload, { message: 'server is shutting down' });
        const cf = await stubborn.closeFrame(3000);
        assert.equal(cf.code, 1001);
        await expectShutdownNotice(polite);
        // stubborn never answers the close frame
        const res = await exitWithin(srv, 1000 + 3000);
        assertCleanExit(srv, res);
        await stubborn.waitEnd(2000);
    });

    test('while shutting down, new connections, /ready and the API are refused', { skip: SKIP }, async (t) => {
        const srv = await startServer({ env: { HUDDLE_SERVER_SHUTDOWN_DEADLINE: '3s' } });
        t.after(() => srv.kill9());
        // keeps the server in its shutdown phase: never answers the close frame
        const stubborn = await rawConnect(srv.port, { token: await token('stubborn') });
        t.after(() => stubborn.destroy());
        await stubborn.nextJson({ type: 'connection.ack' });
        srv.child.kill('SIGTERM');
        await stubborn.nextJson({ type: 'server_shutdown' });
        await stubborn.nextFrame((f) => f.opcode === OP.CLOSE);
        if (!srv.exitInfo) {
            // /ready: 503 or no answer at all (listener closed)
            const ready = await srv.http('GET', '/ready', undefined, {}, { timeoutMs: 1000 }).catch((e) => ({ status: `error ${e.code ?? e.message}` }));
            assert.notEqual(ready.status, 200, '/ready answered 200 while shutting down');
            const api = await srv.api('POST', '/api/publish', { room: 'team:x', type: 'x', payload: {} }, {}, { timeoutMs: 1000 }).catch((e) => ({ status: `error ${e.code ?? e.message}` }));
            if (typeof api.status === 'number') {
                assert.equal(api.status, 503, api.text);
                assert.equal(api.json?.error?.code, 'SHUTTING_DOWN', api.text);
            }
            // a new WebSocket: refused, or closed without an ack
            try {
                const c = await connect(srv.wsUrl(await token('late')), { timeoutMs: 1000 });
                await c.closed(3000);
                assert.equal(c.history.some((m) => m.type === 'connection.ack'), false, 'a new connection was acknowledged during shutdown');
            } catch (e) {
                assert.ok(/ECONNREFUSED|ECONNRESET|socket hang up|HTTP 503|closed|timed out|Opening handshake/i.test(e.message), e.message);
            }
        }
        const res = await exitWithin(srv, 3000 + 3000);
        assertCleanExit(srv, res);
        await sleep(10);
    });

    test('a drain (server.drain_window) spreads the closes over the window, refuses new connections, exits 0', async (t) => {
        const srv = await startServer({ env: { HUDDLE_SERVER_SHUTDOWN_DEADLINE: '4s', HUDDLE_SERVER_DRAIN_WINDOW: '1500ms' } });
        t.after(() => srv.kill9());
        const clients = [];
        for (let i = 0; i < 20; i++) clients.push(await connectUser(srv, `user${i}`, { name: `c${i}` }));
        const started = Date.now();
        srv.child.kill('SIGTERM');
        const closedAt = await Promise.all(clients.map(async (c) => {
            await expectShutdownNotice(c);
            return Date.now() - started;
        }));
        // new connections are refused as soon as the drain starts
        await assert.rejects(connectUser(srv, 'late'));
        closedAt.sort((a, b) => a - b);
        const spread = closedAt[closedAt.length - 1] - closedAt[0];
        assert.ok(spread >= 500, `closes spread over ${spread} ms (${closedAt.join(', ')})`);
        assert.ok(closedAt[closedAt.length - 1] < 1500 + 1000, `the last close came at ${closedAt.at(-1)} ms`);
        const res = await exitWithin(srv, 4000 + 2000);
        assertCleanExit(srv, res);
    });

    test('server.drain_window longer than server.shutdown_deadline is refused at startup', async () => {
        await assert.rejects(
            startServer({ env: { HUDDLE_SERVER_SHUTDOWN_DEADLINE: '1s', HUDDLE_SERVER_DRAIN_WINDOW: '5s' }, readyTimeoutMs: 5000 }),
            /drain_window/);
    });
});
