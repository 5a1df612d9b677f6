import net from 'node:net'

/**
 * A TCP proxy between the apps and PostgreSQL that can drop connections: `drop()` resets
 * (RST) every connection open through it at that moment, as a network partition or a load
 * balancer failing over would. New connections go through as before. When PostgreSQL is down
 * the proxy's connections to it fail and the client's is reset.
 */
export async function startDropProxy(targetPort: number) {
  const pairs = new Set<[net.Socket, net.Socket]>()
  const server = net.createServer((client) => {
    const db = net.connect(targetPort, '127.0.0.1')
    const pair: [net.Socket, net.Socket] = [client, db]
    pairs.add(pair)
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      db.destroy()
    }
    client.pipe(db).pipe(client)
    client.on('error', end)
    db.on('error', end)
    client.on('close', end)
    db.on('close', end)
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    /** Resets every open connection; returns how many there were. */
    drop: () => {
      const n = pairs.size
      for (const [client, db] of pairs) {
        client.resetAndDestroy()
        db.resetAndDestroy()
      }
      pairs.clear()
      return n
    },
    close: async () => {
      for (const [client, db] of pairs) {
        client.destroy()
        db.destroy()
      }
      await new Promise((ok) => server.close(ok))
    },
  }
}
