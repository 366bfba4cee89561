// Differential checker: the Huddle Yjs engine (through huddle-yjs-tool) against the JavaScript Yjs.
//
//   node check.mjs PATH/TO/huddle-yjs-tool [--rounds N] [--seed S]
//
// 1. The committed vectors (vectors/*.json): our merges, diffs and state vectors, compared byte for
//    byte with Yjs's and, applied to fresh Y.Docs, for the same content and state vector.
// 2. Fresh random sessions made in this run (several docs editing text, arrays and maps concurrently
//    with partial syncs): our merge (in order, shuffled, overlapping with doc states), state vector
//    and diffs against mid-session snapshots, checked the same way; a diff is applied on top of the
//    snapshot it was made against and must give what Yjs's diff gives there.
// Prints one line per failure and a closing "N passed, M failed" line; exits 1 on any failure.
import * as Y from 'yjs'
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { hex, rng, readRoots, Session } from './common.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const tool = args[0]
if (!tool) {
  console.error('usage: node check.mjs PATH/TO/huddle-yjs-tool [--rounds N] [--seed S]')
  process.exit(2)
}
const opt = (name, def) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : def
}
const rounds = opt('--rounds', 25)
const seed = opt('--seed', Date.now() % 1000000)

const unhex = (h) => new Uint8Array(Buffer.from(h, 'hex'))

/** Runs many tool commands in one process; returns one {ok, hex|message} per command. */
const runTool = (commands) => {
  const input = commands.map((c) => c.join(' ')).join('\n') + '\n'
  const r = spawnSync(tool, [], { input, maxBuffer: 1 << 30 })
  if (r.status !== 0) throw new Error(`tool exited ${r.status}: ${r.stderr}`)
  const lines = r.stdout.toString().split('\n').filter((l) => l.length > 0)
  if (lines.length !== commands.length) throw new Error(`tool answered ${lines.length} of ${commands.length}`)
  return lines.map((l) => (l.startsWith('ok ') || l === 'ok'
    ? { ok: true, hex: l.slice(3) }
    : { ok: false, message: l.replace(/^error /, '') }))
}

let passed = 0
let failed = 0
let byteEqual = 0
let byteDifferent = 0
const fail = (what, detail = '') => {
  failed++
  console.log(`FAIL ${what}${detail ? ': ' + detail : ''}`)
}
const pass = () => { passed++ }

/** The state of a fresh doc after applying updates (content of the given roots + state vector). */
const docOf = (updates, roots) => {
  const doc = new Y.Doc()
  for (const u of updates) Y.applyUpdate(doc, u)
  return { content: readRoots(doc, roots), sv: hex(Y.encodeStateVector(doc)) }
}

/**
 * Checks one result of ours against Yjs's: the tool must succeed; bytes are compared (counted);
 * then both are applied (after `base` updates) to fresh docs: same content, same state vector.
 */
const checkUpdate = (what, ours, theirs, roots, base = [], expected = null) => {
  if (!ours.ok) return fail(what, 'tool error: ' + ours.message)
  if (ours.hex === hex(theirs)) byteEqual++
  else byteDifferent++
  try {
    const a = docOf([...base, unhex(ours.hex)], roots)
    const b = expected ?? docOf([...base, theirs], roots)
    if (!isDeepStrictEqual(a.content, b.content)) return fail(what, 'content differs: ' + JSON.stringify(a.content).slice(0, 300) + ' vs ' + JSON.stringify(b.content).slice(0, 300))
    if (a.sv !== b.sv) return fail(what, `state vector differs: ${a.sv} vs ${b.sv}`)
  } catch (e) {
    return fail(what, 'applying our output threw: ' + e.message)
  }
  pass()
}

const checkBytes = (what, ours, theirsHex) => {
  if (!ours.ok) return fail(what, 'tool error: ' + ours.message)
  if (ours.hex !== theirsHex) return fail(what, `bytes differ: ${ours.hex} vs ${theirsHex}`)
  pass()
}

// ---- 1. committed vectors ------------------------------------------------------------------
const vectorDir = join(here, 'vectors')
for (const file of readdirSync(vectorDir).filter((f) => f.endsWith('.json')).sort()) {
  const c = JSON.parse(readFileSync(join(vectorDir, file), 'utf8'))
  const commands = [
    ['merge', ...c.updates],
    ['merge', ...c.updates.slice().reverse()],
    ['merge', ...c.overlap_inputs],
    ['sv', c.merged],
    ['sv', c.doc_state],
    ...c.updates.map((u) => ['sv', u]),
    ...c.diffs.flatMap((d) => [['diff', c.merged, d.sv], ['diff', c.doc_state, d.sv]])
  ]
  const out = runTool(commands)
  let k = 0
  const expected = { content: c.content, sv: c.doc_sv }
  checkUpdate(`${c.name}: merge`, out[k++], unhex(c.merged), c.roots, [], expected)
  checkUpdate(`${c.name}: merge reversed`, out[k++], unhex(c.merged_reverse), c.roots, [], expected)
  checkUpdate(`${c.name}: merge overlapping`, out[k++], unhex(c.merged_overlap), c.roots)
  checkBytes(`${c.name}: state vector of merge`, out[k++], c.merged_sv)
  checkBytes(`${c.name}: state vector of doc state`, out[k++], c.doc_state_sv)
  c.update_svs.forEach((sv, i) => checkBytes(`${c.name}: state vector of update ${i}`, out[k++], sv))
  for (const d of c.diffs) {
    checkUpdate(`${c.name}: diff merged vs ${d.sv.slice(0, 40)}`, out[k++], unhex(d.diff), c.roots)
    checkUpdate(`${c.name}: diff state vs ${d.sv.slice(0, 40)}`, out[k++], unhex(d.diff_state), c.roots)
  }
}
const vectorSummary = `${passed} passed, ${failed} failed`

