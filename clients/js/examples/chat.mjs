// A chat member: joins chat:lobby, lists who is there, says hello, shows what others say.
//   node examples/chat.mjs ws://127.0.0.1:3000/ws "$TOKEN"
import WebSocket from 'ws'; // Node 20 has no global WebSocket; in browsers and Node 22+ leave it out
import { HuddleClient } from '@huddle/client';

const [url = 'ws://127.0.0.1:3000/ws', token = process.env.HUDDLE_TOKEN] = process.argv.slice(2);
const client = new HuddleClient(url, { token, WebSocket });
client.on('state', (state) => console.log(`state: ${state}`));
client.on('error', (err) => console.log(`error: ${err.code}`));

await client.connect();
console.log(`connected as ${client.userId}`);
const room = await client.subscribe('chat:lobby');
room.on('join', (user) => console.log(`${user.userId} joined`));
room.on('leave', (user) => console.log(`${user.userId} left`));
room.on('typing', ({ userId, typing }) => console.log(`${userId} ${typing ? 'is typing' : 'stopped typing'}`));
room.on('CHAT_MESSAGE', (data, event) => {
    console.log(`${event.userId}: ${data.text}`);
    if (data.text === 'bye') client.close();
});

const users = await room.presence();
console.log(`here: ${users.map((u) => u.userId).join(', ')}`);
room.typing(true);
await room.publish('CHAT_MESSAGE', { text: `hello from ${client.userId}` });
room.typing(false);

try {
    await (await client.subscribe('user:someone-else')).publish('x', {});
} catch (err) {
    console.log(`refused: ${err.code}`); // FORBIDDEN: another user's private room
}
