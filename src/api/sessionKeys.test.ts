import { describe, expect, test } from 'vitest'
import type { Db } from '../db/client.js'
import { idempotentCall, sessionKeys } from './idempotency.js'

// The database is never reached with a session's keys: a Db that is no database proves it.
const noDb = {} as Db
const call = (keys: ReturnType<typeof sessionKeys>, key: string, body: object, runs: object[]) =>
  idempotentCall(
    noDb,
    { orgId: 'org-1', key, method: 'POST', path: '/v1/issues', body, keys },
    async () => {
      runs.push(body)
      return { status: 201, body: { n: runs.length, session_key: 'tg_sess_secret' } }
    },
  )

describe('sessionKeys: the database rules for keys kept in one MCP session', () => {
  test('a retry gets the first answer (secrets redacted) and runs nothing', async () => {
    const keys = sessionKeys()
    const runs: object[] = []
    const first = await call(keys, 'mcp:s:1', { title: 'a' }, runs)
    expect(first).toEqual({
      status: 201,
      body: { n: 1, session_key: 'tg_sess_secret' },
      replayed: false,
    })
    const again = await call(keys, 'mcp:s:1', { title: 'a' }, runs)
    expect(again).toEqual({
      status: 201,
      body: { n: 1, session_key: 'shown once; not replayed (this retry created nothing)' },
      replayed: true,
    })
    expect(runs).toHaveLength(1)
  })

  test('another request with the key is IDEMPOTENCY_CONFLICT; one still running is IN_PROGRESS', async () => {
    const keys = sessionKeys()
    const runs: object[] = []
    await call(keys, 'mcp:s:1', { title: 'a' }, runs)
    await expect(call(keys, 'mcp:s:1', { title: 'b' }, runs)).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    })
    let release!: () => void
    const running = idempotentCall(
      noDb,
      { orgId: 'org-1', key: 'mcp:s:2', method: 'POST', path: '/v1/issues', body: {}, keys },
      () => new Promise((ok) => (release = () => ok({ status: 201, body: {} }))),
    )
    await expect(call(keys, 'mcp:s:2', {}, runs)).rejects.toMatchObject({
      code: 'IDEMPOTENCY_IN_PROGRESS',
    })
    release()
    await running
    expect((await call(keys, 'mcp:s:2', {}, runs)).replayed).toBe(true)
  })

  test('a failed call frees its key; keys are per org; the oldest answers go past the limit', async () => {
    const keys = sessionKeys(2)
    const failing = () =>
      idempotentCall(
        noDb,
        { orgId: 'org-1', key: 'k', method: 'POST', path: '/p', body: {}, keys },
        async () => ({ status: 402, body: {} }),
      )
    expect((await failing()).status).toBe(402)
    const runs: object[] = []
    expect((await call(keys, 'k', {}, runs)).replayed).toBe(false)
    const otherOrg = await idempotentCall(
      noDb,
      { orgId: 'org-2', key: 'k', method: 'POST', path: '/v1/issues', body: {}, keys },
      async () => ({ status: 201, body: {} }),
    )
    expect(otherOrg.replayed).toBe(false)
    await call(keys, 'k3', {}, runs)
    // Limit 2: the first answer (org-1's `k`) is gone, the last two are kept.
    expect((await call(keys, 'k3', {}, runs)).replayed).toBe(true)
    expect((await call(keys, 'k', {}, runs)).replayed).toBe(false)
  })
})
