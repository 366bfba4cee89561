// Huddle client: the native /ws JSON protocol (docs/protocol.md) behind a small promise-based API.
// No dependencies; runs in browsers and in Node (global WebSocket from Node 22, or pass `ws`).
//
// What it adds over a bare WebSocket: reconnect with capped, jittered exponential backoff; a token
// function called on every (re)connect and before expiry (in-band `refresh`); rooms resubscribed
// after a reconnect with the last epoch+offset seen, so that history rooms replay what was missed
// (deduplicated by offset) and the app is told when they could not.

const RESERVED = new Set(['join', 'leave', 'typing', 'recovery', 'removed', 'error', '*']);
// Close codes after which reconnecting cannot help (docs/protocol.md, "Close codes"). 4401 is
// terminal only for a fixed token: a token function may give a valid one next time.
const TERMINAL_CLOSES = new Set([1002, 1003, 1007, 1009, 4403]);
// Error messages that announce the close that follows; the others leave the connection open.
const CLOSING_ERRORS = new Set(['UNAUTHORIZED', 'TOKEN_EXPIRED', 'MESSAGE_TOO_LARGE', 'RATE_LIMIT_EXCEEDED', 'CONNECTION_LIMIT']);

export class HuddleError extends Error {
    constructor(code, message, extra = {}) {
        super(message || code);
        this.name = 'HuddleError';
        this.code = code;
        Object.assign(this, extra);
    }
}

// A minimal event emitter: Node's EventEmitter is not available in browsers.
class Emitter {
    #handlers = new Map();
    on(name, fn) {
        if (!this.#handlers.has(name)) this.#handlers.set(name, new Set());
        this.#handlers.get(name).add(fn);
        return () => this.off(name, fn);
    }
    once(name, fn) {
        const off = this.on(name, (...args) => { off(); fn(...args); });
        return off;
    }
    off(name, fn) { this.#handlers.get(name)?.delete(fn); }
    emit(name, ...args) {
        for (const fn of [...(this.#handlers.get(name) ?? [])]) {
            // One failing handler must not stop the others nor break the connection's bookkeeping.
            try { fn(...args); } catch (err) { queueMicrotask(() => { throw err; }); }
        }
    }
}

// The `exp` claim (ms) of a JWT, read without verifying: only to know when to refresh.
function expiryMs(token) {
    try {
        const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
        const exp = JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '='))).exp;
        return typeof exp === 'number' ? exp * 1000 : null;
    } catch {
        return null;
    }
}

export class Room extends Emitter {
    constructor(client, name, options) {
        super();
        this.client = client;
        this.name = name;
        this.options = options;   // { token } for subscription-token namespaces
        this.subscribed = false;
        this.epoch = null;        // history rooms: where this client stands, for recovery
        this.offset = null;
        this.typingState = false;
        this._typingTimer = null;
    }

    publish(type, payload) {
        return this.client._request({ action: 'publish', room: this.name, type, payload });
    }

    async presence() {
        return (await this.client._request({ action: 'presence', room: this.name })).users;
    }

    // Ephemeral: sent only when connected and only when the state changes (the server relays
    // changes only, and every notice counts against its typing limit). typing(true) may be called
    // on every keystroke: it turns itself off after `typingTimeoutMs` without another call.
    typing(on = true) {
        on = !!on;
        this.client._clearTimer(this._typingTimer);
        if (on) this._typingTimer = this.client._timer(() => this.typing(false), this.client.typingTimeoutMs);
        if (on === this.typingState || !this.subscribed) return;
        if (this.client._sendNow({ action: 'typing', room: this.name, typing: on })) this.typingState = on;
    }

    unsubscribe() { return this.client._unsubscribe(this); }

