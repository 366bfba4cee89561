// TLS served by huddle itself (server.tls_cert_file / tls_key_file): wss:// and https:// on the
// same port, with a self-signed certificate made for this test by the openssl command.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe } from 'node:test';

import { closeAll, connect } from '../lib/client.mjs';
import { SKIP, test, waitFor } from '../lib/harness.mjs';
import { BASE_ENV, HUDDLE_BIN, freePort, testTmpDir } from '../lib/server.mjs';
import { API_KEY, SECRET, token } from '../lib/tokens.mjs';

function httpsRequest(port, method, urlPath, body, headers = {}) {
    return new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, method, path: urlPath, rejectUnauthorized: false,
            headers: { 'content-type': 'application/json', ...headers } }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        req.setTimeout(3000, () => req.destroy(new Error('timeout')));
        if (body !== undefined) req.write(JSON.stringify(body));
        req.end();
    });
}

describe('TLS', () => {
    let child;
    let port;
    let exited;
    before(async () => {
        if (SKIP) return;
        const dir = fs.mkdtempSync(path.join(testTmpDir(), 'tls-'));
        const cert = path.join(dir, 'cert.pem');
        const key = path.join(dir, 'key.pem');
        execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
            '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
        port = await freePort();
        child = spawn(HUDDLE_BIN, ['--host', '127.0.0.1', '--port', String(port), '--threads', '2'], {
            cwd: dir, // its ./data goes with the test's temporary files
            env: { ...process.env, ...BASE_ENV, HUDDLE_AUTH_SECRET: SECRET, HUDDLE_API_API_KEY: API_KEY,
                HUDDLE_SERVER_TLS_CERT_FILE: cert, HUDDLE_SERVER_TLS_KEY_FILE: key },
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
        child.stdout.resume();
        child.stderr.resume();
        await waitFor(async () => {
            try { return (await httpsRequest(port, 'GET', '/health')).status === 200; } catch { return false; }
        }, { timeoutMs: 15000, what: 'https /health' });
    });
    after(async () => {
        if (!child) return;
        child.kill('SIGTERM');
        const { code } = await exited;
        assert.equal(code, 0, 'huddle exits 0 after SIGTERM');
    });

    test('wss:// clients get connection.ack, subscribe, and receive events published over https://', async () => {
        const url = (sub) => token(sub).then((t) => `wss://127.0.0.1:${port}/ws?token=${t}`);
        const alice = await connect(await url('alice'), { rejectUnauthorized: false });
        const bob = await connect(await url('bob'), { rejectUnauthorized: false });
        try {
            const ack = await alice.next((m) => m.type === 'connection.ack', 3000);
            assert.equal(ack.payload.userId, 'alice');
            await bob.next((m) => m.type === 'connection.ack', 3000);
            const answer = await alice.request({ action: 'subscribe', rooms: ['team:tls'] });
            assert.deepEqual(answer.rooms, [{ room: 'team:tls', ok: true }]);
            const res = await httpsRequest(port, 'POST', '/api/publish',
                { room: 'team:tls', type: 'issue.created', payload: { id: 'T-1' } }, { 'X-API-Key': API_KEY });
            assert.equal(res.status, 200);
            const event = await alice.next((m) => m.type === 'issue.created', 3000);
            assert.deepEqual(event.payload, { id: 'T-1' });
            assert.equal(event.room, 'team:tls');
            await bob.expectNone((m) => m.type === 'issue.created', 300);
        } finally { await closeAll(alice, bob); }
    });

    test('a plain-text client on the TLS port gets no answer in clear text and the server keeps serving', async () => {
        const net = await import('node:net');
        const sock = net.connect(port, '127.0.0.1');
        const got = [];
        sock.on('data', (d) => got.push(d));
        await new Promise((resolve) => sock.once('connect', resolve));
        sock.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
        await new Promise((resolve) => { sock.once('close', resolve); setTimeout(resolve, 1500); });
        sock.destroy();
        assert.ok(!Buffer.concat(got).toString('latin1').includes('"status":"ok"'), 'no clear-text HTTP answer');
        assert.equal((await httpsRequest(port, 'GET', '/health')).status, 200);
    });
});
