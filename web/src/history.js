// Reads the last events of a history room over the /ws protocol, for a page that has just loaded
// (the client library replays only what a connection missed after it had been connected).
// A short-lived second connection: subscribe to learn the room's epoch and offset, then subscribe
// again asking to recover from `count` events before that offset; the server replays them.

const TIMEOUT_MS = 5000;

export function readHistory(wsUrl, token, room, count) {
    return new Promise((resolve, reject) => {
        const url = new URL(wsUrl);
        url.searchParams.set('token', token);
        const ws = new WebSocket(url);
        const events = [];
        let phase = 'position';
        const finish = (error) => {
            clearTimeout(timer);
            ws.onclose = null;
            try { ws.close(1000); } catch { /* already closed */ }
            if (error) reject(error); else resolve(events);
        };
        const timer = setTimeout(() => finish(new Error('history read timed out')), TIMEOUT_MS);
        ws.onopen = () => ws.send(JSON.stringify({ action: 'subscribe', rooms: [room], id: 'h1' }));
        ws.onclose = (event) => finish(new Error(`history connection closed (${event.code})`));
        ws.onmessage = (message) => {
            let msg;
            try { msg = JSON.parse(message.data); } catch { return; }
            if (msg.type === 'error') return finish(new Error(msg.payload?.message ?? msg.payload?.code ?? 'error'));
            if (msg.type === 'subscribed' && msg.rooms?.[0]?.ok === false) {
                return finish(new Error(msg.rooms[0].error?.message ?? 'subscribe refused'));
            }
            if (msg.type !== 'room.position' && msg.room === room && typeof msg.offset === 'number') {
                if (phase === 'replay') events.push(msg);
                return;
            }
            if (msg.type !== 'room.position' || msg.room !== room) return;
            if (phase === 'position') {
                if (!msg.offset) return finish();
                phase = 'replay';
                const from = Math.max(0, msg.offset - count);
                ws.send(JSON.stringify({ action: 'unsubscribe', rooms: [room], id: 'h2' }));
                ws.send(JSON.stringify({
                    action: 'subscribe', rooms: [room], id: 'h3',
                    recover: { [room]: { offset: from, epoch: msg.epoch } },
                }));
            } else if ('recovered' in msg) {
                finish();
            }
        };
    });
}