    _event(msg) {
        if (typeof msg.offset === 'number') {
            // A replay after a reconnect may repeat what a live delivery already gave.
            if (msg.epoch === this.epoch && this.offset !== null && msg.offset <= this.offset) return;
            this.epoch = msg.epoch;
            this.offset = msg.offset;
        }
        const data = msg.payload;
        if (msg.type === 'user.joined') this.emit('join', data, msg);
        else if (msg.type === 'user.left') this.emit('leave', data, msg);
        else if (msg.type === 'user.typing') this.emit('typing', data, msg);
        else if (!RESERVED.has(msg.type)) this.emit(msg.type, data, msg);
        this.emit('*', msg.type, data, msg);
    }
}

export class HuddleClient extends Emitter {
    constructor(url, options = {}) {
        super();
        new URL(url);  // a bad URL fails here, not later inside a reconnect
        this.url = url;
        this.options = options;
        this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
        if (typeof this.WebSocket !== 'function') {
            throw new TypeError('no WebSocket: pass options.WebSocket (e.g. the `ws` package) on Node < 22');
        }
        this.reconnect = { initialDelayMs: 250, maxDelayMs: 10000, factor: 2, jitter: 0.5, maxAttempts: Infinity, ...options.reconnect };
        this.requestTimeoutMs = options.requestTimeoutMs ?? 10000;
        this.connectTimeoutMs = options.connectTimeoutMs ?? 10000;
        this.pingIntervalMs = options.pingIntervalMs ?? 25000;
        this.typingTimeoutMs = options.typingTimeoutMs ?? 5000;
        this.state = 'idle';
        this.rooms = new Map();
        this.userId = null;
        this.connectionId = null;
        this._ws = null;
        this._nextId = 1;
        this._pending = new Map();  // id -> {resolve, reject, timer}: sent, waiting for the answer
        this._queue = [];           // requests made while (re)connecting, sent once resubscribed
        this._ready = false;        // connected and the rooms resubscribed: requests go out at once
        this._attempt = 0;          // failed attempts since the last connection
        this._everConnected = false;
        this._timers = new Set();
        this._connectWaiters = [];
    }

    connect() {
        if (this.state === 'connected') return Promise.resolve(this);
        const done = new Promise((resolve, reject) => this._connectWaiters.push({ resolve, reject }));
        if (this.state === 'idle' || this.state === 'closed') {
            this._attempt = 0;
            this._open('connecting');
        }
        return done;
    }

    // Clean close: no reconnect; every unanswered request is rejected.
    close() {
        if (this.state === 'closed') return Promise.resolve();
        const ws = this._ws;
        this._ready = false;
        this._teardown(new HuddleError('CLOSED', 'the client was closed'));
        this._setState('closed');
        if (!ws || ws.readyState === 3) return Promise.resolve();
        return new Promise((resolve) => {
            // A dead peer never answers the close frame: do not wait for it long.
            const timer = setTimeout(resolve, 2000);
            ws.onclose = () => { clearTimeout(timer); resolve(); };
            try { ws.close(1000, 'client closed'); } catch { clearTimeout(timer); resolve(); }
        });
    }

    async subscribe(name, options = {}) {
        let room = this.rooms.get(name);
        if (room?.subscribed) return room;
        if (room?._subscribing) return room._subscribing;
        room = room ?? new Room(this, name, options);
        this.rooms.set(name, room);
        room._subscribing = (async () => {
            try {
                const answer = await this._request({ action: 'subscribe', rooms: [name], ...(await this._roomTokens([room])) });
                const result = answer.rooms.find((r) => r.room === name);
                if (!result?.ok) throw new HuddleError(result?.error?.code ?? 'UNKNOWN_ERROR', result?.error?.message);
                room.subscribed = true;
                return room;
            } catch (err) {
                if (!room.subscribed) this.rooms.delete(name);
                throw err;
            } finally {
                room._subscribing = null;
            }
        })();
        return room._subscribing;
    }

    async _unsubscribe(room) {
        this.rooms.delete(room.name);
        const wasSubscribed = room.subscribed;
        room.subscribed = false;
        if (wasSubscribed && this.state === 'connected') await this._request({ action: 'unsubscribe', rooms: [room.name] });
    }

