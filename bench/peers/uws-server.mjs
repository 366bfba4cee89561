// Peer: uWebSockets.js (the prebuilt @trufflesuite/uws-js-unofficial package) with its native
// pub/sub: ws.subscribe(room), ws.publish(room, msg) (skips the sender) and app.publish.
// Usage: node uws-server.mjs [port]   (or PORT=...); prints "listening <port>".
import { createRequire } from 'node:module';
import {
  portFromArgs, subscribedAnswer, unsubscribedAnswer, eventFor, errorMessage, roomList, shutdownOn,
} from './common.mjs';

const require = createRequire(import.meta.url);
const uWS = require('@trufflesuite/uws-js-unofficial');
const pkg = require('@trufflesuite/uws-js-unofficial/package.json');

// The package silently falls back to a JavaScript implementation when its native addon does not
// load: refuse that, it would not be uWebSockets at all.
if (!String(uWS.App).includes('[native code]') && process.env.UWS_ALLOW_FALLBACK !== '1') {
  console.error('uWebSockets.js native addon did not load (fallback refused)');
  process.exit(1);
}

const port = portFromArgs(3002);
const decoder = new TextDecoder();
let listenSocket = null;

const app = uWS.App();
app
  .ws('/*', {
    compression: uWS.DISABLED,
    maxPayloadLength: 64 * 1024,
    maxBackpressure: 1024 * 1024,
    idleTimeout: 120, // sends pings automatically before this
    open: () => {},
    message: (ws, message) => {
      let msg;
      try {
        msg = JSON.parse(decoder.decode(message));
      } catch {
        ws.send(errorMessage('INVALID_MESSAGE', 'not JSON'));
        return;
      }
      switch (msg?.action) {
        case 'subscribe': {
          const list = roomList(msg.rooms);
          if (!list) return ws.send(errorMessage('INVALID_MESSAGE', 'rooms must be a list'));
          for (const room of list) ws.subscribe(room);
          ws.send(subscribedAnswer(list));
          break;
        }
        case 'unsubscribe': {
          const list = roomList(msg.rooms);
          if (!list) return ws.send(errorMessage('INVALID_MESSAGE', 'rooms must be a list'));
          for (const room of list) ws.unsubscribe(room);
          ws.send(unsubscribedAnswer(list));
          break;
        }
        case 'publish':
          if (typeof msg.room !== 'string') return ws.send(errorMessage('INVALID_MESSAGE', 'no room'));
          // ws.publish skips the sender but, in this build, sends nothing at all when the sender
          // is not itself subscribed to the topic: then the app publishes (no sender to skip).
          if (ws.isSubscribed(msg.room)) ws.publish(msg.room, eventFor(msg));
          else app.publish(msg.room, eventFor(msg));
          break;
        case 'ping':
          ws.send(JSON.stringify({ type: 'pong', timestamp: Date.now() }));
          break;
        default:
          ws.send(errorMessage('INVALID_MESSAGE', 'unknown action'));
      }
    },
  })
  .listen(port, (token) => {
    if (!token) {
      console.error(`cannot listen on ${port}`);
      process.exit(1);
    }
    listenSocket = token;
    console.log(`listening ${port} (${pkg.name} ${pkg.version})`);
  });

shutdownOn(['SIGINT', 'SIGTERM'], () => {
  if (listenSocket) uWS.us_listen_socket_close(listenSocket);
});
