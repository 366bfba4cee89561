// A raw WebSocket client over net.Socket: the upgrade is done by hand and frames are built and
// parsed here, so tests can send what `ws` never would (unmasked frames, reserved opcodes, RSV bits,
// invalid UTF-8, hand-made fragmentation) or behave badly (never read, never answer pings).
import crypto from 'node:crypto';
import net from 'node:net';

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xA };

const open = new Set();
process.on('exit', () => { for (const s of open) { try { s.destroy(); } catch { /* ignore */ } } });

export function encodeFrame(opcode, payload = Buffer.alloc(0), { fin = true, mask = true, rsv = 0 } = {}) {
    const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
    const len = data.length;
    let header;
    if (len < 126) {
        header = Buffer.alloc(2);
        header[1] = len;
    } else if (len < 65536) {
        header = Buffer.alloc(4);
        header[1] = 126;
        header.writeUInt16BE(len, 2);
    } else {
        header = Buffer.alloc(10);
        header[1] = 127;
        header.writeBigUInt64BE(BigInt(len), 2);
    }
    header[0] = (fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0xf);
    if (!mask) return Buffer.concat([header, data]);
    header[1] |= 0x80;
    const key = crypto.randomBytes(4);
    const masked = Buffer.alloc(len);
    for (let i = 0; i < len; i++) masked[i] = data[i] ^ key[i & 3];
    return Buffer.concat([header, key, masked]);
}

export function closePayload(code, reason = '') {
    const b = Buffer.alloc(2 + Buffer.byteLength(reason));
    b.writeUInt16BE(code, 0);
    b.write(reason, 2);
    return b;
}

export class RawClient {
    constructor(socket, name) {
        this.socket = socket;
        this.name = name;
        this.buf = Buffer.alloc(0);
        this.frames = [];      // parsed frames not yet taken
        this.allFrames = [];   // summary of every frame, for error messages
        this.waiters = [];
        this.ended = false;
        this.closedAt = null;
        this.bytesReceived = 0;
        this.socketError = null;
        this.endWaiters = [];
        socket.on('data', (d) => this._onData(d));
        socket.on('error', (e) => { this.socketError = e; });
        socket.on('close', () => {
            this.ended = true;
            this.closedAt = Date.now();
            open.delete(socket);
            for (const w of this.endWaiters) w();
            this.endWaiters = [];
            for (const w of this.waiters) w.onEnd();
            this.waiters = [];
        });
    }

    _onData(d) {
        this.bytesReceived += d.length;
        this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
        for (;;) {
            const f = this._parseOne();
            if (!f) break;
            this.allFrames.push({ opcode: f.opcode, fin: f.fin, len: f.payload.length, head: f.payload.subarray(0, 80).toString('utf8') });
            if (this.allFrames.length > 100) this.allFrames.shift();
            const wi = this.waiters.findIndex((w) => w.pred(f));
            if (wi >= 0) {
                const [w] = this.waiters.splice(wi, 1);
                w.resolve(f);
            } else {
                this.frames.push(f);
            }
        }
    }

    _parseOne() {
        const b = this.buf;
        if (b.length < 2) return null;
        const fin = !!(b[0] & 0x80);
        const rsv = (b[0] >> 4) & 0x7;
        const opcode = b[0] & 0xf;
        const masked = !!(b[1] & 0x80);
        let len = b[1] & 0x7f;
        let off = 2;
        if (len === 126) {
            if (b.length < 4) return null;
            len = b.readUInt16BE(2);
            off = 4;
        } else if (len === 127) {
            if (b.length < 10) return null;
            len = Number(b.readBigUInt64BE(2));
            off = 10;
        }
        let key = null;
        if (masked) {
            if (b.length < off + 4) return null;
            key = b.subarray(off, off + 4);
            off += 4;
        }
        if (b.length < off + len) return null;
        let payload = Buffer.from(b.subarray(off, off + len));
        if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
        this.buf = b.subarray(off + len);
        const f = { fin, rsv, opcode, masked, payload };
        if (opcode === OP.CLOSE) {
            f.code = payload.length >= 2 ? payload.readUInt16BE(0) : null;
            f.reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
        }
        if (opcode === OP.TEXT) {
            f.text = payload.toString('utf8');
            try { f.json = JSON.parse(f.text); } catch { f.json = undefined; }
        }
        return f;
    }

    recent() { return JSON.stringify(this.allFrames.slice(-8)); }

    send(opcode, payload, opts) { this.socket.write(encodeFrame(opcode, payload, opts)); }
    sendText(text, opts) { this.send(OP.TEXT, Buffer.from(text), opts); }
    sendJson(obj, opts) { this.sendText(JSON.stringify(obj), opts); }
    sendClose(code, reason = '', opts) { this.send(OP.CLOSE, code === undefined ? Buffer.alloc(0) : closePayload(code, reason), opts); }
    write(bytes) { this.socket.write(bytes); }

