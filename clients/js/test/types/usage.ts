// Compiled by `tsc --noEmit` (test/package.test.mjs): the published types describe the API of
// docs/client.md, and misuse is an error (each @ts-expect-error must find one).
import { HuddleClient, HuddleError, type ConnectionState, type HuddleEvent, type PresenceUser, type Room } from '@huddle/client';

interface Issue { id: string; title?: string }

export async function usage(): Promise<void> {
    const client = new HuddleClient('ws://127.0.0.1:3000/ws', {
        token: async () => 'jwt',
        WebSocket: globalThis.WebSocket,
        reconnect: { initialDelayMs: 250, maxDelayMs: 10000, factor: 2, jitter: 0.5 },
    });
    client.on('state', (state: ConnectionState) => void state);
    client.on('error', (err: HuddleError) => void err.code);
    await client.connect();
    const room: Room = await client.subscribe('team:42');
    room.on<Issue>('issue.created', (issue, event: HuddleEvent<Issue>) => void [issue.id, event.offset, event.timestamp]);
    room.on('*', (type: string, data: unknown) => void [type, data]);
    room.on('join', (user) => void user.userId);
    room.on('typing', ({ userId, typing }) => void [userId, typing]);
    room.on('recovery', ({ recovered, missed }) => void [recovered, missed]);
    const answer = await room.publish('issue.created', { id: 'I-7' });
    void answer.room;
    const users: PresenceUser[] = await room.presence();
    void users[0]?.connections;
    room.typing(true);
    await room.unsubscribe();
    await client.close();
    try { await client.subscribe('user:x'); } catch (e) { if (e instanceof HuddleError) void e.code.toLowerCase(); }

    // @ts-expect-error: a token is a string or a function
    new HuddleClient('ws://x', { token: 42 });
    // @ts-expect-error: states are a closed set
    const bad: ConnectionState = 'open';
    void bad;
    // @ts-expect-error: presence answers users, not a string
    const s: string = await room.presence();
    void s;
    // @ts-expect-error: recovery says recovered as a boolean
    room.on('recovery', (info) => info.recovered.toFixed());
}
