import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { errorCodes } from '../../src/core/errorCodes.js'
import { arbitraryOf, hostileValues, type Json, type JsonSchema, ledgerOf } from '../api/fuzzer.js'
import { startApi } from '../api/server.js'
import { describe, expect, test } from '../fixtures.js'
import { postMcp } from '../support/postMcp.js'
import { connectMcp } from './client.js'

// The MCP tools under generated and hostile arguments, sent as raw JSON-RPC on a live session
// (no client-side checks in the way): arguments from each tool's own input schema, valid, with
// one field hostile, with a hostile extra field, or not an object at all; tool names and
// envelopes that are not MCP. Every answer must be a result or a JSON-RPC error the caller
// caused, never a 5xx or an internal error, and a refused call must leave the ledger as it was.

type Api = Awaited<ReturnType<typeof startApi>>
const calls = 1_500

async function signUp(api: Api) {
  const res = await api.call('POST', '/v1/orgs', {
    body: { name: 'fuzz', owner_address: `0x${randomBytes(20).toString('hex')}` },
  })
  return res.json as { org: { id: string }; api_key: string }
}

/** Hostile envelopes: not JSON-RPC, not a call, or a call whose params are not a call's. */
const rawMessages = [
  '{',
  '[]',
  'null',
  '{"jsonrpc":"2.0","id":1}',
  '{"jsonrpc":"2.0","id":1,"method":"tools/call"}',
  '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[]}',
  '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":42}}',
  '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":"x"}}',
  '{"jsonrpc":"2.0","id":{"a":1},"method":"tools/call","params":{"name":"whoami"}}',
  '{"jsonrpc":"2.0","id":1e400,"method":"tools/call","params":{"name":"save_issue","arguments":{"title":"t"}}}',
  `{"jsonrpc":"2.0","id":"${'i'.repeat(5_000)}","method":"tools/call","params":{"name":"save_issue","arguments":{"title":"t"}}}`,
  '{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///etc/passwd"}}',
  '{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"tollgate://billing/../x"}}',
  '{"jsonrpc":"2.0","id":1,"method":"__proto__","params":{}}',
  '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"save_issue","arguments":{"__proto__":{"title":"x"}}}}',
]

