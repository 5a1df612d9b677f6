import { getBillingSummary, reconcileLedger } from '../../src/ledger/index.js'
import { startApi } from '../api/server.js'
import { tollgate } from '../cli/run.js'
import { describe, expect, test } from '../fixtures.js'
import { connectMcp, connectMcpStdio } from './client.js'

type Api = Awaited<ReturnType<typeof startApi>>
async function signUp(api: Api) {
  const res = await api.call('POST', '/v1/orgs', {
    body: { name: 'stdio', owner_address: `0x${'ab'.repeat(20)}` },
  })
  expect(res.status).toBe(201)
  return res.json as { org: { id: string }; subscription_id: string; api_key: string }
}

describe('tollgate mcp --key (stdio, the SDK client, a spawned process)', {
  timeout: 120_000,
}, () => {
  test('the same tools as /mcp; metered once, idempotent across processes and HTTP; a revoked key is refused', async ({
    db,
    databaseUrl,
  }) => {
    const api = await startApi(db, { SIGNUP_CREDIT_MICROS: '40000' })
    try {
      const org = await signUp(api)
      const orgId = org.org.id
      const credit = async () => (await getBillingSummary(db, orgId)).signupCredit
      const local = await connectMcpStdio(databaseUrl, org.api_key)
      const http = await connectMcp(api.url, org.api_key)
      // The same list, descriptions (live prices) and schemas as over Streamable HTTP.
      const [overStdio, overHttp] = [
        (await local.client.listTools()).tools,
        (await http.client.listTools()).tools,
      ]
      expect(overStdio).toEqual(overHttp)
      expect(overStdio.length).toBe(23)

      // Free: reads, the billing tools, an empty poll.
      for (const name of ['whoami', 'queue_status', 'billing_status', 'next_issue'])
        expect((await local.call(name)).isError, name).toBe(false)
      expect((await local.call('whoami')).body).toMatchObject({ org_id: orgId, role: 'member' })
      expect(await credit()).toBe(40_000n)

      // A metered write: its price once, recorded in the ledger like any other.
      const a = await local.call('save_issue', { title: 'from stdio' })
      expect(a.isError, a.text).toBe(false)
      expect(a.body.metered).toMatchObject({ action: 'save_issue.create', price_micros: '5000' })
      expect(await credit()).toBe(35_000n)
      const id = a.body.issue.id as string

      // A retry with the same idempotency key: one charge, the first outcome; the same key over
      // HTTP is the same request.
      const args = { id, body: 'once', idempotency_key: 'stdio-1' }
      const first = await local.call('save_comment', args)
      const again = await local.call('save_comment', args)
      expect(again.replayed).toBe(true)
      expect(again.body).toEqual(first.body)
      const viaHttp = await api.call('POST', `/v1/issues/${id}/comments`, {
        key: org.api_key,
        body: { body: 'once' },
        headers: { 'idempotency-key': 'stdio-1' },
      })
      expect(viaHttp.headers.get('idempotent-replayed')).toBe('true')
      expect(await credit()).toBe(30_000n)

      // Without a key, the MCP request id is the key, per process: two fresh processes send
      // their first call with the same request id, and each is its own request, charged once.
      const one = await connectMcpStdio(databaseUrl, org.api_key)
      const two = await connectMcpStdio(databaseUrl, org.api_key)
      const mine = await one.call('save_issue', { title: 'same request id' })
      const theirs = await two.call('save_issue', { title: 'same request id' })
      expect(mine.replayed || theirs.replayed).toBe(false)
      expect(theirs.body.issue.id).not.toBe(mine.body.issue.id)
      expect(await credit()).toBe(20_000n)

      // The resources and the gate's refusal, as over HTTP.
      const card = await local.client.readResource({ uri: 'tollgate://rate-card' })
      expect(JSON.parse((card.contents[0] as { text: string }).text).actions.save_comment).toEqual({
        micros: '5000',
        usd: '$0.005',
      })
      for (let i = 0; i < 4; i++) await local.call('save_comment', { id, body: `c${i}` })
      expect(await credit()).toBe(0n)
      const refused = await local.call('save_comment', { id, body: 'no' })
      expect(refused.isError).toBe(true)
      expect(refused.body).toMatchObject({
        code: 'BILLING_INACTIVE',
        reason: 'no_credit',
        reup_url: `https://tollgate.test/s/${org.subscription_id}`,
      })
      expect(refused.text).toContain(`Re-up link: https://tollgate.test/s/${org.subscription_id}`)
      expect((await local.call('get_issue', { id })).isError).toBe(false)
      expect(await reconcileLedger(db, { orgId })).toEqual([])

      // A key revoked while the process runs is refused from its next call.
      await db.$client`update api_keys set revoked_at = now() where org_id = ${orgId}`
      await expect(local.call('whoami')).rejects.toThrow(/UNAUTHORIZED: unknown or revoked/)
      await expect(local.client.listTools()).resolves.toBeDefined()
      for (const c of [local, one, two, http]) await c.close()
    } finally {
      await api.stop()
    }
  })

  test('an unknown key or none: exits non-zero with the reason, before speaking MCP', async ({
    databaseUrl,
  }) => {
    const env = { DATABASE_URL: databaseUrl }
    const unknown = await tollgate(['mcp', '--key', `tg_live_${'x'.repeat(32)}`], env)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('UNAUTHORIZED: unknown or revoked API key')
    expect(unknown.stdout).toBe('')
    const none = await tollgate(['mcp'], { ...env, TOLLGATE_KEY: undefined })
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('--key (or TOLLGATE_KEY) is required')
  })
})
