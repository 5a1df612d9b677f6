import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { responses } from '../../src/api/responses.js'
import { creditPrepaid } from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { signInWithSiwe, startApi } from './server.js'

describe('prepaid over HTTP', () => {
  test('a prepaid org out of credit gets 402 no_credit with the top-up link; credited, writes go through again', async ({
    db,
  }) => {
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '7000' })
    try {
      const wallet = privateKeyToAccount(generatePrivateKey())
      const org = (
        await api.call('POST', '/v1/orgs', {
          body: { name: 'Prepaid', owner_address: wallet.address },
        })
      ).json
      const sub = org.subscription_id
      const orgId = (await api.call('GET', '/v1/whoami', { key: org.api_key })).json.org_id
      const ownerToken = await signInWithSiwe(api, wallet)
      const setMode = (key: string, mode: string, n: string) =>
        api.call('POST', '/v1/billing/mode', {
          key,
          body: { mode },
          headers: { 'idempotency-key': n },
        })
      // An agent's key may not choose how the org pays; an unknown mode is 400.
      expect((await setMode(org.api_key, 'prepaid', 'm-0')).status).toBe(403)
      expect((await setMode(ownerToken, 'credit', 'm-1')).status).toBe(400)
      const set = await setMode(ownerToken, 'prepaid', 'm-2')
      expect(set.status, set.text).toBe(200)
      responses['POST /v1/billing/mode'].parse(set.json)
      expect(set.json).toEqual({ billing_mode: 'prepaid', previous: 'postpaid' })
      const use = () =>
        api.call('POST', '/v1/usage', { key: org.api_key, body: { action: 'claim_issue' } })
      expect((await use()).status).toBe(201) // the voucher first
      const blocked = await use()
      expect(blocked.status).toBe(402)
      expect(blocked.json).toEqual({
        error: {
          code: 'BILLING_INACTIVE',
          message: `BILLING_INACTIVE: your prepaid balance is used up — reads are allowed but writes are blocked. Top up in the Tollgate Dash (dash.tollgate.test) or at /s/${sub}.`,
          reason: 'no_credit',
          state: 'pending',
          billing_mode: 'prepaid',
          subscription_id: sub,
          reup_url: `https://tollgate.test/s/${sub}`,
          dashboard_url: 'https://dash.tollgate.test',
        },
      })
      await db.$client.begin((tx) =>
        creditPrepaid(tx, { orgId, amount: 10_000n, source: 'topup', reference: 'e2e-1' }),
      )
      const resumed = await use()
      expect(resumed.status).toBe(201)
      expect(resumed.json.metered).toMatchObject({ prepaid_micros: '7000', billable_micros: '0' })
      const billing = await api.call('GET', '/v1/billing', { key: org.api_key })
      responses['GET /v1/billing'].parse(billing.json)
      expect(billing.json).toMatchObject({
        billing_mode: 'prepaid',
        prepaid_balance: { micros: '3000' },
      })
      const tx = await api.call('GET', '/v1/billing/transactions', { key: org.api_key })
      responses['GET /v1/billing/transactions'].parse(tx.json)
      expect(
        tx.json.transactions.map((t: { kind: string; balances_after: { prepaid: string } }) => [
          t.kind,
          t.balances_after.prepaid,
        ]),
      ).toEqual([
        ['usage_prepaid', '3000'],
        ['prepaid_topup', '10000'],
        ['usage_voucher', '0'],
        ['voucher_grant', '0'],
      ])
    } finally {
      await api.stop()
    }
  })
})
