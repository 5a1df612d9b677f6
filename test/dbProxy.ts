import net from 'node:net'
import { socketPath } from '../src/db/client.js'

/**
 * A TCP port in front of the test database, for a database that drops connections: it resets
 * (RST) the connections it accepts while `resetting` is above 0 (counting it down; Infinity:
 * all of them) and forwards the others. It counts every connection accepted. `refuse()` stops
 * listening (a database that is down: connections are refused) until `listen()`.
 */
export async function dbProxy(databaseUrl: string, resetting = 0) {
  const { url, path } = socketPath(databaseUrl)
  const target = new URL(url)
  const sockets = new Set<net.Socket>()
  const state = { resetting, accepted: 0 }
  const server = net.createServer((client) => {
    sockets.add(client)
    state.accepted++
    if (state.resetting > 0) {
      state.resetting--
      return client.resetAndDestroy()
    }
    const db = path ? net.connect(path) : net.connect(Number(target.port), target.hostname)
    sockets.add(db)
    client.pipe(db).pipe(client)
    client.on('error', () => db.destroy())
    db.on('error', () => client.destroy())
  })
  const listen = (port: number) =>
    new Promise<void>((ok) => server.listen(port, '127.0.0.1', () => ok()))
  const refuse = async () => {
    for (const s of sockets) s.destroy()
    sockets.clear()
    if (server.listening) await new Promise((ok) => server.close(ok))
  }
  await listen(0)
  const port = (server.address() as net.AddressInfo).port
  const via = new URL(url)
  via.hostname = '127.0.0.1'
  via.port = String(port)
  return { url: via.toString(), state, refuse, listen: () => listen(port), close: refuse }
}
