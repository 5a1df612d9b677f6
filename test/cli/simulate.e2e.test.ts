import { randomBytes } from 'node:crypto'
import type { Db } from '../../src/db/client.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { tollgate } from './run.js'

/**
 * `tollgate simulate` against a fresh org on an API with these per-key limits: its output, after
 * checking that what the agents were told they were charged is exactly what the ledger holds.
 */
async function simulateOn(db: Db, duration: number, perKeyPerSecond?: number) {
  const api = await startApi(db, {}, perKeyPerSecond ? { rateLimits: { perKeyPerSecond } } : {})
  const org = (
    await api.call('POST', '/v1/orgs', {
      body: { name: 'Sim', owner_address: `0x${randomBytes(20).toString('hex')}` },
    })
  ).json
  const run = await tollgate([
    'simulate',
    '--key',
    org.api_key,
    '--api',
    api.url,
    '--agents',
    '3',
    '--duration',
    String(duration),
    '--json',
  ])
  expect(run.code).toBe(0)
  const out = JSON.parse(run.stdout)
  expect(out.simulation.metered).toBeGreaterThan(10)
  expect(out.simulation.errors, JSON.stringify(out.simulation.errorsBy)).toBe(0)
  // What the agents were told they were charged is exactly what the ledger drew from the credit.
  const used =
    2_000_000n -
    BigInt(out.billing.signup_credit.micros) +
    BigInt(out.billing.accrued_since_last_charge.micros)
  expect(BigInt(out.simulation.meteredMicros)).toBe(used)
  const [{ n }] =
    (await db.$client`select count(*)::int as n from usage where org_id = ${org.org.id}`) as unknown as [
      { n: number },
    ]
  expect(n).toBe(out.simulation.metered)
  await api.stop()
  return out
}

describe('tollgate simulate', () => {
  test('drives agents through the HTTP API and reports what was metered, retries uncharged', async ({
    db,
  }) => {
    await simulateOn(db, 2)
  }, 60_000)

  test('agents over their key rate limit wait as Retry-After says and send the same request again', async ({
    db,
  }) => {
    // 3 agents against 40 requests a second: the limit is hit in the first second. Each 429 is
    // waited out and the request sent again with its idempotency key — not an error, and never
    // charged twice (the ledger checks above).
    const out = await simulateOn(db, 3, 40)
    expect(out.simulation.rateLimited).toBeGreaterThan(0)
  }, 60_000)
})
