// Generates the reference vectors for the Huddle Yjs engine (src/yjs) from the JavaScript Yjs itself.
//
//   node generate.mjs            # writes vectors/*.json (committed; do not regenerate in CI)
//
// Every case is a list of v1 updates as a real application produces them (one per transaction, from
// several docs that edit concurrently and exchange updates), plus what Yjs computes from them:
//   merged          Y.mergeUpdates(updates)
//   merged_reverse  Y.mergeUpdates(updates reversed)
//   merged_overlap  Y.mergeUpdates([state of a doc, ...updates]) (overlapping structs: slicing paths)
//   merged_sv       Y.encodeStateVectorFromUpdate(merged)
//   update_svs      Y.encodeStateVectorFromUpdate(u) for each update
//   diffs           [{sv, diff: Y.diffUpdate(merged, sv), diff_state: Y.diffUpdate(doc_state, sv)}]
//   doc_state       Y.encodeStateAsUpdate of a fresh doc that applied `merged` (GC'd structs inside)
//   doc_sv          Y.encodeStateVector of that doc
//   content         toJSON of the root types (and the delta of texts) of that doc
// Bytes are hex. The case's `roots` says which root types to read back ({name: kind}).
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { mkdirSync, writeFileSync, readdirSync, unlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { hex, rng, readRoots, Session } from './common.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const outDir = join(here, 'vectors')

export const buildCase = (name, roots, updates, extraStates = []) => {
  const merged = Y.mergeUpdates(updates)
  const mergedReverse = Y.mergeUpdates(updates.slice().reverse())
  const doc = new Y.Doc()
  Y.applyUpdate(doc, merged)
  const docState = Y.encodeStateAsUpdate(doc)
  const overlapInputs = [...extraStates, docState, ...updates.slice(0, Math.ceil(updates.length / 2))]
  const mergedOverlap = Y.mergeUpdates(overlapInputs)
  // State vectors to diff against: empty, after the first update, after the first half, full.
  const svs = [new Uint8Array([0])]
  if (updates.length > 0) svs.push(Y.encodeStateVectorFromUpdate(updates[0]))
  if (updates.length > 2) {
    const half = new Y.Doc()
    Y.applyUpdate(half, Y.mergeUpdates(updates.slice(0, updates.length >> 1)))
    svs.push(Y.encodeStateVector(half))
  }
  svs.push(Y.encodeStateVector(doc))
  // A state vector that cuts structs in the middle: every client clock halved.
  const cut = new Map()
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) cut.set(client, clock >> 1)
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, cut.size)
  for (const [client, clock] of cut) {
    encoding.writeVarUint(enc, client)
    encoding.writeVarUint(enc, clock)
  }
  svs.push(encoding.toUint8Array(enc))
  return {
    name,
    roots,
    updates: updates.map(hex),
    update_svs: updates.map((u) => hex(Y.encodeStateVectorFromUpdate(u))),
    merged: hex(merged),
    merged_reverse: hex(mergedReverse),
    overlap_inputs: overlapInputs.map(hex),
    merged_overlap: hex(mergedOverlap),
    merged_sv: hex(Y.encodeStateVectorFromUpdate(merged)),
    diffs: svs.map((sv) => ({
      sv: hex(sv),
      diff: hex(Y.diffUpdate(merged, sv)),
      diff_state: hex(Y.diffUpdate(docState, sv))
    })),
    doc_state: hex(docState),
    doc_state_sv: hex(Y.encodeStateVectorFromUpdate(docState)),
    doc_sv: hex(Y.encodeStateVector(doc)),
    content: readRoots(doc, roots)
  }
}

const cases = []

