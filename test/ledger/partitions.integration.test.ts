import { createLogger } from '../../src/core/log.js'
import type { Db } from '../../src/db/client.js'
import { ensureMonthPartitions, reconcileLedger } from '../../src/ledger/index.js'
import { workerJobs } from '../../src/worker/jobs.js'
import { describe, expect, test } from '../fixtures.js'
import { activeOrg, config, makeMeter } from './helpers.js'

/** The partitions of `parent`, by name, with their bounds as PostgreSQL prints them. */
async function partitions(db: Db, parent: string) {
  const rows = await db.$client<{ name: string; bound: string }[]>`
    select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = ${parent}::regclass order by 1`
  return new Map(rows.map((r) => [r.name, r.bound]))
}

async function whereRows(db: Db, table: 'usage' | 'ledger_entries', orgId: string) {
  const rows = await db.$client<{ part: string; n: number }[]>`
    select tableoid::regclass::text as part, count(*)::int as n from ${db.$client(table)}
    where org_id = ${orgId} group by 1 order by 1`
  return Object.fromEntries(rows.map((r) => [r.part, r.n]))
}

async function rollupMatchesUsage(db: Db) {
  const [r] = await db.$client<{ diff: number }[]>`
    select count(*)::int as diff from (
      (select org_id, (created_at at time zone 'UTC')::date as day, action, count(*)::int8 as calls,
         sum(billable_amount)::int8 as billable
       from usage where status in ('recorded', 'committed') group by 1, 2, 3
       except
       select org_id, day, action, sum(calls)::int8, sum(billable_amount)::int8 from usage_daily
       where calls <> 0 group by 1, 2, 3)
      union all
      (select org_id, day, action, sum(calls)::int8, sum(billable_amount)::int8 from usage_daily
       where calls <> 0 group by 1, 2, 3
       except
       select org_id, (created_at at time zone 'UTC')::date, action, count(*)::int8,
         sum(billable_amount)::int8
       from usage where status in ('recorded', 'committed') group by 1, 2, 3)) as d`
  return r!.diff === 0
}

const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n

