// Reads the files gen-session.mjs writes.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export function readSession (dir) {
  const buf = readFileSync(join(dir, 'updates.bin'))
  const count = buf.readUInt32LE(0)
  const updates = []
  let off = 4
  for (let i = 0; i < count; i++) {
    const len = buf.readUInt32LE(off)
    off += 4
    updates.push(new Uint8Array(buf.buffer, buf.byteOffset + off, len))
    off += len
  }
  const halfSv = new Uint8Array(readFileSync(join(dir, 'half-sv.bin')))
  const info = JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8'))
  return { updates, halfSv, info }
}

export function stats (ms) {
  const s = [...ms].sort((a, b) => a - b)
  const mid = s.length >> 1
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
  return { runs: s.length, median_ms: median, min_ms: s[0], max_ms: s[s.length - 1] }
}