    // The next frame matching pred (default: any).
    nextFrame(pred = () => true, timeoutMs = 3000) {
        const i = this.frames.findIndex(pred);
        if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]);
        return new Promise((resolve, reject) => {
            const w = {
                pred,
                resolve: (f) => { clearTimeout(w.timer); resolve(f); },
                onEnd: () => { clearTimeout(w.timer); reject(new Error(`${this.name}: connection ended while waiting for a frame; frames: ${this.recent()}`)); },
            };
            if (this.ended) { w.onEnd(); return; }
            w.timer = setTimeout(() => {
                this.waiters = this.waiters.filter((x) => x !== w);
                reject(new Error(`${this.name}: no matching frame within ${timeoutMs} ms; frames: ${this.recent()}`));
            }, timeoutMs);
            this.waiters.push(w);
        });
    }

    // The next JSON text message matching pred (function or object of top-level values).
    nextJson(pred = () => true, timeoutMs = 3000) {
        const p = typeof pred === 'function' ? pred
            : (m) => Object.entries(pred).every(([k, v]) => m[k] === v);
        return this.nextFrame((f) => f.opcode === OP.TEXT && f.json !== undefined && p(f.json), timeoutMs).then((f) => f.json);
    }

    // Resolves when the TCP connection is closed by either side.
    waitEnd(timeoutMs = 3000) {
        if (this.ended) return Promise.resolve();
        return new Promise((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`${this.name}: TCP connection still open after ${timeoutMs} ms; frames: ${this.recent()}`)), timeoutMs);
            this.endWaiters.push(() => { clearTimeout(t); resolve(); });
        });
    }

    // Waits for the server's close frame (resolves {code, reason}); also fine if it arrives after
    // other frames.
    async closeFrame(timeoutMs = 3000) {
        const f = await this.nextFrame((x) => x.opcode === OP.CLOSE, timeoutMs);
        return { code: f.code, reason: f.reason };
    }

    pause() { this.socket.pause(); }
    resume() { this.socket.resume(); }
    destroy() { this.socket.destroy(); }
}

// TCP connect to 127.0.0.1:port.
export function tcpConnect(port, timeoutMs = 3000) {
    return new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port });
        const t = setTimeout(() => { s.destroy(); reject(new Error(`TCP connect to ${port} timed out`)); }, timeoutMs);
        s.once('connect', () => { clearTimeout(t); open.add(s); s.on('close', () => open.delete(s)); resolve(s); });
        s.once('error', (e) => { clearTimeout(t); reject(e); });
    });
}

let seq = 0;

// Connects, sends an upgrade request for `path` and waits for the 101 answer. Resolves a RawClient
// (any bytes after the HTTP head are already parsed as frames). `earlyBytes` go in the same write
// as the request, as a client that does not wait for the 101 would send its first frames.
export async function rawConnect(port, { path = '/ws', token, headers = {}, name, timeoutMs = 3000, earlyBytes } = {}) {
    const s = await tcpConnect(port, timeoutMs);
    s.setNoDelay(true);
    const key = crypto.randomBytes(16).toString('base64');
    const target = token ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : path;
    const lines = [
        `GET ${target} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        '', '',
    ];
    const request = Buffer.from(lines.join('\r\n'), 'latin1');
    s.write(earlyBytes ? Buffer.concat([request, earlyBytes]) : request);
    const head = await new Promise((resolve, reject) => {
        let acc = Buffer.alloc(0);
        const t = setTimeout(() => { cleanup(); s.destroy(); reject(new Error(`no upgrade answer within ${timeoutMs} ms: ${acc.toString('latin1').slice(0, 300)}`)); }, timeoutMs);
        const onData = (d) => {
            acc = Buffer.concat([acc, d]);
            const i = acc.indexOf('\r\n\r\n');
            if (i >= 0) { s.pause(); cleanup(); resolve({ text: acc.subarray(0, i).toString('latin1'), rest: acc.subarray(i + 4) }); }
        };
        const onEnd = () => { cleanup(); reject(new Error(`connection closed during upgrade: ${acc.toString('latin1').slice(0, 300)}`)); };
        function cleanup() { clearTimeout(t); s.off('data', onData); s.off('close', onEnd); }
        s.on('data', onData);
        s.on('close', onEnd);
    });
    const status = Number(head.text.split('\r\n')[0].split(' ')[1]);
    if (status !== 101) {
        s.destroy();
        const e = new Error(`upgrade refused: ${head.text.split('\r\n')[0]}`);
        e.statusCode = status;
        throw e;
    }
    const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    const m = /^sec-websocket-accept:\s*(\S+)/im.exec(head.text);
    if (!m || m[1] !== accept) {
        s.destroy();
        throw new Error(`bad Sec-WebSocket-Accept in ${head.text}`);
    }
    const c = new RawClient(s, name ?? `raw${++seq}`);
    c.responseHead = head.text;
    if (head.rest.length) c._onData(head.rest);
    s.resume();
    return c;
}
