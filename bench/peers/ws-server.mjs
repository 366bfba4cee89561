// Peer: Node `ws` with a Map<room, Set<socket>>, the pattern the applications use.
// Usage: node ws-server.mjs [port]   (or PORT=...); prints "listening <port>".
import { WebSocketServer, WebSocket } from 'ws';
import {
  portFromArgs, subscribedAnswer, unsubscribedAnswer, eventFor, errorMessage, roomList, shutdownOn,
} from './common.mjs';

const port = portFromArgs(3001);
const rooms = new Map(); // room -> Set<WebSocket>

const wss = new WebSocketServer({ port, perMessageDeflate: false, maxPayload: 64 * 1024 });

function join(ws, room) {
  let members = rooms.get(room);
  if (!members) {
    members = new Set();
    rooms.set(room, members);
  }
  members.add(ws);
  ws.rooms.add(room);
}

function leave(ws, room) {
  const members = rooms.get(room);
  if (members) {
    members.delete(ws);
    if (members.size === 0) rooms.delete(room);
  }
  ws.rooms.delete(room);
}

wss.on('connection', (ws) => {
  ws.rooms = new Set();
  ws.isAlive = true;
  ws.on('pong', () => {
    ws.isAlive = true;
  });
  ws.on('message', (data) => {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      ws.send(errorMessage('INVALID_MESSAGE', 'not JSON'));
      return;
    }
    switch (msg?.action) {
      case 'subscribe': {
        const list = roomList(msg.rooms);
        if (!list) return ws.send(errorMessage('INVALID_MESSAGE', 'rooms must be a list'));
        for (const room of list) join(ws, room);
        ws.send(subscribedAnswer(list));
        break;
      }
      case 'unsubscribe': {
        const list = roomList(msg.rooms);
        if (!list) return ws.send(errorMessage('INVALID_MESSAGE', 'rooms must be a list'));
        for (const room of list) leave(ws, room);
        ws.send(unsubscribedAnswer(list));
        break;
      }
      case 'publish': {
        if (typeof msg.room !== 'string') return ws.send(errorMessage('INVALID_MESSAGE', 'no room'));
        const members = rooms.get(msg.room);
        if (!members) return;
        const out = eventFor(msg);
        for (const client of members) {
          if (client !== ws && client.readyState === WebSocket.OPEN) client.send(out);
        }
        break;
      }
      case 'ping':
        ws.send(JSON.stringify({ type: 'pong', timestamp: Date.now() }));
        break;
      default:
        ws.send(errorMessage('INVALID_MESSAGE', 'unknown action'));
    }
  });
  ws.on('close', () => {
    for (const room of [...ws.rooms]) leave(ws, room);
  });
  ws.on('error', () => {});
});

// Heartbeat every 30 s (PING_INTERVAL_MS): terminate sockets that did not answer the last ping.
const pingInterval = Number(process.env.PING_INTERVAL_MS ?? 30_000);
const heartbeat = setInterval(() => {
  for (const ws of wss.clients) {
    if (!ws.isAlive) {
      ws.terminate();
      continue;
    }
    ws.isAlive = false;
    ws.ping();
  }
}, pingInterval);

wss.on('listening', () => console.log(`listening ${port}`));
wss.on('close', () => clearInterval(heartbeat));
shutdownOn(['SIGINT', 'SIGTERM'], () => wss.close());
