// A small promise-based wrapper over `ws`.
//
//   const c = await connect(srv.wsUrl(tok));
//   const ack = await c.next({ type: 'connection.ack' });
//   const res = await c.request({ action: 'subscribe', rooms: ['team:t1'] });
//   await c.expectNone({ type: 'issue.created' }, 200);
//   const { code } = await c.closed();
import WebSocket from 'ws';

import { token as mintToken } from './tokens.mjs';

const open = new Set();
process.on('exit', () => { for (const c of open) { try { c.ws.terminate(); } catch { /* ignore */ } } });

// A predicate may be a function, a string (the message type) or an object whose top-level
// entries must all be equal (===, or deep-equal for plain objects) in the message.
function toPredicate(p) {
    if (p === undefined || p === null) return () => true;
    if (typeof p === 'function') return p;
    if (typeof p === 'string') return (m) => m && m.type === p;
    if (typeof p === 'object') {
        return (m) => m !== null && typeof m === 'object' &&
            Object.entries(p).every(([k, v]) => (typeof v === 'object' && v !== null)
                ? JSON.stringify(m[k]) === JSON.stringify(v)
                : m[k] === v);
    }
    throw new TypeError('bad predicate');
}

function describePredicate(p) {
    if (typeof p === 'function') return p.name || p.toString().slice(0, 120);
    return JSON.stringify(p);
}

let seq = 0;

export class Client {
    constructor(ws, name) {
        this.ws = ws;
        this.name = name;
        this.inbox = [];     // received and not yet taken by next()
        this.history = [];   // everything received, for error messages
        this.waiters = [];
        this.closeInfo = null;
        this.closeWaiters = [];
        this.errors = [];
        this.nextId = 1;
        ws.on('message', (data, isBinary) => {
            let msg;
            if (isBinary) msg = { __binary: true, data };
            else {
                const text = data.toString('utf8');
                try { msg = JSON.parse(text); } catch { msg = { __raw: text }; }
            }
            this.history.push(msg);
            if (this.history.length > 200) this.history.shift();
            for (let i = 0; i < this.waiters.length; i++) {
                const w = this.waiters[i];
                if (w.pred(msg)) {
                    this.waiters.splice(i, 1);
                    w.resolve(msg);
                    return;
                }
            }
            this.inbox.push(msg);
        });
        ws.on('error', (e) => this.errors.push(e));
        ws.on('close', (code, reason) => {
            open.delete(this);
            this.closeInfo = { code, reason: reason.toString('utf8') };
            for (const w of this.closeWaiters) w(this.closeInfo);
            this.closeWaiters = [];
            for (const w of this.waiters) w.onClose(this.closeInfo);
            this.waiters = [];
        });
    }

    get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

    recent(n = 8) {
        return this.history.slice(-n).map((m) => JSON.stringify(m.__binary ? { binary: m.data.length } : m).slice(0, 300)).join('\n    ');
    }

    // The next message matching `pred` (messages that do not match stay in the inbox).
    next(pred, timeoutMs = 3000) {
        const f = toPredicate(pred);
        const i = this.inbox.findIndex(f);
        if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
        return new Promise((resolve, reject) => {
            const w = {
                pred: f,
                resolve: (m) => { clearTimeout(w.timer); resolve(m); },
                onClose: (ci) => {
                    clearTimeout(w.timer);
                    reject(new Error(`${this.name}: closed (code ${ci.code} "${ci.reason}") while waiting for ${describePredicate(pred)}; last received:\n    ${this.recent()}`));
                },
            };
            if (this.closeInfo) { w.onClose(this.closeInfo); return; }
            w.timer = setTimeout(() => {
                this.waiters = this.waiters.filter((x) => x !== w);
                reject(new Error(`${this.name}: no message matching ${describePredicate(pred)} within ${timeoutMs} ms; last received:\n    ${this.recent()}`));
            }, timeoutMs);
            this.waiters.push(w);
        });
    }

    // Asserts that nothing matching `pred` arrives within `ms` (or is already waiting in the inbox).
    async expectNone(pred, ms = 200) {
        const f = toPredicate(pred);
        const found = () => this.inbox.find(f);
        if (found()) throw new Error(`${this.name}: unexpected message ${JSON.stringify(found())}`);
        await new Promise((r) => setTimeout(r, ms));
        if (found()) throw new Error(`${this.name}: unexpected message ${JSON.stringify(found())}`);
    }

