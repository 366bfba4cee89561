// Peer: Socket.IO with rooms (WebSocket transport only, as the load generator speaks it).
// Events: "subscribe" (room or list) -> emits "subscribed" {rooms:[{room,ok:true}]};
//         "publish" {room,type,payload} -> every other member gets event <type> (default
//         "message") with {type,room,payload,timestamp}.
// Usage: node socketio-server.mjs [port]   (or PORT=...); prints "listening <port>".
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { portFromArgs, roomList, shutdownOn } from './common.mjs';

const port = portFromArgs(3003);
const httpServer = createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  perMessageDeflate: false,
  serveClient: false,
  maxHttpBufferSize: 64 * 1024,
  pingInterval: Number(process.env.PING_INTERVAL_MS ?? 25_000),
});

io.on('connection', (socket) => {
  socket.on('subscribe', (rooms) => {
    const list = roomList(rooms);
    if (!list) {
      socket.emit('error_message', { code: 'INVALID_MESSAGE', message: 'rooms must be a list' });
      return;
    }
    socket.join(list);
    socket.emit('subscribed', { rooms: list.map((room) => ({ room, ok: true })) });
  });
  socket.on('unsubscribe', (rooms) => {
    const list = roomList(rooms) ?? [];
    for (const room of list) socket.leave(room);
    socket.emit('unsubscribed', { rooms: list.map((room) => ({ room, ok: true })) });
  });
  socket.on('publish', (msg) => {
    if (typeof msg?.room !== 'string') return;
    const type = typeof msg.type === 'string' ? msg.type : 'message';
    socket.to(msg.room).emit(type, {
      type,
      room: msg.room,
      payload: msg.payload ?? null,
      timestamp: Date.now(),
    });
  });
});

httpServer.listen(port, () => console.log(`listening ${port}`));
shutdownOn(['SIGINT', 'SIGTERM'], () => io.close());
