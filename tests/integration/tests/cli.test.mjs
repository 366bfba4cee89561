// The command line: `huddle token`, `huddle check-config`, `--help`, and a start with no
// configuration (development secret, printed token and URLs).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe } from 'node:test';
import * as jose from 'jose';

import { closeAll, connect } from '../lib/client.mjs';
import { SKIP, test, waitFor } from '../lib/harness.mjs';
import { HUDDLE_BIN, startServer, stopAndCheck, testTmpDir } from '../lib/server.mjs';
import { SECRET } from '../lib/tokens.mjs';

function run(args, env = {}) {
    return new Promise((resolve) => {
        const childEnv = { ...process.env, ...env };
        for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
        execFile(HUDDLE_BIN, args, { env: childEnv, timeout: 20000 }, (error, stdout, stderr) => {
            resolve({ code: error ? error.code : 0, stdout, stderr });
        });
    });
}

describe('command line', () => {
    const servers = [];
    after(async () => { for (const srv of servers) await stopAndCheck(srv); });

    test('huddle token mints an HS256 token with the configured secret, claims and lifetime', async () => {
        const res = await run(['token', '--sub', 'alice', '--claim', 'firmId=f1', '--claim', 'admin=true',
            '--claim', 'level=3', '--ttl', '1h'], { HUDDLE_AUTH_SECRET: SECRET });
        assert.equal(res.code, 0, res.stderr);
        const jwt = res.stdout.trim();
        const { payload, protectedHeader } = await jose.jwtVerify(jwt, new TextEncoder().encode(SECRET));
        assert.equal(protectedHeader.alg, 'HS256');
        assert.equal(payload.sub, 'alice');
        assert.equal(payload.firmId, 'f1');
        assert.equal(payload.admin, true);
        assert.equal(payload.level, 3);
        assert.equal(payload.exp - payload.iat, 3600);
        assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 60);
    });

    test('huddle token refuses a malformed --claim and --ttl with exit code 2', async () => {
        assert.equal((await run(['token', '--sub', 'a', '--claim', 'novalue'])).code, 2);
        assert.equal((await run(['token', '--sub', 'a', '--ttl', 'soon'])).code, 2);
    });

    test('a token from huddle token is accepted by a server with the same secret', async () => {
        const srv = await startServer();
        servers.push(srv);
        const res = await run(['token', '--sub', 'carol', '--ttl', '5m'], { HUDDLE_AUTH_SECRET: SECRET });
        const c = await connect(srv.wsUrl(res.stdout.trim()));
        try {
            const ack = await c.next((m) => m.type === 'connection.ack', 3000);
            assert.equal(ack.payload.userId, 'carol');
        } finally { await closeAll(c); }
    });

    test('--help lists the subcommands and every setting with its environment variable', async () => {
        const res = await run(['--help']);
        assert.equal(res.code, 0);
        for (const text of ['token', 'check-config', '--config', 'server.port', 'HUDDLE_SERVER_PORT',
            'auth.secret', 'limits.messages_per_minute', 'heartbeat.ping_interval', 'server.permessage_deflate',
            'server.allowed_origins', 'server.tls_cert_file']) {
            assert.ok(res.stdout.includes(text), `--help mentions ${text}`);
        }
    });

    test('check-config reports every error of a file with its line, and accepts a good file', async () => {
        const dir = testTmpDir();
        const bad = path.join(dir, 'bad.toml');
        fs.writeFileSync(bad, '[server]\nport = 3000\nprot = 1\n[limits]\nmax_message_bytes = "lots"\n');
        const res = await run(['check-config', bad]);
        assert.equal(res.code, 1);
        assert.match(res.stderr, /bad\.toml:3:.*server\.prot/);
        assert.match(res.stderr, /bad\.toml:5:.*max_message_bytes/);
        const good = path.join(dir, 'good.toml');
        fs.writeFileSync(good, '[server]\nport = 4000\n[[namespaces]]\nname = "team"\nclient_publish = true\n');
        const ok = await run(['check-config', good]);
        assert.equal(ok.code, 0, ok.stderr);
    });

    test('with no configuration: development token and URLs printed, and the token works', async () => {
        const srv = await startServer({ env: { HUDDLE_AUTH_SECRET: undefined, HUDDLE_API_API_KEY: undefined } });
        servers.push(srv);
        await waitFor(() => srv.logs.some((l) => l.includes('eyJ')), { what: 'printed token' });
        const out = srv.logs.join('\n');
        assert.match(out, new RegExp(`ws://127\\.0\\.0\\.1:${srv.port}/ws\\?token=`));
        assert.match(out, /development token/);
        assert.match(out, /development secret is in use/);
        const printed = out.match(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/)[0];
        const c = await connect(srv.wsUrl(printed));
        try {
            const ack = await c.next((m) => m.type === 'connection.ack', 3000);
            assert.equal(ack.payload.userId, 'dev');
        } finally { await closeAll(c); }
    });
});
