// The examples of docs/getting-started.md and docs/operations.md, run as a reader would run them
// against the real binary, their output compared with the page's. The pages mark each block
// (lib/doc-blocks.mjs); the only changes made to them are the port (the reader's 3000 is a free
// port here) and the listening address (the test listens on loopback only).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import YAML from 'yaml';

import { comparable, examples, outputLines, runShell, startShell } from '../lib/doc-blocks.mjs';
import { SKIP, test, waitFor } from '../lib/harness.mjs';
import { BASE_ENV, HUDDLE_BIN, REPO_ROOT, freePort, httpRequest, startServer, stopAndCheck, testTmpDir } from '../lib/server.mjs';

const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;

function jwtPayload(jwt) {
    return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

// The environment of a reader's terminal: no HUDDLE_* variable (so the development secret and
// key apply, as they do for the server started by run.sh) and the binary under test on PATH as
// `huddle`.
function readerEnvironment(binDir) {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HUDDLE_')));
    env.PATH = `${binDir}:${process.env.PATH}`;
    return env;
}

function assertSameOutput(actualLines, expectedText, what) {
    assert.deepEqual(actualLines.map(comparable), outputLines(expectedText).map(comparable),
        `${what}: the output differs from the page's\nactual:\n${actualLines.join('\n')}`);
}

describe('docs/getting-started.md', () => {
    const page = path.join(REPO_ROOT, 'docs', 'getting-started.md');
    let ex;
    let srv;
    let clone;   // stands for the reader's clone of the repository: the server's working directory
    let folder;  // the reader's folder for the Node examples
    let env;
    const background = [];
    const forPort = (text) => text.replaceAll('127.0.0.1:3000', `127.0.0.1:${srv.port}`);
    const sh = (script) => runShell(forPort(script), { cwd: folder, env });
    // "TOKEN=$(huddle token ...)" typed earlier in the same terminal, its echo not repeated.
    const withToken = (script) => `{\n${ex.run('token').text}} >/dev/null\n${forPort(script)}`;

    before(async () => {
        if (SKIP) return;
        ex = examples(page);
        const base = fs.mkdtempSync(path.join(testTmpDir(), 'getting-started-'));
        clone = path.join(base, 'huddle');
        fs.mkdirSync(path.join(clone, 'web', 'dist'), { recursive: true });
        // Stands in for the pages web/build.sh builds: the banner names the folder it serves.
        fs.writeFileSync(path.join(clone, 'web', 'dist', 'index.html'), '<!doctype html><title>Huddle demo</title>\n');
        folder = path.join(base, 'try-huddle');
        fs.mkdirSync(path.join(folder, 'node_modules', '@huddle'), { recursive: true });
        fs.symlinkSync(path.join(REPO_ROOT, 'tests', 'integration', 'node_modules', 'ws'), path.join(folder, 'node_modules', 'ws'));
        fs.symlinkSync(path.join(REPO_ROOT, 'clients', 'js'), path.join(folder, 'node_modules', '@huddle', 'client'));
        const binDir = path.join(base, 'bin');
        fs.mkdirSync(binDir);
        fs.symlinkSync(HUDDLE_BIN, path.join(binDir, 'huddle'));
        env = readerEnvironment(binDir);
        // As ./scripts/run.sh starts it: config/demo.toml, development secret and key.
        srv = await startServer({
            cwd: clone,
            env: { HUDDLE_AUTH_SECRET: undefined, HUDDLE_API_API_KEY: undefined, HUDDLE_CONFIG: path.join(REPO_ROOT, 'config', 'demo.toml') },
        });
    });
    after(async () => {
        for (const proc of background) await proc.stop();
        await stopAndCheck(srv);
    });

    test('the startup banner is the one on the page', async () => {
        const expected = outputLines(ex.output('startup').text)
            .map((l) => forPort(l.replace('0.0.0.0:3000 (every IPv4 interface)', '127.0.0.1:3000')))
            .map((l) => l.replace(JWT, '<JWT>'));
        const printed = () => srv.logs.filter((l) => l.startsWith('[out] ')).map((l) => l.slice(6));
        await waitFor(() => printed().length >= expected.length, { what: 'the banner' });
        const actual = printed().map((l) => l.replaceAll(fs.realpathSync(clone), '/root/huddle').replace(JWT, '<JWT>'));
        assert.deepEqual(actual, expected);
    });

    test('health', async () => {
        const res = await sh(ex.run('health').text);
        assert.equal(res.code, 0, res.stderr);
        assertSameOutput(outputLines(res.stdout), ex.output('health').text, 'health');
    });

    test('huddle token prints a token for alice with her name, valid for an hour', async () => {
        const res = await sh(ex.run('token').text);
        assert.equal(res.code, 0, res.stderr);
        const printed = res.stdout.trim();
        assert.match(printed, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
        const claims = jwtPayload(printed);
        assert.equal(claims.sub, 'alice');
        assert.equal(claims.name, 'Alice');
        assert.equal(claims.exp - claims.iat, 3600);
    });

    test('listen.mjs connects and subscribes; the backend publish reaches it', async () => {
        fs.writeFileSync(path.join(folder, 'listen.mjs'), forPort(ex.file('listen.mjs').text));
        const listen = startShell(withToken(ex.run('listen').text), { cwd: folder, env });
        background.push(listen);
        const connected = outputLines(ex.output('listen-connected').text);
        await waitFor(() => listen.lines.length >= connected.length || listen.exited, { timeoutMs: 8000, what: 'listen.mjs output' });
        assertSameOutput(listen.lines.slice(0, connected.length), ex.output('listen-connected').text, `listen.mjs (stderr: ${listen.stderr})`);

        const res = await sh(ex.run('publish').text);
        assert.equal(res.code, 0, res.stderr);
        assertSameOutput(outputLines(res.stdout), ex.output('publish').text, 'publish');
        const event = outputLines(ex.output('listen-event').text);
        await waitFor(() => listen.lines.length >= connected.length + event.length, { what: 'the event in listen.mjs' });
        assertSameOutput(listen.lines.slice(connected.length), ex.output('listen-event').text, 'listen.mjs after the publish');
        await listen.stop();
    });

    test('chat.mjs with the client library: presence, a message, a join', async () => {
        fs.writeFileSync(path.join(folder, 'chat.mjs'), forPort(ex.file('chat.mjs').text));
        const alice = startShell(withToken(ex.run('alice').text), { cwd: folder, env });
        background.push(alice);
        const joined = outputLines(ex.output('alice-joined').text);
        await waitFor(() => alice.lines.length >= joined.length || alice.exited, { timeoutMs: 8000, what: "alice's chat.mjs" });
        assertSameOutput(alice.lines, ex.output('alice-joined').text, `alice (stderr: ${alice.stderr})`);

        const bob = await sh(ex.run('bob').text);
        assert.equal(bob.code, 0, bob.stderr);
        assertSameOutput(outputLines(bob.stdout), ex.output('bob').text, 'bob');
        const afterBob = outputLines(ex.output('alice-after-bob').text);
        await waitFor(() => alice.lines.length >= joined.length + afterBob.length, { timeoutMs: 8000, what: 'bob in alice\'s output' });
        assertSameOutput(alice.lines.slice(joined.length), ex.output('alice-after-bob').text, 'alice after bob');
        await alice.stop();
    });

    test('the history of chat:lobby holds the message', async () => {
        const res = await sh(ex.run('history').text);
        assert.equal(res.code, 0, res.stderr);
        assertSameOutput(outputLines(res.stdout), ex.output('history').text, 'history');
    });

    test('the demo pages get tokens from /demo/token', async () => {
        const res = await sh(ex.run('demo-token').text);
        assert.equal(res.code, 0, res.stderr);
        assertSameOutput(outputLines(res.stdout), ex.output('demo-token').text, 'demo token');
        assert.equal(jwtPayload(JSON.parse(res.stdout).token).sub, 'carol');
        const page = await httpRequest(srv.port, 'GET', '/');
        assert.equal(page.status, 200);
        assert.match(page.text, /Huddle demo/);
    });

    test('every marked example of the page was used', () => {
        assert.deepEqual(ex.unused(), []);
    });
});

describe('docs/operations.md', () => {
    const page = path.join(REPO_ROOT, 'docs', 'operations.md');
    let ex;
    let srv;
    let dir;
    before(async () => {
        if (SKIP) return;
        ex = examples(page);
        dir = fs.mkdtempSync(path.join(testTmpDir(), 'operations-'));
        srv = await startServer();
    });
    after(async () => { await stopAndCheck(srv); });

    test('the systemd unit passes systemd-analyze verify and names real settings', async (t) => {
        const unit = ex.file('huddle.service').text;
        assert.match(unit, /^LimitNOFILE=\d+$/m);
        assert.match(unit, /^KillSignal=SIGTERM$/m);
        // Longer than the default server.shutdown_deadline (10 s), or systemd kills mid-shutdown.
        assert.ok(Number(unit.match(/^TimeoutStopSec=(\d+)$/m)[1]) > 10);
        const help = execFileSync(HUDDLE_BIN, ['--help'], { encoding: 'utf8' });
        const assignments = [...unit.matchAll(/^Environment=(HUDDLE_\w+)=(.*)$/gm)];
        assert.ok(assignments.length >= 3);
        for (const [, name] of assignments) assert.ok(help.includes(name), `${name} is a setting of huddle --help`);
        // The unit's settings are accepted as they are.
        const withUnitEnv = spawnSync(HUDDLE_BIN, ['--print-config'], {
            env: { ...process.env, ...Object.fromEntries(assignments.map(([, k, v]) => [k, v])) }, encoding: 'utf8',
        });
        assert.equal(withUnitEnv.status, 0, withUnitEnv.stderr);
        assert.match(withUnitEnv.stdout, /path = "\/var\/lib\/huddle\/huddle\.db"/);

        const which = spawnSync('bash', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
        if (which.status !== 0) {
            t.diagnostic('systemd-analyze is not installed: the unit file was not verified');
            return;
        }
        const file = path.join(dir, 'huddle.service');
        // verify checks that ExecStart's binary exists: the one under test stands in.
        fs.writeFileSync(file, unit.replace('/usr/local/bin/huddle', HUDDLE_BIN));
        const res = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
        assert.equal(res.status, 0, res.stderr);
        // It only warns about unknown keys and bad values; a warning is a mistake on the page.
        assert.equal(res.stderr.trim(), '', 'systemd-analyze verify printed warnings');
    });

    test('the direct TLS settings pass check-config and serve HTTPS', async () => {
        const cert = path.join(dir, 'fullchain.pem');
        const key = path.join(dir, 'privkey.pem');
        execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
            '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
        const port = await freePort();
        const text = ex.file('tls.toml').text
            .replace('/etc/huddle/tls/fullchain.pem', cert)
            .replace('/etc/huddle/tls/privkey.pem', key)
            .replace(/^port = 443$/m, `port = ${port}`);
        assert.ok(text.includes(cert) && text.includes(key) && text.includes(`port = ${port}`), 'the paths and port were substituted');
        const file = path.join(dir, 'tls.toml');
        fs.writeFileSync(file, text);
        const check = spawnSync(HUDDLE_BIN, ['check-config', file], { encoding: 'utf8' });
        assert.equal(check.status, 0, check.stderr);

        // Not startServer: it waits for plain HTTP, which a TLS port does not answer.
        const child = spawn(HUDDLE_BIN, ['--host', '127.0.0.1', '--config', file],
            { cwd: dir, env: { ...process.env, ...BASE_ENV }, stdio: ['ignore', 'ignore', 'pipe'] });
        let output = '';
        child.stderr.on('data', (d) => { output += d; });
        const exited = new Promise((resolve) => child.once('exit', (c) => resolve(c)));
        try {
            const answer = await waitFor(() => httpsGet(port, '/health').catch(() => null), { timeoutMs: 10000, what: 'https /health' });
            assert.equal(answer.status, 200);
            assert.equal(answer.body, '{"status":"ok"}');
        } finally {
            child.kill('SIGTERM');
        }
        assert.equal(await exited, 0, `huddle exits 0 after SIGTERM\n${output}`);
    });

    test('the nginx block forwards WebSocket upgrades with timeouts longer than the heartbeat', () => {
        const conf = ex.file('nginx.conf').text;
        const code = conf.replace(/#.*$/gm, '');
        assert.equal((code.match(/{/g) || []).length, (code.match(/}/g) || []).length, 'braces balance');
        for (const line of code.split('\n').map((l) => l.trim()).filter(Boolean)) {
            assert.ok(/[;{}]$/.test(line) || /^'/.test(line) || /^default /.test(line), `a directive ends with ; or a block: ${line}`);
        }
        assert.match(code, /map \$http_upgrade \$connection_upgrade \{/);
        assert.match(code, /proxy_http_version 1\.1;/);
        assert.match(code, /proxy_set_header Upgrade \$http_upgrade;/);
        assert.match(code, /proxy_set_header Connection \$connection_upgrade;/);
        assert.match(code, /server 127\.0\.0\.1:3000;/);
        assert.match(code, /ssl_certificate_key /);
        // More than the default heartbeat.pong_timeout (60 s): nginx must not cut live sockets.
        for (const name of ['proxy_read_timeout', 'proxy_send_timeout']) {
            const seconds = Number(code.match(new RegExp(`${name} (\\d+)s;`))[1]);
            assert.ok(seconds > 60, `${name} ${seconds}s is longer than heartbeat.pong_timeout`);
        }
    });

    test('/ready answers as shown', async () => {
        const res = await runShell(ex.run('ready').text.replaceAll('127.0.0.1:3000', `127.0.0.1:${srv.port}`), { cwd: dir, env: process.env });
        assert.equal(res.code, 0, res.stderr);
        assertSameOutput(outputLines(res.stdout), ex.output('ready').text, 'ready');
    });

    test('the Kubernetes probes name paths that answer 200', async () => {
        const pod = YAML.parse(ex.file('probes.yaml').text);
        assert.ok(pod.spec.terminationGracePeriodSeconds > 10, 'longer than server.shutdown_deadline');
        const [container] = pod.spec.containers;
        assert.equal(container.ports[0].containerPort, 3000);
        for (const probe of [container.livenessProbe, container.readinessProbe]) {
            assert.equal(probe.httpGet.port, 3000);
            const res = await httpRequest(srv.port, 'GET', probe.httpGet.path);
            assert.equal(res.status, 200, probe.httpGet.path);
        }
        assert.equal(container.readinessProbe.httpGet.path, '/ready');
    });

    test('the Prometheus config scrapes /metrics, and the page lists exactly the metrics served', async () => {
        const config = YAML.parse(ex.file('prometheus.yml').text);
        const job = config.scrape_configs.find((j) => j.job_name === 'huddle');
        assert.ok(job, 'a huddle job');
        for (const group of job.static_configs) {
            for (const target of group.targets) assert.match(target, /^[\w.-]+:3000$/);
        }
        const res = await httpRequest(srv.port, 'GET', job.metrics_path ?? '/metrics');
        assert.equal(res.status, 200);
        const served = [...res.text.matchAll(/^# TYPE (\w+) \w+$/gm)].map((m) => m[1]).sort();
        const prose = fs.readFileSync(page, 'utf8');
        const listed = prose.slice(prose.indexOf('\nMetrics: '), prose.indexOf('Worth a graph'));
        const documented = [...new Set([...listed.matchAll(/`(huddle_\w+)`/g)].map((m) => m[1]))].sort();
        assert.deepEqual(documented, served, 'the Metrics paragraph lists every metric family of /metrics');
    });

    test('every marked example of the page was used', () => {
        assert.deepEqual(ex.unused(), []);
    });
});

function httpsGet(port, urlPath) {
    return new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, path: urlPath, rejectUnauthorized: false }, (res) => {
            let body = '';
            res.on('data', (d) => { body += d; });
            res.on('end', () => resolve({ status: res.statusCode, body }));
        });
        req.on('error', reject);
        req.setTimeout(2000, () => req.destroy(new Error('timeout')));
        req.end();
    });
}
