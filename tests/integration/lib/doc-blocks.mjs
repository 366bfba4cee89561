// The examples of a markdown page, for tests that run them as a reader would.
//
// A fenced block is an example when the line before it (blank lines aside) is a marker:
//   <!-- test: run NAME (note) -->     a shell command the test runs
//   <!-- test: file NAME -->           saved as the file NAME in the reader's folder
//   <!-- test: output NAME -->         what a run prints, compared by sameOutput()
//   <!-- test: skip (why) -->          shown, not run (the note must say why)
// Every fenced block of a checked page must carry one, so that no example goes untested unnoticed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const MARKER = /^<!--\s*test:\s*(run|file|output|skip)\b\s*([^\s(]*)\s*(?:\((.*)\))?\s*-->$/;
const FENCE = /^```(\S*)/;

// [{kind, name, note, lang, text, line}] for every fenced block; kind is null when unmarked.
export function fencedBlocks(file) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const blocks = [];
    let marker = null;
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        const fence = line.match(FENCE);
        if (!fence) {
            const m = line.trim().match(MARKER);
            if (m) marker = { kind: m[1], name: m[2] || null, note: m[3] ?? null, markerLine: i + 1 };
            else if (line.trim() !== '') marker = null;
            continue;
        }
        const start = i;
        const body = [];
        for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
        blocks.push({ kind: marker?.kind ?? null, name: marker?.name ?? null, note: marker?.note ?? null,
            lang: fence[1], text: `${body.join('\n')}\n`, line: start + 1 });
        marker = null;
    }
    return blocks;
}

// The marked blocks of a page by kind and name; fails on unmarked blocks, unnamed runs, files and
// outputs, skips without a reason, and names used twice.
export function examples(file) {
    const byKey = new Map();
    const problems = [];
    for (const b of fencedBlocks(file)) {
        const where = `${file}:${b.line}`;
        if (!b.kind) { problems.push(`${where}: fenced block without a <!-- test: ... --> marker`); continue; }
        if (b.kind === 'skip') { if (!b.note) problems.push(`${where}: skip without a reason`); continue; }
        if (!b.name) { problems.push(`${where}: ${b.kind} without a name`); continue; }
        const key = `${b.kind} ${b.name}`;
        if (byKey.has(key)) problems.push(`${where}: ${key} defined twice`);
        byKey.set(key, b);
    }
    if (problems.length) throw new Error(problems.join('\n'));
    const used = new Set();
    const get = (kind, name) => {
        const b = byKey.get(`${kind} ${name}`);
        if (!b) throw new Error(`${file}: no block marked "${kind} ${name}"`);
        used.add(`${kind} ${name}`);
        return b;
    };
    return {
        run: (name) => get('run', name),
        file: (name) => get('file', name),
        output: (name) => get('output', name),
        unused: () => [...byKey.keys()].filter((k) => !used.has(k)),
    };
}

// Values that differ from run to run: compared by type only.
const VOLATILE = new Set(['timestamp', 'connectionId', 'epoch', 'token', 'iat', 'exp']);

function shape(value, key = null) {
    if (key !== null && VOLATILE.has(key)) return `<${typeof value}>`;
    if (Array.isArray(value)) return value.map((v) => shape(v));
    if (value !== null && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v, k)]));
    }
    return value;
}

// A line of output as compared: JSON lines by their values (volatile ones by type), key order
// included; other lines as they are.
export function comparable(line) {
    try {
        return JSON.stringify(shape(JSON.parse(line)));
    } catch {
        return line;
    }
}

export function outputLines(text) {
    return text.split('\n').filter((l) => l.trim() !== '');
}

// Runs a shell script as a reader would type it; resolves {code, stdout, stderr}.
export function runShell(script, { cwd, env, timeoutMs = 15000 }) {
    return new Promise((resolve, reject) => {
        const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => { stdout += d; });
        child.stderr.on('data', (d) => { stderr += d; });
        const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out after ${timeoutMs} ms: ${script}\n${stderr}`)); }, timeoutMs);
        child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    });
}

// Starts a shell script that keeps running (a client in "another terminal"); its stdout lines
// accumulate in `lines`. stop() ends it and everything it started.
export function startShell(script, { cwd, env }) {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = { child, lines: [], stderr: '', exited: false };
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
        partial += d;
        let i;
        while ((i = partial.indexOf('\n')) >= 0) {
            proc.lines.push(partial.slice(0, i));
            partial = partial.slice(i + 1);
        }
    });
    child.stderr.on('data', (d) => { proc.stderr += d; });
    const closed = new Promise((resolve) => child.on('close', () => { proc.exited = true; resolve(); }));
    proc.stop = async () => {
        if (!proc.exited) {
            try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
        }
        await closed;
    };
    process.on('exit', () => { if (!proc.exited) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } } });
    return proc;
}
