import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { bookCharges, markChargeCollected, markChargeFailed } from '../../src/ledger/index.js'
import { authorizeSubscription } from '../../src/subscriptions/state/authorizeSubscription.js'
import { describe, expect, test } from '../fixtures.js'
import { startApi } from './server.js'

const tx = `0x${'c4'.repeat(32)}`

describe('GET /v1/billing/transactions in words', () => {
  test('every entry carries a description in plain words, with the window length the owner signed', async ({
    db,
  }) => {
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '5000' })
    try {
      const wallet = privateKeyToAccount(generatePrivateKey())
      const org = (
        await api.call('POST', '/v1/orgs', {
          body: { name: 'Words', owner_address: wallet.address },
        })
      ).json
      const key: string = org.api_key
      // The owner signed 7-day windows, not the default 30 days.
      await authorizeSubscription(db, {
        orgId: org.org.id,
        subscriptionId: org.subscription_id,
        owner: wallet.address,
        allowance: 50_000_000n,
        windowSeconds: 7 * 86_400,
      })
      for (let i = 0; i < 2; i++)
        expect(
          (await api.call('POST', '/v1/usage', { key, body: { action: 'save_comment' } })).status,
        ).toBe(201)
      const [first] = await bookCharges(db, { orgId: org.org.id })
      await markChargeFailed(db, { chargeId: first!.id, reason: 'balance_empty' })
      await markChargeCollected(db, { chargeId: first!.id, txHash: tx })

      const res = await api.call('GET', '/v1/billing/transactions', { key })
      expect(res.status, res.text).toBe(200)
      const lines = res.json.transactions as { kind: string; memo: string; description: string }[]
      expect(lines.map((l) => [l.kind, l.description])).toEqual([
        ['charge_collected', `Collected in transaction ${tx}`],
        [
          'charge_failed',
          'Not collected: your wallet did not hold enough USDC for the last charge',
        ],
        ['charge_booked', 'Charge #1 · 7-day window 1'],
        ['usage_billable', 'save_comment, added to the next charge'],
        ['usage_voucher', 'save_comment, paid by the signup credit'],
        ['voucher_grant', 'Signup credit granted'],
      ])
      // The raw memo stays for scripts that read it.
      expect(lines.find((l) => l.kind === 'charge_booked')!.memo).toBe('seq 1 window 0')
    } finally {
      await api.stop()
    }
  })
})
