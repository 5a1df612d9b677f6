import { createApiKey } from '../../src/api/keys.js'
import { responses } from '../../src/api/responses.js'
import { type bookCharges, listCharges, reconcileLedger } from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { chargedOrg } from '../ledger/helpers.js'
import { startApi } from './server.js'

type Db = Parameters<typeof bookCharges>[0]

const token = 'operator-token-for-tests-0123456789abcdef'

const refundEntries = (db: Db, orgId: string) =>
  db.$client<{ kind: string; amount: bigint; booked_after: bigint }[]>`
    select kind, amount, booked_after from ledger_entries
    where org_id = ${orgId} and kind like 'refund%' order by seq`

describe('operator refunds over HTTP', () => {
  test('only the operator token refunds: none, a wrong one or the org’s own key are refused and change nothing', async ({
    db,
  }) => {
    const api = await startApi(db, { OPERATOR_API_TOKEN: token })
    const closed = await startApi(db)
    try {
      const org = await chargedOrg(db, 2)
      const own = await createApiKey(db, { orgId: org.orgId })
      const body = { org_id: org.orgId, usage_ids: [org.usageIds[0]], reason: 'job failed' }
      const headers = { 'idempotency-key': 'auth-1' }
      for (const auth of [undefined, 'Bearer wrong', `Bearer ${own.key}`, `Bearer ${token}x`]) {
        const r = await api.call('POST', '/v1/operator/refunds', {
          body,
          headers: auth ? { ...headers, authorization: auth } : headers,
        })
        expect(r.status, `${auth}: ${r.text}`).toBe(401)
        expect(r.json.error.code).toBe('UNAUTHORIZED')
      }
      // No token configured: the route is closed to everyone, the right token included.
      const off = await closed.call('POST', '/v1/operator/refunds', { key: token, body, headers })
      expect(off.status).toBe(401)
      expect(await refundEntries(db, org.orgId)).toEqual([])
      const [c] = await listCharges(db, { orgId: org.orgId })
      expect(c!.amount).toBe(10_000n)
    } finally {
      await api.stop()
      await closed.stop()
    }
  })

  test('a usage-line refund nets into the charge; over-refund is 422; a retry answers the first outcome once; another body with the key conflicts', async ({
    db,
  }) => {
    const api = await startApi(db, { OPERATOR_API_TOKEN: token })
    try {
      const org = await chargedOrg(db, 3) // one charge of 15,000
      const post = (body: unknown, key?: string) =>
        api.call('POST', '/v1/operator/refunds', {
          key: token,
          body,
          headers: key ? { 'idempotency-key': key } : {},
        })
      const body = { org_id: org.orgId, usage_ids: [org.usageIds[0]], reason: 'job failed later' }
      const noKey = await post(body)
      expect(noKey.status).toBe(400)
      expect(noKey.json.error.code).toBe('VALIDATION_FAILED')
      for (const [i, bad] of [
        {},
        { ...body, usage_ids: [] },
        { ...body, charge_id: org.charge.id },
        { ...body, amount_micros: '1' },
        { ...body, reason: '' },
        { ...body, org_id: 'nope' },
        { org_id: org.orgId, charge_id: org.charge.id, amount_micros: '1.5', reason: 'x' },
        { org_id: org.orgId, charge_id: org.charge.id, amount_micros: 5000, reason: 'x' },
      ].entries())
        expect((await post(bad, `bad-${i}`)).status, JSON.stringify(bad)).toBe(400)
      // The lines of another org, named under this one: not found, nothing refunded.
      const other = await chargedOrg(db, 1)
      const wrongOrg = await post({ ...body, usage_ids: other.usageIds }, 'wrong-org')
      expect(wrongOrg.status).toBe(404)
      expect(await refundEntries(db, org.orgId)).toEqual([])
      expect(await refundEntries(db, other.orgId)).toEqual([])

      const first = await post(body, 'r-1')
      expect(first.status, first.text).toBe(201)
      responses['POST /v1/operator/refunds'].parse(first.json)
      expect(first.json.refund).toMatchObject({
        orgId: org.orgId,
        usageIds: [org.usageIds[0]],
        amountMicros: '5000',
        nettedMicros: '5000',
        owedOnchainMicros: '0',
        status: 'netted',
      })
      const again = await post(body, 'r-1')
      expect(again.status).toBe(201)
      expect(again.json).toEqual(first.json)
      expect(again.headers.get('idempotent-replayed')).toBe('true')
      const conflict = await post({ ...body, usage_ids: [org.usageIds[1]] }, 'r-1')
      expect(conflict.status).toBe(409)
      expect(conflict.json.error.code).toBe('IDEMPOTENCY_CONFLICT')
      // Applied once: the charge the collector pulls next is smaller by exactly 5,000.
      const [c] = await listCharges(db, { orgId: org.orgId })
      expect(c!.amount).toBe(10_000n)
      expect(await refundEntries(db, org.orgId)).toEqual([
        { kind: 'refund_booked', amount: -5_000n, booked_after: 10_000n },
      ])
      // More than is left of the charge: 422, nothing changes.
      const over = await post(
        { org_id: org.orgId, charge_id: org.charge.id, amount_micros: '10001', reason: 'x' },
        'r-2',
      )
      expect(over.status).toBe(422)
      expect(over.json.error.code).toBe('REFUND_EXCEEDS_CHARGED')
      expect((await listCharges(db, { orgId: org.orgId }))[0]!.amount).toBe(10_000n)
      expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    } finally {
      await api.stop()
    }
  })
})
