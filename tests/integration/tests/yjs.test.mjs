// Yjs documents at /yjs/<document>, driven by the stock y-websocket WebsocketProvider: sync between
// providers, the initial sync of a late joiner, edits made before connecting, awareness (relayed,
// shown to late joiners, echoed to a lone client, removed when a connection ends), separate
// documents, 4401 for a bad token, no text frame ever, and durability across SIGTERM and kill -9.
//
// Every provider is made with disableBc: true. Otherwise providers of the same document in this one
// process would sync with each other through BroadcastChannel, without the server.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';

import { connect } from '../lib/client.mjs';
import { SKIP, sleep, test, waitFor } from '../lib/harness.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';
import { mint, token } from '../lib/tokens.mjs';

const WAIT_MS = 5000;

let docSerial = 0;
// A document name of the `firm-7/draft-42` kind, unique per test.
const docName = (label) => `firm-7/${label}-${++docSerial}-${process.pid}`;

// A provider on its own Y.Doc, with a log of what happened to its connections (for error messages).
function openPeer(srv, document, tok, { name = 'peer', connect: connectNow = true } = {}) {
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(`ws://127.0.0.1:${srv.port}/yjs`, document, doc, {
        WebSocketPolyfill: WebSocket,
        params: { token: tok },
        disableBc: true,
        connect: connectNow,
        maxBackoffTime: 1000,
    });
    const events = [];
    provider.on('status', ({ status }) => events.push(status));
    provider.on('connection-error', (e) => events.push(`error: ${e?.message ?? e?.error?.message ?? e?.type ?? e}`));
    provider.on('connection-close', (e) => events.push(e ? `close ${e.code}${e.reason ? ` "${e.reason}"` : ''}` : 'closed locally'));
    provider.on('closed', (e) => events.push(`gave up: close ${e.code}`));
    provider.on('sync', (s) => events.push(`sync ${s}`));
    return {
        name,
        doc,
        provider,
        events,
        text: doc.getText('content'),
        map: doc.getMap('meta'),
        get awareness() { return provider.awareness; },
        describe() { return `${name} (${provider.url.replace(/token=[^&]*/, 'token=…')}): ${events.slice(-12).join(', ') || 'no event'}`; },
    };
}

// Waits for the provider's `synced` (set when it received sync step 2 from the server).
async function synced(peer, timeoutMs = WAIT_MS) {
    await waitFor(() => peer.provider.synced, { timeoutMs, what: `${peer.name} synced` })
        .catch((e) => { throw new Error(`${e.message}; ${peer.describe()}`); });
    return peer;
}

async function until(what, fn, peers, timeoutMs = WAIT_MS) {
    await waitFor(fn, { timeoutMs, what })
        .catch((e) => { throw new Error(`${e.message}\n  ${peers.map((p) => p.describe()).join('\n  ')}`); });
}

// Destroys providers and docs; gives each socket a moment to finish its close handshake, then cuts it,
// so that no timer or socket keeps the process alive.
async function closePeers(...peers) {
    await Promise.all(peers.flat().filter(Boolean).map(async (p) => {
        const ws = p.provider.ws;
        try { p.provider.destroy(); } catch { /* ignore */ }
        try { p.doc.destroy(); } catch { /* ignore */ }
        if (ws && ws.readyState !== WebSocket.CLOSED) {
            await new Promise((resolve) => {
                const t = setTimeout(() => { try { ws.terminate(); } catch { /* ignore */ } resolve(); }, 1000);
                ws.once('close', () => { clearTimeout(t); resolve(); });
            });
        }
    }));
}

// Ends a provider's connection abruptly (no close frame, no last awareness message) and keeps it
// from reconnecting: what the server sees when a browser tab dies.
function cutConnection(peer) {
    peer.provider.shouldConnect = false;
    const ws = peer.provider.ws;
    assert.ok(ws, `${peer.name} has no socket`);
    ws.terminate();
}

const stateOf = (peer, other) => peer.awareness.getStates().get(other.doc.clientID);

