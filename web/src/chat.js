// The chat room: the huddle-client.js library on the /ws protocol. A room of the "chat" namespace
// keeps history (config/demo.toml), so a reloaded page shows the last messages and a page that
// lost its connection gets what it missed when the library reconnects.
import { HuddleClient } from '../../clients/js/huddle-client.js';

import { bindUserForm, colorFor, fetchToken, params, showProblem, userName, wsBase } from './common.js';
import { readHistory } from './history.js';

const MESSAGE = 'CHAT_MESSAGE';
const HISTORY_COUNT = 50;
const roomName = `chat:${params.get('room') || 'lobby'}`;

const messages = new Map();  // message id → { id, user, text, timestamp }
const online = new Map();    // userId → connections (0 while only announced)
const typing = new Set();
let me = '';

function setStatus(state) {
    const badge = document.getElementById('status');
    badge.dataset.state = state;
    badge.textContent = state;
}

function addMessage(payload, event) {
    if (!payload || typeof payload.text !== 'string') return;
    const id = payload.id ?? `${event?.epoch}:${event?.offset}`;
    if (messages.has(id)) return;
    messages.set(id, {
        id,
        user: event?.userId ?? payload.user ?? '?',
        text: payload.text,
        timestamp: event?.timestamp ?? Date.now(),
    });
    renderMessages();
}

function notice(text) {
    const box = document.getElementById('messages');
    const line = document.createElement('div');
    line.className = 'notice';
    line.textContent = text;
    box.append(line);
    box.scrollTop = box.scrollHeight;
}

function renderMessages() {
    const box = document.getElementById('messages');
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 20;
    for (const old of box.querySelectorAll('.message')) old.remove();
    const sorted = [...messages.values()].sort((a, b) => a.timestamp - b.timestamp);
    const firstNotice = box.querySelector('.notice');
    for (const m of sorted) {
        const line = document.createElement('div');
        line.className = 'message';
        line.dataset.id = m.id;
        const who = document.createElement('span');
        who.className = 'who';
        who.style.color = colorFor(m.user).color;
        who.textContent = m.user;
        const text = document.createElement('span');
        text.className = 'text';
        text.textContent = m.text;
        const when = document.createElement('span');
        when.className = 'when';
        when.textContent = new Date(m.timestamp).toLocaleTimeString();
        line.append(who, text, when);
        box.insertBefore(line, firstNotice);
    }
    if (atBottom) box.scrollTop = box.scrollHeight;
}

function renderOnline() {
    const list = document.getElementById('online');
    list.replaceChildren();
    for (const user of [...online.keys()].sort()) {
        const item = document.createElement('li');
        const pill = document.createElement('span');
        pill.className = 'pill';
        pill.dataset.user = user;
        pill.style.background = colorFor(user).color;
        pill.textContent = user === me ? `${user} (you)` : user;
        item.append(pill);
        list.append(item);
    }
}

function renderTyping() {
    const names = [...typing].filter((u) => u !== me).sort();
    document.getElementById('typing').textContent =
        names.length === 0 ? '' : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
}

async function refreshPresence(room) {
    try {
        const users = await room.presence();
        online.clear();
        for (const u of users) online.set(u.userId, u.connections);
        renderOnline();
    } catch (error) {
        showProblem(`presence: ${error.message}`);
    }
}

async function loadHistory(token) {
    try {
        const events = await readHistory(`${wsBase}/ws`, token, roomName, HISTORY_COUNT);
        for (const event of events) if (event.type === MESSAGE) addMessage(event.payload, event);
    } catch (error) {
        notice(`history not loaded: ${error.message}`);
    }
}

// crypto.randomUUID exists only in secure contexts; a demo on http://<lan-address> is not one.
function messageId() {
    return `${me}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

async function start() {
    bindUserForm();
    document.getElementById('room-name').textContent = roomName;
    me = userName();
    let token;
    try {
        token = await fetchToken(me);
    } catch (error) {
        showProblem(error.message);
        setStatus('disconnected');
        return;
    }
    // Asked again on every reconnect: after a server restart the page needs nothing from the person.
    const client = new HuddleClient(`${wsBase}/ws`, {
        token: async () => {
            token = await fetchToken(me);
            return token;
        },
    });
    client.on('state', (state) => {
        setStatus(state);
        if (state === 'reconnecting' || state === 'disconnected') {
            typing.clear();
            renderTyping();
        }
    });
    client.on('error', (error) => {
        if (error.code === 'UNAUTHORIZED') showProblem(`the server refused the token: ${error.message}`);
    });
    await client.connect();
    const room = await client.subscribe(roomName);
    window.huddleChat = { client, room, messages, online };

    room.on(MESSAGE, (payload, event) => addMessage(payload, event));
    room.on('join', (user) => {
        online.set(user.userId, online.get(user.userId) ?? 1);
        renderOnline();
    });
    room.on('leave', (user) => {
        online.delete(user.userId);
        typing.delete(user.userId);
        renderOnline();
        renderTyping();
    });
    room.on('typing', ({ userId, typing: on }) => {
        if (on) typing.add(userId); else typing.delete(userId);
        renderTyping();
    });
    room.on('recovery', async ({ recovered, missed }) => {
        showProblem('');
        notice(recovered ? `reconnected (${missed} missed message${missed === 1 ? '' : 's'} caught up)` : 'reconnected; reloading the last messages');
        if (!recovered) await loadHistory(token);
        await refreshPresence(room);
    });

    await loadHistory(token);
    await refreshPresence(room);

    const input = document.getElementById('message-input');
    input.addEventListener('input', () => room.typing(input.value.length > 0));
    document.getElementById('send-form').addEventListener('submit', async (event) => {
        event.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        const payload = { id: messageId(), text };
        input.value = '';
        room.typing(false);
        try {
            await room.publish(MESSAGE, payload);
            // The server sends an event to every member but its sender.
            addMessage(payload, { userId: me, timestamp: Date.now() });
        } catch (error) {
            input.value = text;
            showProblem(`not sent: ${error.code ?? ''} ${error.message}`);
        }
    });
}

start().catch((error) => {
    showProblem(`the chat could not start: ${error.message}`);
    setStatus('disconnected');
});
