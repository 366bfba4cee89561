// The scripts here use the Yjs installed with the bench peers (bench/peers/package.json pins it),
// so there is one install and one version for every benchmark.
import { createRequire } from 'node:module'

const require = createRequire(new URL('../peers/package.json', import.meta.url))
export const Y = require('yjs')
export const yjsVersion = require('yjs/package.json').version
