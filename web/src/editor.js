// The collaborative editor: CodeMirror bound to a Y.Text, synced through the stock y-websocket
// provider at /yjs/<document>; the awareness states carry names and cursor colours.
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { yCollab } from 'y-codemirror.next';
import { EditorView, basicSetup } from 'codemirror';

import { bindUserForm, colorFor, fetchToken, params, showProblem, userName, wsBase } from './common.js';

const documentName = params.get('doc') || 'demo-doc';

function setStatus(state) {
    const badge = document.getElementById('status');
    badge.dataset.state = state;
    badge.textContent = state;
}

function renderPeers(awareness) {
    const list = document.getElementById('peers');
    list.replaceChildren();
    const seen = new Set();
    for (const [clientId, state] of awareness.getStates()) {
        if (!state.user || seen.has(clientId)) continue;
        seen.add(clientId);
        const item = document.createElement('li');
        const pill = document.createElement('span');
        pill.className = 'pill';
        pill.style.background = state.user.color;
        pill.textContent = state.user.name + (clientId === awareness.clientID ? ' (you)' : '');
        item.append(pill);
        list.append(item);
    }
}

async function start() {
    bindUserForm();
    document.getElementById('doc-name').textContent = documentName;
    const user = userName();
    let token;
    try {
        token = await fetchToken(user);
    } catch (error) {
        showProblem(error.message);
        setStatus('disconnected');
        return;
    }
    const ydoc = new Y.Doc();
    const provider = new WebsocketProvider(`${wsBase}/yjs`, documentName, ydoc, { params: { token } });
    const { color, light } = colorFor(user);
    provider.awareness.setLocalStateField('user', { name: user, color, colorLight: light });
    provider.on('status', ({ status }) => setStatus(status));
    provider.on('connection-close', (event) => {
        if (event && (event.code === 4401 || event.code === 4403)) {
            showProblem(`the server refused the connection (close code ${event.code}); reload for a new token`);
        }
    });
    provider.awareness.on('change', () => renderPeers(provider.awareness));
    renderPeers(provider.awareness);

    const ytext = ydoc.getText('codemirror');
    const undoManager = new Y.UndoManager(ytext);
    const view = new EditorView({
        doc: ytext.toString(),
        extensions: [basicSetup, EditorView.lineWrapping, yCollab(ytext, provider.awareness, { undoManager })],
        parent: document.getElementById('editor'),
    });
    // For the browser tests and the curious: the pieces, reachable from the console.
    window.huddleEditor = { ydoc, ytext, provider, view };
}

start();
