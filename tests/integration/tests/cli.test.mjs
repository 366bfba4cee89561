// The command line: `huddle token`, `huddle check-config`, `--help`, the startup banner (URLs, data
// location, demo pages, development token), the log formats, and exit codes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe } from 'node:test';
import * as jose from 'jose';

import { closeAll, connect } from '../lib/client.mjs';
import { SKIP, test, waitFor } from '../lib/harness.mjs';
import { HUDDLE_BIN, freePort, startServer, stopAndCheck, testTmpDir } from '../lib/server.mjs';
import { SECRET } from '../lib/tokens.mjs';

function run(args, env = {}, { cwd } = {}) {
    return new Promise((resolve) => {
        const childEnv = { ...process.env, ...env };
        for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
        execFile(HUDDLE_BIN, args, { env: childEnv, cwd, timeout: 20000 }, (error, stdout, stderr) => {
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
    test('--help names every setting of --print-config with its HUDDLE_* variable, and the subcommands', async () => {
        const help = await run(['--help']);
        assert.equal(help.code, 0);
        const printed = await run(['--print-config'], { HUDDLE_CONFIG: undefined });
        assert.equal(printed.code, 0, printed.stderr);
        let section = null;
        const keys = [];
        for (const line of printed.stdout.split('\n')) {
            if (/^\[\[/.test(line)) { section = null; continue; }  // namespaces: described apart
            const header = line.match(/^\[([a-z_]+)\]$/);
            if (header) { section = header[1]; continue; }
            const key = line.match(/^([a-z_]+) = /);
            if (key && section) keys.push(`${section}.${key[1]}`);
        }
        assert.ok(keys.length >= 40, `--print-config printed ${keys.length} settings`);
        for (const key of keys) {
            assert.ok(help.stdout.includes(`  ${key} = `), `--help describes ${key}`);
            const variable = `HUDDLE_${key.replace('.', '_').toUpperCase()}`;
            assert.ok(help.stdout.includes(variable), `--help names ${variable}`);
        }
        for (const text of ['token', 'check-config', '--config', 'HUDDLE_CONFIG', '--print-config', '--set',
            '--log-format', 'Examples:', 'Exit codes:', 'docs/getting-started.md']) {
            assert.ok(help.stdout.includes(text), `--help mentions ${text}`);
        }
    });

    test('token --help and check-config --help explain their own options, not the settings table', async () => {
        const token = await run(['token', '--help']);
        assert.equal(token.code, 0);
        for (const text of ['--sub', '--claim', '--ttl', 'auth.secret', 'HUDDLE_SECRET', 'Examples:', 'Exit codes:']) {
            assert.ok(token.stdout.includes(text), `token --help mentions ${text}`);
        }
        const check = await run(['check-config', '--help']);
        assert.equal(check.code, 0);
        for (const text of ['file', 'FILE:LINE', 'Exit codes:', '--print-config']) {
            assert.ok(check.stdout.includes(text), `check-config --help mentions ${text}`);
        }
        for (const res of [token, check]) assert.ok(!res.stdout.includes('limits.max_message_bytes'), 'no settings table');
    });

    test('huddle token reads the settings given after the subcommand too', async () => {
        const file = path.join(testTmpDir(), 'token-secret.toml');
        fs.writeFileSync(file, `[auth]\nsecret = "${SECRET}"\nissuer = "https://app.example.com"\n`);
        const res = await run(['token', '--sub', 'dora', '--config', file], { HUDDLE_AUTH_SECRET: undefined, HUDDLE_CONFIG: undefined });
        assert.equal(res.code, 0, res.stderr);
        const { payload } = await jose.jwtVerify(res.stdout.trim(), new TextEncoder().encode(SECRET));
        assert.equal(payload.sub, 'dora');
        assert.equal(payload.iss, 'https://app.example.com');
    });

    test('check-config reports every error of a file at its line, whole-settings checks included', async () => {
        const file = path.join(testTmpDir(), 'several.toml');
        fs.writeFileSync(file, [
            '[server]',                                   // 1
            'prot = 3000',                                // 2  unknown key
            'threads = 999',                              // 3  out of range
            'allowed_origins = ["https://a.example/"]',   // 4  origin with a path (validation)
            'tls_cert_file = "/nonexistent/cert.pem"',    // 5  missing file, no key file (validation)
            '[log]',                                      // 6
            'level = "verbose"',                          // 7  not one of
            '[heartbeat]',                                // 8
            'ping_interval = "1m"',                       // 9
            'pong_timeout = "30s"',                       // 10 shorter than ping_interval (validation)
            '[[namespaces]]',                             // 11
            'name = "hooks"',                             // 12 webhook without a URL (validation)
            'access = "webhook"',                         // 13
            '',
        ].join('\n'));
        const res = await run(['check-config', file]);
        assert.equal(res.code, 1);
        const lines = res.stderr.split('\n').filter((l) => l.startsWith('error: '));
        const at = (n) => lines.filter((l) => l.startsWith(`error: ${file}:${n}: `));
        assert.match(at(2).join(), /server\.prot/);
        assert.match(at(3).join(), /server\.threads/);
        assert.match(at(4).join(), /allowed_origins/);
        assert.equal(at(5).length, 2, 'the missing certificate and the missing key file');
        assert.match(at(7).join(), /log\.level/);
        assert.match(at(10).join(), /pong_timeout/);
        assert.match(at(12).join(), /namespace 'hooks'/);
        assert.equal(lines.length, 8, res.stderr);
        assert.match(res.stderr, /8 error\(s\)/);
        // In the order of the file.
        const numbers = lines.map((l) => Number(l.slice(`error: ${file}:`.length).split(':')[0]));
        assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
    });

    test('a start with errors in several layers reports them all and exits 2', async () => {
        const file = path.join(testTmpDir(), 'layers.toml');
        fs.writeFileSync(file, '[server]\nprot = 1\n[heartbeat]\nping_interval = "1m"\npong_timeout = "30s"\n');
        const res = await run(['--config', file, '--set', 'limits.max_message_bytes=lots'], { HUDDLE_SERVER_THREADS: 'many' });
        assert.equal(res.code, 2);
        assert.match(res.stderr, /layers\.toml:2: .*server\.prot/);
        assert.match(res.stderr, /HUDDLE_SERVER_THREADS: /);
        assert.match(res.stderr, /--set: limits\.max_message_bytes/);
        assert.match(res.stderr, /settings: heartbeat\.pong_timeout/);
    });

    test('usage errors exit 2; --version prints the version', async () => {
        assert.equal((await run(['--no-such-flag'])).code, 2);
        assert.equal((await run(['token'])).code, 2, '--sub is required');
        assert.equal((await run(['check-config'])).code, 2, 'the file is required');
        const version = await run(['--version']);
        assert.equal(version.code, 0);
        assert.match(version.stdout, /^huddle \d+\.\d+\.\d+\n$/);
    });

    test('the banner says where the data lives and where the demo pages are', async () => {
        const cwd = fs.mkdtempSync(path.join(testTmpDir(), 'banner-'));
        fs.mkdirSync(path.join(cwd, 'web', 'dist'), { recursive: true });
        fs.writeFileSync(path.join(cwd, 'web', 'dist', 'index.html'), '<!doctype html><title>demo index</title>\n');
        const srv = await startServer({ cwd });
        servers.push(srv);
        const out = () => srv.logs.filter((l) => l.startsWith('[out] ')).join('\n');
        await waitFor(() => out().includes('data:'), { what: 'the data line' });
        const real = fs.realpathSync(cwd);
        assert.match(out(), new RegExp(`data: +SQLite ${real}/data/huddle\\.db$`, 'm'));
        assert.ok(fs.existsSync(path.join(cwd, 'data', 'huddle.db')), 'the database is where the banner says');
        assert.match(out(), new RegExp(`demo pages: +http://127\\.0\\.0\\.1:${srv.port}/ \\(from ${real}/web/dist\\)`));
        const page = await srv.http('GET', '/');
        assert.match(page.text, /demo index/);
        assert.match(out(), new RegExp(`Huddle listening on 127\\.0\\.0\\.1:${srv.port} with 2 event loop`));
        assert.match(out(), /backend API: .*X-API-Key: \(api\.api_key\)/, 'a configured key is not printed');
        assert.ok(!out().includes('development token'), 'no token with a configured secret');
        // The server.listening log line carries the same data location.
        const listening = srv.logs.find((l) => l.includes('"action":"server.listening"'));
        assert.equal(JSON.parse(listening.slice('[err] '.length)).data, `SQLite ${real}/data/huddle.db`);
    });

    test('the banner follows store.path and server.demo_dir', async () => {
        const dir = fs.mkdtempSync(path.join(testTmpDir(), 'banner-paths-'));
        const db = path.join(dir, 'elsewhere', 'h.db');
        const missing = await startServer({ env: { HUDDLE_STORE_PATH: db, HUDDLE_SERVER_DEMO_DIR: path.join(dir, 'nothing') } });
        servers.push(missing);
        const none = await startServer({ env: { HUDDLE_SERVER_DEMO_DIR: '' } });
        servers.push(none);
        const out = (srv) => srv.logs.filter((l) => l.startsWith('[out] ')).join('\n');
        await waitFor(() => out(missing).includes('data:') && out(none).includes('data:'), { what: 'banners' });
        assert.match(out(missing), new RegExp(`data: +SQLite ${db}$`, 'm'));
        assert.match(out(missing), /demo pages: +not built \(.*nothing does not exist/);
        assert.ok(!/demo pages|files:/.test(out(none)), 'no demo line when server.demo_dir is empty');
    });

    test('a PostgreSQL store is named with its password hidden, even when it cannot be reached', async () => {
        const port = await freePort();  // nothing listens there
        const password = 'pw-Never-Printed-42';
        const cwd = fs.mkdtempSync(path.join(testTmpDir(), 'pg-url-'));
        const res = await run(['--host', '127.0.0.1', '--port', String(port), '--set', 'store.reconnect_timeout=200ms'],
            { HUDDLE_STORE_URL: `postgres://huddle:${password}@127.0.0.1:${port}/huddle?password=${password}` },
            { cwd });
        assert.equal(res.code, 1, res.stderr);
        assert.match(res.stderr, new RegExp(`data: PostgreSQL postgres://huddle:\\*\\*\\*@127\\.0\\.0\\.1:${port}/huddle\\?password=\\*\\*\\*`));
        assert.ok(!(res.stdout + res.stderr).includes(password), 'the password is never printed');
        // The error names the store it could not open, not the unused SQLite path, and no
        // SQLite folder is created for it.
        assert.match(res.stderr, /cannot open the PostgreSQL store: /);
        assert.ok(!/cannot open the store/.test(res.stderr), res.stderr);
        assert.ok(!fs.existsSync(path.join(cwd, 'data')), 'no ./data folder for a PostgreSQL store');
    });

    test('a PostgreSQL store in the banner (with HUDDLE_TEST_POSTGRES_URL)', async (t) => {
        const url = process.env.HUDDLE_TEST_POSTGRES_URL;
        if (!url) { t.skip('HUDDLE_TEST_POSTGRES_URL is not set (scripts/test-postgres.sh sets it)'); return; }
        const password = 'pw-Never-Printed-43';
        const withPassword = url.replace(/^(postgres(?:ql)?:\/\/[^:@/]+)(?::[^@/]*)?@/, `$1:${password}@`);
        assert.ok(withPassword.includes(password), `a user in ${url}`);
        const srv = await startServer({ env: { HUDDLE_STORE_URL: withPassword } });
        servers.push(srv);
        const out = () => srv.logs.filter((l) => l.startsWith('[out] ')).join('\n');
        await waitFor(() => out().includes('data:'), { what: 'the data line' });
        assert.match(out(), /data: +PostgreSQL postgres(ql)?:\/\/[^:]+:\*\*\*@/);
        assert.ok(!srv.logs.join('\n').includes(password), 'the password is never printed');
    });

    test('the server runs with a larger glibc tcache, unless GLIBC_TUNABLES is given', async () => {
        const environOf = (srv) => fs.readFileSync(`/proc/${srv.pid}/environ`, 'utf8').split('\0');
        // It executes itself again with the setting: the same process, now with it in its environment.
        const tuned = await startServer({ env: { GLIBC_TUNABLES: undefined } });
        servers.push(tuned);
        assert.ok(environOf(tuned).includes('GLIBC_TUNABLES=glibc.malloc.tcache_count=4096'),
            'the tuned environment');
        // An operator's own setting, even empty, is kept as it is.
        const own = await startServer({ env: { GLIBC_TUNABLES: '' } });
        servers.push(own);
        const tunables = environOf(own).filter((v) => v.startsWith('GLIBC_TUNABLES='));
        assert.deepEqual(tunables, ['GLIBC_TUNABLES=']);
    });

    test('logs are JSON lines on a pipe, key=value text with --log-format text', async () => {
        const json = await startServer();
        servers.push(json);
        await waitFor(() => json.logs.some((l) => l.includes('server.listening')), { what: 'a log line' });
        const jsonLines = json.logs.filter((l) => l.startsWith('[err] ')).map((l) => l.slice(6));
        assert.ok(jsonLines.length > 0);
        for (const line of jsonLines) {
            const record = JSON.parse(line);
            assert.ok(record.time && record.level && record.action, line);
        }
        const text = await startServer({ args: ['--log-format', 'text'] });
        servers.push(text);
        await waitFor(() => text.logs.some((l) => l.includes('server.listening')), { what: 'a log line' });
        const line = text.logs.find((l) => l.includes('server.listening')).slice(6);
        assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z info server\.listening address=127\.0\.0\.1:\d+ tls=off data=SQLite \//);
    });
});
