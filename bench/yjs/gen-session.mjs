// Generates a long editing session with the JavaScript Yjs and writes every update (one per
// transaction) to a file that both engine benchmarks read, so they merge and diff the same bytes.
//
//   node gen-session.mjs --out DIR [--inserts 100000] [--clients 10] [--seed 1]
//
// Writes DIR/updates.bin (u32le count, then per update: u32le length, bytes), DIR/half-sv.bin
// (the document's state vector after half of the keystrokes: what diffUpdate is asked about) and
// DIR/session.json (counts and the final text, for the checks).
import { Y, yjsVersion } from './yjs-module.mjs'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), [])
)
const out = args.out ?? '.'
const inserts = Number(args.inserts ?? 100000)
const clients = Number(args.clients ?? 10)
let seed = BigInt(args.seed ?? 1) | 1n

// A fixed xorshift: the same session on every machine, so figures can be compared.
function rand () {
  seed ^= (seed << 13n) & 0xffffffffffffffffn
  seed ^= seed >> 7n
  seed ^= (seed << 17n) & 0xffffffffffffffffn
  return Number(seed & 0xffffffffn) / 0x100000000
}
const pick = (n) => Math.floor(rand() * n)

const doc = new Y.Doc()
const text = doc.getText('t')
const updates = []
doc.on('update', (u) => updates.push(u))

// People type in bursts at a cursor, now and then press backspace or delete a selection; ten of
// them take turns. Each keystroke is its own transaction (as a provider sends it).
const letters = 'abcdefghijklmnopqrstuvwxyz     .,\n'
let typed = 0
let deletes = 0
let halfSv = null
let halfUpdates = 0
while (typed < inserts) {
  doc.clientID = 1000 + pick(clients)
  let pos = pick(text.length + 1)
  const burst = 1 + pick(30)
  for (let k = 0; k < burst && typed < inserts; k++) {
    const r = rand()
    if (r < 0.04 && pos > 0) {
      text.delete(pos - 1, 1) // backspace
      pos--
      deletes++
    } else if (r < 0.045 && text.length > 20) {
      const at = pick(text.length - 10)
      text.delete(at, 1 + pick(10)) // a selection
      pos = Math.min(pos, text.length)
      deletes++
    } else {
      text.insert(pos, letters[pick(letters.length)])
      pos++
      typed++
      if (typed === inserts >> 1) {
        halfSv = Y.encodeStateVector(doc)
        halfUpdates = updates.length
      }
    }
  }
}

mkdirSync(out, { recursive: true })
const total = updates.reduce((s, u) => s + 4 + u.length, 4)
const buf = Buffer.alloc(total)
let off = buf.writeUInt32LE(updates.length, 0)
for (const u of updates) {
  off = buf.writeUInt32LE(u.length, off)
  buf.set(u, off)
  off += u.length
}
writeFileSync(join(out, 'updates.bin'), buf)
// Not Y.mergeUpdates of the first half: its cost grows with the square of the number of updates
// (about 90 s for 50,000 here); the document's own state vector at that point is the same.
writeFileSync(join(out, 'half-sv.bin'), halfSv)
const info = {
  updates: updates.length, inserts: typed, deletes, clients, bytes: total,
  half_updates: halfUpdates, text_length: text.length, yjs: yjsVersion, seed: String(args.seed ?? 1)
}
writeFileSync(join(out, 'session.json'), JSON.stringify({ ...info, text: text.toString() }) + '\n')
console.log(JSON.stringify(info))
