import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import { freePort } from '../chain/anvil.js'
import { loadConfig } from '../config/index.js'
import { takenPort } from './takenPort.js'

const squatters: Server[] = []
afterEach(async () => {
  await Promise.all(squatters.splice(0).map((s) => new Promise((ok) => s.close(ok))))
})

/** A port another program holds. */
async function squat(): Promise<number> {
  const port = await freePort()
  const s = createServer()
  await new Promise<void>((ok) => s.listen(port, '127.0.0.1', ok))
  squatters.push(s)
  return port
}

describe('takenPort', () => {
  test('all free: nothing to say', async () => {
    const env = {
      PORT: String(await freePort()),
      ANVIL_PORT: String(await freePort()),
      EMBEDDED_PG_PORT: String(await freePort()),
    }
    expect(await takenPort({ config: loadConfig(env), env })).toBeUndefined()
  })

  test('a port set and taken: one sentence naming its variable', async () => {
    for (const variable of ['PORT', 'ANVIL_PORT', 'EMBEDDED_PG_PORT']) {
      const env = {
        PORT: String(await freePort()),
        ANVIL_PORT: String(await freePort()),
        EMBEDDED_PG_PORT: String(await freePort()),
        [variable]: String(await squat()),
      }
      expect(await takenPort({ config: loadConfig(env), env })).toBe(
        `${variable}=${env[variable]} is taken by another program: stop it, or set ${variable} to a free port.`,
      )
    }
  })

  test('a default port taken says it is the default and how to pick another', async () => {
    const port = await squat()
    const config = loadConfig({ PORT: String(port) })
    expect(await takenPort({ config, env: {} })).toBe(
      `Port ${port} (the default for PORT) is taken by another program: stop it, or set PORT to a free port, e.g. PORT=${port + 1} npm start.`,
    )
  })

  test('a port the system does not listen on is not checked: DATABASE_URL, RPC_URL, PORT=0', async () => {
    const env = {
      PORT: '0',
      DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/x',
      RPC_URL: 'http://127.0.0.1:1',
      ANVIL_PORT: String(await squat()),
      EMBEDDED_PG_PORT: String(await squat()),
    }
    expect(await takenPort({ config: loadConfig(env), env })).toBeUndefined()
  })
})
