// Times the JavaScript Yjs on the session gen-session.mjs wrote; bench-cpp does the same
// operations on the same bytes with Huddle's engine.
//
//   node bench-js.mjs --dir DIR [--runs 5] [--flat 10000] [--block 100]
//
// Prints one JSON line of medians and min–max (ms) and writes each output to DIR/js-*.bin.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Y, yjsVersion } from './yjs-module.mjs'
import { readSession, stats } from './session-file.mjs'

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), [])
)
const dir = args.dir ?? '.'
const runs = Number(args.runs ?? 5)
const flat = Number(args.flat ?? 10000)
const block = Number(args.block ?? 100)
const { updates, halfSv } = readSession(dir)

function time (fn) {
  const ms = []
  let out
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint()
    out = fn()
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return { out, ms }
}

// Two levels, as a server compacts: every `block` updates into one, then all of those.
function mergeInBlocks () {
  const blocks = []
  for (let i = 0; i < updates.length; i += block) blocks.push(Y.mergeUpdates(updates.slice(i, i + block)))
  return Y.mergeUpdates(blocks)
}

const first = updates.slice(0, flat)
const results = {}
const outputs = {}
for (const [name, fn] of [
  ['merge_flat', () => Y.mergeUpdates(first)],
  ['merge_blocks', mergeInBlocks],
  ['diff', () => Y.diffUpdate(outputs.merge_blocks, halfSv)],
  ['state_vector', () => Y.encodeStateVectorFromUpdate(outputs.merge_blocks)]
]) {
  const { out, ms } = time(fn)
  outputs[name] = out
  results[name] = { ...stats(ms), bytes: out.length }
  writeFileSync(join(dir, `js-${name}.bin`), out)
}
console.log(JSON.stringify({ engine: 'js', yjs: yjsVersion, node: process.version, flat, block, results }))
