import { mkdtempSync, rmSync } from 'node:fs'
import { chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { freePort } from '../../src/chain/anvil.js'
import { startEmbeddedPostgres } from '../../src/db/embeddedPostgres.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
async function folder() {
  const d = mkdtempSync(join(tmpdir(), 'tollgate-epg-'))
  await chmod(d, 0o777)
  dirs.push(d)
  return d
}

// A server that cannot start (here: its port is taken) is reported in one sentence with the
// server's own last words; it used to reject with `undefined`.
test('a PostgreSQL that cannot start says why', async () => {
  const port = await freePort()
  const first = await startEmbeddedPostgres({ dataDir: await folder(), port, database: 'postgres' })
  try {
    const second = startEmbeddedPostgres({ dataDir: await folder(), port, database: 'postgres' })
    await expect(second).rejects.toThrow(
      new RegExp(
        `^PostgreSQL exited \\(1\\) before accepting connections on port ${port}: FATAL:  could not create any TCP/IP sockets$`,
      ),
    )
  } finally {
    await first.stop()
  }
}, 120_000)
