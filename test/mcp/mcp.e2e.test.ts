import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { createSiweMessage } from 'viem/siwe'
import { getBillingSummary, reconcileLedger } from '../../src/ledger/index.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { connectMcp } from './client.js'

type Api = Awaited<ReturnType<typeof startApi>>
const owner = () => `0x${randomBytes(20).toString('hex')}`

async function signUp(api: Api, address = owner()) {
  const res = await api.call('POST', '/v1/orgs', { body: { name: 'MCP', owner_address: address } })
  expect(res.status).toBe(201)
  return res.json as { org: { id: string }; subscription_id: string; api_key: string }
}
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
    const api = await startApi(db)
    try {
      const org = await signUp(api)
      const mcp = await connectMcp(api.url, org.api_key)
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
    } finally {
      await api.stop()
    }
  })

  test('each metered tool charges its price once; retries with the same key charge once; free tools cost nothing', async ({
    db,
  }) => {
    const api = await startApi(db)
    try {
      const org = await signUp(api)
      const orgId = org.org.id
      const mcp = await connectMcp(api.url, org.api_key)
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
void generatePrivateKey
void privateKeyToAccount
void createSiweMessage
