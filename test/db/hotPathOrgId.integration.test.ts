import { closeDb, createDb } from '../../src/db/client.js'
import { startApi } from '../api/server.js'
import { expect, test } from '../fixtures.js'

type Captured = { sql: string; params: unknown[] }

/** Statements that only frame a transaction or probe the connection. */
const framing = /^\s*(begin|commit|rollback|savepoint|release|select 1\b|set |show )/i

/**
 * The one hot-path statement not keyed by org: the API key's lookup, which is how the org is
 * found. Past one database, `api_keys` is a Citus reference table (small, every node has it)
 * or a table distributed by `key_hash`; every other statement goes to the org's shard.
 */
const keyLookup = /from api_keys where key_hash = \$1/i

/**
 * Statements that touch no org's rows, so need no routing: the driver's array-type catalog
 * read (once per connection), and the meter's id allocation from `usage_id_seq` (a sequence;
 * on Citus, sequences behind distributed tables hand out ids on every node).
 */
const orgless = [/from pg_catalog\.pg_type a/i, /^select nextval\('usage_id_seq'\)/i]

// Past one PostgreSQL the plan is to shard by org_id (Citus): that only works if every query
// on the request's hot path names the org, so it can be routed to one shard. This test runs the
// hot path for real — key auth, the meter's batch write with its gate (limits, budgets,
// idempotency), a replay, the usage check — captures every statement the server was sent,
// and checks each filters by (or is given) the org id.
test('every hot-path statement is keyed by org_id', async ({ databaseUrl }) => {
  const captured: Captured[] = []
  const db = createDb({ url: databaseUrl, max: 4 })
  const api = await startApi(db)
  try {
    const signup = await api.call('POST', '/v1/orgs', {
      body: { name: 'Hot path', owner_address: `0x${'7a'.repeat(20)}` },
    })
    expect(signup.status).toBe(201)
    const key = signup.json.api_key as string
    const orgId = signup.json.org.id as string
    // postgres.js calls `debug` with every statement it sends, on the pool's shared options.
    ;(db.$client.options as { debug?: unknown }).debug = (
      _connection: number,
      sql: string,
      params: unknown[],
    ) => captured.push({ sql, params })

    const metered = await api.call('POST', '/v1/usage', {
      key,
      body: { action: 'save_comment' },
      headers: { 'idempotency-key': 'hot-1' },
    })
    expect(metered.status).toBe(201)
    const replay = await api.call('POST', '/v1/usage', {
      key,
      body: { action: 'save_comment' },
      headers: { 'idempotency-key': 'hot-1' },
    })
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    const check = await api.call('POST', '/v1/usage/check', {
      key,
      body: { action: 'save_comment' },
    })
    expect(check.status).toBe(200)
    ;(db.$client.options as { debug?: unknown }).debug = undefined

    const statements = captured.filter((c) => !framing.test(c.sql))
    // The hot path did reach the database: the key, the batch function, the check.
    expect(statements.some((s) => keyLookup.test(s.sql))).toBe(true)
    expect(statements.some((s) => /tollgate_write_cached_batch/.test(s.sql))).toBe(true)
    expect(statements.length).toBeGreaterThanOrEqual(4)
    const unkeyed = statements.filter((s) => {
      if (keyLookup.test(s.sql) || orgless.some((r) => r.test(s.sql.trim()))) return false
      // The org id travels as a parameter (alone, or inside the batch's arrays/JSON) and the
      // statement names org_id — or it is a call of the batch function, given the orgs.
      const named = /\borg_id\b/i.test(s.sql) || /tollgate_write_cached_batch/.test(s.sql)
      const given = JSON.stringify(s.params, (_k, v) =>
        typeof v === 'bigint' ? v.toString() : v,
      ).includes(orgId)
      return !(named && given)
    })
    expect(unkeyed.map((s) => s.sql)).toEqual([])
  } finally {
    await api.stop()
    await closeDb(db)
  }
})