// ---- 2. fresh random sessions --------------------------------------------------------------
const roots = { text: 'text', array: 'array', map: 'map' }
for (let round = 0; round < rounds; round++) {
  const r = rng(seed * 1000 + round)
  const pick = (n) => Math.floor(r() * n)
  const nClients = 2 + pick(7)
  const steps = 20 + pick(200)
  const s = new Session(nClients, { gc: r() < 0.7, firstClient: 1 + pick(2 ** 31) })
  const snapshots = [] // {state, sv} of a random doc at random moments
  const word = () => {
    const chars = Array.from('abcdefgh 😀é\n日')
    let out = ''
    for (let i = 1 + pick(5); i > 0; i--) out += chars[pick(chars.length)]
    return out
  }
  for (let step = 0; step < steps; step++) {
    const i = pick(nClients)
    const doc = s.docs[i]
    const t = doc.getText('text')
    const a = doc.getArray('array')
    const m = doc.getMap('map')
    const op = pick(12)
    if (op < 4) t.insert(pick(t.length + 1), word(), r() < 0.2 ? { bold: true } : undefined)
    else if (op < 6 && t.length > 0) {
      const at = pick(t.length)
      t.delete(at, Math.min(1 + pick(6), t.length - at))
    } else if (op < 7 && t.length > 0) {
      const at = pick(t.length)
      t.format(at, Math.min(1 + pick(5), t.length - at), { italic: r() < 0.5 ? true : null })
    } else if (op < 8) a.insert(pick(a.length + 1), [pick(1000), word(), { n: r() }])
    else if (op < 9 && a.length > 0) a.delete(pick(a.length), 1)
    else if (op < 10) m.set('k' + pick(6), r() < 0.5 ? word() : [pick(100), r() < 0.5])
    else if (op < 11 && m.size > 0) m.delete('k' + pick(6))
    else t.insertEmbed(pick(t.length + 1), { img: word() })
    if (r() < 0.3) s.sync(i, pick(nClients))
    if (r() < 0.05) s.syncAll()
    if (r() < 0.08) {
      const d = s.docs[pick(nClients)]
      snapshots.push({ state: Y.encodeStateAsUpdate(d), sv: Y.encodeStateVector(d) })
    }
  }
  s.syncAll()
  const updates = s.updates
  const final = docOf([Y.mergeUpdates(updates)], roots)
  const shuffled = updates.slice()
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = pick(i + 1)
    ;[shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]
  }
  const states = s.docs.slice(0, 2).map((d) => Y.encodeStateAsUpdate(d))
  const overlap = [states[0], ...updates.slice(0, pick(updates.length)), states[1]]
  const merged = Y.mergeUpdates(updates)
  const commands = [
    ['merge', ...updates.map(hex)],
    ['merge', ...shuffled.map(hex)],
    ['merge', ...overlap.map(hex)],
    ['sv', hex(merged)],
    ['sv', hex(states[0])],
    ...snapshots.flatMap((sn) => [['diff', hex(merged), hex(sn.sv)], ['diff', hex(states[0]), hex(sn.sv)]])
  ]
  const out = runTool(commands)
  let k = 0
  const name = `random seed=${seed} round=${round}`
  checkUpdate(`${name}: merge`, out[k++], merged, roots, [], final)
  checkUpdate(`${name}: merge shuffled`, out[k++], Y.mergeUpdates(shuffled), roots, [], final)
  // Overlapping inputs make Yjs cut structs, inside surrogate pairs too (then lossy, for Yjs and us):
  // compared with what Yjs's own merge gives.
  checkUpdate(`${name}: merge overlapping`, out[k++], Y.mergeUpdates(overlap), roots)
  checkBytes(`${name}: state vector of merge`, out[k++], hex(Y.encodeStateVectorFromUpdate(merged)))
  checkBytes(`${name}: state vector of a doc state`, out[k++], hex(Y.encodeStateVectorFromUpdate(states[0])))
  snapshots.forEach((sn, i) => {
    // Applied on top of the snapshot it was computed against, our diff gives what Yjs's gives. (Not
    // always the final document: where the snapshot ends inside a surrogate pair, Yjs's own diff
    // replaces the cut character with U+FFFD, and so do we.)
    checkUpdate(`${name}: diff merged vs snapshot ${i}`, out[k++], Y.diffUpdate(merged, sn.sv), roots, [sn.state])
    checkUpdate(`${name}: diff state vs snapshot ${i}`, out[k++], Y.diffUpdate(states[0], sn.sv), roots, [sn.state])
  })
}

console.log(`vectors: ${vectorSummary}; random rounds: ${rounds} (seed ${seed})`)
console.log(`byte-equal with Yjs: ${byteEqual} of ${byteEqual + byteDifferent} updates`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
