// The live dashboard: Huddle's /metrics (public) every second, drawn as rolling charts, and the
// per-room counts from /stats and /api/documents (which need the API key).
import { LineChart, formatNumber } from './chart.js';
import { httpBase, showProblem } from './common.js';

const KEY_STORAGE = 'huddle-demo-api-key';
// The documented development default; a server with its own key needs it typed in.
const DEVELOPMENT_KEY = 'huddle-development-api-key';
const INTERVAL_MS = 1000;

const series = [
    { id: 'connections', title: 'Connections', color: '#4a7bd6' },
    { id: 'users', title: 'Users online', color: '#8a4ad6' },
    { id: 'rooms', title: 'Rooms', color: '#2f9e6e' },
    { id: 'inRate', title: 'Messages in / s', color: '#d6784a' },
    { id: 'outRate', title: 'Messages out / s', color: '#d64a7b' },
    { id: 'bytesOutRate', title: 'Bytes out / s', color: '#6a7b8a' },
];

// Prometheus text: sums the samples of each metric name (labels are folded together).
export function parseMetrics(text) {
    const values = {};
    for (const line of text.split('\n')) {
        if (!line || line.startsWith('#')) continue;
        const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
        if (!match) continue;
        const value = Number(match[3]);
        if (Number.isFinite(value)) values[match[1]] = (values[match[1]] ?? 0) + value;
    }
    return values;
}

function setStatus(state, text = state) {
    const badge = document.getElementById('status');
    badge.dataset.state = state;
    badge.textContent = text;
}

function buildCharts() {
    const holder = document.getElementById('charts');
    const charts = {};
    for (const s of series) {
        const box = document.createElement('div');
        box.className = 'chart';
        box.dataset.series = s.id;
        const title = document.createElement('h3');
        title.textContent = s.title;
        const value = document.createElement('span');
        value.className = 'value';
        value.textContent = '–';
        title.append(value);
        const canvas = document.createElement('canvas');
        box.append(title, canvas);
        holder.append(box);
        charts[s.id] = { chart: new LineChart(canvas, { color: s.color }), value };
    }
    return charts;
}

function apiKey() {
    return document.getElementById('api-key').value.trim();
}

async function fetchJson(path) {
    const response = await fetch(`${httpBase}${path}`, { headers: { 'X-API-Key': apiKey() }, cache: 'no-store' });
    if (response.status === 401) throw new Error('unauthorized');
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
}

function fillTable(id, rows, columns) {
    const body = document.getElementById(id);
    body.replaceChildren();
    for (const row of rows) {
        const tr = document.createElement('tr');
        for (const column of columns) {
            const td = document.createElement('td');
            if (column.bar !== undefined) {
                td.className = 'bar';
                const bar = document.createElement('div');
                bar.style.width = `${Math.round(column.bar(row) * 100)}%`;
                td.append(bar);
            } else {
                td.textContent = column(row);
            }
            tr.append(td);
        }
        body.append(tr);
    }
}

async function pollDetails() {
    try {
        const [stats, docs] = await Promise.all([fetchJson('/stats'), fetchJson('/api/documents')]);
        const rooms = Object.entries(stats.clientsPerRoom ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
        const most = Math.max(1, ...rooms.map(([, n]) => n));
        fillTable('rooms', rooms, [([room]) => room, ([, n]) => String(n), { bar: ([, n]) => n / most }]);
        const documents = [...(docs.documents ?? [])].sort((a, b) => a.document.localeCompare(b.document));
        fillTable('documents', documents, [
            (d) => d.document, (d) => String(d.connections), (d) => String(d.updates), (d) => formatNumber(d.bytes),
        ]);
        return null;
    } catch (error) {
        return error.message === 'unauthorized'
            ? 'the API key was refused: per-room figures need the server\'s api.api_key'
            : `per-room figures: ${error.message}`;
    }
}

async function start() {
    const keyInput = document.getElementById('api-key');
    keyInput.value = localStorage.getItem(KEY_STORAGE) ?? DEVELOPMENT_KEY;
    keyInput.addEventListener('change', () => localStorage.setItem(KEY_STORAGE, keyInput.value.trim()));
    const charts = buildCharts();
    let previous = null;
    const samples = { count: 0 };
    window.huddleDashboard = samples;

    const tick = async () => {
        let problem = null;
        try {
            const response = await fetch(`${httpBase}/metrics`, { cache: 'no-store' });
            if (!response.ok) throw new Error(`/metrics answered HTTP ${response.status}`);
            const m = parseMetrics(await response.text());
            const now = performance.now();
            const seconds = previous ? (now - previous.at) / 1000 : 0;
            const rate = (name) => (previous && seconds > 0 ? Math.max(0, ((m[name] ?? 0) - (previous.m[name] ?? 0)) / seconds) : 0);
            const values = {
                connections: m.huddle_connections ?? 0,
                users: m.huddle_users ?? 0,
                rooms: m.huddle_rooms ?? 0,
                inRate: rate('huddle_messages_in_total'),
                outRate: rate('huddle_messages_out_total'),
                bytesOutRate: rate('huddle_bytes_out_total'),
            };
            previous = { at: now, m };
            for (const s of series) {
                charts[s.id].chart.push(values[s.id]);
                charts[s.id].value.textContent = formatNumber(values[s.id]);
            }
            Object.assign(samples, values, { count: samples.count + 1 });
            setStatus('connected', 'live');
            problem = await pollDetails();
        } catch (error) {
            setStatus('disconnected', 'server unreachable');
            problem = `cannot read /metrics: ${error.message}`;
        }
        showProblem(problem ?? '');
        setTimeout(tick, INTERVAL_MS);
    };
    tick();
}

start();