    // All messages received so far that match, removed from the inbox.
    drain(pred) {
        const f = toPredicate(pred);
        const out = this.inbox.filter(f);
        this.inbox = this.inbox.filter((m) => !f(m));
        return out;
    }

    send(obj) { this.ws.send(typeof obj === 'string' || Buffer.isBuffer(obj) ? obj : JSON.stringify(obj)); }
    sendText(text) { this.ws.send(text, { binary: false }); }
    sendBinary(buf) { this.ws.send(buf, { binary: true }); }

    // Sends `obj` with an `id` (unless it has one) and resolves the first message carrying that id.
    request(obj, timeoutMs = 3000) {
        const id = obj.id ?? `${this.name}-${this.nextId++}`;
        const msg = { ...obj, id };
        const p = this.next((m) => m && m.id === id, timeoutMs);
        this.send(msg);
        return p;
    }

    async ping(timeoutMs = 3000) {
        const r = await this.request({ type: 'ping' }, timeoutMs);
        if (r.type !== 'pong') throw new Error(`${this.name}: ping answered with ${JSON.stringify(r)}`);
        return r;
    }

    async subscribe(rooms, timeoutMs = 3000) {
        const r = await this.request({ action: 'subscribe', rooms }, timeoutMs);
        if (r.type !== 'subscribed') throw new Error(`${this.name}: subscribe answered with ${JSON.stringify(r)}`);
        return r;
    }

    // Resolves {code, reason} when the connection is closed.
    closed(timeoutMs = 3000) {
        if (this.closeInfo) return Promise.resolve(this.closeInfo);
        return new Promise((resolve, reject) => {
            const t = setTimeout(() => {
                this.closeWaiters = this.closeWaiters.filter((x) => x !== done);
                reject(new Error(`${this.name}: still open after ${timeoutMs} ms; last received:\n    ${this.recent()}`));
            }, timeoutMs);
            const done = (ci) => { clearTimeout(t); resolve(ci); };
            this.closeWaiters.push(done);
        });
    }

    close(code = 1000, reason = '') {
        if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
        return this.closed(3000).catch(() => { this.ws.terminate(); return this.closeInfo; });
    }

    terminate() { this.ws.terminate(); }
}

// Opens a WebSocket; resolves a Client once open. Rejects on an HTTP answer other than 101
// (error.statusCode, error.body) or a network error.
export function connect(url, { name, timeoutMs = 5000, ...wsOpts } = {}) {
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, ...wsOpts });
    const client = new Client(ws, name ?? `c${++seq}`);
    open.add(client);
    return new Promise((resolve, reject) => {
        let settled = false;
        const fail = (e) => { if (!settled) { settled = true; open.delete(client); try { ws.terminate(); } catch { /* ignore */ } reject(e); } };
        ws.once('open', () => { if (!settled) { settled = true; resolve(client); } });
        ws.once('unexpected-response', (req, res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            const finish = () => {
                const err = new Error(`${client.name}: upgrade refused with HTTP ${res.statusCode}`);
                err.statusCode = res.statusCode;
                err.body = Buffer.concat(chunks).toString('utf8');
                fail(err);
            };
            res.on('end', finish);
            res.on('error', finish);
            setTimeout(finish, 1000).unref();
        });
        ws.once('error', (e) => fail(e));
        ws.once('close', (code) => fail(new Error(`${client.name}: closed (${code}) before open`)));
    });
}

// Connects as `sub` with ?token= and waits for connection.ack; resolves the client (client.ack
// holds the ack). Fails with the server's error message if it sends one instead.
export async function connectUser(srv, sub, { token, name, ...opts } = {}) {
    const tok = token ?? await mintToken(sub);
    const c = await connect(srv.wsUrl(tok), { name: name ?? sub, ...opts });
    const first = await c.next((m) => m.type === 'connection.ack' || m.type === 'error', 3000);
    if (first.type !== 'connection.ack') {
        c.terminate();
        throw new Error(`${c.name}: expected connection.ack, got ${JSON.stringify(first)}`);
    }
    c.ack = first;
    return c;
}

// Closes every client given (ignores the ones already closed).
export async function closeAll(...clients) {
    await Promise.all(clients.flat().filter(Boolean).map((c) => c.close()));
}
