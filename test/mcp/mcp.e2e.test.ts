import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { getBillingSummary, reconcileLedger, setBudget } from '../../src/ledger/index.js'
import { signInWithSiwe, signUp, startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { postMcp } from '../support/postMcp.js'
import { startMcpOrg } from '../support/startMcpOrg.js'
import { connectMcp } from './client.js'

type Api = Awaited<ReturnType<typeof startApi>>

const credit = async (api: Api, orgId: string) =>
  (await getBillingSummary(api.ctx.db, orgId)).signupCredit

const actionNames = [
  'whoami',
  'list_issues',
  'get_issue',
  'list_comments',
  'queue_status',
  'check_claim',
  'next_issue',
  'next_batch',
  'claim_issue',
  'save_issue',
  'save_comment',
  'add_relation',
  'add_label',
  'remove_label',
  'add_attachment',
  'heartbeat',
  'checkpoint',
  'release_issue',
  'mint_session_key',
]
const billingNames = ['billing_status', 'estimate_cost', 'usage', 'reauth_link']

describe('MCP at /mcp (Streamable HTTP, the SDK client)', () => {
  test('tools/list: every action and billing tool, with schemas and live prices', async ({
    db,
  }) => {
    const { org, mcp } = await startMcpOrg(db)
    const { tools } = await mcp.client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual([...actionNames, ...billingNames].sort())
    for (const t of tools) {
      expect(t.inputSchema.type, t.name).toBe('object')
      expect(t.description, t.name).toMatch(/\$\d|[Ff]ree/)
    }
    const byName = new Map(tools.map((t) => [t.name, t]))
    expect(byName.get('next_issue')!.description).toContain('Costs $0.007 when it hands you')
    expect(byName.get('next_issue')!.description).toContain('an empty poll is free')
    expect(byName.get('heartbeat')!.description).toContain('$0.0001')
    expect(byName.get('save_comment')!.inputSchema.required).toEqual(['id', 'body'])
    expect(byName.get('save_comment')!.inputSchema.properties).toHaveProperty('idempotency_key')
    // The price comes from the rate card this process meters with.
    const path = join(mkdtempSync(join(tmpdir(), 'rates-')), 'rates.json')
    writeFileSync(path, JSON.stringify(card(9000)))
    const repriced = await startApi(db, { RATE_CARD_PATH: path })
    const m2 = await connectMcp(repriced.url, org.api_key)
    const next = (await m2.client.listTools()).tools.find((t) => t.name === 'next_issue')!
    expect(next.description).toContain('Costs $0.009 when it hands you')
    await m2.close()
    await repriced.stop()
    const resources = await mcp.client.listResources()
    expect(resources.resources.map((r) => r.uri).sort()).toEqual([
      'tollgate://billing',
      'tollgate://rate-card',
    ])
    const rc = await mcp.client.readResource({ uri: 'tollgate://rate-card' })
    expect(JSON.parse((rc.contents[0] as { text: string }).text).actions.next_issue).toEqual({
      micros: '7000',
      usd: '$0.007',
    })
    await mcp.close()
  })

  test('each metered tool charges its price once; retries with the same key charge once; free tools cost nothing', async ({
    db,
  }) => {
    const { api, org, mcp } = await startMcpOrg(db)
    const orgId = org.org.id
    const prices = api.ctx.config.rateCard.prices
    let spent = 0n
    const charged = async (
      r: Awaited<ReturnType<typeof mcp.call>>,
      action: string | null,
      quantity = 1,
    ) => {
      expect(r.isError, r.text).toBe(false)
      const price = action === null ? 0n : prices[action]! * BigInt(quantity)
      if (action === null) expect(r.body.metered ?? null).toBeNull()
      else expect(r.body.metered).toMatchObject({ action, price_micros: price.toString() })
      spent += price
      expect(await credit(api, orgId)).toBe(2_000_000n - spent)
    }
    // Free: reads, the billing tools, an empty next_issue and an empty next_batch claim.
    for (const [name, args] of [
      ['whoami', {}],
      ['list_issues', {}],
      ['queue_status', {}],
      ['next_batch', {}],
      ['billing_status', {}],
      ['estimate_cost', { items: [{ action: 'next_issue', quantity: 3 }] }],
      ['usage', {}],
      ['reauth_link', {}],
    ] as const)
      await charged(await mcp.call(name, args), null)
    await charged(await mcp.call('next_issue', {}), null)
    await charged(await mcp.call('next_batch', { claim: true, size: 5 }), null)

    const a = await mcp.call('save_issue', { title: 'A', priority: 1 })
    await charged(a, 'save_issue.create')
    const ia = a.body.issue.id as string
    const b = await mcp.call('save_issue', { title: 'B' })
    await charged(b, 'save_issue.create')
    const ib = b.body.issue.id as string
    for (const field of ['body', 'status', 'priority', 'title'] as const) {
      const value = field === 'status' ? 'open' : field === 'priority' ? 3 : `new ${field}`
      await charged(
        await mcp.call('save_issue', { id: ia, [field]: value }),
        `save_issue.edit_${field}`,
      )
    }
    await charged(await mcp.call('save_comment', { id: ia, body: 'hi' }), 'save_comment')
    await charged(await mcp.call('add_label', { id: ia, label: 'bug' }), 'add_label')
    await charged(await mcp.call('add_label', { id: ia, label: 'bug' }), null)
    await charged(await mcp.call('remove_label', { id: ia, label: 'bug' }), 'remove_label')
    await charged(
      await mcp.call('add_attachment', {
        id: ia,
        name: 'log.txt',
        content_type: 'text/plain',
        size_bytes: 3,
      }),
      'add_attachment',
    )
    await charged(await mcp.call('add_relation', { id: ia, to: ib }), 'add_relation')
    await charged(await mcp.call('get_issue', { id: ia }), null)
    await charged(await mcp.call('list_comments', { id: ia }), null)
    await charged(await mcp.call('check_claim', { id: ia }), null)
    // ia blocks ib: ia is ready, ib waits until ia is done.
    const claim = await mcp.call('claim_issue', { id: ia })
    await charged(claim, 'claim_issue')
    const token = claim.body.issue.lease.token as string
    await charged(await mcp.call('heartbeat', { id: ia, lease_token: token }), 'heartbeat')
    await charged(
      await mcp.call('checkpoint', { id: ia, lease_token: token, checkpoint: 'half' }),
      'checkpoint',
    )
    await charged(
      await mcp.call('release_issue', { id: ia, lease_token: token, status: 'done' }),
      'release_issue',
    )
    const next = await mcp.call('next_issue', {})
    await charged(next, 'next_issue')
    expect(next.body.issue.id).toBe(ib)
    await charged(await mcp.call('mint_session_key', {}), 'mint_session_key')
    const c = await mcp.call('save_issue', { title: 'C' })
    await charged(c, 'save_issue.create')
    await charged(await mcp.call('next_batch', { claim: true, size: 5 }), 'next_batch', 1)

    // The same idempotency key: one charge, the first outcome back.
    const first = await mcp.call('save_comment', { id: ia, body: 'once', idempotency_key: 'k-1' })
    await charged(first, 'save_comment')
    const again = await mcp.call('save_comment', { id: ia, body: 'once', idempotency_key: 'k-1' })
    expect(again.replayed).toBe(true)
    expect(again.body).toEqual(first.body)
    expect(await credit(api, orgId)).toBe(2_000_000n - spent)
    const other = await mcp.call('save_comment', { id: ia, body: 'else', idempotency_key: 'k-1' })
    expect(other.isError).toBe(true)
    expect(other.body.code).toBe('IDEMPOTENCY_CONFLICT')
    // The key is one request over either transport: the HTTP retry replays the MCP call.
    const http = await api.call('POST', `/v1/issues/${ia}/comments`, {
      key: org.api_key,
      body: { body: 'once' },
      headers: { 'idempotency-key': 'k-1' },
    })
    expect(http.headers.get('idempotent-replayed')).toBe('true')
    expect(http.json).toEqual(first.body)
    expect(await credit(api, orgId)).toBe(2_000_000n - spent)
    // usage shows today's charges per action, as GET /v1/billing/usage does.
    const usage = await mcp.call('usage', { period: '7d' })
    const comments = usage.body.by_action.find(
      (d: { action: string }) => d.action === 'save_comment',
    )
    expect(comments).toMatchObject({
      calls: 2,
      total: { micros: String(2n * prices.save_comment!) },
    })
    expect(usage.body.totals.total.micros).toBe(spent.toString())
    const overHttp = await api.call('GET', '/v1/billing/usage?period=7d', { key: org.api_key })
    expect(usage.body).toEqual(overHttp.json)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await mcp.close()
  })

  test('exhausted signup credit: the spec text and re-up link; reads, wind-down and mint_session_key go on', async ({
    db,
  }) => {
    const { api, org, mcp } = await startMcpOrg(db, { SIGNUP_CREDIT_MICROS: '20000' })
    const orgId = org.org.id
    const a = await mcp.call('save_issue', { title: 'A' })
    await mcp.call('save_issue', { title: 'B' })
    const claim = await mcp.call('claim_issue', { id: a.body.issue.id })
    expect(claim.isError, claim.text).toBe(false)
    const token = claim.body.issue.lease.token as string
    const ia = a.body.issue.id as string
    const left = await credit(api, orgId)
    expect(left).toBe(3000n)
    const refused = await mcp.call('save_comment', { id: ia, body: 'x' })
    expect(refused.isError).toBe(true)
    const reup = `https://tollgate.test/s/${org.subscription_id}`
    expect(refused.text).toBe(
      `BILLING_INACTIVE: your starting credit is used up and there's no active subscription — reads are allowed but writes are blocked. Re-authorize in the ${api.ctx.config.product.name} Dash (dash.tollgate.test) or at /s/${org.subscription_id}.\nRe-up link: ${reup}`,
    )
    expect(refused.body).toMatchObject({
      code: 'BILLING_INACTIVE',
      reason: 'no_credit',
      reup_url: reup,
    })
    const next = await mcp.call('next_issue', {})
    expect(next.body).toMatchObject({ code: 'BILLING_INACTIVE', reup_url: reup })
    expect(await credit(api, orgId)).toBe(left)
    // Reads, the billing tools, lease wind-down and session keys still work.
    for (const [name, args] of [
      ['get_issue', { id: ia }],
      ['list_issues', {}],
      ['queue_status', {}],
      ['check_claim', { id: ia }],
      ['heartbeat', { id: ia, lease_token: token }],
      ['checkpoint', { id: ia, lease_token: token, checkpoint: 'saved' }],
      ['mint_session_key', {}],
      ['release_issue', { id: ia, lease_token: token, status: 'open' }],
    ] as const) {
      const r = await mcp.call(name, args)
      expect(r.isError, `${name}: ${r.text}`).toBe(false)
    }
    const status = await mcp.call('billing_status')
    expect(status.body).toMatchObject({
      can_do_paid_work: false,
      blocked: { code: 'BILLING_INACTIVE', reason: 'no_credit' },
      reup_url: reup,
    })
    const link = await mcp.call('reauth_link')
    expect(link.body).toMatchObject({ needed: true, url: reup })
    expect(link.body.manage_link).toBeUndefined()
    const estimate = await mcp.call('estimate_cost', {
      items: [{ action: 'save_issue' }, { action: 'get_issue' }],
    })
    expect(estimate.body.items[0]).toMatchObject({ allowed: false, code: 'BILLING_INACTIVE' })
    expect(estimate.body.items[1]).toMatchObject({ allowed: true, free: 'read' })
    expect(estimate.body.all_allowed).toBe(false)
    expect(await reconcileLedger(db, { orgId })).toEqual([])
    await mcp.close()
  })

  test('a call with bad arguments is refused in words the model reads: each field and what is wrong', async ({
    db,
  }) => {
    const { api, org, mcp } = await startMcpOrg(db)
    const before = await credit(api, org.org.id)
    const bad = await mcp.call('estimate_cost', { actions: [{ action: 'save_comment' }] })
    expect(bad.isError).toBe(true)
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED', http_status: 400 })
    expect(bad.text).toBe(
      'the request is not valid: items: Invalid input: expected array, received undefined; (arguments): Unrecognized key: "actions"',
    )
    const text = await mcp.call('save_issue', { title: 'a\u0000b' })
    expect([text.body.code, text.text]).toEqual([
      'INVALID_TEXT',
      expect.stringMatching(/^the request is not valid: title: /),
    ])
    expect(await credit(api, org.org.id)).toBe(before)
    await mcp.close()
  })

  test('isolation across orgs and sessions; member vs owner; a revoked key is refused mid-session', async ({
    db,
  }) => {
    const api = await startApi(db)
    try {
      const wallet = privateKeyToAccount(generatePrivateKey())
      const one = await signUp(api, wallet.address)
      const two = await signUp(api)
      const m1 = await connectMcp(api.url, one.api_key)
      const m2 = await connectMcp(api.url, two.api_key)
      const issue = (await m1.call('save_issue', { title: 'mine' })).body.issue.id as string
      const before = await credit(api, one.org.id)
      const before2 = await credit(api, two.org.id)
      for (const [name, args] of [
        ['get_issue', { id: issue }],
        ['claim_issue', { id: issue }],
        ['save_comment', { id: issue, body: 'hi' }],
        ['save_issue', { id: issue, title: 'theirs' }],
      ] as const) {
        const r = await m2.call(name, args)
        expect(r.isError, name).toBe(true)
        expect(r.body.code, name).toBe('NOT_FOUND')
      }
      expect((await m2.call('list_issues')).body.issues).toEqual([])
      expect(await credit(api, one.org.id)).toBe(before)
      expect(await credit(api, two.org.id)).toBe(before2)
      // A session belongs to the credential that opened it.
      const hijack = await postMcp(api.url, {
        key: two.api_key,
        sessionId: m1.transport.sessionId!,
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
      })
      expect(hijack.status).toBe(404)
      // No credential, or a cookie only: refused before MCP.
      const anonymous = await fetch(`${api.url}/mcp`, { method: 'POST' })
      expect(anonymous.status).toBe(401)

      // The owner signs in (SIWE) and mints an agent key; the member key gets no manage link.
      const ownerSession = await signInWithSiwe(api, wallet)
      const ownerMcp = await connectMcp(api.url, ownerSession)
      expect((await ownerMcp.call('whoami')).body.role).toBe('owner')
      const ownerLink = await ownerMcp.call('reauth_link')
      expect(ownerLink.body.manage_link).toMatch(
        new RegExp(`^https://tollgate.test/s/${one.subscription_id}\\?t=`),
      )
      const memberLink = await m1.call('reauth_link')
      expect(memberLink.body.manage_link).toBeUndefined()

      const created = await api.call('POST', '/v1/keys', { key: ownerSession, body: {} })
      const agent = await connectMcp(api.url, created.json.api_key)
      expect((await agent.call('whoami')).body).toMatchObject({
        org_id: one.org.id,
        role: 'member',
      })
      const sessionKey = (await agent.call('mint_session_key')).body.session_key as string
      const viaSession = await connectMcp(api.url, sessionKey)
      expect((await viaSession.call('queue_status')).isError).toBe(false)
      const revoked = await api.call('DELETE', `/v1/keys/${created.json.key.id}`, {
        key: ownerSession,
      })
      expect(revoked.status).toBe(200)
      await expect(agent.call('whoami')).rejects.toThrow(/401|unauthorized|revoked/i)
      await expect(viaSession.call('queue_status')).rejects.toThrow(/401|unauthorized|expired/i)
      // Others go on.
      expect((await m1.call('whoami')).isError).toBe(false)
      for (const c of [m1, m2, ownerMcp]) await c.close()
    } finally {
      await api.stop()
    }
  })
})

describe('MCP: request ids, spend caps, notifications', () => {
  test('without idempotency_key the MCP request id is the key: a resent request is charged once', async ({
    db,
  }) => {
    const { api, org, mcp } = await startMcpOrg(db)
    const before = await credit(api, org.org.id)
    // The same JSON-RPC request twice on the session, as a client retrying after a lost answer.
    const send = (id: number, title: string) =>
      postMcp(api.url, {
        key: org.api_key,
        sessionId: mcp.transport.sessionId!,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'save_issue', arguments: { title } },
        }),
      }).then(async (r) => ({ status: r.status, json: await r.json() }))
    const first = await send(7001, 'retried')
    const again = await send(7001, 'retried')
    expect(first.status).toBe(200)
    expect(first.json.result.isError).toBeUndefined()
    expect(again.json.result._meta).toEqual({ 'tollgate/replayed': true })
    expect(again.json.result.structuredContent).toEqual(first.json.result.structuredContent)
    const price = api.ctx.config.rateCard.prices['save_issue.create']!
    expect(await credit(api, org.org.id)).toBe(before - price)
    // Another request id is another request.
    const next = await send(7002, 'retried')
    expect(next.json.result._meta).toBeUndefined()
    expect(await credit(api, org.org.id)).toBe(before - 2n * price)
    // And the same request id on another session too.
    const other = await connectMcp(api.url, org.api_key)
    const viaOther = await other.call('save_issue', { title: 'x' })
    expect(viaOther.replayed).toBe(false)
    await mcp.close()
    await other.close()
  })

  test('a key over its budget: SPEND_CAP_REACHED with the scope, the reset time and the re-up link', async ({
    db,
  }) => {
    const { api, org, mcp } = await startMcpOrg(db)
    const keyId = (await mcp.call('whoami')).body.key_id as string
    await setBudget(db, {
      orgId: org.org.id,
      keyId,
      period: 'day',
      limitMicros: 6000n,
      by: 'test',
    })
    const a = await mcp.call('save_issue', { title: 'within' })
    expect(a.isError, a.text).toBe(false)
    const before = await credit(api, org.org.id)
    const refused = await mcp.call('save_issue', { title: 'over' })
    expect(refused.isError).toBe(true)
    const tomorrow = new Date()
    tomorrow.setUTCHours(24, 0, 0, 0)
    expect(refused.body).toMatchObject({
      code: 'SPEND_CAP_REACHED',
      reason: 'spend_cap',
      scope: 'key',
      period: 'day',
      resets_at: tomorrow.toISOString(),
      reup_url: `https://tollgate.test/s/${org.subscription_id}`,
    })
    expect(refused.text).toContain(`Resets at ${tomorrow.toISOString()}.`)
    expect(refused.text).toContain(`Re-up link: https://tollgate.test/s/${org.subscription_id}`)
    expect(await credit(api, org.org.id)).toBe(before)
    // Reads and the billing view go on, and say why.
    expect((await mcp.call('get_issue', { id: a.body.issue.id })).isError).toBe(false)
    // billing_status and estimate_cost judge as the gate does, this key's budget included.
    const status = await mcp.call('billing_status')
    expect(status.body).toMatchObject({
      can_do_paid_work: false,
      blocked: { code: 'SPEND_CAP_REACHED' },
    })
    expect(status.body.budgets).toMatchObject([{ key_id: keyId, period: 'day' }])
    const estimate = await mcp.call('estimate_cost', { items: [{ action: 'save_comment' }] })
    expect(estimate.body.items[0]).toMatchObject({ allowed: false, code: 'SPEND_CAP_REACHED' })
    await mcp.close()
  })

  test('a client subscribed to tollgate://billing hears when its org can no longer do paid work', async ({
    db,
  }) => {
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '12000' })
    try {
      const org = await signUp(api)
      const other = await signUp(api)
      const listen = async (key: string, subscribe: boolean) => {
        const m = await connectMcp(api.url, key)
        const heard: string[] = []
        m.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
          heard.push(n.params.uri)
        })
        if (subscribe) await m.client.subscribeResource({ uri: 'tollgate://billing' })
        return { ...m, heard }
      }
      const subscribed = await listen(org.api_key, true)
      const quiet = await listen(org.api_key, false)
      const elsewhere = await listen(other.api_key, true)
      // The watch has read the org's state before it changes.
      await new Promise((r) => setTimeout(r, 300))
      expect((await quiet.call('save_issue', { title: 'a' })).isError).toBe(false)
      await new Promise((r) => setTimeout(r, 300))
      expect(subscribed.heard).toEqual([])
      // 7,000 left: the next 5,000 write leaves less than next_issue's price.
      expect((await quiet.call('save_issue', { title: 'b' })).isError).toBe(false)
      await expect.poll(() => subscribed.heard, { timeout: 5_000 }).toEqual(['tollgate://billing'])
      const view = await subscribed.client.readResource({ uri: 'tollgate://billing' })
      expect(JSON.parse((view.contents[0] as { text: string }).text).can_do_paid_work).toBe(false)
      expect(quiet.heard).toEqual([])
      expect(elsewhere.heard).toEqual([])
      for (const c of [subscribed, quiet, elsewhere]) await c.close()
    } finally {
      await api.stop()
    }
  })
})

function card(moat: number) {
  return {
    version: 'test-repriced',
    tiers: { moat, work: 5000, bookkeeping: 3000, plumbing: 1000, subfloor: 100 },
    actions: {
      next_issue: 'moat',
      next_batch: 'moat',
      claim_issue: 'moat',
      add_relation: 'moat',
      'save_issue.create': 'work',
      'save_issue.edit_body': 'work',
      checkpoint: 'work',
      save_comment: 'work',
      add_attachment: 'work',
      'save_issue.edit_status': 'bookkeeping',
      'save_issue.edit_priority': 'bookkeeping',
      'save_issue.edit_title': 'bookkeeping',
      add_label: 'bookkeeping',
      remove_label: 'bookkeeping',
      mint_session_key: 'plumbing',
      release_issue: 'plumbing',
      heartbeat: 'subfloor',
    },
  }
}
