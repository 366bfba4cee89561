// Shared bits of the peer servers: port from argv/env and the JSON protocol helpers.
export function portFromArgs(defaultPort) {
  const arg = process.argv.slice(2).find((a) => /^\d+$/.test(a));
  const value = arg ?? process.env.PORT ?? String(defaultPort);
  const port = Number(value);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error(`bad port: ${value}`);
    process.exit(2);
  }
  return port;
}

// {"action":"subscribe","rooms":[..]} -> {"type":"subscribed","rooms":[{"room":..,"ok":true}]}
export function subscribedAnswer(rooms) {
  return JSON.stringify({ type: 'subscribed', rooms: rooms.map((room) => ({ room, ok: true })) });
}

export function unsubscribedAnswer(rooms) {
  return JSON.stringify({ type: 'unsubscribed', rooms: rooms.map((room) => ({ room, ok: true })) });
}

// {"action":"publish","room":..,"type":..,"payload":..} -> what every other member receives.
export function eventFor(msg) {
  return JSON.stringify({
    type: msg.type ?? 'message',
    room: msg.room,
    payload: msg.payload ?? null,
    timestamp: Date.now(),
  });
}

export function errorMessage(code, message) {
  return JSON.stringify({ type: 'error', payload: { code, message }, timestamp: Date.now() });
}

export function roomList(rooms) {
  if (typeof rooms === 'string') return [rooms];
  if (!Array.isArray(rooms)) return null;
  return rooms.filter((r) => typeof r === 'string' && r.length > 0 && r.length <= 256);
}

export function shutdownOn(signals, close) {
  for (const s of signals) {
    process.on(s, () => {
      close();
      process.exit(0);
    });
  }
}