describe('yjs documents over y-websocket', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer(); });
    after(async () => { await stopAndCheck(srv); });

    test('two providers converge: text, map, concurrent inserts', async () => {
        const name = docName('draft');
        const a = openPeer(srv, name, await token('alice'), { name: 'A' });
        const b = openPeer(srv, name, await token('bob'), { name: 'B' });
        try {
            await Promise.all([synced(a), synced(b)]);
            a.text.insert(0, 'Hello from A');
            await until('B sees A\'s text', () => b.text.toString() === 'Hello from A', [a, b]);
            b.map.set('title', 'Q3 report');
            b.map.set('pages', 12);
            await until('A sees B\'s map', () => a.map.get('title') === 'Q3 report' && a.map.get('pages') === 12, [a, b]);
            a.text.delete(0, 6);
            await until('B sees A\'s delete', () => b.text.toString() === 'from A', [a, b]);
            // concurrent edits, none waiting for the other side
            for (let i = 0; i < 20; i++) {
                a.text.insert(0, `a${i};`);
                b.text.insert(b.text.length, `b${i};`);
                if (i % 5 === 4) await sleep(5);
            }
            a.map.set('status', 'a-wins?');
            b.map.set('status', 'b-wins?');
            await until('both sides converge', () => a.text.toString() === b.text.toString() &&
                a.text.length === 'from A'.length + 20 * 2 * 3 + 10 * 2 &&
                a.map.get('status') === b.map.get('status'), [a, b]);
            const s = a.text.toString();
            for (let i = 0; i < 20; i++) {
                assert.ok(s.includes(`a${i};`), `a${i}; missing from ${s}`);
                assert.ok(s.includes(`b${i};`), `b${i}; missing from ${s}`);
            }
            assert.deepEqual(a.map.toJSON(), b.map.toJSON());
        } finally { await closePeers(a, b); }
    });

    test('four providers edit concurrently while their connections drop and come back: they converge', async () => {
        const name = docName('churn');
        const peers = [];
        try {
            for (const who of ['alice', 'bob', 'carol', 'dave']) peers.push(openPeer(srv, name, await token(who), { name: who }));
            await Promise.all(peers.map((p) => synced(p)));
            const expectedWords = [];
            for (let round = 0; round < 6; round++) {
                // one provider loses its connection (no close frame) and edits offline meanwhile
                const offline = peers[round % peers.length];
                offline.provider.ws.terminate();
                for (const [i, p] of peers.entries()) {
                    for (let k = 0; k < 5; k++) {
                        const word = `${p.name}${round}.${k};`;
                        expectedWords.push(word);
                        p.text.insert(i % 2 === 0 ? 0 : p.text.length, word);
                    }
                    p.map.set(`${p.name}-round`, round);
                }
                await sleep(20);
                // the provider reconnects by itself (its backoff is at most 1 s here)
                await waitFor(() => offline.provider.wsconnected, { timeoutMs: WAIT_MS, what: `${offline.name} reconnected` });
            }
            await until('all four converge', () => peers.every((p) => p.text.toString() === peers[0].text.toString()) &&
                peers[0].text.length === expectedWords.join('').length, peers, 10000);
            const text = peers[0].text.toString();
            for (const word of expectedWords) assert.ok(text.includes(word), `${word} is missing`);
            for (const p of peers) assert.deepEqual(p.map.toJSON(), peers[0].map.toJSON());
            // what the server stored is the same document
            const late = openPeer(srv, name, await token('erin'), { name: 'late' });
            peers.push(late);
            await synced(late);
            await until('a late provider gets it all', () => late.text.toString() === text, [late]);
        } finally { await closePeers(peers); }
    });

    test('a provider joining later gets the whole content in its initial sync', async () => {
        const name = docName('late');
        const a = openPeer(srv, name, await token('alice'), { name: 'A' });
        const b = openPeer(srv, name, await token('bob'), { name: 'B' });
        let c;
        try {
            await Promise.all([synced(a), synced(b)]);
            a.text.insert(0, 'first line\n');
            b.map.set('owner', 'bob');
            for (let i = 0; i < 50; i++) a.text.insert(a.text.length, `line ${i}\n`);
            b.doc.getArray('tags').push(['x', 'y']);
            // B has A's edits and A has B's: the server has both
            await until('A and B converge', () => a.text.toString() === b.text.toString() && a.text.length > 400 &&
                a.map.get('owner') === 'bob' && a.doc.getArray('tags').length === 2, [a, b]);
            c = openPeer(srv, name, await token('carol'), { name: 'C' });
            await synced(c);
            // synced = sync step 2 received: it must hold everything, without waiting for more
            assert.equal(c.text.toString(), a.text.toString(), 'C\'s text right after its sync step 2');
            assert.deepEqual(c.map.toJSON(), { owner: 'bob' });
            assert.deepEqual(c.doc.getArray('tags').toJSON(), ['x', 'y']);
            // and C is a full member: its edits reach the others
            c.text.insert(0, 'C was here\n');
            await until('A and B see C\'s edit', () => a.text.toString().startsWith('C was here\n') &&
                b.text.toString() === a.text.toString(), [a, b, c]);
        } finally { await closePeers(a, b, c); }
    });

    test('edits made before the connection opened reach the server (server sends sync step 1)', async () => {
        // The provider sends live updates only while connected; what was written before the socket
        // opened reaches the server only as the client's sync step 2, its answer to the server's step 1.
        const name = docName('offline');
        const a = openPeer(srv, name, await token('alice'), { name: 'A', connect: false });
        const b = openPeer(srv, name, await token('bob'), { name: 'B' });
        try {
            a.text.insert(0, 'written offline');
            a.map.set('draft', true);
            await synced(b);
            a.provider.connect();
            await synced(a);
            await until('B gets A\'s offline edits', () => b.text.toString() === 'written offline' && b.map.get('draft') === true, [a, b]);
        } finally { await closePeers(a, b); }
    });

    test('awareness is relayed, and removed for everyone when a connection ends', async () => {
        const name = docName('aware');
        const a = openPeer(srv, name, await token('alice'), { name: 'A' });
        const b = openPeer(srv, name, await token('bob'), { name: 'B' });
        const c = openPeer(srv, name, await token('carol'), { name: 'C' });
        try {
            await Promise.all([synced(a), synced(b), synced(c)]);
            a.awareness.setLocalState({ user: { name: 'A' } });
            b.awareness.setLocalState({ user: { name: 'B' } });
            await until('B sees A\'s awareness state', () => stateOf(b, a)?.user?.name === 'A', [a, b]);
            await until('A sees B\'s awareness state', () => stateOf(a, b)?.user?.name === 'B', [a, b]);
            a.awareness.setLocalStateField('cursor', { index: 3 });
            await until('B sees A\'s cursor', () => stateOf(b, a)?.cursor?.index === 3, [a, b]);

            // A's connection dies without a word: the server must tell the others that A is gone
            cutConnection(a);
            await until('A\'s state removed on B after its connection ended', () => !b.awareness.getStates().has(a.doc.clientID), [a, b]);
            await until('A\'s state removed on C after its connection ended', () => !c.awareness.getStates().has(a.doc.clientID), [a, c]);
            assert.equal(stateOf(b, b)?.user?.name, 'B', 'B keeps its own state');

            // B leaves cleanly (destroy): C loses B too
            assert.equal(stateOf(c, b)?.user?.name, 'B');
            await closePeers(b);
            await until('B\'s state removed on C after B was destroyed', () => !c.awareness.getStates().has(b.doc.clientID), [b, c]);
        } finally { await closePeers(a, b, c); }
    });

    test('a provider joining later sees the awareness of those already there', async () => {
        // The provider does not ask for awareness when it connects (it only sends its own state):
        // the server has to send the current states of the document to a new connection.
        const name = docName('aware-late');
        const a = openPeer(srv, name, await token('alice'), { name: 'A' });
        let b;
        try {
            await synced(a);
            a.awareness.setLocalState({ user: { name: 'A' } });
            await sleep(100);
            b = openPeer(srv, name, await token('bob'), { name: 'B' });
            await synced(b);
            await until('late B sees A\'s awareness state', () => stateOf(b, a)?.user?.name === 'A', [a, b]);
            // B's initial state (clock 0) is ignored by every y-protocols peer until it sets one.
            b.awareness.setLocalState({ user: { name: 'B' } });
            await until('A sees late B in its awareness', () => stateOf(a, b)?.user?.name === 'B', [a, b]);
        } finally { await closePeers(a, b); }
    });

    test('a lone provider hears its awareness back, so its 30 s watchdog does not reconnect', async () => {
        // The provider closes and reopens its socket when nothing arrived for 30 s. Alone in a
        // document it only ever receives the echo of its own awareness renewals (every 15 s), which
        // the y-websocket server sends to every connection of the document, the sender included.
        const a = openPeer(srv, docName('alone'), await token('alice'), { name: 'A' });
        try {
            await synced(a);
            await sleep(20);
            const before = a.provider.wsLastMessageReceived;
            a.awareness.setLocalState({ user: { name: 'A' } });
            await until('A receives its own awareness update back', () => a.provider.wsLastMessageReceived > before, [a]);
        } finally { await closePeers(a); }
    });

    test('documents are separate: no cross-talk of updates or awareness', async () => {
        const base = docName('sep');
        // names that share a prefix, to catch path matching by prefix
        const names = [base, `${base}/sub`, `${base}x`];
        const a = openPeer(srv, names[0], await token('alice'), { name: 'A@doc' });
        const b = openPeer(srv, names[0], await token('bob'), { name: 'B@doc' });
        const c = openPeer(srv, names[1], await token('carol'), { name: 'C@doc/sub' });
        const d = openPeer(srv, names[2], await token('dave'), { name: 'D@docx' });
        try {
            await Promise.all([a, b, c, d].map((p) => synced(p)));
            a.text.insert(0, 'only in doc');
            c.text.insert(0, 'only in doc/sub');
            d.text.insert(0, 'only in docx');
            a.awareness.setLocalState({ user: { name: 'A' } });
            c.awareness.setLocalState({ user: { name: 'C' } });
            await until('B sees A\'s edit and awareness', () => b.text.toString() === 'only in doc' && stateOf(b, a)?.user?.name === 'A', [a, b]);
            // a late joiner of each document sees exactly its own document
            const c2 = openPeer(srv, names[1], await token('carol'), { name: 'C2@doc/sub' });
            const d2 = openPeer(srv, names[2], await token('dave'), { name: 'D2@docx' });
            try {
                await Promise.all([synced(c2), synced(d2)]);
                await until('C2 sees doc/sub', () => c2.text.toString() === 'only in doc/sub', [c, c2]);
                await until('D2 sees docx', () => d2.text.toString() === 'only in docx', [d, d2]);
                await sleep(200);
                assert.equal(b.text.toString(), 'only in doc');
                assert.equal(c.text.toString(), 'only in doc/sub');
                assert.equal(d.text.toString(), 'only in docx');
                assert.equal(c2.text.toString(), 'only in doc/sub');
                assert.ok(!b.awareness.getStates().has(c.doc.clientID), 'B must not see C\'s awareness');
                assert.ok(!c.awareness.getStates().has(a.doc.clientID), 'C must not see A\'s awareness');
                assert.ok(!d.awareness.getStates().has(a.doc.clientID), 'D must not see A\'s awareness');
                assert.ok(!d2.awareness.getStates().has(c.doc.clientID), 'D2 must not see C\'s awareness');
            } finally { await closePeers(c2, d2); }
        } finally { await closePeers(a, b, c, d); }
    });

    test('a missing or bad token: close 4401 (raw client); the provider gives up', async () => {
        const expired = await mint({ claims: { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 } });
        const wrongSecret = await mint({ secret: 'not-the-secret-not-the-secret-not-the-secret-000' });
        const cases = [
            ['bad', srv.wsUrl('bad', { path: '/yjs/doc1' })],
            ['missing', srv.wsUrl(null, { path: '/yjs/doc1' })],
            ['expired', srv.wsUrl(expired, { path: '/yjs/firm-7/draft-42' })],
            ['wrong secret', srv.wsUrl(wrongSecret, { path: '/yjs/firm-7/draft-42' })],
        ];
        for (const [label, url] of cases) {
            let c;
            try {
                c = await connect(url, { name: `raw-${label}` });
            } catch (e) {
                throw new Error(`token ${label}: the upgrade must succeed and then close with 4401, but: ${e.message}${e.body ? ` (${e.body.slice(0, 200)})` : ''}`);
            }
            const { code } = await c.closed(WAIT_MS).catch(async (e) => { await c.close(); throw new Error(`token ${label}: ${e.message}`); });
            assert.equal(code, 4401, `token ${label}: close code`);
        }
        // the stock provider treats 4400..4499 as final: it stops reconnecting and emits 'closed'
        const p = openPeer(srv, 'doc1', 'bad', { name: 'bad-token provider' });
        try {
            let timer;
            const ev = await new Promise((resolve) => {
                timer = setTimeout(() => resolve(null), WAIT_MS);
                p.provider.once('closed', resolve);
            }).finally(() => clearTimeout(timer));
            assert.ok(ev, `the provider was not closed for good within ${WAIT_MS} ms; ${p.describe()}`);
            assert.equal(ev.code, 4401);
            assert.equal(p.provider.shouldConnect, false);
            assert.equal(p.provider.synced, false);
        } finally { await closePeers(p); }
    });

    test('a y-websocket connection never gets a text frame: oversized, malformed or text input just closes it', async () => {
        // The provider decodes every message as binary; in Node a text frame makes it throw out of
        // the socket's message handler (an uncaught exception), in a browser it logs and goes on.
        const tok = await token('alice');
        const cases = [
            ['a 200 KB binary message', (c) => c.sendBinary(Buffer.alloc(200 * 1024, 0x41))],
            ['an unknown message type', (c) => c.sendBinary(Buffer.from([0x07, 0x01, 0x02]))],
            ['a truncated sync update', (c) => c.sendBinary(Buffer.from([0x00, 0x02, 0x7f, 0x01]))],
            ['a text frame', (c) => c.sendText('{"type":"ping"}')],
        ];
        const problems = [];
        for (const [label, send] of cases) {
            const c = await connect(srv.wsUrl(tok, { path: `/yjs/${docName('junk')}` }), { name: label });
            try {
                await c.next((m) => m.__binary, WAIT_MS); // the server's sync step 1
                send(c);
                const { code, reason } = await c.closed(WAIT_MS);
                const texts = c.history.filter((m) => !m.__binary);
                if (texts.length) problems.push(`${label}: close ${code} "${reason}" after text frame(s) ${JSON.stringify(texts).slice(0, 200)}`);
                if (code === 1006) problems.push(`${label}: closed without a close frame`);
            } catch (e) {
                problems.push(`${label}: ${e.message.split('\n')[0]}`);
            } finally { await c.close(); }
        }
        assert.deepEqual(problems, []);
    });

    test('bad input leaves the document intact: garbage update bytes, a bad type byte, truncated varints, a name not allowed', async () => {
        const name = docName('intact');
        const a = openPeer(srv, name, await token('alice'), { name: 'A' });
        try {
            await synced(a);
            a.text.insert(0, 'keep me');
            a.map.set('n', 1);
            await sleep(100);
            const tok = await token('mallory');
            const inputs = [
                ['garbage update bytes', [0x00, 0x02, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00]],
                ['a wrong message type byte', [0x09, 0x00]],
                ['a truncated varint', [0x00, 0x02, 0xff, 0xff]],
                ['a sync step 2 with an update that does not decode', [0x00, 0x01, 0x03, 0x01, 0x01, 0x80]],
            ];
            for (const [label, bytes] of inputs) {
                const c = await connect(srv.wsUrl(tok, { path: `/yjs/${name}` }), { name: label });
                await c.next((m) => m.__binary, WAIT_MS);
                c.sendBinary(Buffer.from(bytes));
                const { code } = await c.closed(WAIT_MS);
                assert.equal(code, 4400, `${label}: close code`);
            }
            const refused = await connect(srv.wsUrl(tok, { path: '/yjs/bad%20name' })).catch((e) => e);
            assert.equal(refused.statusCode, 400, 'a document name not allowed is refused');
            const b = openPeer(srv, name, await token('bob'), { name: 'B' });
            try {
                await synced(b);
                await until('B gets the intact document', () => b.text.toString() === 'keep me' && b.map.get('n') === 1, [a, b]);
                b.text.insert(b.text.length, '!');
                await until('A still collaborates', () => a.text.toString() === 'keep me!', [a, b]);
            } finally { await closePeers(b); }
        } finally { await closePeers(a); }
    });

    test('an update over limits.max_document_message_bytes closes with 1009; the document stays intact', async () => {
        const small = await startServer({ env: { HUDDLE_LIMITS_MAX_DOCUMENT_MESSAGE_BYTES: '65536' } });
        const name = docName('limit');
        const a = openPeer(small, name, await token('alice'), { name: 'A' });
        try {
            await synced(a);
            a.text.insert(0, 'small');
            await sleep(100);
            const big = new Y.Doc();
            big.getText('content').insert(0, 'x'.repeat(100 * 1024));
            const update = Y.encodeStateAsUpdate(big);
            const message = Buffer.concat([Buffer.from([0x00, 0x02]), encodeVarUint(update.length), Buffer.from(update)]);
            const c = await connect(small.wsUrl(await token('mallory'), { path: `/yjs/${name}` }), { name: 'big' });
            await c.next((m) => m.__binary, WAIT_MS);
            c.sendBinary(message);
            assert.equal((await c.closed(WAIT_MS)).code, 1009);
            const b = openPeer(small, name, await token('bob'), { name: 'B' });
            try {
                await synced(b);
                await until('B gets the document without the refused update', () => b.text.toString() === 'small', [a, b]);
            } finally { await closePeers(b); }
        } finally {
            await closePeers(a);
            await stopAndCheck(small);
        }
    });
});

