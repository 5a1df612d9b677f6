import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { responses } from '../../src/api/responses.js'
import {
  bookCharges,
  listCharges,
  listLedgerEntries,
  markChargeCollected,
  recordRefundPaid,
  refund,
  startRefundPayout,
} from '../../src/ledger/index.js'
import { authorizeSubscription } from '../../src/subscriptions/state/authorizeSubscription.js'
import { describe, expect, test } from '../fixtures.js'
import { signInWithSiwe, startApi } from './server.js'

const month = () => new Date().toISOString().slice(0, 7)
const hash = (b: string) => `0x${b.repeat(32)}`

describe('monthly statements with prepaid purchases and refunds', () => {
  test('usage charges with lines, a top-up as a prepaid purchase, a netted refund and one paid on-chain: billed − refunded = net, as the ledger says, in JSON and CSV', async ({
    db,
  }) => {
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '0' })
    try {
      const wallet = privateKeyToAccount(generatePrivateKey())
      const org = (
        await api.call('POST', '/v1/orgs', {
          body: { name: 'Statements', owner_address: wallet.address },
        })
      ).json
      const orgId: string = org.org.id
      const key: string = org.api_key
      await authorizeSubscription(db, {
        orgId,
        subscriptionId: org.subscription_id,
        owner: wallet.address,
        allowance: 50_000_000n,
      })
      const use = async (n: number) => {
        for (let i = 0; i < n; i++)
          expect(
            (await api.call('POST', '/v1/usage', { key, body: { action: 'save_comment' } })).status,
          ).toBe(201)
      }
      // Charge #1: four comments ($0.02), collected.
      await use(4)
      const [c1] = await bookCharges(db, { orgId })
      await markChargeCollected(db, { chargeId: c1!.id, txHash: hash('a1') })
      // Two more comments accrue; a refund of $0.007 of charge #1 books them as charge #2 and
      // nets into it: #2 pulls $0.003.
      await use(2)
      const r1 = await refund(db, {
        chargeId: c1!.id,
        amount: 7_000n,
        reason: 'two jobs failed',
        actor: 'ops@test',
        idempotencyKey: 'r-1',
      })
      expect(r1).toMatchObject({ nettedMicros: '7000', owedOnchainMicros: '0' })
      const c2 = (await listCharges(db, { orgId })).find((c) => c.seq === 2)!
      expect(c2.amount).toBe(3_000n)
      await markChargeCollected(db, { chargeId: c2.id, txHash: hash('a2') })
      // Prepaid: a $2 top-up (charge #3), collected and credited.
      const owner = await signInWithSiwe(api, wallet)
      const mode = await api.call('POST', '/v1/billing/mode', {
        key: owner,
        body: { mode: 'prepaid' },
        headers: { 'idempotency-key': 'mode-1' },
      })
      expect(mode.status, mode.text).toBe(200)
      const bought = await api.call('POST', '/v1/billing/top-ups', {
        key: owner,
        body: { amount_micros: '2000000' },
        headers: { 'idempotency-key': 'buy-1' },
      })
      expect(bought.status, bought.text).toBe(202)
      const c3 = (await listCharges(db, { orgId })).find((c) => c.seq === 3)!
      await markChargeCollected(db, { chargeId: c3.id, txHash: hash('a3') })
      // The rest of charge #1 ($0.013): nothing left to net, so it is paid back on-chain.
      const r2 = await refund(db, {
        chargeId: c1!.id,
        reason: 'goodwill',
        actor: 'ops@test',
        idempotencyKey: 'r-2',
      })
      expect(r2).toMatchObject({ nettedMicros: '0', owedOnchainMicros: '13000' })
      const payout = await startRefundPayout(db, { orgId, idempotencyKey: 'r-2' })
      await recordRefundPaid(db, {
        refundId: payout.refundId,
        txHash: hash('b1'),
        blockNumber: 7n,
        blockTime: new Date(),
        chainId: 31337,
      })

      const s = await api.call('GET', `/v1/billing/statements/${month()}`, { key })
      expect(s.status, s.text).toBe(200)
      responses['GET /v1/billing/statements/{month}'].parse(s.json)
      const m = (micros: number) => expect.objectContaining({ micros: String(micros) })
      expect(s.json.totals).toEqual({
        usage: m(30_000),
        prepaid_purchases: m(2_000_000),
        billed: m(2_030_000),
        refunded_netted: m(7_000),
        refunded_onchain: m(13_000),
        refunded: m(20_000),
        net: m(2_010_000),
        collected: m(2_023_000),
        prepaid_credited: m(2_000_000),
        prepaid_bonus: m(0),
      })
      expect(s.json.total).toEqual({ micros: '2010000', usd: '$2.01' })
      expect(s.json.charges).toMatchObject([
        {
          kind: 'usage',
          seq: 1,
          billed: m(20_000),
          netted: m(0),
          amount: m(20_000),
          prepaid_credited: null,
          lines: [{ action: 'save_comment', calls: 4, amount: m(20_000) }],
        },
        {
          kind: 'usage',
          seq: 2,
          billed: m(10_000),
          netted: m(7_000),
          amount: m(3_000),
          lines: [{ action: 'save_comment', calls: 2, amount: m(10_000) }],
        },
        {
          kind: 'topup',
          seq: 3,
          billed: m(2_000_000),
          amount: m(2_000_000),
          prepaid_credited: m(2_000_000),
          bonus_credited: null,
          lines: [],
        },
      ])
      expect(s.json.refunds).toMatchObject([
        {
          charge_seq: 1,
          amount: m(7_000),
          netted: m(7_000),
          netted_into: [{ charge_seq: 2, amount: m(7_000) }],
          owed_onchain: m(0),
          payout_status: null,
          tx_hash: null,
          reason: 'two jobs failed',
        },
        {
          charge_seq: 1,
          amount: m(13_000),
          netted: m(0),
          netted_into: [],
          owed_onchain: m(13_000),
          payout_status: 'paid',
          tx_hash: hash('b1'),
        },
      ])

      // The same figures from the ledger's own entries: what was booked, netted, paid back.
      const entries = await listLedgerEntries(db, { orgId, limit: 1000 })
      const total = (...kinds: string[]) =>
        entries.filter((e) => kinds.includes(e.kind)).reduce((a, e) => a + e.amount, 0n)
      const billed = total('charge_booked', 'topup_booked')
      const netted = -total('refund_booked')
      const paidBack = total('refund')
      expect(BigInt(s.json.totals.billed.micros)).toBe(billed)
      expect(BigInt(s.json.totals.usage.micros)).toBe(total('charge_booked'))
      expect(BigInt(s.json.totals.refunded_netted.micros)).toBe(netted)
      expect(BigInt(s.json.totals.refunded_onchain.micros)).toBe(paidBack)
      expect(BigInt(s.json.totals.prepaid_credited.micros)).toBe(total('prepaid_topup'))
      expect(BigInt(s.json.totals.net.micros)).toBe(billed - netted - paidBack)
      // Net is also what was pulled less what went back on-chain.
      expect(BigInt(s.json.totals.net.micros)).toBe(
        BigInt(s.json.totals.collected.micros) - paidBack,
      )

      const csv = await api.call('GET', `/v1/billing/statements/${month()}.csv`, { key })
      expect(csv.status).toBe(200)
      const rows = csv.text.trim().split('\r\n')
      expect(rows[0]).toMatch(/^month,kind,charge_seq,/)
      const kinds = rows.slice(1).map((r) => r.split(',')[1])
      expect(kinds).toEqual([
        'usage',
        'usage',
        'prepaid_purchase',
        'refund',
        'refund',
        'total_billed',
        'total_refunded',
        'total_net',
      ])
      const micros = (kind: string) => rows.find((r) => r.split(',')[1] === kind)!.split(',')[7]
      expect(micros('total_billed')).toBe('2030000')
      expect(micros('total_refunded')).toBe('20000')
      expect(micros('total_net')).toBe('2010000')
      expect(rows.find((r) => r.includes('prepaid_purchase'))).toContain('$2.00 credited')
      expect(rows.filter((r) => r.split(',')[1] === 'refund')[0]).toContain(
        '$0.007 netted into charge #2',
      )
      expect(rows.filter((r) => r.split(',')[1] === 'refund')[1]).toContain(hash('b1'))
    } finally {
      await api.stop()
    }
  }, 60_000)
})
