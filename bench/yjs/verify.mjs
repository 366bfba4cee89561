// Checks the two engines' outputs against each other and against the session itself:
//   - each C++ output equals the JavaScript output byte for byte (if not, the difference is
//     reported and the outputs are compared by what they do to a fresh Y.Doc);
//   - the merged session, applied to a fresh Y.Doc, gives the session's final text;
//   - the first half of the session, update by update, plus the diff gives that text too.
//
//   node verify.mjs --dir DIR        exit status 0 when every check passes
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Y } from './yjs-module.mjs'
import { readSession } from './session-file.mjs'

const dirIndex = process.argv.indexOf('--dir')
const dir = dirIndex > 0 ? process.argv[dirIndex + 1] : '.'
const { updates, halfSv, info } = readSession(dir)
const read = (name) => new Uint8Array(readFileSync(join(dir, name)))
let failures = 0
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
  if (!ok) failures++
}
const equalBytes = (a, b) => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0
const docOf = (update) => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc
}
const sameDoc = (a, b) =>
  a.getText('t').toString() === b.getText('t').toString() &&
  equalBytes(Y.encodeStateVector(a), Y.encodeStateVector(b))

for (const name of ['merge_flat', 'merge_blocks', 'diff', 'state_vector']) {
  const js = read(`js-${name}.bin`)
  const cpp = read(`cpp-${name}.bin`)
  const same = equalBytes(js, cpp)
  check(same, `${name}: C++ bytes == JS bytes (${cpp.length} / ${js.length} bytes)`)
  if (!same && name !== 'state_vector') {
    check(sameDoc(docOf(js), docOf(cpp)), `${name}: same text and state vector in a fresh Y.Doc`)
  }
}
const merged = read('cpp-merge_blocks.bin')
const full = docOf(merged)
check(full.getText('t').toString() === info.text, `merged session gives the final text (${info.text_length} characters)`)
if (existsSync(join(dir, 'cpp-merge_all.bin'))) {
  check(equalBytes(read('cpp-merge_all.bin'), merged), 'C++ one-call merge of all updates == merge in blocks')
}
check(equalBytes(read('cpp-state_vector.bin'), Y.encodeStateVector(full)), 'C++ state vector == Y.encodeStateVector of the merged doc')
const half = new Y.Doc()
for (const u of updates.slice(0, info.half_updates)) Y.applyUpdate(half, u)
check(equalBytes(Y.encodeStateVector(half), halfSv), 'first half of the session has the stored state vector')
Y.applyUpdate(half, read('cpp-diff.bin'))
check(half.getText('t').toString() === info.text, 'first half + C++ diff gives the final text')
console.log(`${failures === 0 ? 'all checks passed' : `${failures} check(s) failed`}`)
process.exit(failures === 0 ? 0 : 1)