function encodeVarUint(n) {
    const out = [];
    while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
    out.push(n);
    return Buffer.from(out);
}

describe('yjs documents survive restarts', () => {
    test('acknowledged updates survive SIGTERM and kill -9', async () => {
        if (SKIP) return;
        const name = docName('durable');
        let srv = await startServer();
        const peers = [];
        const peer = (label, who) => { const p = openPeer(srv, name, who, { name: label }); peers.push(p); return p; };
        try {
            const [ta, tb] = [await token('alice'), await token('bob')];
            // 1. edits seen by a second client, then SIGTERM
            let a = peer('A1', ta);
            let b = peer('B1', tb);
            await Promise.all([synced(a), synced(b)]);
            a.text.insert(0, 'before sigterm;');
            a.map.set('v', 1);
            await until('B1 sees A1\'s edits', () => b.text.toString() === 'before sigterm;' && b.map.get('v') === 1, [a, b]);
            await closePeers(peers.splice(0));
            const dataDir = srv.cwd;
            const stopped = srv;
            srv = null;
            await stopAndCheck(stopped);

            srv = await startServer({ cwd: dataDir });
            a = peer('A2', ta);
            await synced(a);
            assert.equal(a.text.toString(), 'before sigterm;', 'content after SIGTERM and restart');
            assert.equal(a.map.get('v'), 1);
            // 2. more edits, acknowledged by a second client, then kill -9 with the clients still connected
            b = peer('B2', tb);
            await synced(b);
            a.text.insert(a.text.length, 'before kill;');
            // B appends after A's text once it has it (concurrent inserts at one position are ordered by client id)
            await until('B2 sees A2\'s edit', () => b.text.toString() === 'before sigterm;before kill;', [a, b]);
            for (let i = 0; i < 30; i++) b.text.insert(b.text.length, `${i},`);
            a.map.set('v', 2);
            const expected = `before sigterm;before kill;${Array.from({ length: 30 }, (_, i) => `${i},`).join('')}`;
            await until('A2 and B2 converge', () => a.text.toString() === expected && b.text.toString() === expected &&
                b.map.get('v') === 2, [a, b]);
            const killed = srv;
            srv = null;
            await killed.kill9();
            await closePeers(peers.splice(0));

            srv = await startServer({ cwd: killed.cwd });
            const c = peer('C3', await token('carol'));
            await synced(c);
            assert.equal(c.text.toString(), expected, 'content after kill -9 and restart');
            assert.deepEqual(c.map.toJSON(), { v: 2 });
        } finally {
            await closePeers(peers);
            await stopAndCheck(srv);
        }
    });
});