    async _roomTokens(rooms) {
        const tokens = {};
        for (const room of rooms) {
            const t = room.options.token;
            if (t) tokens[room.name] = typeof t === 'function' ? await t(room.name) : t;
        }
        return Object.keys(tokens).length ? { tokens } : {};
    }

    // A request answered by the server (matched by id). Made while (re)connecting it waits in the
    // queue; one sent on a connection that then drops is rejected (DISCONNECTED), because whether
    // the server acted on it is unknown.
    _request(body, { now = false } = {}) {
        if (this.state === 'idle' || this.state === 'closed') {
            return Promise.reject(new HuddleError('NOT_CONNECTED', 'call connect() first'));
        }
        return new Promise((resolve, reject) => {
            const entry = { body: { ...body, id: this._nextId++ }, resolve, reject };
            entry.timer = this._timer(() => {
                this._pending.delete(entry.body.id);
                this._queue = this._queue.filter((e) => e !== entry);
                reject(new HuddleError('TIMEOUT', `no answer to ${body.action} within ${this.requestTimeoutMs} ms`));
            }, this.requestTimeoutMs);
            if (this.state === 'connected' && (this._ready || now)) this._send(entry);
            else this._queue.push(entry);
        });
    }

    _send(entry) {
        this._pending.set(entry.body.id, entry);
        this._sendNow(entry.body);
    }

    _sendNow(body) {
        if (this.state !== 'connected' || this._ws?.readyState !== 1) return false;
        this._ws.send(JSON.stringify(body));
        return true;
    }

    _timer(fn, ms) {
        const t = setTimeout(() => { this._timers.delete(t); fn(); }, ms);
        this._timers.add(t);
        return t;
    }

    _clearTimer(t) { clearTimeout(t); this._timers.delete(t); }

    _setState(state) {
        if (state === this.state) return;
        this.state = state;
        this.emit('state', state);
    }

    async _token() {
        const t = this.options.token;
        return typeof t === 'function' ? await t() : t;
    }

    async _open(state) {
        this._setState(state);
        let token;
        try {
            token = await this._token();
        } catch (err) {
            this.emit('error', new HuddleError('TOKEN_FUNCTION_FAILED', String(err?.message ?? err)));
            return this._lost(null);
        }
        if (this.state !== state) return;  // closed while the token function ran
        const url = new URL(this.url);
        if (token) url.searchParams.set(this.options.tokenParam ?? 'token', token);
        let ws;
        try {
            ws = new this.WebSocket(url.toString());
        } catch (err) {
            this.emit('error', new HuddleError('TRANSPORT_ERROR', String(err?.message ?? err)));
            return this._lost(null);
        }
        this._ws = ws;
        this._usedToken = token;
        this._serverError = null;
        // A handshake that hangs (server up but stuck, half-open network) must not stall forever.
        this._handshakeTimer = this._timer(() => this._drop(ws, 'CONNECT_TIMEOUT'), this.connectTimeoutMs);
        ws.onmessage = (e) => { if (this._ws === ws) this._message(e.data); };
        ws.onclose = (e) => { if (this._ws === ws) this._lost(e.code); };
        ws.onerror = () => {};  // the close event that follows carries what matters
    }

