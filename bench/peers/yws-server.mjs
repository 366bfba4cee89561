// The reference y-websocket server, @y/websocket-server 0.1.1, started as its own bin does
// (src/server.js: a ws server whose every connection goes to setupWSConnection; documents live
// in memory; YPERSISTENCE unset, so nothing is written to disk). Only the host and port are
// chosen here.
//
//   node yws-server.mjs [port]      prints "listening <port>" once it accepts connections
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import net from 'node:net'

const port = Number(process.argv[2] ?? process.env.PORT ?? 3304)
process.env.HOST = '127.0.0.1'
process.env.PORT = String(port)
delete process.env.YPERSISTENCE

const require = createRequire(import.meta.url)
const pkg = require.resolve('@y/websocket-server/package.json')
await import(join(dirname(pkg), 'src', 'server.js'))

// server.js prints its own line; run.sh and the tests wait for this one.
for (let i = 0; i < 200; i++) {
  const ok = await new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
    s.on('error', () => resolve(false))
  })
  if (ok) {
    console.log(`listening ${port}`)
    break
  }
  await new Promise((resolve) => setTimeout(resolve, 25))
}
