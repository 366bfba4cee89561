// The demo pages' side of the HTTP port: static files from server.demo_dir (GET/HEAD, content
// types, 404, no way out of the folder) and the development-only /demo/token endpoint.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import * as jose from 'jose';

import { closeAll, connect } from '../lib/client.mjs';
import { test } from '../lib/harness.mjs';
import { HUDDLE_BIN, freePort, startServer, stopAndCheck, testTmpDir } from '../lib/server.mjs';

const DEVELOPMENT_SECRET = 'huddle-development-secret-change-me';

// The exact bytes the server sends for a raw request line: Node's http client would normalise
// "..", and the point here is what the server does with it.
function rawGet(port, target, method = 'GET') {
    return new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        const chunks = [];
        socket.setTimeout(5000, () => socket.destroy(new Error(`raw ${method} ${target} timed out`)));
        socket.on('connect', () => socket.write(`${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        socket.on('data', (c) => chunks.push(c));
        socket.on('error', reject);
        socket.on('end', () => {
            const text = Buffer.concat(chunks).toString('latin1');
            const [head, ...rest] = text.split('\r\n\r\n');
            const status = Number(head.split(' ')[1]);
            const headers = Object.fromEntries(head.split('\r\n').slice(1).map((l) => {
                const i = l.indexOf(':');
                return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
            }));
            resolve({ status, headers, body: rest.join('\r\n\r\n') });
        });
    });
}

// Starts huddle expecting it to refuse its settings: resolves its exit code and output.
async function startRefused(env) {
    const port = await freePort();
    return new Promise((resolve) => {
        const childEnv = { ...process.env, ...env };
        for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
        execFile(HUDDLE_BIN, ['--host', '127.0.0.1', '--port', String(port)], { env: childEnv, cwd: testTmpDir(), timeout: 20000 },
            (error, stdout, stderr) => resolve({ code: error ? error.code : 0, signal: error?.signal ?? null, out: stdout + stderr }));
    });
}

describe('static files (server.demo_dir)', () => {
    let srv;
    let site;
    const secret = 'top secret outside the served folder';

    before(async () => {
        const base = fs.mkdtempSync(path.join(testTmpDir(), 'static-'));
        site = path.join(base, 'site');
        fs.mkdirSync(path.join(site, 'assets'), { recursive: true });
        fs.writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>demo index</title>');
        fs.writeFileSync(path.join(site, 'chat.html'), '<!doctype html><title>chat</title>');
        fs.writeFileSync(path.join(site, 'assets', 'app.js'), 'console.log("app");\n');
        fs.writeFileSync(path.join(site, 'assets', 'style.css'), 'body{}');
        fs.writeFileSync(path.join(site, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
        fs.writeFileSync(path.join(site, '.env'), 'hidden');
        fs.writeFileSync(path.join(base, 'secret.txt'), secret);
        fs.symlinkSync(path.join(base, 'secret.txt'), path.join(site, 'leak.txt'));
        fs.symlinkSync(base, path.join(site, 'up'));
        srv = await startServer({ env: { HUDDLE_SERVER_DEMO_DIR: site } });
    });
    after(async () => { await stopAndCheck(srv); });

    test('/ is index.html; files get their content type', async () => {
        const index = await srv.http('GET', '/');
        assert.equal(index.status, 200);
        assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
        assert.match(index.text, /demo index/);
        const cases = [
            ['/chat.html', 'text/html; charset=utf-8', /<title>chat/],
            ['/assets/app.js', 'text/javascript; charset=utf-8', /console\.log/],
            ['/assets/style.css', 'text/css; charset=utf-8', /body\{\}/],
            ['/assets/logo.svg', 'image/svg+xml', /<svg/],
        ];
        for (const [p, type, body] of cases) {
            const r = await srv.http('GET', p);
            assert.equal(r.status, 200, p);
            assert.equal(r.headers['content-type'], type, p);
            assert.match(r.text, body, p);
        }
        // A query string does not change the file.
        assert.match((await srv.http('GET', '/chat.html?room=x&user=y')).text, /<title>chat/);
    });

    test('HEAD: the headers of GET, Content-Length included, and no body', async () => {
        const r = await rawGet(srv.port, '/assets/app.js', 'HEAD');
        assert.equal(r.status, 200);
        assert.equal(r.headers['content-length'], String(fs.statSync(path.join(site, 'assets', 'app.js')).size));
        assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
        assert.equal(r.body, '');
        const missing = await rawGet(srv.port, '/nope.html', 'HEAD');
        assert.equal(missing.status, 404);
        assert.equal(missing.body, '');
    });

    test('missing files, folders and hidden files: 404; other methods: 405', async () => {
        for (const p of ['/missing.html', '/assets', '/assets/', '/.env', '/assets/nope.js']) {
            const r = await srv.http('GET', p);
            assert.equal(r.status, 404, p);
            assert.equal(r.json?.error?.code, 'NOT_FOUND', p);
        }
        for (const method of ['POST', 'PUT', 'DELETE']) {
            assert.equal((await srv.http(method, '/index.html', 'x')).status, 405, method);
        }
    });

    test('no way out of the folder: "..", escaped "..", absolute paths, symlinks out', async () => {
        const targets = [
            '/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E%2Fsecret.txt',
            '/assets/%2e%2e/%2e%2e/secret.txt', '//etc/passwd', '/%2Fetc/passwd', '/..%5csecret.txt',
            '/leak.txt', '/up/secret.txt', `/${site}/index.html`, '/etc/passwd',
        ];
        for (const target of targets) {
            const r = await rawGet(srv.port, target);
            assert.ok(r.status === 404 || r.status === 400, `${target}: ${r.status}`);
            assert.ok(!r.body.includes(secret), `${target} leaked the file outside`);
            assert.ok(!r.body.includes('root:'), `${target} leaked /etc/passwd`);
        }
        // The server is still fine.
        assert.equal((await srv.http('GET', '/')).status, 200);
    });

    test('the API is unaffected: /api without a key is still 401, /health 200', async () => {
        assert.equal((await srv.http('GET', '/api/rooms')).status, 401);
        assert.equal((await srv.http('GET', '/health')).status, 200);
    });
});

describe('static files: folder missing or unset', () => {
    let srv;
    before(async () => { srv = await startServer({ env: { HUDDLE_SERVER_DEMO_DIR: '/nonexistent/huddle-demo' } }); });
    after(async () => { await stopAndCheck(srv); });

    test('/ falls back to the built-in home page; other paths 404', async () => {
        const r = await srv.http('GET', '/');
        assert.equal(r.status, 200);
        assert.match(r.text, /Huddle is running/);
        assert.equal((await srv.http('GET', '/index.html')).status, 404);
    });
});

describe('/demo/token (server.demo_tokens)', () => {
    const servers = [];
    after(async () => { for (const s of servers) await stopAndCheck(s); });

    test('off by default: 404', async () => {
        const srv = await startServer({ env: { HUDDLE_AUTH_SECRET: undefined } });
        servers.push(srv);
        const r = await srv.http('GET', '/demo/token?user=alice');
        assert.equal(r.status, 404);
        assert.equal(r.json?.error?.code, 'NOT_FOUND');
    });

    test('on with the development secret: a 12 h token for the user, accepted on /ws', async () => {
        const srv = await startServer({ env: { HUDDLE_AUTH_SECRET: undefined, HUDDLE_SERVER_DEMO_TOKENS: 'true' } });
        servers.push(srv);
        const r = await srv.http('GET', '/demo/token?user=Jane%20Doe');
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.userId, 'Jane Doe');
        const { payload } = await jose.jwtVerify(r.json.token, new TextEncoder().encode(DEVELOPMENT_SECRET));
        assert.equal(payload.sub, 'Jane Doe');
        assert.equal(payload.name, 'Jane Doe');
        assert.equal(payload.exp - payload.iat, 12 * 3600);
        const c = await connect(srv.wsUrl(r.json.token));
        const ack = await c.next((m) => m.type === 'connection.ack' || m.type === 'error', 3000);
        assert.equal(ack.type, 'connection.ack', JSON.stringify(ack));
        assert.equal(ack.payload.userId, 'Jane Doe');
        await closeAll(c);

        for (const bad of ['/demo/token', '/demo/token?user=', `/demo/token?user=${'x'.repeat(65)}`, '/demo/token?user=a%0Ab']) {
            const answer = await srv.http('GET', bad);
            assert.equal(answer.status, 400, `${bad}: ${answer.text}`);
        }
        assert.equal((await srv.http('POST', '/demo/token?user=alice', '')).status, 405);
    });

    test('refused at startup with a real secret (it would turn authentication off)', async () => {
        const res = await startRefused({ HUDDLE_SERVER_DEMO_TOKENS: 'true', HUDDLE_AUTH_SECRET: 'a-real-secret-0123456789-0123456789-abcdef' });
        assert.equal(res.signal, null, `still running after 20 s: ${res.out}`);
        assert.notEqual(res.code, 0, res.out);
        assert.match(res.out, /server\.demo_tokens/);
    });
});