    _message(data) {
        let msg;
        try { msg = JSON.parse(typeof data === 'string' ? data : String(data)); } catch { return; }
        if (!msg || typeof msg !== 'object') return;
        this._lastHeard = Date.now();
        const pending = msg.id !== undefined ? this._pending.get(msg.id) : undefined;
        if (pending) {
            this._pending.delete(msg.id);
            this._clearTimer(pending.timer);
            if (msg.type === 'error') pending.reject(new HuddleError(msg.payload?.code, msg.payload?.message, msg.payload));
            else pending.resolve(msg);
            return;
        }
        switch (msg.type) {
            case 'connection.ack': return this._connected(msg.payload ?? {});
            case 'error': {
                const err = new HuddleError(msg.payload?.code, msg.payload?.message, msg.payload);
                if (this.state !== 'connected' || CLOSING_ERRORS.has(err.code)) this._serverError = err;
                return this.emit('error', err);
            }
            case 'room.position': return this._position(msg);
            case 'removed': {
                const room = this.rooms.get(msg.room);
                if (!room) return;
                this.rooms.delete(msg.room);
                room.subscribed = false;
                return room.emit('removed', msg.payload ?? {}, msg);
            }
            case 'pong': case 'server_shutdown': return;  // the close that follows a shutdown reconnects
        }
        if (typeof msg.room === 'string') {
            this.rooms.get(msg.room)?._event(msg);
            this.emit('event', msg);
        }
    }

    _connected({ userId, connectionId }) {
        this._clearTimer(this._handshakeTimer);
        const again = this._everConnected;
        this._everConnected = true;
        this._attempt = 0;
        this.userId = userId;
        this.connectionId = connectionId;
        this._lastHeard = Date.now();
        this._setState('connected');
        this._scheduleRefresh(expiryMs(this._usedToken ?? ''));
        this._schedulePing();
        if (again) this._resubscribe();
        else this._flushQueue();
        for (const w of this._connectWaiters.splice(0)) w.resolve(this);
    }

    _flushQueue() {
        this._ready = true;
        const queued = this._queue;
        this._queue = [];
        for (const entry of queued) this._send(entry);
    }

    // After a reconnect: one subscribe for every room, with the position of history rooms. The
    // app's requests wait until it is sent, so that a publish does not overtake its subscription.
    async _resubscribe() {
        const rooms = [...this.rooms.values()].filter((r) => r.subscribed);
        if (!rooms.length) return this._flushQueue();
        const recover = {};
        for (const room of rooms) {
            room.typingState = false;  // the server cleared it with the old connection
            room._recovering = true;
            if (room.epoch !== null) recover[room.name] = { offset: room.offset, epoch: room.epoch };
        }
        const ws = this._ws;
        let answer;
        try {
            const tokens = await this._roomTokens(rooms);
            if (this._ws !== ws) return;  // lost meanwhile: the next connection does this again
            const request = this._request({ action: 'subscribe', rooms: rooms.map((r) => r.name), recover, ...tokens }, { now: true });
            this._flushQueue();
            answer = await request;
        } catch (err) {
            // Dropped again: the next connection retries. Anything else is for the app to see.
            if (err.code !== 'DISCONNECTED' && err.code !== 'CLOSED') this.emit('error', err);
            return;
        }
        for (const result of answer.rooms) {
            const room = this.rooms.get(result.room);
            if (!room) continue;
            if (!result.ok) {
                this.rooms.delete(room.name);
                room.subscribed = false;
                room.emit('error', new HuddleError(result.error?.code ?? 'UNKNOWN_ERROR', result.error?.message));
            } else if (!(room.name in recover)) {
                // No position known (no history, or none received yet): what was missed is lost.
                room._recovering = false;
                room.emit('recovery', { recovered: false, missed: 0, reason: 'the room keeps no history for this client to recover from' });
            }
        }
    }

    _position(msg) {
        const room = this.rooms.get(msg.room);
        if (!room) return;
        // A failed recovery or another epoch restarts from the server's position (the app
        // resyncs); otherwise never go back, so that nothing already delivered is replayed.
        if (room.epoch !== msg.epoch || room.offset === null || msg.recovered === false) room.offset = msg.offset;
        else room.offset = Math.max(room.offset, msg.offset);
        room.epoch = msg.epoch;
        if (room._recovering && 'recovered' in msg) {
            room._recovering = false;
            room.emit('recovery', { recovered: msg.recovered, missed: msg.missed ?? 0, reason: msg.reason, epoch: msg.epoch, offset: msg.offset });
        }
    }

