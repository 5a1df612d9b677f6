import { ENTRY_COLUMNS, ENTRY_FIELDS, updateAccounts, zipEntries } from '../accounts.js'
import { BUDGET_FIELDS, updateBudgets } from '../budgets.js'
import { type Column, toTimestamp, zipArrays } from '../sql.js'
import type { NewUsage } from './types.js'

/**
 * A batch's statements run on their generic plans (lookups by key, inserts from arrays):
 * PostgreSQL would otherwise keep planning them afresh for small batches, whose custom plans
 * it estimates cheaper — and planning cost more than running them. A generic plan is made
 * once per connection and kept, so it must not depend on how big the tables were then: made
 * while a table is small, it reads the whole table (cheapest for a few rows), and keeps reading
 * it as it grows. With sequential scans off, every lookup is by key, whatever the table's size.
 * With hash, merge and bitmap plans off too, the accounts are read and updated one key at a
 * time in the order given — org-id order, the order every batch locks them in, so no two
 * batches (in this process or another) wait on each other in a cycle.
 */
export const BEGIN =
  'begin; set local plan_cache_mode = force_generic_plan; set local enable_seqscan = off; set local enable_bitmapscan = off; set local enable_hashjoin = off; set local enable_mergejoin = off'

/** The new usage columns a batch's write takes, in order (from `$1`). */
export const USAGE_FIELDS: ReadonlyArray<Column<NewUsage>> = [
  ['id', 'int8', (u) => u.id],
  ['org_id', 'uuid', (u) => u.outcome.orgId],
  ['subscription_id', 'text', (u) => u.outcome.subscriptionId],
  ['action', 'text', (u) => u.outcome.action],
  ['quantity', 'int4', (u) => u.outcome.quantity],
  ['unit_price', 'int8', (u) => u.outcome.unitPriceMicros],
  ['voucher_amount', 'int8', (u) => u.outcome.voucherMicros],
  ['included_amount', 'int8', (u) => u.outcome.includedMicros],
  ['included_units', 'int4', (u) => u.outcome.includedUnits ?? 0],
  ['prepaid_amount', 'int8', (u) => u.outcome.prepaidMicros],
  ['billable_amount', 'int8', (u) => u.outcome.billableMicros],
  ['rate_version', 'text', (u) => u.outcome.rateVersion],
  ['window_index', 'int4', (u) => u.outcome.windowIndex],
  ['status', 'text', (u) => u.outcome.status],
  ['free_reason', 'text', (u) => u.outcome.free],
  ['key_id', 'uuid', (u) => u.item.p.keyId ?? null],
  ['idempotency_key', 'text', (u) => u.item.p.idempotencyKey],
  ['expires_at', 'timestamptz', (u) => (u.expiresAt === null ? null : toTimestamp(u.expiresAt))],
  [
    'request_hash',
    'text',
    (u) => (u.item.p.idempotencyKey === undefined ? null : u.item.requestHash),
  ],
  // A metered action's outcome is its usage row's (see `outcomeOfUsage`); a reservation's
  // amounts change when it is committed, so its first outcome is kept as it was.
  [
    'outcome',
    'jsonb',
    (u) =>
      u.item.p.idempotencyKey === undefined || u.item.op !== 'reserve'
        ? null
        : JSON.stringify(u.outcome), // its usage id included
  ],
]

/** The usage table's columns a batch writes (`created_at` is the batch's time). */
const USAGE_COLUMNS = USAGE_FIELDS.filter(([name]) => !['request_hash', 'outcome'].includes(name))
  .map(([name]) => name)
  .join(', ')

/** Where a batch write's parameters start: new usage, the batch's time, entries, budgets, accounts. */
const AT = USAGE_FIELDS.length + 1
const ENTRIES = AT + 1
const BUDGETS = ENTRIES + ENTRY_FIELDS.length
const ACCOUNTS = BUDGETS + BUDGET_FIELDS.length

/**
 * A batch's writes, one statement: its new usage rows (with the ids drawn for them ahead, see
 * `createUsageIds`), their idempotency keys, their ledger entries, the budgets they counted in
 * and the orgs' balances. Returns
 * the transaction's id: the version every row it updated now has.
 *
 * `fresh`: the accounts were decided on as cached, not locked — the update checks their versions
 * and `tollgate_expect_fresh` fails the statement unless it updated every one of them (naming
 * those it did not), which rolls back every write of the batch.
 */
