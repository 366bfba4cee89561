// Runs the real huddle binary for the browser tests: the demo configuration (config/demo.toml),
// the built pages (web/dist), a loopback port, its own data directory. restart() kills the process
// and starts it again on the same port and data directory, as an operator's restart would.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..', '..');
export const HUDDLE_BIN = process.env.HUDDLE_BIN || path.join(REPO_ROOT, 'build', 'asan', 'huddle');
export const ARTIFACTS_DIR = process.env.BROWSER_ARTIFACTS_DIR || path.join(REPO_ROOT, 'build', 'browser-artifacts');

const live = new Set();
process.on('exit', () => { for (const child of live) try { child.kill('SIGKILL'); } catch { /* gone */ } });

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

export function httpGet(port, urlPath, timeoutMs = 2000) {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
        });
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${urlPath} timed out`)));
        req.on('error', reject);
    });
}

export class Huddle {
    constructor() {
        this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'huddle-browser-'));
        this.logs = [];
        this.port = 0;
        this.child = null;
        this.starts = 0;
    }

    get url() { return `http://127.0.0.1:${this.port}`; }

    async start() {
        if (!this.port) this.port = await freePort();
        const env = {
            ...process.env,
            ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1:abort_on_error=1',
            HUDDLE_SERVER_DEMO_DIR: path.join(REPO_ROOT, 'web', 'dist'),
            HUDDLE_SERVER_SHUTDOWN_DEADLINE: '2s',
            HUDDLE_LOG_LEVEL: 'info',
        };
        // /demo/token works only with the development secret.
        for (const name of ['HUDDLE_AUTH_SECRET', 'HUDDLE_SECRET', 'HUDDLE_CONFIG']) delete env[name];
        const args = ['--config', path.join(REPO_ROOT, 'config', 'demo.toml'),
            '--host', '127.0.0.1', '--port', String(this.port), '--threads', '2'];
        const run = ++this.starts;
        const child = spawn(HUDDLE_BIN, args, { cwd: this.dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
        this.child = child;
        live.add(child);
        this.exited = new Promise((resolve) => child.once('exit', (code, signal) => { live.delete(child); resolve({ code, signal }); }));
        for (const stream of [child.stdout, child.stderr]) {
            stream.setEncoding('utf8');
            stream.on('data', (chunk) => {
                for (const line of chunk.split('\n')) if (line) this.logs.push(`[run ${run}] ${line}`);
                if (this.logs.length > 20000) this.logs.splice(0, 5000);
            });
        }
        const deadline = Date.now() + 20000;
        while (Date.now() < deadline) {
            try {
                if ((await httpGet(this.port, '/health', 1000)).status === 200) return this;
            } catch { /* not up yet */ }
            if (child.exitCode !== null || child.signalCode !== null) break;
            await sleep(50);
        }
        throw new Error(`huddle did not start on port ${this.port}: ${HUDDLE_BIN} ${args.join(' ')}\n${this.tail()}`);
    }

    // SIGKILL: no shutdown notice to the clients, as when a machine dies; the store must still
    // hold what it acknowledged.
    async kill() {
        if (!this.child) return;
        this.child.kill('SIGKILL');
        await this.exited;
        this.child = null;
    }

    async restart() {
        await this.kill();
        await this.start();
    }

    // A clean stop; rejects when the server exits badly or printed a sanitizer report.
    async stop() {
        if (!this.child) return;
        this.child.kill('SIGTERM');
        const result = await Promise.race([this.exited, sleep(15000).then(() => null)]);
        if (result === null) {
            await this.kill();
            throw new Error(`huddle did not exit within 15 s of SIGTERM\n${this.tail()}`);
        }
        this.child = null;
        const report = this.logs.find((l) => /ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:/.test(l));
        if (report) throw new Error(`huddle printed a sanitizer report:\n${this.tail(80)}`);
        if (result.code !== 0) throw new Error(`huddle exited with ${JSON.stringify(result)}\n${this.tail()}`);
    }

    cleanup() { fs.rmSync(this.dataDir, { recursive: true, force: true }); }

    tail(n = 40) { return this.logs.slice(-n).join('\n'); }
}