describe('the MCP tools under generated and hostile arguments', () => {
  test(`${calls} tool calls: tool errors or invalid params, never a crash or a 5xx; refusals leave the ledger`, async ({
    db,
  }) => {
    const api = await startApi(
      db,
      { SIGNUP_CREDIT_MICROS: '1000000000000' },
      { rateLimits: { perKeyPerSecond: 1_000_000 } },
    )
    try {
      const a = await signUp(api)
      const b = await signUp(api)
      const mcp = await connectMcp(api.url, a.api_key)
      const theirs = await connectMcp(api.url, b.api_key)
      const ids: string[] = []
      for (const [m, n] of [
        [mcp, 3],
        [theirs, 1],
      ] as const)
        for (let i = 0; i < n; i++)
          ids.push((await m.call('save_issue', { title: `seed ${i}` })).body.issue.id)
      const { tools } = await mcp.client.listTools()
      const orgs = [a.org.id, b.org.id]

      const post = async (body: string) => {
        const res = await postMcp(api.url, {
          key: a.api_key,
          sessionId: mcp.transport.sessionId!,
          body,
        })
        const text = await res.text()
        let json: { result?: { isError?: boolean; structuredContent?: Json }; error?: Json }
        try {
          json = JSON.parse(text)
        } catch {
          json = {}
        }
        return { status: res.status, json, text }
      }

      // The argument plans: one tool's arguments, valid or departing from valid in one way.
      const plan = fc.constantFrom(...tools).chain((t) => {
        const schema = t.inputSchema as JsonSchema
        const fields = Object.keys(schema.properties ?? {})
        const valid = arbitraryOf(schema).map((args) => {
          // Often a real issue (this org's, or another org's), so calls get past NOT_FOUND.
          const o = args as Record<string, Json>
          if ('id' in o && ids.length > 0)
            o.id = ids[Math.abs(JSON.stringify(o).length) % ids.length]!
          return o as Json
        })
        const hostile = fc.constantFrom(...hostileValues)
        return fc.record({
          name: fc.constant(t.name),
          args: fc.oneof(
            { weight: 4, arbitrary: valid },
            {
              weight: 3,
              arbitrary: fields.length
                ? fc
                    .tuple(valid, fc.constantFrom(...fields), hostile)
                    .map(([v, f, h]) => ({ ...(v as object), [f]: h }) as Json)
                : valid,
            },
            {
              weight: 1,
              arbitrary: fc
                .tuple(
                  valid,
                  fc.constantFrom(...hostileValues.filter((v) => typeof v === 'string')),
                  hostile,
                )
                .map(([v, k, h]) => ({ ...(v as object), [k as string]: h }) as Json),
            },
            { weight: 1, arbitrary: hostile },
          ),
        })
      })
      const strangeName = fc.record({
        name: fc.constantFrom(...hostileValues.filter((v) => typeof v === 'string')),
        args: fc.constant({} as Json),
      })
      const plans = fc.sample(
        fc.oneof({ weight: 19, arbitrary: plan }, { weight: 1, arbitrary: strangeName }),
        {
          numRuns: calls,
          seed: 29,
        },
      )

      const failures: string[] = []
      const tally = { ok: 0, toolErrors: 0, invalidParams: 0 }
      const okBy = new Map<string, number>()
      let ledger = JSON.stringify(await ledgerOf(db.$client, orgs))
      let id = 1
      const check = async (what: string, r: Awaited<ReturnType<typeof post>>) => {
        const result = r.json.result
        const error = r.json.error as { code?: number } | undefined
        let refused = true
        if (r.status >= 500) failures.push(`${what} → ${r.status} ${r.text.slice(0, 200)}`)
        else if (error) {
          if (error.code === -32603)
            failures.push(`${what} → internal error ${r.text.slice(0, 200)}`)
          tally.invalidParams++
        } else if (result?.isError) {
          const sc = result.structuredContent as { code?: string; http_status?: number }
          if (!sc || !(sc.code! in errorCodes) || !(sc.http_status! < 500))
            failures.push(`${what} → tool error ${r.text.slice(0, 200)}`)
          tally.toolErrors++
        } else if (result) {
          refused = false
          tally.ok++
        } else if (r.status !== 202)
          // (202: nothing to answer, as for an empty batch.)
          failures.push(`${what} → ${r.status} without a result ${r.text.slice(0, 200)}`)
        const after = JSON.stringify(await ledgerOf(db.$client, orgs))
        if (refused && after !== ledger) failures.push(`${what} refused but the ledger moved`)
        ledger = after
        return refused
      }
      for (const p of plans) {
        const body = JSON.stringify({
          jsonrpc: '2.0',
          id: id++,
          method: 'tools/call',
          params: { name: p.name, arguments: p.args },
        })
        const refused = await check(`${p.name} ${body.slice(0, 300)}`, await post(body))
        if (!refused) okBy.set(p.name as string, (okBy.get(p.name as string) ?? 0) + 1)
      }
      for (const raw of rawMessages) await check(raw.slice(0, 120), await post(raw))

      expect(failures).toEqual([])
      // Not a run that only met the front door: most tools succeeded at least once, and all
      // three kinds of answer happened many times.
      expect(tally.ok).toBeGreaterThan(calls / 5)
      expect(tally.toolErrors).toBeGreaterThan(calls / 5)
      expect(tally.invalidParams).toBeGreaterThan(10)
      for (const name of [
        'whoami',
        'save_issue',
        'save_comment',
        'get_issue',
        'estimate_cost',
        'usage',
      ])
        expect(okBy.get(name), name).toBeGreaterThan(0)
      // Another org's issues stayed out of reach: nothing was written to org B.
      const bUsage =
        await db.$client`select count(*)::int as n from usage where org_id = ${b.org.id}`
      expect(bUsage[0]!.n).toBe(1)

      // The server is up and meters as before, on this session and a new one.
      const after = await mcp.call('save_comment', { id: ids[0], body: 'after the fuzz' })
      expect(after.isError, after.text).toBe(false)
      const fresh = await connectMcp(api.url, a.api_key)
      expect((await fresh.call('whoami')).body.org_id).toBe(a.org.id)
      for (const c of [mcp, theirs, fresh]) await c.close()
    } finally {
      await api.stop()
    }
  }, 300_000)
})
