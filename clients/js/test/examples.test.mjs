// The examples of docs/client.md run as they are written against the real server, and the guide
// quotes them exactly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe } from 'node:test';

import {
    CONFIG, SKIP, apiPublish, closeClients, makeClient, mint, nextEvent, startServer, stopAndCheck,
    test, token, waitFor,
} from './helpers.mjs';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const guide = path.resolve(pkg, '..', '..', 'docs', 'client.md');

// Runs `node examples/<file>` from the package folder; `out` fills with its stdout lines.
function runExample(file, args) {
    const child = spawn(process.execPath, [path.join('examples', file), ...args], { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'] });
    const run = { child, out: [], err: '' };
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
        partial += d;
        const lines = partial.split('\n');
        partial = lines.pop();
        run.out.push(...lines);
    });
    child.stderr.setEncoding('utf8').on('data', (d) => { run.err += d; });
    run.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    return run;
}

describe('examples', () => {
    const servers = [];
    const children = [];
    after(async () => {
        for (const c of children) c.kill('SIGKILL');
        await closeClients();
        for (const s of servers) if (!s.exitInfo) await stopAndCheck(s);
    });

    test('docs/client.md quotes every example file exactly', () => {
        const text = fs.readFileSync(guide, 'utf8');
        const quoted = [...text.matchAll(/<!-- example: (\S+) -->\n```js\n([\s\S]*?)```/g)];
        const files = fs.readdirSync(path.join(pkg, 'examples')).filter((f) => f.endsWith('.mjs'));
        assert.deepEqual(quoted.map((m) => m[1]).sort(), files.map((f) => `clients/js/examples/${f}`).sort());
        for (const [, file, code] of quoted) {
            assert.equal(code, fs.readFileSync(path.resolve(pkg, '..', '..', file), 'utf8'), `${file} differs from its quote in docs/client.md`);
        }
    });

    test('chat.mjs: joins, lists presence, says hello, is refused another user\'s room, leaves on bye', { timeout: 20000 }, async () => {
        const srv = await startServer({ config: CONFIG });
        servers.push(srv);
        const bob = makeClient(srv, { token: await token('bob') });
        await bob.connect();
        const room = await bob.subscribe('chat:lobby');
        const joined = nextEvent(room, 'join', { timeoutMs: 10000 });
        const hello = nextEvent(room, 'CHAT_MESSAGE', { timeoutMs: 10000 });
        const run = runExample('chat.mjs', [`ws://127.0.0.1:${srv.port}/ws`, await mint({ sub: 'alice' })]);
        children.push(run.child);
        assert.equal((await joined)[0].userId, 'alice');
        assert.deepEqual((await hello)[0], { text: 'hello from alice' });
        await waitFor(() => run.out.includes('refused: FORBIDDEN'), { what: 'refusal line', timeoutMs: 5000 });
        await room.publish('CHAT_MESSAGE', { text: 'bye' });
        assert.equal(await run.exited, 0, run.err);
        const here = run.out.find((l) => l.startsWith('here: '));
        assert.deepEqual(here.slice(6).split(', ').sort(), ['alice', 'bob']);
        for (const line of ['state: connecting', 'state: connected', 'connected as alice', 'bob: bye', 'state: closed']) {
            assert.ok(run.out.includes(line), `missing "${line}" in:\n${run.out.join('\n')}`);
        }
    });

    test('resilient.mjs: token from a backend, a kill -9 and restart, every order once', { timeout: 30000 }, async () => {
        const first = await startServer({ config: CONFIG });
        servers.push(first);
        let tokenRequests = 0;
        const backend = http.createServer(async (req, res) => {
            tokenRequests++;
            res.end(await mint({ sub: 'olga', expiresInSec: 600 }));
        });
        await new Promise((r) => backend.listen(0, '127.0.0.1', r));
        try {
            const run = runExample('resilient.mjs', [`ws://127.0.0.1:${first.port}/ws`, `http://127.0.0.1:${backend.address().port}/huddle-token`, 'room:orders']);
            children.push(run.child);
            await waitFor(() => run.out.includes('ready'), { what: 'ready', timeoutMs: 10000 });
            await apiPublish(first, 'room:orders', 'order.created', { id: 'o1' });
            await waitFor(() => run.out.includes('order o1 (offset 1)'), { what: 'o1' });
            await first.kill9();
            // o2 and o3 are published while the client is away: on the same data, on another port
            // (the client keeps knocking on the first one), then the server returns to its port.
            const aside = await startServer({ config: CONFIG, cwd: first.cwd });
            for (const id of ['o2', 'o3']) await apiPublish(aside, 'room:orders', 'order.created', { id });
            await stopAndCheck(aside);
            const second = await startServer({ config: CONFIG, cwd: first.cwd, port: first.port });
            servers.push(second);
            await waitFor(() => run.out.includes('recovered: 2 missed event(s) replayed'), { what: 'recovery line', timeoutMs: 10000 });
            await apiPublish(second, 'room:orders', 'order.created', { id: 'last' });
            assert.equal(await run.exited, 0, run.err);
            const orders = run.out.filter((l) => l.startsWith('order '));
            assert.deepEqual(orders, ['order o1 (offset 1)', 'order o2 (offset 2)', 'order o3 (offset 3)', 'order last (offset 4)']);
            assert.ok(run.out.includes('state: reconnecting') && run.out.some((l) => l.startsWith('retry 1 in ')));
            assert.ok(tokenRequests >= 2, 'a new token for the reconnect');
        } finally {
            backend.close();
        }
    });

    test('yjs-document.mjs: two stock y-websocket providers edit one document, cursors included', { timeout: 20000 }, async () => {
        const srv = await startServer({ config: CONFIG });
        servers.push(srv);
        const document = `notes/example-${process.pid}`;
        const run = runExample('yjs-document.mjs', [`ws://127.0.0.1:${srv.port}`, await token('ada'), document]);
        children.push(run.child);
        assert.equal(await run.exited, 0, run.err);
        assert.deepEqual(run.out, [
            'bob reads: Hello from ada (0 characters were there)',
            'bob sees: ada, bob',
        ]);
        // the server stored it: the backend reads the document back
        const res = await fetch(`http://127.0.0.1:${srv.port}/api/documents/${encodeURIComponent(document)}/state`, {
            headers: { 'X-API-Key': 'huddle-integration-test-api-key' },
        });
        assert.equal(res.status, 200);
        assert.ok(Buffer.from(await res.arrayBuffer()).includes(Buffer.from('Hello from ada')));
    });
});
