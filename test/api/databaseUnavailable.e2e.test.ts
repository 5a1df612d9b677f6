import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { closeDb, createDb } from '../../src/db/client.js'
import { dbProxy } from '../dbProxy.js'
import { describe, expect, test } from '../fixtures.js'
import { startApi } from './server.js'

const signUp = (api: Awaited<ReturnType<typeof startApi>>) =>
  api.call('POST', '/v1/orgs', {
    body: { name: 'unavailable', owner_address: `0x${randomBytes(20).toString('hex')}` },
  })

describe('a database that cannot take the request answers 503 with Retry-After, never 500', () => {
  test('out of connections (PostgreSQL refuses a new one): RETRYABLE, and the same request succeeds once one is free', async ({
    db,
    databaseUrl,
  }) => {
    // A role allowed one connection, and that one taken: the API's pool cannot open any.
    const role = `tg_limited_${randomBytes(4).toString('hex')}`
    await db.$client.unsafe(`create role ${role} login connection limit 1`)
    await db.$client.unsafe(`grant all on all tables in schema public to ${role}`)
    await db.$client.unsafe(`grant all on all sequences in schema public to ${role}`)
    const url = new URL(databaseUrl)
    url.username = role
    const holder = postgres(url.toString(), { max: 1, onnotice: () => {} })
    await holder`select 1`
    const limited = createDb({ url: url.toString(), max: 2 })
    const api = await startApi(limited)
    try {
      const refused = await signUp(api)
      expect(refused.status).toBe(503)
      expect(refused.headers.get('retry-after')).toBe('1')
      expect(refused.json.error.code).toBe('RETRYABLE')
      expect(refused.json.error.message).toBe('the database is busy; retry')
      expect(refused.text).not.toContain('stack')
      expect(refused.text).not.toContain(role)

      await holder.end()
      const ok = await signUp(api)
      expect(ok.status).toBe(201)
      expect(ok.json.api_key).toMatch(/^tg_live_/)
    } finally {
      await api.stop()
      await closeDb(limited)
      await holder.end()
      await db.$client.unsafe(`drop owned by ${role}`)
      await db.$client.unsafe(`drop role ${role}`)
    }
  })

  test('unreachable (connections refused): UNREACHABLE for any call; once the database answers again, the same calls go through', async ({
    databaseUrl,
  }) => {
    const proxy = await dbProxy(databaseUrl)
    await proxy.refuse()
    const viaProxy = createDb({ url: proxy.url, max: 2 })
    const api = await startApi(viaProxy)
    try {
      const calls = (key: string) => [
        () => signUp(api),
        () => api.call('GET', '/v1/whoami', { key }),
        () =>
          api.call('POST', '/v1/usage', {
            key,
            body: { action: 'save_comment' },
            headers: { 'idempotency-key': randomBytes(8).toString('hex') },
          }),
      ]
      const someKey = `tg_live_${randomBytes(24).toString('base64url')}`
      // Twice: a connection that failed once must not leave later queries waiting.
      for (let round = 0; round < 2; round++)
        for (const call of calls(someKey)) {
          const res = await call()
          expect(res.status).toBe(503)
          expect(res.headers.get('retry-after')).toBe('1')
          expect(res.json.error).toEqual({
            code: 'UNREACHABLE',
            message: 'the database could not be reached; retry',
          })
        }

      // The database answers again.
      await proxy.listen()
      const org = await signUp(api)
      expect(org.status).toBe(201)
      const key = org.json.api_key as string
      const [, whoami, usage] = calls(key)
      expect((await whoami!()).json.org_id).toBe(org.json.org.id)
      const metered = await usage!()
      expect(metered.status).toBe(201)
      expect(metered.json.metered.action).toBe('save_comment')
    } finally {
      await api.stop()
      await closeDb(viaProxy)
      await proxy.close()
    }
  })
})
