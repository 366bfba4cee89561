// A client that survives server restarts and token expiry: the token comes from the app's backend
// (called again on each reconnect and before expiry), events of a history room are recovered
// after a reconnect, and the app is told when it must reload instead.
//   node examples/resilient.mjs ws://127.0.0.1:3000/ws http://127.0.0.1:8080/huddle-token room:orders
import WebSocket from 'ws'; // Node 20 only
import { HuddleClient } from '@huddle/client';

const [url, tokenUrl, roomName] = process.argv.slice(2);

const client = new HuddleClient(url, {
    token: async () => (await fetch(tokenUrl)).text(),
    WebSocket,
    reconnect: { initialDelayMs: 250, maxDelayMs: 5000 },
});
client.on('state', (state) => console.log(`state: ${state}`));
client.on('retry', ({ attempt, delayMs }) => console.log(`retry ${attempt} in ${Math.round(delayMs)} ms`));

await client.connect();
const room = await client.subscribe(roomName);
room.on('order.created', (order, event) => {
    console.log(`order ${order.id} (offset ${event.offset})`);
    if (order.id === 'last') client.close();
});
room.on('recovery', ({ recovered, missed, reason }) => {
    if (recovered) console.log(`recovered: ${missed} missed event(s) replayed`);
    else console.log(`reload needed: ${reason}`); // e.g. fetch the latest orders from the app's API
});
console.log('ready');