// --- text: inserts, deletes, formatting, embeds, surrogate pairs -------------------------------
{
  const s = new Session(1)
  const t = s.docs[0].getText('text')
  t.insert(0, 'hello')
  t.insert(5, ' world')
  t.delete(0, 1)
  t.insert(0, 'H')
  t.format(0, 5, { bold: true })
  t.insert(11, '!', { italic: true })
  cases.push(buildCase('text_basic', { text: 'text' }, s.updates))
}
{
  const s = new Session(2)
  const [a, b] = s.docs.map((d) => d.getText('text'))
  a.insert(0, 'Dear Sir or Madam, 😀 héllo wörld 日本語')
  s.sync(0, 1)
  b.insert(5, 'Mr. ', { bold: true, color: '#ff0000' })
  a.insertEmbed(3, { image: 'https://example.com/x.png' })
  a.delete(19, 3) // cuts around the emoji
  b.format(0, 10, { underline: true })
  b.format(2, 4, { underline: null })
  s.syncAll()
  a.insert(a.length, '\n', { header: 1 })
  b.delete(1, 2)
  s.syncAll()
  cases.push(buildCase('text_formatting_embeds', { text: 'text' }, s.updates))
}
{
  // Characters outside the BMP typed one by one: string slicing must count UTF-16 units.
  const s = new Session(1)
  const t = s.docs[0].getText('text')
  for (const ch of ['😀', 'a', '𝄞', 'é', '日', '😎']) t.insert(t.length, ch)
  t.insert(2, '🎉🎉')
  t.delete(3, 1) // deletes half of a surrogate pair (Yjs allows it)
  cases.push(buildCase('text_surrogates', { text: 'text' }, s.updates))
}
// --- arrays with every kind of value, binary content -------------------------------------------
{
  const s = new Session(2)
  const [a, b] = s.docs.map((d) => d.getArray('array'))
  a.push([1, -1, 2147483647, -2147483648, 4294967296, 1.5, 0.1, -0, 1e300, NaN])
  a.push(['str', '', null, true, false, { k: 'v', n: { deep: [1, 2, { x: null }] } }, [[], {}]])
  a.push([new Uint8Array([0, 1, 2, 255])])
  a.push([{ big: 1234567890123456789n, u: undefined }])
  s.sync(0, 1)
  b.insert(2, ['b-insert'])
  b.delete(5, 3)
  a.delete(0, 2)
  s.syncAll()
  cases.push(buildCase('array_values_binary', { array: 'array' }, s.updates))
}
// --- maps: overwrite, delete, nested types ----------------------------------------------------
{
  const s = new Session(3)
  const maps = s.docs.map((d) => d.getMap('map'))
  maps[0].set('title', 'Demand letter')
  maps[0].set('count', 1)
  const nested = new Y.Map()
  maps[0].set('meta', nested)
  nested.set('author', 'alice')
  const arr = new Y.Array()
  nested.set('tags', arr)
  arr.push(['a', 'b'])
  const txt = new Y.Text('inner text')
  maps[0].set('body', txt)
  s.syncAll()
  maps[1].set('title', 'Demand letter v2')
  maps[2].set('title', 'concurrent title')
  maps[1].delete('count')
  maps[2].get('meta').set('author', 'bob')
  maps[2].get('body').insert(0, 'the ')
  s.syncAll()
  maps[0].set('count', 3)
  cases.push(buildCase('map_nested', { map: 'map' }, s.updates))
}
// --- XML: elements, attributes, text, hooks -----------------------------------------------
{
  const s = new Session(2)
  const [fa, fb] = s.docs.map((d) => d.getXmlFragment('xml'))
  const p = new Y.XmlElement('p')
  fa.insert(0, [p])
  const text = new Y.XmlText('paragraph text')
  p.insert(0, [text])
  p.setAttribute('class', 'lead')
  const h = new Y.XmlElement('h1')
  fa.insert(0, [h])
  h.insert(0, [new Y.XmlText('Title')])
  fa.insert(2, [new Y.XmlHook('custom-hook')])
  s.syncAll()
  fb.get(1).setAttribute('class', 'body')
  fb.get(1).get(0).format(0, 9, { bold: true })
  fa.get(0).get(0).insert(5, ' here')
  fa.delete(2, 1)
  s.syncAll()
  cases.push(buildCase('xml_elements', { xml: 'xml' }, s.updates))
}
// --- subdocuments (ContentDoc) ------------------------------------------------------------
{
  const s = new Session(1)
  const m = s.docs[0].getMap('map')
  const sub = new Y.Doc({ guid: 'sub-doc-guid', meta: { kind: 'attachment' } })
  m.set('sub', sub)
  m.set('other', 'x')
  cases.push(buildCase('subdoc', { map: 'map' }, s.updates))
}
// --- deletes that get garbage collected, with and without gc ------------------------------
for (const gc of [true, false]) {
  const s = new Session(2, { gc })
  const [a, b] = s.docs.map((d) => d.getText('text'))
  const arrA = s.docs[0].getArray('array')
  a.insert(0, 'abcdefghijklmnopqrstuvwxyz')
  arrA.push([new Y.Map(), new Y.Text('gone'), 'x', 'y'])
  arrA.get(0).set('k', 'v')
  s.syncAll()
  a.delete(3, 10)
  b.delete(0, 2)
  arrA.delete(0, 2)
  s.syncAll()
  b.insert(5, 'XYZ')
  a.delete(a.length - 3, 3)
  s.syncAll()
  const stateA = Y.encodeStateAsUpdate(s.docs[0])
  cases.push(buildCase(gc ? 'deletes_gc' : 'deletes_no_gc', { text: 'text', array: 'array' }, s.updates, [stateA]))
}
// --- ContentJSON (legacy content, written by hand as old Yjs did) -------------------------
{
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, 1) // one client
  encoding.writeVarUint(enc, 2) // two structs
  encoding.writeVarUint(enc, 77) // client
  encoding.writeVarUint(enc, 0) // clock
  encoding.writeUint8(enc, 2) // Item, ContentJSON, parent info follows
  encoding.writeVarUint(enc, 1) // parent is a root key
  encoding.writeVarString(enc, 'array')
  encoding.writeVarUint(enc, 3)
  for (const s of ['{"a":1}', 'undefined', '[1,2]']) encoding.writeVarString(enc, s)
  encoding.writeUint8(enc, 2 | 128) // Item, ContentJSON, origin follows
  encoding.writeVarUint(enc, 77)
  encoding.writeVarUint(enc, 2)
  encoding.writeVarUint(enc, 2)
  for (const s of ['"s"', 'null']) encoding.writeVarString(enc, s)
  encoding.writeVarUint(enc, 1) // delete set: one client
  encoding.writeVarUint(enc, 77)
  encoding.writeVarUint(enc, 1)
  encoding.writeVarUint(enc, 1)
  encoding.writeVarUint(enc, 1)
  const u1 = encoding.toUint8Array(enc)
  const d = new Y.Doc()
  d.clientID = 5
  Y.applyUpdate(d, u1)
  const more = []
  d.on('update', (u) => more.push(u))
  d.getArray('array').insert(1, ['after json'])
  cases.push(buildCase('content_json_legacy', { array: 'array' }, [u1, ...more]))
}
// --- many clients, random concurrent edits with partial syncs --------------------------------
const randomSession = (name, seed, nClients, steps, { gc = true, firstClient = 1 } = {}) => {
  const r = rng(seed)
  const s = new Session(nClients, { gc, firstClient })
  const pick = (n) => Math.floor(r() * n)
  const word = () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz 😀é\n'
    const chars = Array.from(alphabet)
    let out = ''
    const n = 1 + pick(6)
    for (let i = 0; i < n; i++) out += chars[pick(chars.length)]
    return out
  }
  for (let step = 0; step < steps; step++) {
    const i = pick(nClients)
    const doc = s.docs[i]
    const t = doc.getText('text')
    const a = doc.getArray('array')
    const m = doc.getMap('map')
    const op = pick(10)
    if (op < 4) t.insert(pick(t.length + 1), word(), r() < 0.2 ? { bold: true } : undefined)
    else if (op < 5 && t.length > 0) {
      const at = pick(t.length)
      t.delete(at, Math.min(1 + pick(4), t.length - at))
    } else if (op < 6 && t.length > 0) {
      const at = pick(t.length)
      t.format(at, Math.min(1 + pick(5), t.length - at), { italic: r() < 0.5 ? true : null })
    } else if (op < 7) a.insert(pick(a.length + 1), [pick(1000), word()])
    else if (op < 8 && a.length > 0) a.delete(pick(a.length))
    else m.set('k' + pick(5), r() < 0.5 ? word() : pick(100))
    if (r() < 0.3) s.sync(i, pick(nClients))
    if (r() < 0.05) s.syncAll()
  }
  s.syncAll()
  return buildCase(name, { text: 'text', array: 'array', map: 'map' }, s.updates)
}
cases.push(randomSession('random_2_clients', 1, 2, 60))
cases.push(randomSession('random_5_clients', 2, 5, 150))
cases.push(randomSession('random_12_clients', 3, 12, 300))
cases.push(randomSession('random_big_client_ids', 4, 4, 120, { firstClient: 2 ** 32 - 3 }))
cases.push(randomSession('random_no_gc', 5, 3, 120, { gc: false }))

// --- edge cases: empty update, only deletes -------------------------------------------------
{
  const d = new Y.Doc()
  cases.push(buildCase('empty_doc', { text: 'text' }, [Y.encodeStateAsUpdate(d)]))
}

mkdirSync(outDir, { recursive: true })
for (const f of readdirSync(outDir)) if (f.endsWith('.json')) unlinkSync(join(outDir, f))
for (const c of cases) writeFileSync(join(outDir, c.name + '.json'), JSON.stringify(c, null, 1) + '\n')
console.log(`wrote ${cases.length} cases to ${outDir}`)