    // Refreshes in band before the token expires, so that the connection survives it.
    _scheduleRefresh(expMs) {
        this._clearTimer(this._refreshTimer);
        if (typeof this.options.token !== 'function' || !expMs) return;
        const left = expMs - Date.now();
        const delay = Math.max(0, left - Math.min(30000, left / 3));
        this._refreshTimer = this._timer(async () => {
            try {
                const token = await this._token();
                const answer = await this._request({ action: 'refresh', token }, { now: true });
                this._usedToken = token;
                this._scheduleRefresh(answer.expiresAt * 1000);
            } catch (err) {
                // Not fatal: at expiry the server closes with 4401 and the reconnect gets a new token.
                if (err.code !== 'DISCONNECTED' && err.code !== 'CLOSED') this.emit('error', err);
            }
        }, Math.min(delay, 2 ** 31 - 1));
    }

    // Application pings: a connection that stays silent is dead even if no close event comes.
    _schedulePing() {
        this._clearTimer(this._pingTimer);
        if (!this.pingIntervalMs) return;
        this._pingTimer = this._timer(() => {
            if (this.state !== 'connected') return;
            if (Date.now() - this._lastHeard > 2 * this.pingIntervalMs) return this._drop(this._ws, 'PING_TIMEOUT');
            this._sendNow({ type: 'ping' });
            this._schedulePing();
        }, this.pingIntervalMs);
    }

    // Gives up on a socket without waiting for its close handshake.
    _drop(ws, code) {
        if (ws !== this._ws) return;
        ws.onclose = null;
        try { ws.close(4000, code); } catch { /* not open yet */ }
        this.emit('error', new HuddleError(code, `connection dropped: ${code}`));
        this._lost(null);
    }

    _teardown(reason) {
        if (this._ws) { this._ws.onclose = null; this._ws.onmessage = null; }
        this._ws = null;
        for (const t of this._timers) clearTimeout(t);
        this._timers.clear();
        for (const entry of [...this._pending.values(), ...this._queue]) entry.reject(reason);
        this._pending.clear();
        this._queue = [];
        for (const w of this._connectWaiters.splice(0)) w.reject(reason);
    }

    _lost(closeCode) {
        if (this.state === 'closed') return;
        this._ready = false;
        // Requests still queued (never sent) survive a reconnect; sent ones are rejected.
        const sent = [...this._pending.values()];
        this._pending.clear();
        for (const e of sent) { this._clearTimer(e.timer); e.reject(new HuddleError('DISCONNECTED', 'the connection was lost before the answer')); }
        for (const t of [this._handshakeTimer, this._refreshTimer, this._pingTimer]) this._clearTimer(t);
        if (this._ws) { this._ws.onclose = null; this._ws.onmessage = null; this._ws = null; }
        for (const room of this.rooms.values()) room.typingState = false;

        const fixedToken = typeof this.options.token !== 'function';
        const terminal = TERMINAL_CLOSES.has(closeCode) || (closeCode === 4401 && fixedToken);
        if (terminal || this._attempt >= this.reconnect.maxAttempts) {
            const err = this._serverError ?? new HuddleError(terminal ? 'CONNECTION_CLOSED' : 'RECONNECT_FAILED', `connection closed (${closeCode})`);
            err.closeCode = closeCode;
            if (!this._serverError) this.emit('error', err);
            this._teardown(err);
            this._setState('closed');
            return;
        }
        const { initialDelayMs, maxDelayMs, factor, jitter } = this.reconnect;
        const base = Math.min(maxDelayMs, initialDelayMs * factor ** this._attempt);
        // Jitter spreads the clients of a restarted server; it only shortens, so the cap holds.
        const delayMs = base * (1 - jitter * Math.random());
        this._attempt++;
        this._setState('disconnected');
        this.emit('retry', { attempt: this._attempt, delayMs, closeCode });
        this._timer(() => this._open('reconnecting'), delayMs);
    }
}
