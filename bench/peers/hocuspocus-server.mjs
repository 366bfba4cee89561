// Hocuspocus 3.4.4 (@hocuspocus/server; 4.x needs Node 22) with no extension: documents live in
// memory, nothing is stored, every token is accepted (no onAuthenticate hook). Version 3 because
// this machine runs Node 20.
//
//   node hocuspocus-server.mjs [port]      prints "listening <port>"
import { Server } from '@hocuspocus/server'

const port = Number(process.argv[2] ?? process.env.PORT ?? 3305)
const server = new Server({ port, address: '127.0.0.1', quiet: true })
await server.listen()
console.log(`listening ${port}`)
