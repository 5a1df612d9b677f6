import { describe, expect, test } from '../fixtures.js'
import { ledgerLines, signUp, startApi } from './server.js'

// Requests a hostile caller sends: each is refused with a 4xx in the envelope, changes nothing
// in the ledger, and leaves the process metering for everyone (the same process, after).

/** Every name an object inherits, and the names JavaScript treats specially. */
const inheritedNames = [
  ...Object.getOwnPropertyNames(Object.prototype),
  ...Object.getOwnPropertyNames(Function.prototype),
  'prototype',
]

describe('hostile action names', () => {
  test('every inherited name is a 400 UNKNOWN_ACTION on /v1/usage and /v1/usage/check, and metering goes on', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const key = org.api_key
    for (const action of inheritedNames) {
      // Metered first, so the org's account is cached: the crash needed a cached account.
      const warm = await api.call('POST', '/v1/usage', { key, body: { action: 'heartbeat' } })
      expect(warm.status, action).toBe(201)
      const lines = await ledgerLines(api, org.org.id)
      const metered = await api.call('POST', '/v1/usage', { key, body: { action } })
      expect([action, metered.status, metered.json?.error?.code]).toEqual([
        action,
        400,
        'UNKNOWN_ACTION',
      ])
      const checked = await api.call('POST', '/v1/usage/check', { key, body: { action } })
      expect([action, checked.status, checked.json?.error?.code]).toEqual([
        action,
        400,
        'UNKNOWN_ACTION',
      ])
      expect(await ledgerLines(api, org.org.id), action).toBe(lines)
    }
    const after = await api.call('POST', '/v1/usage', { key, body: { action: 'save_comment' } })
    expect(after.status).toBe(201)
    expect(after.json.metered).toMatchObject({ action: 'save_comment', price_micros: '5000' })
    await api.stop()
  })

  test('a hostile name in a batch with good ones fails alone: the others are metered', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const key = org.api_key
    await api.call('POST', '/v1/usage', { key, body: { action: 'heartbeat' } })
    const answers = await Promise.all(
      ['heartbeat', 'constructor', 'save_comment', '__proto__', 'heartbeat'].map((action) =>
        api.call('POST', '/v1/usage', { key, body: { action } }),
      ),
    )
    expect(answers.map((a) => a.status)).toEqual([201, 400, 201, 400, 201])
    await api.stop()
  })
})
