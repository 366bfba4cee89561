// Types of huddle-client.js. The protocol behind them: docs/protocol.md; the guide: docs/client.md.

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'reconnecting' | 'closed';

/** A token, or a function returning a fresh one (called on every (re)connect and before expiry). */
export type TokenSource = string | (() => string | Promise<string>);

export interface ReconnectOptions {
    /** Delay before the first retry (ms). Default 250. */
    initialDelayMs?: number;
    /** Cap of the delay (ms). Default 10000. */
    maxDelayMs?: number;
    /** Growth of the delay per failed attempt. Default 2. */
    factor?: number;
    /** Fraction of the delay taken off at random (0..1). Default 0.5: a delay is in [base/2, base]. */
    jitter?: number;
    /** Failed attempts in a row before giving up (state 'closed'). Default Infinity. */
    maxAttempts?: number;
}

/** The constructor of a browser-compatible WebSocket (globalThis.WebSocket, or `ws`'s default export). */
export type WebSocketConstructor = new (url: string) => {
    readonly readyState: number;
    send(data: string): void;
    close(code?: number, reason?: string): void;
    onmessage: ((event: { data: unknown }) => void) | null;
    onclose: ((event: { code: number }) => void) | null;
    onerror: ((event: unknown) => void) | null;
};

export interface HuddleClientOptions {
    token?: TokenSource;
    WebSocket?: WebSocketConstructor | (new (url: string) => unknown);
    reconnect?: ReconnectOptions;
    /** Query parameter that carries the token (the server's auth.query_parameter). Default 'token'. */
    tokenParam?: string;
    /** A request without an answer within this time rejects with TIMEOUT. Default 10000. */
    requestTimeoutMs?: number;
    /** A connection not acknowledged within this time is dropped and retried. Default 10000. */
    connectTimeoutMs?: number;
    /** Application ping interval; a connection silent for twice this is dropped. 0 = off. Default 25000. */
    pingIntervalMs?: number;
    /** typing(true) turns itself off after this long without another call. Default 5000. */
    typingTimeoutMs?: number;
}

/** An error code from the server (docs/protocol.md) or from the client (NOT_CONNECTED, TIMEOUT, ...). */
export class HuddleError extends Error {
    readonly code: string;
    readonly retryAfterMs?: number;
    readonly closeCode?: number | null;
    constructor(code: string, message?: string, extra?: object);
}

/** An event as the server sent it. */
export interface HuddleEvent<T = unknown> {
    type: string;
    room: string;
    payload: T;
    /** Milliseconds since the Unix epoch when the server accepted the event. */
    timestamp: number;
    userId?: string;
    /** Rooms with history: the event's position within `epoch`. */
    offset?: number;
    epoch?: string;
}

export interface PresenceUser {
    userId: string;
    connections: number;
    info: Record<string, unknown>;
}

export interface RecoveryInfo {
    /** false: events may have been missed; the app must resync (e.g. reload through its API). */
    recovered: boolean;
    missed: number;
    reason?: string;
    epoch?: string;
    offset?: number;
}

export interface RoomOptions {
    /** Subscription token for rooms of a `subscription-token` namespace (sent again on reconnect). */
    token?: string | ((room: string) => string | Promise<string>);
}

/** Sent once the event is stored (rooms with history) or taken by the cluster's broker. */
export interface PublishAnswer {
    type: 'published';
    id: number;
    room: string;
    /** The event's offset, in rooms with history. */
    offset?: number;
}

type Off = () => void;

export class Room {
    readonly client: HuddleClient;
    readonly name: string;
    readonly subscribed: boolean;
    /** History rooms: the epoch and offset of the last event this client saw. */
    readonly epoch: string | null;
    readonly offset: number | null;

    on(event: 'join', fn: (user: { userId: string; info?: Record<string, unknown> }, event: HuddleEvent) => void): Off;
    on(event: 'leave', fn: (user: { userId: string }, event: HuddleEvent) => void): Off;
    on(event: 'typing', fn: (notice: { userId: string; typing: boolean }, event: HuddleEvent) => void): Off;
    on(event: 'recovery', fn: (info: RecoveryInfo) => void): Off;
    on(event: 'removed', fn: (info: { reason?: string }, event: HuddleEvent) => void): Off;
    on(event: 'error', fn: (error: HuddleError) => void): Off;
    on(event: '*', fn: (type: string, data: unknown, event: HuddleEvent) => void): Off;
    on<T = any>(event: string, fn: (data: T, event: HuddleEvent<T>) => void): Off;
    once(event: string, fn: (...args: any[]) => void): Off;
    off(event: string, fn: (...args: any[]) => void): void;

    publish(type: string, payload?: unknown): Promise<PublishAnswer>;
    presence(): Promise<PresenceUser[]>;
    typing(on?: boolean): void;
    unsubscribe(): Promise<void>;
}

export class HuddleClient {
    constructor(url: string, options?: HuddleClientOptions);
    readonly url: string;
    readonly state: ConnectionState;
    /** The user and connection the server acknowledged (null before the first connection). */
    readonly userId: string | null;
    readonly connectionId: string | null;
    readonly rooms: ReadonlyMap<string, Room>;

    on(event: 'state', fn: (state: ConnectionState) => void): Off;
    on(event: 'error', fn: (error: HuddleError) => void): Off;
    on(event: 'retry', fn: (info: { attempt: number; delayMs: number; closeCode: number | null }) => void): Off;
    on(event: 'event', fn: (event: HuddleEvent) => void): Off;
    once(event: string, fn: (...args: any[]) => void): Off;
    off(event: string, fn: (...args: any[]) => void): void;

    connect(): Promise<this>;
    subscribe(room: string, options?: RoomOptions): Promise<Room>;
    close(): Promise<void>;
}