const writeBatch = (fresh: boolean) => `
  with v as materialized (
    ${zipArrays(1, USAGE_FIELDS)}
  ), u as (
    insert into usage (${USAGE_COLUMNS}, created_at)
    select ${USAGE_COLUMNS}, $${AT}::timestamptz from v
  ), k as (
    insert into idempotency_keys (org_id, key, request_hash, outcome, usage_id, created_at)
    select org_id, idempotency_key, request_hash, outcome, id, $${AT}::timestamptz
    from v where idempotency_key is not null
  ), e as (
    insert into ledger_entries (${ENTRY_COLUMNS}) ${zipEntries(ENTRIES)}
  ), b as (
    ${updateBudgets(BUDGETS)}
  ), a as (
    ${updateAccounts(ACCOUNTS, { checkVersions: fresh })}
  )
  select pg_current_xact_id()::xid::text as version${
    fresh
      ? `\n  from (select tollgate_expect_fresh($${ACCOUNTS}::uuid[], array_agg(org_id)) from a) as fresh`
      : ''
  }`
export const WRITE_BATCH = writeBatch(false)
const WRITE_FRESH_BATCH = writeBatch(true)

/**
 * The checked write of a batch decided on cached accounts, as a function (migration 0013) that
 * carries the planner settings `BEGIN` sets (see there) with it: such a batch is then one
 * statement, committed on its own — no BEGIN, no COMMIT to parse, run and answer, one answer
 * from the server instead of three.
 *
 * @internal Exported, with `writeFunctionSql`, for writeFunction.test.ts: migrations hold the SQL.
 */
export const WRITE_FUNCTION = 'tollgate_write_cached_batch'

/** The parameters of `WRITE_FRESH_BATCH`, by position: each typed by its cast in the statement. */
const writeParamTypes = () => {
  const types = new Map<number, string>()
  for (const m of WRITE_FRESH_BATCH.matchAll(/\$(\d+)::([a-z0-9_]+(?:\[\])?)/g))
    types.set(Number(m[1]), m[2]!)
  return Array.from({ length: Math.max(...types.keys()) }, (_, i) => {
    const type = types.get(i + 1)
    if (!type) throw new Error(`${WRITE_FUNCTION}: parameter $${i + 1} has no type`)
    return type
  })
}

/** `BEGIN`'s planner settings, as a function's SET clauses. */
const plannerSettings = () =>
  BEGIN.split(';')
    .slice(1)
    .map((s) => s.trim().replace(/^set local /, 'SET '))

/**
 * The SQL that creates `WRITE_FUNCTION`: migration 0013 holds it, and a test keeps the two equal.
 *
 * @internal Exported for that test (src/ledger/writeFunction.test.ts).
 */
export function writeFunctionSql(): string {
  const settings = plannerSettings()
  const body = WRITE_FRESH_BATCH.replace(
    'select pg_current_xact_id()::xid::text as version',
    'select pg_current_xact_id()::xid::text into written_version',
  )
  return `CREATE OR REPLACE FUNCTION ${WRITE_FUNCTION}(${writeParamTypes().join(', ')}) RETURNS text
  LANGUAGE plpgsql
  ${settings.join('\n  ')}
AS $fn$
DECLARE
  written_version text;
BEGIN${body};
  RETURN written_version;
END
$fn$;
`
}

export const CALL_WRITE_FRESH = `select ${WRITE_FUNCTION}(${writeParamTypes()
  .map((_, i) => `$${i + 1}`)
  .join(', ')}) as version`

/**
 * The orgs (of `$1`) whose account or subscription row is no longer the version cached (`$2`,
 * `$3`), as a function (migration 0014) carrying the batch's planner settings: one read, no
 * lock, nothing written.
 *
 * @internal Exported, with `checkFunctionSql`, for writeFunction.test.ts: migrations hold the SQL.
 */
export const CHECK_FUNCTION = 'tollgate_stale_accounts'

/**
 * The SQL that creates `CHECK_FUNCTION`: migration 0014 holds it, and a test keeps the two equal.
 *
 * @internal Exported for that test (src/ledger/writeFunction.test.ts).
 */
export function checkFunctionSql(): string {
  return `CREATE OR REPLACE FUNCTION ${CHECK_FUNCTION}(uuid[], xid[], xid[]) RETURNS uuid[]
  LANGUAGE plpgsql STABLE
  ${plannerSettings().join('\n  ')}
AS $fn$
BEGIN
  RETURN array(
    select q.org_id
    from (select unnest($1) as org_id, unnest($2) as account_version, unnest($3) as subscription_version) as q
    where not exists (
      select from billing_accounts a
      where a.org_id = q.org_id and a.xmin = q.account_version
        and exists (select from subscriptions s where s.id = a.subscription_id and s.xmin = q.subscription_version)));
END
$fn$;
`
}

export const CHECK_FRESH = `select ${CHECK_FUNCTION}($1::uuid[], $2::xid[], $3::xid[])::text[] as stale`

/**
 * COMMIT, padded to 1 kB: the driver holds a statement under 1 kB back until the event loop's
 * next turn, to send it with others — but nothing follows a batch's COMMIT, and the batch
 * waits for it. Padded, it leaves at once, in the same system call as the batch's writes.
 */
export const COMMIT = `commit${' '.repeat(1024)}`
