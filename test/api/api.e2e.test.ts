import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { getBillingSummary, reconcileLedger } from '../../src/ledger/index.js'
import {
  authorizeSubscription,
  setSubscriptionState,
} from '../../src/subscriptions/state/authorizeSubscription.js'
import { describe, expect, test } from '../fixtures.js'
import { startApi } from './server.js'

const owner = () => `0x${randomBytes(20).toString('hex')}`

describe('the /v1 API over HTTP', () => {
  test('sign-up gives a key and the signup credit once per owner wallet', async ({ db }) => {
    const api = await startApi(db)
    const wallet = owner()
    const first = await api.call('POST', '/v1/orgs', {
      body: { name: 'Acme', owner_address: wallet },
    })
    expect(first.status).toBe(201)
    expect(first.json).toMatchObject({
      signup_credit: { micros: '2000000', usd: '$2.00' },
      manage_url: `https://tollgate.test/s/${first.json.subscription_id}`,
    })
    expect(first.json.api_key).toMatch(/^tg_live_/)
    const second = await api.call('POST', '/v1/orgs', {
      body: { name: 'Acme 2', owner_address: wallet.toUpperCase().replace('0X', '0x') },
    })
    expect(second.json.signup_credit).toEqual({ micros: '0', usd: '$0.00' })
    const who = await api.call('GET', '/v1/whoami', { key: first.json.api_key })
    expect(who.json.org_id).toBe(first.json.org.id)
    // Keys are stored hashed: the plain key is nowhere in the database.
    const [{ n }] =
      (await db.$client`select count(*)::int as n from api_keys where key_hash = ${first.json.api_key} or prefix = ${first.json.api_key}`) as unknown as [
        { n: number },
      ]
    expect(n).toBe(0)
    await api.stop()
  })

  test('every rate-card action charges its price exactly once; retries replay; conflicts are 409', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = (
      await api.call('POST', '/v1/orgs', { body: { name: 'Rates', owner_address: owner() } })
    ).json
    const prices = api.ctx.config.rateCard.prices
    let total = 0n
    for (const [action, price] of Object.entries(prices)) {
      const res = await api.call('POST', '/v1/usage', {
        key: org.api_key,
        body: { action },
        headers: { 'idempotency-key': `once-${action}` },
      })
      expect(res.status, action).toBe(201)
      expect(res.json.metered).toMatchObject({
        action,
        price_micros: price.toString(),
        voucher_micros: price.toString(),
        replayed: false,
      })
      const retry = await api.call('POST', '/v1/usage', {
        key: org.api_key,
        body: { action },
        headers: { 'idempotency-key': `once-${action}` },
      })
      // A retry answers what the first call answered, byte for byte; a header marks it.
      expect(retry.status).toBe(201)
      expect(retry.text).toBe(res.text)
      expect(retry.headers.get('idempotent-replayed')).toBe('true')
      total += price
    }
    const clash = await api.call('POST', '/v1/usage', {
      key: org.api_key,
      body: { action: 'heartbeat', quantity: 2 },
      headers: { 'idempotency-key': 'once-heartbeat' },
    })
    expect(clash.status).toBe(409)
    expect(clash.json.error.code).toBe('IDEMPOTENCY_CONFLICT')
    const billing = (await api.call('GET', '/v1/billing', { key: org.api_key })).json
    expect(billing.signup_credit.micros).toBe((2_000_000n - total).toString())
    expect(await reconcileLedger(db, { orgId: org.org.id })).toEqual([])
    await api.stop()
  })

  test('BILLING_INACTIVE bodies (no_credit, inactive), wind-down, the monthly-limit pause, isolation', async ({
    db,
  }) => {
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '7000' })
    const org = (
      await api.call('POST', '/v1/orgs', { body: { name: 'Small', owner_address: owner() } })
    ).json
    const sub = org.subscription_id
    expect(
      (await api.call('POST', '/v1/usage', { key: org.api_key, body: { action: 'claim_issue' } }))
        .status,
    ).toBe(201)
    const blocked = await api.call('POST', '/v1/usage', {
      key: org.api_key,
      body: { action: 'claim_issue' },
    })
    expect(blocked.status).toBe(402)
    expect(blocked.json).toEqual({
      error: {
        code: 'BILLING_INACTIVE',
        message: `BILLING_INACTIVE: your starting credit is used up and there's no active subscription — reads are allowed but writes are blocked. Re-authorize in the Tollgate Dash (dash.tollgate.test) or at /s/${sub}.`,
        reason: 'no_credit',
        state: 'pending',
        subscription_id: sub,
        reup_url: `https://tollgate.test/s/${sub}`,
        dashboard_url: 'https://dash.tollgate.test',
      },
    })
    // Reads still work; the check endpoint says why without recording anything.
    expect((await api.call('GET', '/v1/billing', { key: org.api_key })).status).toBe(200)
    expect(
      (
        await api.call('POST', '/v1/usage/check', {
          key: org.api_key,
          body: { action: 'claim_issue' },
        })
      ).json,
    ).toMatchObject({ allowed: false, code: 'BILLING_INACTIVE', reason: 'no_credit' })
    // Authorized with a monthly limit, then lapsed.
    await authorizeSubscription(db, {
      orgId: org.org.id,
      subscriptionId: sub,
      owner: owner(),
      allowance: 1_000_000n,
      monthlyLimit: 10_000n,
    })
    expect(
      (await api.call('POST', '/v1/usage', { key: org.api_key, body: { action: 'claim_issue' } }))
        .status,
    ).toBe(201)
    const capped = await api.call('POST', '/v1/usage', {
      key: org.api_key,
      body: { action: 'claim_issue' },
    })
    expect(capped.status).toBe(402)
    expect(capped.json.error.code).toBe('SPEND_CAP_REACHED')
    expect((await getBillingSummary(db, org.org.id)).state).toBe('active')
    const claimedAt = new Date(Date.now() - 1000).toISOString()
    await setSubscriptionState(db, {
      subscriptionId: sub,
      to: 'lapsed',
      cause: 'chain',
      reason: 'test',
    })
    const inactive = await api.call('POST', '/v1/usage', {
      key: org.api_key,
      body: { action: 'save_comment' },
    })
    expect(inactive.json.error).toMatchObject({
      code: 'BILLING_INACTIVE',
      reason: 'inactive',
      state: 'lapsed',
    })
    expect(inactive.json.error.message).toContain(
      'this org has no active subscription — reads are allowed but writes are blocked',
    )
    const wind = await api.call('POST', '/v1/usage', {
      key: org.api_key,
      body: { action: 'heartbeat', lease_claimed_at: claimedAt },
    })
    expect(wind.json.metered).toMatchObject({ price_micros: '0', free: 'wind_down' })
    const mint = await api.call('POST', '/v1/usage', {
      key: org.api_key,
      body: { action: 'mint_session_key' },
    })
    expect(mint.json.metered).toMatchObject({ price_micros: '0', free: 'session_key' })
    // Another org's key sees only its own org.
    const other = (
      await api.call('POST', '/v1/orgs', { body: { name: 'Other', owner_address: owner() } })
    ).json
    const theirs = (await api.call('GET', '/v1/billing', { key: other.api_key })).json
    expect(theirs.subscription_id).toBe(other.subscription_id)
    expect(
      (
        await api.call('GET', '/v1/billing/transactions', { key: other.api_key })
      ).json.transactions.map((t: { kind: string }) => t.kind),
    ).toEqual(['voucher_grant'])
    await api.stop()
  })

  test('10,000 malformed requests: every answer a 4xx in the envelope, the ledger unchanged', async ({
    db,
  }) => {
    // The key's rate limit lifted, so every request reaches the checks it is made to fail (at
    // the default 500 a second, a fast run had 2,800 of these answered 429 before any check).
    const api = await startApi(db, {}, { rateLimits: { perKeyPerSecond: 1_000_000 } })
    const org = (
      await api.call('POST', '/v1/orgs', { body: { name: 'Fuzz', owner_address: owner() } })
    ).json
    const before =
      await db.$client`select (select count(*) from usage)::int as u, (select count(*) from ledger_entries)::int as e, (select count(*) from orgs)::int as o`
    const badKey = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 60 }),
      fc.constant(`tg_live_${'x'.repeat(32)}`),
      fc.constant(org.api_key.slice(0, -1)),
    )
    const badIdem = fc.oneof(
      fc.constant(''),
      fc.string({ minLength: 256, maxLength: 300 }),
      fc.constantFrom('has space', 'semi;colon', 'ünïcode', '"quoted"'),
    )
    const badBody = fc.oneof(
      fc.record({
        action: fc.oneof(
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
          fc.constantFrom('', 'unknown_action', 'get_issue', 'x'.repeat(65)),
        ),
      }),
      fc.record({
        action: fc.constant('save_comment'),
        quantity: fc.oneof(
          fc.constant(0),
          fc.constant(-1),
          fc.double(),
          fc.string(),
          fc.constant(10_001),
        ),
      }),
      fc.record({
        action: fc.constant('heartbeat'),
        lease_claimed_at: fc.oneof(fc.string(), fc.integer()),
      }),
      fc.anything(),
    )
    const request = fc.oneof(
      // Authenticated but a bad body or a bad idempotency key.
      fc.record({ kind: fc.constant('body' as const), body: badBody }),
      fc.record({ kind: fc.constant('idem' as const), idem: badIdem }),
      // A bad key on a good body.
      fc.record({ kind: fc.constant('key' as const), key: badKey }),
      // Broken JSON, a huge body, a bad sign-up.
      fc.record({
        kind: fc.constant('raw' as const),
        raw: fc.oneof(
          fc.constant('{"action":'),
          fc.constant(`{"action":"${'a'.repeat(70_000)}"}`),
          fc.string().map((s) => `{${s}`),
        ),
      }),
      fc.record({
        kind: fc.constant('org' as const),
        body: fc.oneof(
          fc.anything(),
          fc.record({
            name: fc.string({ maxLength: 5 }),
            owner_address: fc.string({ maxLength: 41 }),
          }),
        ),
      }),
    )
    const samples = fc.sample(request, { numRuns: 10_000, seed: 42 })
    const statuses = new Map<number, number>()
    let i = 0
    const worker = async () => {
      while (i < samples.length) {
        const s = samples[i++]!
        let res: Awaited<ReturnType<typeof api.call>>
        if (s.kind === 'body')
          res = await api.call('POST', '/v1/usage', {
            key: org.api_key,
            raw: JSON.stringify(s.body) ?? 'null',
          })
        else if (s.kind === 'idem')
          res = await api.call('POST', '/v1/usage', {
            key: org.api_key,
            body: { action: 'heartbeat' },
            headers: {
              'idempotency-key':
                encodeURIComponent(s.idem) === s.idem
                  ? s.idem
                  : s.idem.replace(/[^\x20-\x7e]/g, '~'),
            },
          })
        else if (s.kind === 'key')
          res = await api.call('POST', '/v1/usage', {
            key: s.key?.replace(/[^\x21-\x7e]/g, '') || undefined,
            body: { action: 'heartbeat' },
          })
        else if (s.kind === 'raw')
          res = await api.call('POST', '/v1/usage', { key: org.api_key, raw: s.raw })
        else res = await api.call('POST', '/v1/orgs', { raw: JSON.stringify(s.body) ?? 'null' })
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        if (res.status < 400 || res.status >= 500 || typeof res.json?.error?.code !== 'string') {
          throw new Error(
            `request ${JSON.stringify(s).slice(0, 300)} answered ${res.status} ${res.text.slice(0, 300)}`,
          )
        }
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(10_000)
    expect(statuses.has(429)).toBe(false)
    const after =
      await db.$client`select (select count(*) from usage)::int as u, (select count(*) from ledger_entries)::int as e, (select count(*) from orgs)::int as o`
    expect(after).toEqual(before)
    await api.stop()
    // A guard against a hang, not a speed target: 10,000 requests take about 20 s on a quiet
    // machine, and over 120 s on two cores at load 23.
  }, 300_000)
})
