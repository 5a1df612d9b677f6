import { closeDb, createDb } from '../../src/db/client.js'
import { describe, expect, test } from '../fixtures.js'

describe('createDb', () => {
  test('connects over the Unix-domain socket a libpq-style URL names (?host=<directory>)', async ({
    db,
    databaseUrl,
  }) => {
    // The directory the server under test keeps its socket in, as it reports it.
    const [setting] = await db.$client<{ dirs: string }[]>`
      select current_setting('unix_socket_directories') as dirs`
    const dir = setting!.dirs.split(',')[0]!.trim()
    expect(dir).toMatch(/^\//)
    const url = new URL(databaseUrl)
    url.hostname = 'localhost'
    url.searchParams.set('host', dir)
    const viaSocket = createDb({ url: url.toString(), max: 1 })
    try {
      const [row] = await viaSocket.$client<{ addr: string | null; name: string }[]>`
        select inet_server_addr() as addr, current_database() as name`
      // No server address: the connection is not TCP.
      expect(row).toEqual({ addr: null, name: url.pathname.slice(1) })
    } finally {
      await closeDb(viaSocket)
    }
  })
})
