// Summarizes the JSON lines written by bench/run.sh: one markdown table, one row per server,
// each figure as "median (min–max)" over the runs.
// Usage: node bench/summarize.mjs bench/results/<stamp>-<scenario>.jsonl
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/summarize.mjs RESULTS.jsonl');
  process.exit(2);
}
const rows = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l));
if (rows.length === 0) {
  console.error('no results');
  process.exit(1);
}

const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
const errors = (r) =>
  (r.failed ?? 0) + (r.unexpected ?? 0) + (r.gaps ?? 0) + (r.missing ?? 0) +
  (r.out_of_order ?? 0) + (r.disconnects ?? 0) + (r.protocol_errors ?? 0);

const traffic = [
  ['deliveries/s', 'deliveries_per_s', 0],
  ['publishes/s', 'publishes_per_s', 0],
  ['p50 µs', 'latency_us.p50', 0],
  ['p99 µs', 'latency_us.p99', 0],
  ['p99.9 µs', 'latency_us.p999', 0],
  ['max µs', 'latency_us.max', 0],
  ['server CPU %', 'server_cpu_pct', 0],
  ['server ns/delivery', 'server_cpu_ns_per_delivery', 0],
  ['server core busy %', 'server_core_busy_pct', 0],
  ['server core ns/delivery', 'server_core_ns_per_delivery', 0],
  ['loadgen CPU %', 'loadgen_cpu_pct', 0],
];
const figures = {
  fanout: traffic,
  rate: traffic,
  rooms: traffic,
  idle: [
    ['ready', 'ready', 0],
    ['bytes/conn', 'rss_per_conn_bytes', 0],
    ['RSS ready MB', (r) => (r.server_rss_ready_kb ?? 0) / 1024, 1],
    ['connects/s', 'connects_per_s', 0],
    ['handshake p99 µs', 'handshake_us.p99', 0],
    ['server CPU % (hold)', 'server_cpu_pct', 1],
  ],
  documents: [
    ['updates relayed/s', 'deliveries_per_s', 0],
    ['updates sent/s', 'publishes_per_s', 0],
    ['p50 µs', 'latency_us.p50', 0],
    ['p99 µs', 'latency_us.p99', 0],
    ['p99.9 µs', 'latency_us.p999', 0],
    ['server CPU %', 'server_cpu_pct', 0],
    ['server ns/relay', 'server_cpu_ns_per_delivery', 0],
    ['server core ns/relay', 'server_core_ns_per_delivery', 0],
    ['loadgen CPU %', 'loadgen_cpu_pct', 0],
    ['RSS loaded MB', (r) => (r.server_rss_loaded_kb ?? 0) / 1024, 1],
    ['KB/document', (r) => (r.rss_per_document_bytes ?? 0) / 1024, 1],
    ['RSS end MB', (r) => (r.server_rss_after_kb ?? 0) / 1024, 1],
  ],
  connect: [
    ['handshakes/s', 'handshakes_per_s', 0],
    ['p50 µs', 'handshake_us.p50', 0],
    ['p99 µs', 'handshake_us.p99', 0],
    ['server CPU %', 'server_cpu_pct', 0],
    ['loadgen CPU %', 'loadgen_cpu_pct', 0],
  ],
};

const scenario = rows[0].scenario;
// server_cpu_total_s: from /proc/<pid>/stat by run.sh, whole loadgen run (connect to close).
const cols = [
  ...(figures[scenario] ?? traffic),
  ['server CPU s (run)', 'server_cpu_total_s', 2],
  ['errors', errors, 0],
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (v, digits) =>
  Number(v).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const servers = [...new Set(rows.map((r) => r.server))];
const head = ['server', 'runs', ...cols.map((c) => c[0]), 'ok'];
const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
for (const server of servers) {
  const rs = rows.filter((r) => r.server === server);
  const cells = [server, String(rs.length)];
  for (const [, key, digits] of cols) {
    const vals = rs
      .map((r) => (typeof key === 'function' ? key(r) : get(r, key)))
      .filter((v) => typeof v === 'number' && Number.isFinite(v));
    if (vals.length === 0) {
      cells.push('–');
      continue;
    }
    const med = fmt(median(vals), digits);
    const lo = fmt(Math.min(...vals), digits);
    const hi = fmt(Math.max(...vals), digits);
    cells.push(vals.length > 1 ? `${med} (${lo}–${hi})` : med);
  }
  cells.push(`${rs.filter((r) => r.ok).length}/${rs.length}`);
  lines.push(`| ${cells.join(' | ')} |`);
}

const r0 = rows[0];
const where = scenario === 'documents' ? `${r0.documents} documents × ${r0.editors} editors` : `${r0.rooms} room(s)`;
console.log(`\n### ${scenario}: ${r0.connections} connections, ${where}` +
  (r0.window ? `, window ${r0.window}` : '') + (r0.rate_target ? `, rate ${r0.rate_target}/s` : '') +
  ` — median (min–max) of the runs; ${file}\n`);
console.log(lines.join('\n'));
