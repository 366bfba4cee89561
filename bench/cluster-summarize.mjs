// Summarizes the JSON lines written by bench/cluster.sh: a fan-out table (one row per
// configuration) and an interest table (one row per node), each figure "median (min–max)".
// With --smoke it also checks the two claims of issue #7 and exits 1 when one fails:
// messages published on node 0 reached the subscribers of every other node, and with rooms
// assigned to nodes each node received from Redis about its share, not every message.
// Usage: node bench/cluster-summarize.mjs RESULTS.jsonl [--smoke]
import { readFileSync } from 'node:fs';

const [file, flag] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/cluster-summarize.mjs RESULTS.jsonl [--smoke]');
  process.exit(2);
}
const rows = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (v, digits = 0) =>
  Number(v).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const cell = (vals, digits = 0) => {
  const v = vals.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return '–';
  const med = fmt(median(v), digits);
  return v.length > 1 ? `${med} (${fmt(Math.min(...v), digits)}–${fmt(Math.max(...v), digits)})` : med;
};
const table = (head, body) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const configs = (prefix) => [...new Set(rows.filter((r) => r.config.startsWith(prefix)).map((r) => r.config))];
const ok = (rs) => `${rs.filter((r) => r.ok).length}/${rs.length}`;
// Nodes + Redis CPU time per delivery: what the whole server side paid.
const nsPerDelivery = (r) => (r.deliveries > 0 ? (r.server_cpu_s * 1e9) / r.deliveries : NaN);
const nodeCpu = (rs, nodes) =>
  Array.from({ length: nodes }, (_, k) => cell(rs.map((r) => r.cpu[`node${k}`]))).join(' / ');

const fanout = configs('fanout-');
if (fanout.length) {
  const body = fanout.map((c) => {
    const rs = rows.filter((r) => r.config === c);
    return [c, String(rs.length), cell(rs.map((r) => r.deliveries_per_s)), cell(rs.map((r) => r.publishes_per_s)),
      cell(rs.map((r) => r.latency_us.p50)), cell(rs.map((r) => r.latency_us.p99)),
      nodeCpu(rs, rs[0].nodes), cell(rs.map((r) => r.cpu.redis)), cell(rs.map((r) => r.loadgen_cpu_pct)),
      cell(rs.map(nsPerDelivery)), ok(rs)];
  });
  const r0 = rows.find((r) => r.config === fanout[0]);
  console.log(`\n### fan-out: ${r0.connections - 1} subscribers in one room, window ${r0.window}; ` +
    `median (min–max) of the runs; ${file}\n`);
  console.log(table(['configuration', 'runs', 'deliveries/s', 'publishes/s', 'p50 µs', 'p99 µs',
    'CPU % per node', 'Redis CPU %', 'loadgen CPU %', 'nodes+Redis ns/delivery', 'ok'], body));
}

const interest = configs('interest-');
for (const c of interest) {
  const rs = rows.filter((r) => r.config === c && r.broker_received);
  if (!rs.length) continue;
  const clusterPublished = (r) => r.broker_published.reduce((a, b) => a + b, 0);
  const body = [];
  for (let k = 0; k < rs[0].nodes; k++) {
    body.push([`node ${k}`, cell(rs.map((r) => r.broker_received[k])), cell(rs.map((r) => r.broker_published[k])),
      cell(rs.map(clusterPublished)), cell(rs.map((r) => r.broker_received[k] / clusterPublished(r)), 3),
      cell(rs.map((r) => r.cpu[`node${k}`]))]);
  }
  const r0 = rs[0];
  console.log(`\n### ${c}: ${r0.connections} connections in ${r0.rooms} rooms, ${r0.rate_target} messages/s ` +
    `per room, ${r0.nodes} nodes; ${rs.length} run(s)\n`);
  console.log(table(['node', 'received from Redis', 'published by the node', 'published in the cluster',
    'received / published in the cluster', 'node CPU %'], body));
  console.log(`\ndeliveries/s ${cell(rs.map((r) => r.deliveries_per_s))}, p50 ${cell(rs.map((r) => r.latency_us.p50))} µs, ` +
    `p99 ${cell(rs.map((r) => r.latency_us.p99))} µs, Redis CPU ${cell(rs.map((r) => r.cpu.redis))} %, ` +
    `loadgen CPU ${cell(rs.map((r) => r.loadgen_cpu_pct))} %, nodes+Redis ${cell(rs.map(nsPerDelivery))} ns/delivery, ` +
    `loadgen published ${cell(rs.map((r) => r.published_total))} messages in all, ok ${ok(rs)}`);
}

if (flag !== '--smoke') process.exit(0);

// --- Smoke checks ------------------------------------------------------------------------------
const failures = [];
const fan = rows.filter((r) => r.config.startsWith('fanout-') && r.nodes > 1);
const assigned = rows.filter((r) => r.config.includes('-assigned'));
if (!fan.length || !assigned.length) failures.push('a part did not run');
for (const r of fan) {
  if (!r.ok || !(r.deliveries > 0)) failures.push(`${r.config}: the loadgen reported a failure or no delivery`);
  // Every publish came from node 0: the others received them all through Redis.
  for (let k = 1; k < r.nodes; k++) {
    if (!(r.broker_received[k] >= r.published_total)) {
      failures.push(`${r.config}: node ${k} received ${r.broker_received[k]} of ${r.published_total} from Redis`);
    }
  }
}
for (const r of assigned) {
  if (!r.ok || !(r.deliveries > 0)) failures.push(`${r.config}: the loadgen reported a failure or no delivery`);
  const total = r.broker_published.reduce((a, b) => a + b, 0);
  // Its own rooms' share plus some slack for the subscription probes and presence events.
  const limit = total / r.nodes + 0.15 * total;
  r.broker_received.forEach((got, k) => {
    if (!(got > 0) || got > limit) failures.push(`${r.config}: node ${k} received ${got} of ${total} (limit ${Math.round(limit)})`);
  });
}
if (failures.length) {
  console.error(`\nsmoke: FAIL\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('\nsmoke: ok (messages crossed nodes; each node received only its rooms\' share)');
