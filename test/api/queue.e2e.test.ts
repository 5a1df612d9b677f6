import { randomBytes } from 'node:crypto'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { getBillingSummary, reconcileLedger } from '../../src/ledger/index.js'
import {
  authorizeSubscription,
  setSubscriptionState,
} from '../../src/subscriptions/state/authorizeSubscription.js'
import { describe, expect, test } from '../fixtures.js'
import { siweMessage } from '../support/siweMessage.js'
import { verifyManageLinkToken } from '../support/verifyManageLinkToken.js'
import { signUp, startApi } from './server.js'

const owner = () => `0x${randomBytes(20).toString('hex')}`
type Api = Awaited<ReturnType<typeof startApi>>

const voucherLeft = async (api: Api, orgId: string) =>
  (await getBillingSummary(api.ctx.db, orgId)).signupCredit

describe('the work queue over HTTP', () => {
  test('every rate-card action, through its real endpoint, charges its price exactly once', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const key = org.api_key
    const prices = api.ctx.config.rateCard.prices
    const seen = new Map<string, bigint>()
    let spent = 0n
    const expectCharge = async (
      res: { status: number; json: { metered: Record<string, unknown> | null } },
      action: string,
      quantity = 1,
    ) => {
      expect(res.status, `${action}: ${JSON.stringify(res.json)}`).toBeLessThan(300)
      const price = prices[action]! * BigInt(quantity)
      expect(res.json.metered, action).toMatchObject({
        action,
        price_micros: price.toString(),
        voucher_micros: price.toString(),
        billable_micros: '0',
      })
      spent += price
      seen.set(action, price)
      expect(await voucherLeft(api, org.org.id)).toBe(2_000_000n - spent)
    }
    const a = await api.call('POST', '/v1/issues', { key, body: { title: 'A', priority: 1 } })
    await expectCharge(a, 'save_issue.create')
    const b = await api.call('POST', '/v1/issues', { key, body: { title: 'B', priority: 0 } })
    await expectCharge(b, 'save_issue.create')
    const ia = a.json.issue.id as string
    const ib = b.json.issue.id as string
    for (const field of ['body', 'status', 'priority', 'title'] as const) {
      const value = field === 'status' ? 'open' : field === 'priority' ? 3 : `new ${field}`
      const res = await api.call('PATCH', `/v1/issues/${ia}`, { key, body: { [field]: value } })
      await expectCharge(res, `save_issue.edit_${field}`)
    }
    // A multi-field edit is one charge at the highest tier among the fields it touches.
    const multi = await api.call('PATCH', `/v1/issues/${ia}`, {
      key,
      body: { title: 'A2', body: 'both', priority: 1 },
    })
    const top = ['save_issue.edit_title', 'save_issue.edit_body', 'save_issue.edit_priority'].sort(
      (x, y) => Number(prices[y]! - prices[x]!),
    )[0]!
    await expectCharge(multi, top)
    await expectCharge(
      await api.call('POST', `/v1/issues/${ia}/comments`, { key, body: { body: 'hi' } }),
      'save_comment',
    )
    await expectCharge(
      await api.call('POST', `/v1/issues/${ia}/labels`, { key, body: { label: 'bug' } }),
      'add_label',
    )
    await expectCharge(
      await api.call('DELETE', `/v1/issues/${ia}/labels/bug`, { key }),
      'remove_label',
    )
    await expectCharge(
      await api.call('POST', `/v1/issues/${ia}/attachments`, {
        key,
        body: { name: 'log.txt', content_type: 'text/plain', size_bytes: 12 },
      }),
      'add_attachment',
    )
    // A blocks B: B is not ready although it has the higher priority.
    await expectCharge(
      await api.call('POST', `/v1/issues/${ia}/relations`, {
        key,
        body: { to: ib, kind: 'blocks' },
      }),
      'add_relation',
    )
    const peek = await api.call('GET', '/v1/queue/batch?size=10', { key })
    expect(peek.json.issues.map((i: { id: string }) => i.id)).toEqual([ia])
    const next = await api.call('POST', '/v1/queue/next', { key, body: {} })
    await expectCharge(next, 'next_issue')
    expect(next.json.issue.id).toBe(ia)
    const token = next.json.issue.lease.token as string
    // Nothing else ready: an empty poll and an empty batch cost nothing.
    const empty = await api.call('POST', '/v1/queue/next', { key, body: {} })
    expect(empty.json).toEqual({ issue: null, metered: null })
    const emptyBatch = await api.call('POST', '/v1/queue/batch', { key, body: { size: 5 } })
    expect(emptyBatch.json).toEqual({ issues: [], metered: null })
    expect(await voucherLeft(api, org.org.id)).toBe(2_000_000n - spent)
    expect((await api.call('GET', `/v1/issues/${ia}/claim`, { key })).json).toMatchObject({
      claimed: true,
      mine: true,
    })
    await expectCharge(
      await api.call('POST', `/v1/issues/${ia}/heartbeat`, { key, body: { lease_token: token } }),
      'heartbeat',
    )
    await expectCharge(
      await api.call('POST', `/v1/issues/${ia}/checkpoint`, {
        key,
        body: { lease_token: token, checkpoint: 'half way' },
      }),
      'checkpoint',
    )
    await expectCharge(
      await api.call('POST', `/v1/issues/${ia}/release`, {
        key,
        body: { lease_token: token, status: 'done' },
      }),
      'release_issue',
    )
    // With A done, B is ready; claim it by id.
    const claim = await api.call('POST', `/v1/issues/${ib}/claim`, { key, body: {} })
    await expectCharge(claim, 'claim_issue')
    const again = await api.call('POST', `/v1/issues/${ib}/claim`, { key, body: {} })
    expect(again.status).toBe(409)
    expect(again.json.error.code).toBe('ALREADY_CLAIMED')
    expect(await voucherLeft(api, org.org.id)).toBe(2_000_000n - spent)
    // A batch claim is priced per claimed item.
    for (const t of ['C', 'D'])
      await expectCharge(
        await api.call('POST', '/v1/issues', { key, body: { title: t } }),
        'save_issue.create',
      )
    const batch = await api.call('POST', '/v1/queue/batch', { key, body: { size: 5 } })
    expect(batch.json.issues).toHaveLength(2)
    await expectCharge(batch, 'next_batch', 2)
    await expectCharge(
      await api.call('POST', '/v1/session_keys', { key, body: {} }),
      'mint_session_key',
    )
    expect([...seen.keys()].sort()).toEqual(Object.keys(prices).sort())
    // Free reads.
    for (const path of [`/v1/issues/${ia}`, '/v1/issues', '/v1/queue', '/v1/whoami'])
      expect((await api.call('GET', path, { key })).status, path).toBe(200)
    expect(await voucherLeft(api, org.org.id)).toBe(2_000_000n - spent)
    expect(await reconcileLedger(db, { orgId: org.org.id })).toEqual([])
    await api.stop()
  })

  test('Idempotency-Key: a retry replays the first answer, charged once; another body is 409', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = await signUp(api)
    const key = org.api_key
    const headers = { 'idempotency-key': 'create-1' }
    const first = await api.call('POST', '/v1/issues', { key, body: { title: 'X' }, headers })
    const retry = await api.call('POST', '/v1/issues', { key, body: { title: 'X' }, headers })
    expect(retry.status).toBe(201)
    expect(retry.json).toEqual(first.json)
    const list = await api.call('GET', '/v1/issues', { key })
    expect(list.json.issues).toHaveLength(1)
    expect(await voucherLeft(api, org.org.id)).toBe(
      2_000_000n - api.ctx.config.rateCard.prices['save_issue.create']!,
    )
    // A replayed session-key mint returns the first answer without the secret (never stored).
    const mintHeaders = { 'idempotency-key': 'mint-1' }
    const mint = await api.call('POST', '/v1/session_keys', { key, body: {}, headers: mintHeaders })
    const mintAgain = await api.call('POST', '/v1/session_keys', {
      key,
      body: {},
      headers: mintHeaders,
    })
    expect(mint.json.session_key).toMatch(/^tg_sess_/)
    expect(mintAgain.json.session_key).not.toContain('tg_sess_')
    expect(mintAgain.json.metered).toEqual(mint.json.metered)
    const stored = await db.$client`select body::text as b from idempotent_responses`
    expect(stored.map((r) => r.b).join()).not.toContain(mint.json.session_key)
    const clash = await api.call('POST', '/v1/issues', { key, body: { title: 'Y' }, headers })
    expect(clash.status).toBe(409)
    expect(clash.json.error.code).toBe('IDEMPOTENCY_CONFLICT')
    const bad = await api.call('POST', '/v1/issues', {
      key,
      body: { title: 'Z' },
      headers: { 'idempotency-key': 'has spaces!' },
    })
    expect(bad.status).toBe(400)
    // Keys are per org: another org may use the same key.
    const other = await signUp(api)
    const theirs = await api.call('POST', '/v1/issues', {
      key: other.api_key,
      body: { title: 'X' },
      headers,
    })
    expect(theirs.status).toBe(201)
    expect(theirs.json.issue.id).not.toBe(first.json.issue.id)
    // A failed first attempt is not stored and is not charged.
    const missing = await api.call('POST', `/v1/issues/${crypto.randomUUID()}/comments`, {
      key,
      body: { body: 'x' },
      headers: { 'idempotency-key': 'c-1' },
    })
    expect(missing.status).toBe(404)
    expect(await reconcileLedger(db, { orgId: org.org.id })).toEqual([])
    await api.stop()
  })

  test('reads and lease wind-down succeed in every state; writes get BILLING_INACTIVE', async ({
    db,
  }) => {
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '20000' })
    for (const state of ['no_credit', 'needs_reauth', 'lapsed', 'canceled'] as const) {
      const org = await signUp(api)
      const key = org.api_key
      const issue = (await api.call('POST', '/v1/issues', { key, body: { title: state } })).json
        .issue
      const claim = (await api.call('POST', '/v1/queue/next', { key, body: {} })).json.issue
      if (state === 'no_credit') {
        // Spend the rest of the small signup credit; the next write is refused for no_credit.
        for (;;) {
          const r = await api.call('POST', '/v1/usage', { key, body: { action: 'claim_issue' } })
          if (r.status !== 201) break
        }
      } else {
        await authorizeSubscription(db, {
          orgId: org.org.id,
          subscriptionId: org.subscription_id,
          owner: owner(),
          allowance: 1_000_000n,
        })
        await setSubscriptionState(db, {
          subscriptionId: org.subscription_id,
          to: state,
          cause: 'chain',
          reason: 'test',
        })
      }
      const summary = await getBillingSummary(db, org.org.id)
      const write = await api.call('POST', '/v1/issues', { key, body: { title: 'blocked' } })
      expect(summary.state).toBe(state === 'no_credit' ? 'pending' : state)
      expect(write.status, `${state} ${summary.state}`).toBe(402)
      expect(write.json.error.reason).toBe(state === 'no_credit' ? 'no_credit' : 'inactive')
      expect(write.json.error).toMatchObject({
        code: 'BILLING_INACTIVE',
        subscription_id: org.subscription_id,
        reup_url: `https://tollgate.test/s/${org.subscription_id}`,
      })
      expect(write.json.error.message).toMatch(/^BILLING_INACTIVE: /)
      expect(write.json.error.message).toContain(`/s/${org.subscription_id}.`)
      for (const path of [
        `/v1/issues/${issue.id}`,
        '/v1/issues',
        '/v1/queue',
        '/v1/whoami',
        `/v1/issues/${issue.id}/claim`,
        '/v1/queue/batch',
        '/v1/billing',
        '/v1/billing/transactions',
      ])
        expect((await api.call('GET', path, { key })).status, `${state} ${path}`).toBe(200)
      const token = claim.lease.token
      for (const [action, body] of [
        ['heartbeat', { lease_token: token }],
        ['checkpoint', { lease_token: token, checkpoint: 'saved' }],
        ['release', { lease_token: token }],
      ] as const) {
        const res = await api.call('POST', `/v1/issues/${claim.id}/${action}`, { key, body })
        expect(res.status, `${state} ${action} ${JSON.stringify(res.json)}`).toBe(200)
        // Never refused and never billed: free for a lease claimed before the block (a
        // pending org's leftover signup credit may still cover it).
        expect(res.json.metered.billable_micros).toBe('0')
        if (state !== 'no_credit')
          expect(res.json.metered).toMatchObject({ price_micros: '0', free: 'wind_down' })
      }
      // Session keys are never refused.
      const mint = await api.call('POST', '/v1/session_keys', { key, body: {} })
      expect(mint.status).toBe(201)
      const who = await api.call('GET', '/v1/whoami', { key: mint.json.session_key })
      expect(who.json).toMatchObject({ org_id: org.org.id, role: 'member' })
      expect(await reconcileLedger(db, { orgId: org.org.id })).toEqual([])
    }
    await api.stop()
  })

  test("one org never sees or touches another org's issues", async ({ db }) => {
    const api = await startApi(db)
    const a = await signUp(api)
    const b = await signUp(api)
    const issue = (
      await api.call('POST', '/v1/issues', { key: a.api_key, body: { title: 'mine' } })
    ).json.issue
    const before = await voucherLeft(api, b.org.id)
    for (const [method, path, body] of [
      ['GET', `/v1/issues/${issue.id}`, undefined],
      ['GET', `/v1/issues/${issue.id}/claim`, undefined],
      ['PATCH', `/v1/issues/${issue.id}`, { title: 'theirs' }],
      ['POST', `/v1/issues/${issue.id}/comments`, { body: 'x' }],
      ['POST', `/v1/issues/${issue.id}/claim`, {}],
      ['POST', `/v1/issues/${issue.id}/labels`, { label: 'x' }],
    ] as const) {
      const res = await api.call(method, path, { key: b.api_key, body })
      expect(res.status, path).toBe(404)
      expect(res.json.error.code).toBe('NOT_FOUND')
    }
    expect((await api.call('GET', '/v1/issues', { key: b.api_key })).json.issues).toEqual([])
    expect(
      (await api.call('POST', '/v1/queue/next', { key: b.api_key, body: {} })).json.issue,
    ).toBe(null)
    expect(await voucherLeft(api, b.org.id)).toBe(before)
    await api.stop()
  })

  test('members see billing status but not its controls; the owner signs in with SIWE', async ({
    db,
  }) => {
    const api = await startApi(db)
    const wallet = privateKeyToAccount(generatePrivateKey())
    const org = await signUp(api, wallet.address)
    const member = org.api_key
    expect((await api.call('GET', '/v1/billing', { key: member })).status).toBe(200)
    for (const [method, path] of [
      ['POST', '/v1/keys'],
      ['GET', '/v1/keys'],
      ['POST', '/v1/billing/manage-link'],
      ['POST', '/v1/admins'],
    ] as const) {
      const res = await api.call(method, path, {
        key: member,
        body: method === 'POST' ? {} : undefined,
      })
      expect(res.status, path).toBe(403)
      expect(res.json.error.code).toBe('FORBIDDEN')
    }
    const nonce = (await api.call('GET', '/v1/auth/nonce')).json.nonce
    const message = siweMessage(wallet.address, nonce)
    const signature = await wallet.signMessage({ message })
    const signIn = await api.call('POST', '/v1/auth/siwe', { body: { message, signature } })
    expect(signIn.status).toBe(200)
    expect(signIn.json).toMatchObject({ org_id: org.org.id, role: 'owner' })
    // The nonce is spent.
    expect((await api.call('POST', '/v1/auth/siwe', { body: { message, signature } })).status).toBe(
      401,
    )
    // Someone else's signature is refused.
    const stranger = privateKeyToAccount(generatePrivateKey())
    const nonce2 = (await api.call('GET', '/v1/auth/nonce')).json.nonce
    const forged = siweMessage(wallet.address, nonce2)
    expect(
      (
        await api.call('POST', '/v1/auth/siwe', {
          body: { message: forged, signature: await stranger.signMessage({ message: forged }) },
        })
      ).status,
    ).toBe(401)
    const session = signIn.json.token as string
    const created = await api.call('POST', '/v1/keys', { key: session, body: { label: 'agent 2' } })
    expect(created.status).toBe(201)
    const listed = await api.call('GET', '/v1/keys', { key: session })
    expect(listed.json.keys).toHaveLength(2)
    expect(JSON.stringify(listed.json)).not.toContain(created.json.api_key)
    expect((await api.call('GET', '/v1/whoami', { key: created.json.api_key })).status).toBe(200)
    const revoked = await api.call('DELETE', `/v1/keys/${created.json.key.id}`, { key: session })
    expect(revoked.status).toBe(200)
    const after = await api.call('GET', '/v1/whoami', { key: created.json.api_key })
    expect(after.status).toBe(401)
    expect(after.json.error.code).toBe('UNAUTHORIZED')
    // Another org's owner session cannot revoke this org's keys.
    const link = await api.call('POST', '/v1/billing/manage-link', { key: session })
    expect(link.status).toBe(201)
    const url = new URL(link.json.url)
    expect(url.origin + url.pathname).toBe(`https://tollgate.test/s/${org.subscription_id}`)
    expect(
      verifyManageLinkToken(api.ctx.config, url.searchParams.get('t') ?? '', org.subscription_id),
    ).toBe(true)
    expect(verifyManageLinkToken(api.ctx.config, url.searchParams.get('t') ?? '', 'other')).toBe(
      false,
    )
    // The cookie works as well as the bearer.
    const cookie = await api.call('GET', '/v1/keys', {
      headers: { cookie: `tg_session=${session}` },
    })
    expect(cookie.status).toBe(200)
    await api.stop()
  })

  test('/openapi.json documents the /v1 surface from the zod schemas; security headers are set', async ({
    db,
  }) => {
    const api = await startApi(db)
    const res = await fetch(`${api.url}/openapi.json`)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    const doc = await res.json()
    expect(doc.openapi).toBe('3.1.0')
    for (const path of ['/v1/issues', '/v1/queue/next', '/v1/usage', '/v1/billing', '/v1/keys'])
      expect(doc.paths[path], path).toBeDefined()
    expect(
      doc.paths['/v1/issues'].post.requestBody.content['application/json'].schema,
    ).toMatchObject({
      type: 'object',
      required: ['title'],
    })
    expect(doc.paths['/v1/queue/next'].post['x-tollgate-price-micros']).toBe(
      api.ctx.config.rateCard.prices.next_issue!.toString(),
    )
    await api.stop()
  })

  test('the monthly-limit pause: SPEND_CAP_REACHED on writes, reads and wind-down go on', async ({
    db,
  }) => {
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '0' })
    const org = await signUp(api)
    const key = org.api_key
    const prices = api.ctx.config.rateCard.prices
    await authorizeSubscription(db, {
      orgId: org.org.id,
      subscriptionId: org.subscription_id,
      owner: owner(),
      allowance: 1_000_000n,
      monthlyLimit: prices['save_issue.create']! + prices.next_issue!,
    })
    const created = await api.call('POST', '/v1/issues', { key, body: { title: 'budget' } })
    expect(created.json.metered.billable_micros).toBe(prices['save_issue.create']!.toString())
    const claimed = await api.call('POST', '/v1/queue/next', { key, body: {} })
    expect(claimed.status).toBe(200)
    const paused = await api.call('POST', `/v1/issues/${claimed.json.issue.id}/comments`, {
      key,
      body: { body: 'over budget' },
    })
    expect(paused.status).toBe(402)
    expect(paused.json.error.code).toBe('SPEND_CAP_REACHED')
    expect((await getBillingSummary(db, org.org.id)).state).toBe('active')
    expect((await api.call('GET', `/v1/issues/${claimed.json.issue.id}`, { key })).status).toBe(200)
    const token = claimed.json.issue.lease.token
    for (const [action, body] of [
      ['heartbeat', { lease_token: token }],
      ['checkpoint', { lease_token: token, checkpoint: 'saved' }],
      ['release', { lease_token: token }],
    ] as const) {
      const res = await api.call('POST', `/v1/issues/${claimed.json.issue.id}/${action}`, {
        key,
        body,
      })
      expect(res.status, `${action} ${JSON.stringify(res.json)}`).toBe(200)
    }
    expect(await reconcileLedger(db, { orgId: org.org.id })).toEqual([])
    await api.stop()
  })
})
