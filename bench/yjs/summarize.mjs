// Two JSON lines (bench-js.mjs, huddle-yjs-bench) -> a markdown table with the speed-up.
//   node summarize.mjs RESULTS.jsonl
import { readFileSync } from 'node:fs'

const lines = readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l))
const js = lines.find((l) => l.engine === 'js')
const cpp = lines.find((l) => l.engine === 'cpp')
const ms = (r) => r ? `${fmt(r.median_ms)} (${fmt(r.min_ms)}–${fmt(r.max_ms)})` : 'not run'
const fmt = (v) => v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)
const rows = [
  ['merge_flat', `Y.mergeUpdates, first ${cpp.flat.toLocaleString('en')} updates in one call`],
  ['merge_blocks', `Y.mergeUpdates, whole session: blocks of ${cpp.block}, then the blocks`],
  ['merge_all', 'Y.mergeUpdates, whole session in one call'],
  ['diff', 'Y.diffUpdate(merged session, state vector at half)'],
  ['state_vector', 'Y.encodeStateVectorFromUpdate(merged session)']
]
console.log(`| operation | JS Yjs ${js.yjs} ms | Huddle C++ ms | C++ speed-up (median) |`)
console.log('|---|---|---|---|')
for (const [key, label] of rows) {
  const a = js.results[key]
  const b = cpp.results[key]
  const ratio = a && b ? `${(a.median_ms / b.median_ms).toFixed(1)}×` : '—'
  console.log(`| ${label} | ${ms(a)} | ${ms(b)} | ${ratio} |`)
}
