// Cost of a recovery: a client that missed N events of a history room reconnects with its offset;
// measures the time from sending the subscribe to receiving room.position (all N replayed).
//   node bench/peers/recovery.mjs --bin build/release/huddle --missed 1000 --runs 5
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.replace(/^--/, ''), all[i + 1]]] : acc), []));
const bin = path.resolve(args.bin ?? path.join(here, '..', '..', 'build', 'release', 'huddle'));
const missed = Number(args.missed ?? 1000);
const runs = Number(args.runs ?? 5);
const port = Number(args.port ?? 3777);
const apiKey = 'huddle-development-api-key';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'huddle-recovery-'));
const server = spawn(bin, ['--port', String(port), '--threads', '1', '--config', path.join(here, '..', 'huddle-bench.toml')], { cwd: dir, stdio: 'ignore' });
const token = execFileSync(bin, ['token', '--sub', 'bench', '--ttl', '1h']).toString().trim();
const api = (p, body) => fetch(`http://127.0.0.1:${port}${p}`, { method: 'POST', headers: { 'X-API-Key': apiKey, 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function ready() {
    for (let i = 0; i < 100; i++) {
        try { if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return; } catch { /* not yet */ }
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('server did not start');
}

function connect() {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
    const queue = [];
    let waiter = null;
    ws.on('message', (d) => { const m = JSON.parse(d.toString()); if (waiter && waiter.pred(m)) { const w = waiter; waiter = null; w.resolve(m); } else queue.push(m); });
    const next = (pred) => new Promise((resolve) => { const i = queue.findIndex(pred); if (i >= 0) resolve(queue.splice(i, 1)[0]); else waiter = { pred, resolve }; });
    return new Promise((resolve) => ws.on('open', () => resolve({ ws, next, queue })));
}

try {
    await ready();
    const times = [];
    for (let run = 0; run < runs; run++) {
        const room = `hist:recovery-${run}`;
        const c = await connect();
        c.ws.send(JSON.stringify({ action: 'subscribe', rooms: [room] }));
        const start = await c.next((m) => m.type === 'room.position');
        c.ws.close();
        // N events while the client is away (concurrent publishes; the server orders them).
        for (let i = 0; i < missed; i += 100) {
            await Promise.all(Array.from({ length: Math.min(100, missed - i) }, (_, k) => api('/api/publish', { room, type: 'msg', payload: { i: i + k, text: 'x'.repeat(64) } })));
        }
        const back = await connect();
        const t0 = process.hrtime.bigint();
        back.ws.send(JSON.stringify({ action: 'subscribe', rooms: [room], recover: { [room]: { offset: start.offset, epoch: start.epoch } } }));
        const position = await back.next((m) => m.type === 'room.position');
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const replayed = back.queue.filter((m) => m.type === 'msg').length;
        if (!position.recovered || replayed !== missed) throw new Error(`run ${run}: recovered=${position.recovered} replayed=${replayed}`);
        times.push(ms);
        back.ws.close();
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(`recovery of ${missed} missed events: median ${median.toFixed(1)} ms (min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)}) over ${runs} runs`);
    console.log(`RESULT ${JSON.stringify({ missed, runs, median_ms: median, min_ms: times[0], max_ms: times[times.length - 1] })}`);
} finally {
    server.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
}