describe('documents are compacted in the background', () => {
    test('250 updates become one stored state plus the newest; content intact after kill -9', async () => {
        if (SKIP) return;
        const name = docName('compacted');
        let srv = await startServer();
        const listed = async () => (await (await fetch(`http://127.0.0.1:${srv.port}/api/documents`, {
            headers: { 'X-API-Key': 'huddle-integration-test-api-key' } })).json()).documents.find((d) => d.document === name);
        const peers = [];
        try {
            const a = openPeer(srv, name, await token('alice'), { name: 'A' });
            peers.push(a);
            await synced(a);
            for (let i = 0; i < 250; i++) a.text.insert(a.text.length, `${i % 10}`);
            const expected = Array.from({ length: 250 }, (_, i) => `${i % 10}`).join('');
            // every update is stored; more than 200 stored ones are merged into one
            await waitFor(async () => { const d = await listed(); return d && d.updates < 100; },
                { timeoutMs: 8000, what: 'the stored updates to be compacted' });
            const killed = srv;
            srv = null;
            await killed.kill9();
            await closePeers(peers.splice(0));
            srv = await startServer({ cwd: killed.cwd });
            const b = openPeer(srv, name, await token('bob'), { name: 'B' });
            peers.push(b);
            await synced(b);
            assert.equal(b.text.toString(), expected, 'content after compaction and kill -9');
            const after = await listed();
            assert.ok(after.updates < 100, `loaded from the compacted store: ${after.updates} updates`);
        } finally {
            await closePeers(peers);
            await stopAndCheck(srv);
        }
    });
});

