// Collaborative documents need no Huddle-specific code: the stock y-websocket provider connects
// to `<server>/yjs`, the document name is its room, and the token travels in `params`.
// Usage: node examples/yjs-document.mjs ws://127.0.0.1:3000 TOKEN [document]
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws'; // Node only; browsers have WebSocket

const [server, token, name = 'notes/welcome'] = process.argv.slice(2);

function open(label) {
    const doc = new Y.Doc();
    const provider = new WebsocketProvider(`${server}/yjs`, name, doc, {
        params: { token },
        WebSocketPolyfill: WebSocket,
        disableBc: true, // two docs in one process: sync through the server, not in memory
    });
    provider.awareness.setLocalStateField('user', { name: label }); // shown as a remote cursor
    return { doc, provider, text: doc.getText('content') };
}

const synced = ({ provider }) => new Promise((resolve) => provider.once('sync', resolve));
const a = open('ada');
const b = open('bob');
await Promise.all([synced(a), synced(b)]);

b.text.observe(() => {
    if (!b.text.toString().includes('from ada')) return;
    const names = [...b.provider.awareness.getStates().values()].map((s) => s.user?.name);
    console.log(`bob reads: ${b.text.toString()}`);
    console.log(`bob sees: ${names.filter(Boolean).sort().join(', ')}`);
    for (const peer of [a, b]) {
        peer.provider.destroy();
        peer.provider.awareness.destroy(); // stops its renewal timer, so that Node can exit
    }
});
a.text.insert(a.text.length, `Hello from ada (${a.text.length} characters were there)`);
