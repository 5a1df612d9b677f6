import { randomBytes } from 'node:crypto'
import { describe, expect, test } from '../fixtures.js'
import { startApi } from './server.js'

describe('Idempotency-Key across a crash', () => {
  test('a request whose response was never stored (the process died) is not charged again on retry', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = (
      await api.call('POST', '/v1/orgs', {
        body: { name: 'Crash', owner_address: `0x${randomBytes(20).toString('hex')}` },
      })
    ).json
    const send = () =>
      api.call('POST', '/v1/issues', {
        key: org.api_key,
        body: { title: 'one' },
        headers: { 'idempotency-key': 'crash-1' },
      })
    const first = await send()
    expect(first.status).toBe(201)
    // As if the process died after metering, before the response was stored, a minute ago.
    await db.$client`
      update idempotent_responses set status = null, body = null, created_at = now() - interval '2 minutes'
      where org_id = ${org.org.id} and key = 'crash-1'`
    const retry = await send()
    expect(retry.status).toBe(201)
    const rows = await db.$client<
      { action: string }[]
    >`select action from usage where org_id = ${org.org.id}`
    expect(rows.map((r) => r.action)).toEqual(['save_issue.create'])
    const billing = (await api.call('GET', '/v1/billing', { key: org.api_key })).json
    expect(billing.signup_credit.micros).toBe('1995000')
    await api.stop()
  })
})
