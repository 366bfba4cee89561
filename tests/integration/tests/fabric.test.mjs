// S1's collaboration endpoint at /ws/fabric?documentId=…&clientID=…, with Node `ws` clients: sync
// answered with synced, updates stored and sent to the other clients (also y-websocket and S0 JSON
// ones), awareness/selection/steps relayed to the other fabric clients with the sender's clientID,
// the backend API sending steps to all clients of a document or to one and counting connections,
// bad input answered with an error, 4401 without a valid token.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import * as Y from 'yjs';

import { connect } from '../lib/client.mjs';
import { SKIP, test } from '../lib/harness.mjs';
import { startServer, stopAndCheck } from '../lib/server.mjs';
import { token } from '../lib/tokens.mjs';

const API_HEADERS = { 'X-API-Key': 'huddle-integration-test-api-key', 'content-type': 'application/json' };
const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const unb64 = (text) => new Uint8Array(Buffer.from(text, 'base64'));

describe('S1 fabric endpoint (/ws/fabric)', () => {
    let srv;
    before(async () => { if (!SKIP) srv = await startServer(); });
    after(async () => { await stopAndCheck(srv); });

    const fabricUrl = (documentId, clientID, tok) =>
        `ws://127.0.0.1:${srv.port}/ws/fabric?documentId=${encodeURIComponent(documentId)}` +
        (clientID ? `&clientID=${encodeURIComponent(clientID)}` : '') + `&token=${tok}`;
    const api = (path, init = {}) => fetch(`http://127.0.0.1:${srv.port}${path}`, { headers: API_HEADERS, ...init });

    test('sync, updates, relayed awareness/selection/steps, and steps from the backend', async () => {
        const doc = `workspace/page-${Date.now()}`;
        const a = await connect(fabricUrl(doc, 'client-a', await token('alice')), { name: 'a' });
        const b = await connect(fabricUrl(doc, 'client-b', await token('bob')), { name: 'b' });
        const other = await connect(fabricUrl(`${doc}-other`, 'client-c', await token('carl')), { name: 'other' });
        const draft = await connect(`ws://127.0.0.1:${srv.port}/ws/drafts?draftId=${encodeURIComponent(doc)}&token=${await token('dora')}`, { name: 'draft' });
        try {
            await draft.next('yjs-state-response');
            // sync with no state vector: the whole (empty) document
            a.send({ type: 'sync' });
            const synced = await a.next('synced');
            assert.equal(synced.documentId, doc);
            const docA = new Y.Doc();
            Y.applyUpdate(docA, unb64(synced.update));
            // an update from A reaches B (fabric) and the S0 client, not A itself nor another document
            const before = Y.encodeStateVector(docA);
            docA.getText('body').insert(0, 'Hello fabric');
            a.send({ type: 'update', update: b64(Y.encodeStateAsUpdate(docA, before)) });
            const relayed = await b.next('update');
            assert.equal(relayed.documentId, doc);
            const docB = new Y.Doc();
            Y.applyUpdate(docB, unb64(relayed.update));
            assert.equal(docB.getText('body').toString(), 'Hello fabric');
            const asDraft = await draft.next('yjs-update');
            const docD = new Y.Doc();
            Y.applyUpdate(docD, Uint8Array.from(asDraft.update));
            assert.equal(docD.getText('body').toString(), 'Hello fabric');
            await a.expectNone('update', 150);
            await other.expectNone('update', 50);
            // sync with a state vector: only what the client lacks; stored, so a late client gets it
            b.send({ type: 'sync', stateVector: b64(Y.encodeStateVector(docB)) });
            const nothingNew = await b.next('synced');
            const docB2 = new Y.Doc();
            Y.applyUpdate(docB2, unb64(nothingNew.update));
            assert.equal(docB2.getText('body').toString(), '', 'B already has everything');
            // ephemeral messages: to the other fabric clients of the document, with the sender's clientID
            for (const type of ['awareness', 'selection', 'steps']) {
                a.send({ type, clientID: 'spoofed', data: { n: 1, type } });
                const got = await b.next(type);
                assert.equal(got.clientID, 'client-a');
                assert.equal(got.documentId, doc);
                assert.deepEqual(got.data, { n: 1, type });
            }
            await a.expectNone('selection', 100);
            await other.expectNone('steps', 50);
            await draft.expectNone('steps', 50);
            // the backend: connection count, steps to all, steps to one
            const counted = await (await api(`/api/documents/${encodeURIComponent(doc)}/connections`)).json();
            assert.equal(counted.connections, 3);
            assert.deepEqual(counted.byProtocol, { 'y-websocket': 0, drafts: 1, fabric: 2 });
            let res = await api(`/api/documents/${encodeURIComponent(doc)}/steps`, { method: 'POST', body: JSON.stringify({ steps: [{ op: 'insert', at: 3 }] }) });
            assert.equal(res.status, 202);
            for (const c of [a, b]) {
                const steps = await c.next('steps');
                assert.equal(steps.clientID, 'server');
                assert.deepEqual(steps.steps, [{ op: 'insert', at: 3 }]);
            }
            res = await api(`/api/documents/${encodeURIComponent(doc)}/steps`, { method: 'POST', body: JSON.stringify({ steps: { only: 'b' }, clientID: 'client-b' }) });
            assert.equal(res.status, 202);
            assert.deepEqual((await b.next('steps')).steps, { only: 'b' });
            await a.expectNone('steps', 150);
            res = await api(`/api/documents/${encodeURIComponent(doc)}/steps`, { method: 'POST', body: '{"nosteps":1}' });
            assert.equal(res.status, 400);
            // bad input: an error each, the connection and the document intact
            a.send({ type: 'update', update: 'not base64!' });
            assert.equal((await a.next('error')).code, 'INVALID_MESSAGE');
            a.send({ type: 'update', update: b64([1, 2, 3]) });
            assert.equal((await a.next('error')).code, 'INVALID_UPDATE');
            a.send({ type: 'sync', stateVector: b64([200, 200]) });
            assert.equal((await a.next('error')).code, 'INVALID_STATE_VECTOR');
            a.send({ type: 'nope' });
            assert.equal((await a.next('error')).code, 'INVALID_MESSAGE');
            a.send('not json');
            assert.equal((await a.next('error')).code, 'INVALID_MESSAGE');
            a.sendBinary(Buffer.from([0, 1]));
            assert.equal((await a.next('error')).code, 'INVALID_MESSAGE');
            a.send({ type: 'ping' });
            await a.next('pong');
            const late = await connect(fabricUrl(doc, '', await token('erin')), { name: 'late' });
            late.send({ type: 'sync' });
            const all = new Y.Doc();
            Y.applyUpdate(all, unb64((await late.next('synced')).update));
            assert.equal(all.getText('body').toString(), 'Hello fabric');
            await late.close();
        } finally {
            for (const c of [a, b, other, draft]) await c.close();
        }
    });

    test('no token: UNAUTHORIZED and 4401; no documentId: HTTP 400', async () => {
        const c = await connect(fabricUrl('doc-x', 'c1', 'bad'));
        const err = await c.next('error');
        assert.equal(err.payload.code, 'UNAUTHORIZED');
        assert.equal((await c.closed()).code, 4401);
        const refused = await connect(`ws://127.0.0.1:${srv.port}/ws/fabric?clientID=x&token=${await token('x')}`).catch((e) => e);
        assert.ok(refused instanceof Error);
        assert.equal(refused.statusCode, 400);
    });
});