describe('monthly partitions of usage and ledger_entries', () => {
  test("the worker's month-partitions job makes this month and the next two, idempotently", async ({
    db,
  }) => {
    const job = workerJobs({
      config,
      db,
      log: createLogger('silent'),
      chain: undefined,
      meter: makeMeter(db),
    }).find((j) => j.name === 'month-partitions')!
    expect(job.everyMs).toBe(3_600_000)
    // The migration made them already: the job finds nothing to do, on every run.
    await job.run(new AbortController().signal)
    await job.run(new AbortController().signal)
    const now = new Date()
    for (let i = 0; i < 3; i++) {
      const m = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i, 1))
      const next = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1))
      const name = `y${m.getUTCFullYear()}m${String(m.getUTCMonth() + 1).padStart(2, '0')}`
      const bound = `FOR VALUES FROM ('${m.toISOString().slice(0, 10)} 00:00:00+00') TO ('${next.toISOString().slice(0, 10)} 00:00:00+00')`
      expect((await partitions(db, 'usage')).get(`usage_${name}`)).toBe(bound)
      expect((await partitions(db, 'ledger_entries')).get(`ledger_entries_${name}`)).toBe(bound)
    }
    // Months ahead of any so far: created once (two tables × three months), then found.
    expect(await ensureMonthPartitions(db, { from: new Date('2031-11-20T00:00:00Z') })).toBe(6)
    expect(await ensureMonthPartitions(db, { from: new Date('2031-11-20T00:00:00Z') })).toBe(0)
    const usageParts = await partitions(db, 'usage')
    expect(usageParts.get('usage_y2032m01')).toBe(
      "FOR VALUES FROM ('2032-01-01 00:00:00+00') TO ('2032-02-01 00:00:00+00')",
    )
    expect(usageParts.get('usage_default')).toBe('DEFAULT')
    expect(usageParts.has('usage_y2032m02')).toBe(false)
    // Two workers at once: each partition made exactly once.
    const both = await Promise.all([
      ensureMonthPartitions(db, { from: new Date('2033-03-01T00:00:00Z'), months: 4 }),
      ensureMonthPartitions(db, { from: new Date('2033-03-01T00:00:00Z'), months: 4 }),
    ])
    expect(both[0] + both[1]).toBe(8)
  })

  test('a row lands in its month, the default partition holds a month not made yet, and the rollup follows across partitions', async ({
    db,
  }) => {
    const org = await activeOrg(db, { allowance: 100_000_000n })
    let clock = micros('2030-04-10T12:00:00Z')
    const meter = makeMeter(db, () => clock)
    // No partition for April 2030 yet: the default one takes the rows, the meter does not fail.
    await meter.meter({ orgId: org.orgId, action: 'save_comment' })
    await meter.meter({ orgId: org.orgId, action: 'claim_issue' })
    expect(await whereRows(db, 'usage', org.orgId)).toEqual({ usage_default: 2 })
    expect(await rollupMatchesUsage(db)).toBe(true)
    // Making the month moves them out of the default partition, without counting them twice.
    expect(
      await ensureMonthPartitions(db, { from: new Date('2030-04-01T00:00:00Z'), months: 2 }),
    ).toBe(4)
    expect(await whereRows(db, 'usage', org.orgId)).toEqual({ usage_y2030m04: 2 })
    expect(
      (await whereRows(db, 'ledger_entries', org.orgId)).ledger_entries_default,
    ).toBeUndefined()
    expect(await rollupMatchesUsage(db)).toBe(true)
    // A new month's row goes straight into its partition.
    clock = micros('2030-05-01T00:00:00Z')
    const may = await meter.meter({ orgId: org.orgId, action: 'save_comment' })
    expect(await whereRows(db, 'usage', org.orgId)).toEqual({
      usage_y2030m04: 2,
      usage_y2030m05: 1,
    })
    const entries = await whereRows(db, 'ledger_entries', org.orgId)
    expect(entries).toMatchObject({ ledger_entries_y2030m04: 2, ledger_entries_y2030m05: 1 })
    expect(entries.ledger_entries_default).toBeUndefined()
    await meter.close()

    // One statement over three partitions (April, May, the default): each trigger runs once
    // over all of its rows.
    await db.$client`
      insert into usage (org_id, subscription_id, action, quantity, unit_price, voucher_amount,
        billable_amount, rate_version, status, created_at)
      select ${org.orgId}, 'sub_x', 'checkpoint', 1, 7, 0, 7, 'v1', 'recorded', t
      from unnest(array['2030-04-30T23:59:59Z', '2030-05-02T00:00:00Z', '2040-01-01T00:00:00Z']::timestamptz[]) as t`
    expect(await whereRows(db, 'usage', org.orgId)).toEqual({
      usage_default: 1,
      usage_y2030m04: 3,
      usage_y2030m05: 2,
    })
    expect(await rollupMatchesUsage(db)).toBe(true)
    await db.$client`update usage set status = 'voided' where org_id = ${org.orgId} and action = 'checkpoint'`
    expect(await rollupMatchesUsage(db)).toBe(true)
    const [day] = await db.$client<{ calls: string }[]>`
      select sum(calls)::text as calls from usage_daily where org_id = ${org.orgId} and day = '2030-05-01'`
    expect(day!.calls).toBe('1')
    // An update by id finds its row whatever the month.
    const [found] = await db.$client<{ id: string }[]>`
      select id::text from usage where id = ${may.usageId}::int8`
    expect(found!.id).toBe(may.usageId)
    await db.$client`update usage set status = 'recorded' where org_id = ${org.orgId} and action = 'checkpoint'`
    await db.$client`delete from usage where org_id = ${org.orgId} and action = 'checkpoint'`
  })

  test('an entry seq repeated within a month is refused; across months, reconcile names it', async ({
    db,
  }) => {
    const org = await activeOrg(db, { allowance: 100_000_000n })
    await ensureMonthPartitions(db, { from: new Date('2030-07-01T00:00:00Z'), months: 2 })
    const meter = makeMeter(db, () => micros('2030-07-15T00:00:00Z'))
    await meter.meter({ orgId: org.orgId, action: 'save_comment' })
    await meter.close()
    expect(await reconcileLedger(db, { orgId: org.orgId })).toEqual([])
    const [last] = await db.$client<{ id: string; seq: string }[]>`
      select id::text, seq::text from ledger_entries where org_id = ${org.orgId} order by seq desc limit 1`
    const copy = (at: string) => db.$client`
      insert into ledger_entries (org_id, seq, subscription_id, kind, amount, voucher_after,
        prepaid_after, accrued_after, booked_after, collected_after, memo, created_at)
      select org_id, seq, subscription_id, 'adjustment_accrued', 0, voucher_after, prepaid_after,
        accrued_after, booked_after, collected_after, 'repeat', ${at}::timestamptz
      from ledger_entries where id = ${last!.id}::int8`
    await expect(copy('2030-07-20T00:00:00Z')).rejects.toMatchObject({ code: '23505' })
    await copy('2030-08-02T00:00:00Z')
    const found = await reconcileLedger(db, { orgId: org.orgId })
    expect(found.map((m) => m.check)).toContain('entry seq unique')
  })
})
