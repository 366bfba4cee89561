// Starts the real `huddle` binary on a free loopback port and talks HTTP to it.
//
//   const srv = await startServer({ env: { HUDDLE_LIMITS_MESSAGES_PER_MINUTE: '5' } });
//   after(() => srv.stop());
//
// Every server started here is registered; whatever happens to the test process (normal exit,
// uncaught error, SIGTERM/SIGINT from the runner) the children are killed, so no orphan is left.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { SECRET, API_KEY } from './tokens.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..', '..');
export const HUDDLE_BIN = process.env.HUDDLE_BIN || path.join(REPO_ROOT, 'build', 'asan', 'huddle');
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'tests', 'integration', 'artifacts');

// Limits that every test server gets unless the test overrides them: all tests connect from
// 127.0.0.1, so the per-IP defaults (120 handshakes, 10 failed auths per minute) would otherwise
// make unrelated tests interfere with each other.
export const BASE_ENV = {
    HUDDLE_LIMITS_HANDSHAKES_PER_IP_PER_MINUTE: '100000',
    HUDDLE_LIMITS_FAILED_AUTHS_PER_IP_PER_MINUTE: '100000',
    HUDDLE_LIMITS_MAX_CONNECTIONS_PER_IP: '100000',
    HUDDLE_SERVER_SHUTDOWN_DEADLINE: '3s',
};

export function binaryMissingReason() {
    try {
        fs.accessSync(HUDDLE_BIN, fs.constants.X_OK);
        return null;
    } catch {
        return `huddle binary not found at ${HUDDLE_BIN} (build it with the asan preset or set HUDDLE_BIN)`;
    }
}

const live = new Set();

function killAllSync() {
    for (const srv of live) {
        try { srv.child.kill('SIGKILL'); } catch { /* already gone */ }
    }
    live.clear();
}
process.on('exit', killAllSync);
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.once(sig, () => { killAllSync(); process.exit(128 + (os.constants.signals[sig] || 15)); });
}

export function liveServers() { return [...live]; }

export async function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.unref();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// One HTTP request; resolves {status, headers, text, json} (json is null when the body is not JSON).
export function httpRequest(port, method, urlPath, body = undefined, headers = {}, { agent, timeoutMs = 5000 } = {}) {
    return new Promise((resolve, reject) => {
        let data;
        const h = { ...headers };
        if (body !== undefined && body !== null) {
            if (typeof body === 'string' || Buffer.isBuffer(body)) {
                data = Buffer.from(body);
            } else {
                data = Buffer.from(JSON.stringify(body));
                if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
            }
            h['Content-Length'] = data.length;
        }
        const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers: h, agent: agent ?? false }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                let json = null;
                try { json = JSON.parse(text); } catch { /* not JSON */ }
                resolve({ status: res.statusCode, headers: res.headers, text, json });
            });
            res.on('error', reject);
        });
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`HTTP ${method} ${urlPath} timed out after ${timeoutMs} ms`)));
        req.on('error', reject);
        if (data) req.write(data);
        req.end();
    });
}

function lineCollector(logs, stream, name) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
        partial += chunk;
        let i;
        while ((i = partial.indexOf('\n')) >= 0) {
            logs.push(`[${name}] ${partial.slice(0, i)}`);
            partial = partial.slice(i + 1);
        }
        if (logs.length > 20000) logs.splice(0, logs.length - 20000);
    });
    stream.on('end', () => { if (partial) logs.push(`[${name}] ${partial}`); partial = ''; });
}

let tmpDir = null;
export function testTmpDir() {
    if (!tmpDir) {
        tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'huddle-it-'));
        process.on('exit', () => { try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch { /* ignore */ } });
    }
    return tmpDir;
}

let serial = 0;

