import { randomBytes } from 'node:crypto'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { tollgate } from './run.js'

describe('tollgate simulate', () => {
  test('drives agents through the HTTP API and reports what was metered, retries uncharged', async ({
    db,
  }) => {
    const api = await startApi(db)
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
      '2',
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
  }, 60_000)
})
