import { describe, expect, test } from '../fixtures.js'
import { signUp, startApi } from './server.js'

describe('unknown /v1 paths', () => {
  test('an unknown path is 404 NOT_FOUND with or without a credential; a route that exists still asks for one first', async ({
    db,
  }) => {
    const api = await startApi(db)
    try {
      const org = await signUp(api)
      for (const [method, path] of [
        ['GET', '/v1/nope'],
        ['POST', '/v1/billing/nope'],
        ['GET', '/v1/keys/some-id/extra'],
        ['DELETE', '/v1/usage/check/more'],
      ] as const)
        for (const key of [undefined, 'tg_live_not-a-key', org.api_key]) {
          const res = await api.call(method, path, { key })
          expect([method, path, key === undefined, res.status, res.json.error.code]).toEqual([
            method,
            path,
            key === undefined,
            404,
            'NOT_FOUND',
          ])
        }
      // Routes that exist (their parameters included, and aliases) need a credential first.
      for (const [method, path] of [
        ['GET', '/v1/billing'],
        ['GET', '/v1/billing/transactions'],
        ['DELETE', '/v1/keys/some-id'],
        ['POST', '/v1/session_keys'],
        ['GET', '/v1/billing/'],
      ] as const) {
        const res = await api.call(method, path)
        expect([method, path, res.status, res.json.error.code]).toEqual([
          method,
          path,
          401,
          'UNAUTHORIZED',
        ])
      }
    } finally {
      await api.stop()
    }
  })
})
