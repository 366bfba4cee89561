// Helpers shared by generate.mjs (reference vectors) and check.mjs (differential checker).
import * as Y from 'yjs'

export const hex = (u8) => Buffer.from(u8).toString('hex')

// Small deterministic PRNG (mulberry32) so the vectors are reproducible.
export const rng = (seed) => () => {
  seed |= 0
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

export const readRoots = (doc, roots) => {
  const out = {}
  for (const [name, kind] of Object.entries(roots)) {
    switch (kind) {
      case 'text': {
        const t = doc.getText(name)
        out[name] = { text: t.toString(), delta: t.toDelta() }
        break
      }
      case 'array':
        out[name] = doc.getArray(name).toJSON()
        break
      case 'map':
        out[name] = doc.getMap(name).toJSON()
        break
      case 'xml':
        out[name] = doc.getXmlFragment(name).toString()
        break
      default:
        throw new Error('unknown root kind ' + kind)
    }
  }
  // JSON-safe: Uint8Array -> {bin: hex}, bigint -> string, undefined -> null
  return JSON.parse(JSON.stringify(out, (_k, v) => {
    if (v instanceof Uint8Array) return { bin: hex(v) }
    if (typeof v === 'bigint') return { bigint: v.toString() }
    if (v instanceof Y.Doc) return { subdoc: v.guid }
    return v
  }))
}

/** A set of docs (one per client) that record every update they produce. */
export class Session {
  constructor (n, { gc = true, firstClient = 1 } = {}) {
    this.docs = []
    this.updates = []
    for (let i = 0; i < n; i++) {
      const doc = new Y.Doc({ gc })
      doc.clientID = firstClient + i
      doc.on('update', (u, origin) => {
        if (origin !== 'remote') this.updates.push(u)
      })
      this.docs.push(doc)
    }
  }

  /** Sends every update of `from` that `to` has not seen yet. */
  sync (from, to) {
    const a = this.docs[from]
    const b = this.docs[to]
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)), 'remote')
  }

  syncAll () {
    for (let i = 0; i < this.docs.length; i++) {
      for (let j = 0; j < this.docs.length; j++) if (i !== j) this.sync(i, j)
    }
  }
}