async function startOnce({ env, config, args, readyTimeoutMs, cwd, port: fixedPort }) {
    // A restart test passes the previous server's port, so that its clients come back to it.
    const port = fixedPort ?? await freePort();
    const id = ++serial;
    const dir = testTmpDir();
    // A restart test passes the previous server's directory: same ./data, same store.
    const dataDir = cwd ?? fs.mkdtempSync(path.join(dir, `data-${id}-`));
    const argv = ['--host', '127.0.0.1', '--port', String(port), '--threads', '2'];
    if (config !== null && config !== undefined) {
        const file = path.join(dir, `config-${id}.toml`);
        fs.writeFileSync(file, config);
        argv.push('--config', file);
    }
    argv.push(...args);
    const childEnv = {
        ...process.env,
        HUDDLE_AUTH_SECRET: SECRET,
        HUDDLE_API_API_KEY: API_KEY,
        ...BASE_ENV,
        ...env,
    };
    // `env: { NAME: undefined }` removes a variable (e.g. to start with the development secret).
    for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
    const logs = [];
    const child = spawn(HUDDLE_BIN, argv, { env: childEnv, cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let exitInfo = null;
    const exited = new Promise((resolve) => {
        child.once('exit', (code, signal) => { exitInfo = { code, signal }; resolve(exitInfo); });
        child.once('error', (err) => { logs.push(`[spawn] ${err.message}`); exitInfo = { code: null, signal: null, error: err }; resolve(exitInfo); });
    });
    lineCollector(logs, child.stdout, 'out');
    lineCollector(logs, child.stderr, 'err');

    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const srv = {
        id,
        port,
        cwd: dataDir,
        url: `http://127.0.0.1:${port}`,
        child,
        pid: child.pid,
        argv,
        logs,
        exited,
        get exitInfo() { return exitInfo; },
        wsUrl(token, { path: p = '/ws', query = {} } = {}) {
            const u = new URL(`ws://127.0.0.1:${port}${p}`);
            if (token !== undefined && token !== null) u.searchParams.set('token', token);
            for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
            return u.toString();
        },
        http(method, urlPath, body, headers = {}, opts = {}) {
            return httpRequest(port, method, urlPath, body, headers, opts);
        },
        // Backend API call with the API key.
        api(method, urlPath, body, headers = {}, opts = {}) {
            return httpRequest(port, method, urlPath, body, { 'X-API-Key': API_KEY, ...headers }, { agent, ...opts });
        },
        async stop(signal = 'SIGTERM', timeoutMs = 15000) {
            if (exitInfo) { live.delete(srv); agent.destroy(); return exitInfo; }
            try { child.kill(signal); } catch { /* gone */ }
            let timer;
            const res = await Promise.race([
                exited,
                new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); }),
            ]);
            clearTimeout(timer);
            agent.destroy();
            if (res === null) {
                logs.push(`[harness] server did not exit within ${timeoutMs} ms after ${signal}: SIGKILL`);
                child.kill('SIGKILL');
                await exited;
                live.delete(srv);
                return { code: null, signal: 'SIGKILL', timedOut: true };
            }
            live.delete(srv);
            return res;
        },
        async kill9() {
            if (!exitInfo) child.kill('SIGKILL');
            const r = await exited;
            agent.destroy();
            live.delete(srv);
            return r;
        },
        // Text of any sanitizer report the server printed, or null.
        sanitizerReport() {
            const i = logs.findIndex((l) => /ERROR: (Address|Leak|UndefinedBehavior|Thread)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer/.test(l));
            return i < 0 ? null : logs.slice(i, i + 60).join('\n');
        },
        tail(n = 60) { return logs.slice(-n).join('\n'); },
    };
    live.add(srv);

    const deadline = Date.now() + readyTimeoutMs;
    let lastErr = null;
    while (Date.now() < deadline) {
        if (exitInfo) break;
        try {
            const r = await httpRequest(port, 'GET', '/health', undefined, {}, { timeoutMs: 1000 });
            if (r.status === 200) return srv;
            lastErr = new Error(`/health answered ${r.status}: ${r.text.slice(0, 200)}`);
        } catch (e) {
            lastErr = e;
        }
        await sleep(50);
    }
    if (!exitInfo) await srv.kill9();
    else live.delete(srv);
    const err = new Error(
        `huddle did not become healthy on port ${port} ` +
        (exitInfo ? `(exited early: code=${exitInfo.code} signal=${exitInfo.signal})` : `within ${readyTimeoutMs} ms (${lastErr?.message})`) +
        `\ncommand: ${HUDDLE_BIN} ${argv.join(' ')}\n--- server output ---\n${logs.slice(-60).join('\n')}`);
    err.earlyExit = !!exitInfo;
    err.logs = logs;
    throw err;
}

// Starts a server; retries on another port when the chosen one was taken in the meantime.
export async function startServer({ env = {}, config = null, args = [], readyTimeoutMs = 15000, cwd = undefined, port = undefined } = {}) {
    const missing = binaryMissingReason();
    if (missing) throw new Error(missing);
    for (let attempt = 1; ; attempt++) {
        try {
            return await startOnce({ env, config, args, readyTimeoutMs, cwd, port });
        } catch (e) {
            const portTaken = e.earlyExit && e.logs.some((l) => /address already in use|EADDRINUSE|bind/i.test(l));
            if (!portTaken || attempt >= 3 || port !== undefined) throw e;
        }
    }
}

// Stops a server in an `after` hook and fails loudly if it crashed or a sanitizer complained.
export async function stopAndCheck(srv, { signal = 'SIGTERM' } = {}) {
    if (!srv) return;
    const wasDead = !!srv.exitInfo;
    const res = await srv.stop(signal);
    const report = srv.sanitizerReport();
    if (report) {
        writeArtifact(`server-${srv.id}-sanitizer.log`, srv.logs.join('\n'));
        throw new Error(`server ${srv.id} (port ${srv.port}) printed a sanitizer report:\n${report}`);
    }
    if (wasDead) {
        throw new Error(`server ${srv.id} (port ${srv.port}) died during the tests: code=${res.code} signal=${res.signal}\n${srv.tail(60)}`);
    }
    if (res.timedOut || res.code !== 0) {
        throw new Error(`server ${srv.id} (port ${srv.port}) did not exit cleanly after ${signal}: code=${res.code} signal=${res.signal}\n${srv.tail(60)}`);
    }
    return res;
}

export function writeArtifact(name, text) {
    try {
        fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
        const file = path.join(ARTIFACTS_DIR, name.replace(/[^A-Za-z0-9_.-]+/g, '_'));
        fs.writeFileSync(file, text);
        return file;
    } catch {
        return null;
    }
}
