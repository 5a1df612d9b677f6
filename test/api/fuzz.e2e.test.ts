import { randomBytes } from 'node:crypto'
import { operationKey, operations } from '../../src/api/operations.js'
import { describe, expect, test } from '../fixtures.js'
import { fuzzApi } from './fuzzer.js'
import { startApi } from './server.js'

describe('the API under generated and hostile requests', () => {
  test('6,000 requests over every route and caller: no 5xx, no drop, the envelope, the ledger untouched by refusals', async ({
    db,
  }) => {
    // The key's rate limit lifted, so requests reach the checks they are made to fail; credit
    // enough that valid writes keep succeeding (and keep being checked against the document).
    const api = await startApi(
      db,
      { SIGNUP_CREDIT_MICROS: '1000000000000' },
      { rateLimits: { perKeyPerSecond: 1_000_000 } },
    )
    const result = await fuzzApi({
      url: api.url,
      sql: db.$client,
      requests: 6_000,
      streams: 6,
      seed: 26,
      host: 'tollgate.test',
      actions: Object.keys(api.ctx.config.rateCard.prices),
    })
    expect(result.failures).toEqual([])
    expect(result).toMatchObject({
      requests: 6_000,
      serverErrors: 0,
      dropped: 0,
      ledgerChanges: 0,
      badEnvelopes: 0,
      undocumented: 0,
    })
    // Not a run that only met the front door: every operation answered with success
    // (sign-in needs a signature, which only the set-up makes) and was refused.
    const answered = result.byOperation
    for (const op of operations) {
      const key = operationKey(op)
      // (and those that need a chain, which this API runs without: they answer NO_CHAIN).
      // A redelivery needs an event delivered to that endpoint, which refusals never make
      // (test/notifications covers its success). A top-up needs an active permit to pull from,
      // which the fuzzed orgs never get (test/api/topUps.e2e covers its success). An operator
      // refund needs the operator's token, which no fuzzed caller holds, and a booked charge
      // (test/api/refunds.e2e covers its success); every fuzzed call of it is refused. So do the
      // operator's plan routes (test/api/plans.e2e covers their success).
      const needsMore = [
        'POST /v1/operator/refunds',
        'GET /v1/operator/orgs/{id}/plan',
        'POST /v1/operator/orgs/{id}/plan',
        'POST /v1/auth/siwe',
        'POST /v1/webhooks/endpoints/{id}/redeliver',
        'POST /v1/billing/top-ups',
      ]
      if (!needsMore.includes(key) && !op.errors?.includes('NO_CHAIN'))
        expect(answered[key]?.ok, `${key} ${JSON.stringify(answered[key])}`).toBeGreaterThan(0)
      expect(answered[key]?.refused, key).toBeGreaterThan(0)
    }
    // The process is alive and meters as before.
    const org = await api.call('POST', '/v1/orgs', {
      body: { name: 'after', owner_address: `0x${randomBytes(20).toString('hex')}` },
    })
    const used = await api.call('POST', '/v1/usage', {
      key: org.json.api_key,
      body: { action: 'save_comment' },
      headers: { 'idempotency-key': 'after-fuzz' },
    })
    expect(used.status).toBe(201)
    expect(used.json.metered.action).toBe('save_comment')
    await api.stop()
  }, 480_000)
})