describe('document API', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer(); });
    after(async () => { await stopAndCheck(srv); });

    const api = (method, path, body, contentType = 'application/octet-stream') => fetch(`http://127.0.0.1:${srv.port}${path}`, {
        method, body, headers: { 'X-API-Key': 'huddle-integration-test-api-key', 'content-type': contentType },
    });

    test('the backend applies an update, reads the state, lists and deletes documents', async () => {
        const name = `api-doc-${Date.now()}`;
        const a = openPeer(srv, name, await token('alice'), { name: 'A' });
        try {
            await synced(a);
            // an update made by the backend with the JavaScript Yjs
            const source = new Y.Doc();
            source.getText('content').insert(0, 'from the backend');
            const applied = await api('POST', `/api/documents/${name}/update`, Y.encodeStateAsUpdate(source));
            assert.equal(applied.status, 200, await applied.text());
            await until('A sees the backend update', () => a.text.toString() === 'from the backend', [a]);
            a.text.insert(a.text.length, '; and A');
            await sleep(200);
            const state = await api('GET', `/api/documents/${name}/state`);
            assert.equal(state.status, 200);
            assert.equal(state.headers.get('content-type'), 'application/octet-stream');
            const copy = new Y.Doc();
            Y.applyUpdate(copy, new Uint8Array(await state.arrayBuffer()));
            assert.equal(copy.getText('content').toString(), 'from the backend; and A');
            const list = await (await api('GET', '/api/documents')).json();
            const entry = list.documents.find((d) => d.document === name);
            assert.equal(entry.connections, 1);
            assert.ok(entry.bytes > 0);
            const bad = await api('POST', `/api/documents/${name}/update`, new Uint8Array([1, 2, 3]));
            assert.equal(bad.status, 400);
            assert.equal((await bad.json()).error.code, 'INVALID_UPDATE');
            const deleted = await api('DELETE', `/api/documents/${name}`);
            assert.deepEqual(await deleted.json(), { ok: true, deleted: true });
            await until('A closed with 4404', () => a.events.some((e) => e.includes('4404')), [a]);
            const empty = await api('GET', `/api/documents/${name}/state`);
            const fresh = new Y.Doc();
            Y.applyUpdate(fresh, new Uint8Array(await empty.arrayBuffer()));
            assert.equal(fresh.getText('content').toString(), '');
        } finally { await closePeers(a); }
    });
});

