// What the cluster test files share: a private redis-server and a private PostgreSQL on free
// loopback ports, a RESP client for inspecting Redis, the nodes' /health and /metrics, and stock
// y-websocket providers.
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';

import { waitFor } from './harness.mjs';
import { startServer, testTmpDir } from './server.mjs';

export const REDIS = '/usr/bin/redis-server';
export const NO_REDIS = !fs.existsSync(REDIS) && `${REDIS} is missing (scripts/install-deps.sh installs it)`;

export function startRedis(port, dir) {
    const child = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
        '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    return { child, exited };
}

// One command over RESP; resolves the parsed reply (arrays, integers, strings).
export function redisCommand(port, args) {
    return new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        let buffer = Buffer.alloc(0);
        socket.setTimeout(2000, () => socket.destroy(new Error('redis timed out')));
        socket.on('error', reject);
        socket.on('connect', () => {
            let text = `*${args.length}\r\n`;
            for (const a of args) text += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
            socket.write(text);
        });
        const parse = (pos) => {
            const end = buffer.indexOf('\r\n', pos);
            if (end < 0) return null;
            const kind = String.fromCharCode(buffer[pos]);
            const line = buffer.toString('utf8', pos + 1, end);
            if (kind === '+' || kind === '-') return { value: line, next: end + 2 };
            if (kind === ':') return { value: Number(line), next: end + 2 };
            if (kind === '$') {
                const n = Number(line);
                if (n < 0) return { value: null, next: end + 2 };
                if (buffer.length < end + 2 + n + 2) return null;
                return { value: buffer.toString('utf8', end + 2, end + 2 + n), next: end + 2 + n + 2 };
            }
            if (kind === '*') {
                const items = [];
                let next = end + 2;
                for (let i = 0; i < Number(line); i++) {
                    const item = parse(next);
                    if (!item) return null;
                    items.push(item.value);
                    next = item.next;
                }
                return { value: items, next };
            }
            throw new Error(`unexpected RESP ${kind}`);
        };
        socket.on('data', (chunk) => {
            buffer = Buffer.concat([buffer, chunk]);
            const reply = parse(0);
            if (reply) { socket.end(); resolve(reply.value); }
        });
    });
}

// Starts redis-server in a fresh directory under the tests' temporary folder and waits for its
// PING. `dir` is kept for a restart on the same data (startRedis(port, dir)).
export async function startRedisReady(port) {
    const dir = fs.mkdtempSync(path.join(testTmpDir(), 'redis-'));
    const redis = startRedis(port, dir);
    await waitFor(async () => {
        try { return (await redisCommand(port, ['PING'])) === 'PONG'; } catch { return false; }
    }, { what: 'redis-server up', timeoutMs: 5000 });
    return { ...redis, dir };
}

// Nodes subscribed to a room's channel (`#doc:<name>` for a document).
export async function subscribers(redisPort, room) {
    const reply = await redisCommand(redisPort, ['PUBSUB', 'NUMSUB', `huddle:room:${room}`]);
    return reply[1];
}

export async function metric(srv, name) {
    const r = await srv.http('GET', '/metrics');
    const line = r.text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
}

export async function brokerState(srv) {
    return (await srv.http('GET', '/health')).json;
}

// A node of the cluster (options as startServer's, with broker.url in the env), once its broker
// is connected.
export async function startClusterNode(options) {
    const node = await startServer(options);
    await waitFor(async () => (await brokerState(node)).broker?.state === 'connected',
        { what: 'broker connected', timeoutMs: 5000 });
    return node;
}

// The newest installed PostgreSQL server binaries, or null.
export const PG_BIN = (() => {
    try {
        const versions = fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
        const bin = versions.length ? `/usr/lib/postgresql/${versions.at(-1)}/bin` : null;
        return bin && fs.existsSync(`${bin}/initdb`) ? bin : null;
    } catch { return null; }
})();

// initdb and postgres refuse to run as root: then they run as the postgres user.
// `halt()` and `resume()` (async: the test's clients keep running meanwhile) stop it (immediate:
// no checkpoint, like a crash) and start it again on the same port and data directory; `stop()`
// stops it for good and removes its directory.
export function startPostgres(port) {
    const dir = fs.mkdtempSync(path.join('/tmp', 'huddle-it-pg-'));
    const asUser = process.getuid() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
    if (asUser.length) execFileSync('chown', ['postgres:', dir]);
    const argv = (bin, args) => [...asUser, `${PG_BIN}/${bin}`, ...args];
    const run = (bin, args) => {
        const [file, ...rest] = argv(bin, args);
        execFileSync(file, rest, { stdio: 'ignore', timeout: 60000 });
    };
    const runAsync = async (bin, args) => {
        const [file, ...rest] = argv(bin, args);
        await promisify(execFile)(file, rest, { timeout: 60000 });
    };
    const startArgs = ['-D', `${dir}/data`, '-l', `${dir}/server.log`, '-w', '-t', '60', '-o',
        `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off`, 'start'];
    const haltArgs = ['-D', `${dir}/data`, '-m', 'immediate', '-w', 'stop'];
    run('initdb', ['-D', `${dir}/data`, '-U', 'huddle', '--auth=trust', '--no-locale', '-E', 'UTF8']);
    run('pg_ctl', startArgs);
    run('createdb', ['-h', dir, '-p', String(port), '-U', 'huddle', 'huddle']);
    return {
        url: `postgres://huddle@127.0.0.1:${port}/huddle`,
        port,
        halt: () => runAsync('pg_ctl', haltArgs),
        resume: () => runAsync('pg_ctl', startArgs),
        stop() {
            try { run('pg_ctl', haltArgs); } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        },
    };
}

// A stock y-websocket provider on `/yjs` of `target` (a node, or anything with a `port`).
export function openDocPeer(target, document, tok, name) {
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(`ws://127.0.0.1:${target.port}/yjs`, document, doc, {
        WebSocketPolyfill: WebSocket, params: { token: tok }, disableBc: true, maxBackoffTime: 1000,
    });
    return { name, doc, provider, text: doc.getText('content') };
}

export async function closeDocPeers(...peers) {
    await Promise.all(peers.map(async (p) => {
        const ws = p.provider.ws;
        p.provider.destroy();
        p.doc.destroy();
        if (ws && ws.readyState !== WebSocket.CLOSED) {
            await new Promise((resolve) => {
                const t = setTimeout(() => { ws.terminate(); resolve(); }, 1000);
                ws.once('close', () => { clearTimeout(t); resolve(); });
            });
        }
    }));
}