describe('S0 JSON document protocol (/ws/drafts)', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer(); });
    after(async () => { await stopAndCheck(srv); });

    const draftUrl = (draftId, tok) => `ws://127.0.0.1:${srv.port}/ws/drafts?draftId=${encodeURIComponent(draftId)}&token=${tok}`;

    test('state on connect and on request, updates applied and sent to the other clients of the draft only, shared with y-websocket', async () => {
        const draft = `letter-${Date.now()}`;
        const a = await connect(draftUrl(draft, await token('alice')));
        const b = await connect(draftUrl(draft, await token('bob')));
        const other = await connect(draftUrl(`${draft}-other`, await token('carl')));
        const yws = openPeer(srv, draft, await token('dora'), { name: 'D' });
        try {
            const first = await a.next('yjs-state-response');
            assert.equal(first.draftId, draft);
            assert.ok(Array.isArray(first.state));
            await b.next('yjs-state-response');
            await other.next('yjs-state-response');
            await synced(yws);
            // A edits its local copy and sends the update as an array of numbers
            const docA = new Y.Doc();
            Y.applyUpdate(docA, Uint8Array.from(first.state));
            const before = Y.encodeStateVector(docA);
            docA.getText('content').insert(0, 'Dear Sir or Madam,');
            a.send({ type: 'yjs-update', update: Array.from(Y.encodeStateAsUpdate(docA, before)) });
            const relayed = await b.next('yjs-update');
            assert.equal(relayed.draftId, draft);
            const docB = new Y.Doc();
            Y.applyUpdate(docB, Uint8Array.from(relayed.update));
            assert.equal(docB.getText('content').toString(), 'Dear Sir or Madam,');
            await a.expectNone('yjs-update', 150);
            await other.expectNone('yjs-update', 150);
            await until('the y-websocket client sees it too', () => yws.text.toString() === 'Dear Sir or Madam,', [yws]);
            // and a y-websocket edit reaches the JSON clients
            yws.text.insert(yws.text.length, ' Hello');
            const fromYws = await a.next('yjs-update');
            Y.applyUpdate(docA, Uint8Array.from(fromYws.update));
            assert.equal(docA.getText('content').toString(), 'Dear Sir or Madam, Hello');
            a.send({ type: 'yjs-state-request' });
            const full = await a.next('yjs-state-response');
            const docC = new Y.Doc();
            Y.applyUpdate(docC, Uint8Array.from(full.state));
            assert.equal(docC.getText('content').toString(), 'Dear Sir or Madam, Hello');
            // bad input: an error message, the connection stays usable
            a.send({ type: 'yjs-update', update: [300, -1] });
            assert.match((await a.next('error')).message, /0-255/);
            a.send({ type: 'yjs-update', update: [1, 2, 3] });
            assert.match((await a.next('error')).message, /refused/);
            a.send({ type: 'nope' });
            assert.equal((await a.next('error')).type, 'error');
            a.send('not json');
            assert.equal((await a.next('error')).type, 'error');
            a.send({ type: 'ping' });
            assert.equal((await a.next('pong')).type, 'pong');
        } finally {
            await closePeers(yws);
            for (const c of [a, b, other]) await c.close();
        }
    });

    test('missing draftId is refused; a bad token gets UNAUTHORIZED and 4401', async () => {
        const refused = await connect(`ws://127.0.0.1:${srv.port}/ws/drafts?token=${await token('x')}`).catch((e) => e);
        assert.ok(refused instanceof Error, 'the upgrade is refused');
        assert.equal(refused.statusCode, 400);
        const c = await connect(draftUrl('x', 'bad'));
        const err = await c.next('error');
        assert.equal(err.payload.code, 'UNAUTHORIZED');
        assert.equal((await c.closed()).code, 4401);
    });
});

describe('documents leave memory when idle', () => {
    test('a document without connections is unloaded after documents.idle_unload, and reloads intact', async () => {
        if (SKIP) return;
        const srv = await startServer({ env: { HUDDLE_DOCUMENTS_IDLE_UNLOAD: '300ms' } });
        const listed = async () => (await (await fetch(`http://127.0.0.1:${srv.port}/api/documents`, { headers: { 'X-API-Key': 'huddle-integration-test-api-key' } })).json()).documents;
        const a = openPeer(srv, 'idle-doc', await token('alice'), { name: 'A' });
        try {
            await synced(a);
            a.text.insert(0, 'kept on disk');
            await sleep(200);
            assert.deepEqual((await listed()).map((d) => d.document), ['idle-doc']);
            await closePeers(a);
            await waitFor(async () => (await listed()).length === 0, { what: 'document unloaded', timeoutMs: 3000 });
            const b = openPeer(srv, 'idle-doc', await token('bob'), { name: 'B' });
            try {
                await synced(b);
                assert.equal(b.text.toString(), 'kept on disk');
            } finally { await closePeers(b); }
        } finally { await stopAndCheck(srv); }
    });
});
