// bench:growth — does metering slow down as `usage` and `ledger_entries` grow? The meter's path
// (the one bench:ledger measures: 64 callers over 1,000 orgs, each action with an idempotency
// key) runs against two databases of one server: one left empty (the baseline) and one grown by
// bulk loads to each size in turn (BENCH_GROWTH_SIZES, default 1 M, 5 M and 10 M rows in each
// table). At each size the two alternate which goes first, round by round; the ratio grown/empty
// is taken per round and its median reported, so the machine's drift cancels out.
//
// The bulk rows belong to 10,000 other orgs and are spread evenly over this month and the nine
// before it (so this month's partition holds a tenth of them, as a steady month would): what is
// measured is what partitions do for the indexes the meter writes into.
import { randomUUID } from 'node:crypto'
import { loadavg } from 'node:os'
import { loadConfig } from '../../src/config/index.js'
import type { Db } from '../../src/db/client.js'
import { createMeter, ensureMonthPartitions } from '../../src/ledger/index.js'
import { benchDatabase, cpuClock, makeOrgs, median, meterKnobs } from './benchDb.js'

const CALLERS = 64
const PER_CALLER = Number(process.env.BENCH_PER_CALLER ?? 150)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const SIZES = (process.env.BENCH_GROWTH_SIZES ?? '1000000,5000000,10000000').split(',').map(Number)
const MONTHS = 10
const BULK_ORGS = 10_000
const CHUNK = 500_000
const config = loadConfig({})

/** One side of the comparison: a database, its orgs and its meter. */
async function side(label: string) {
  const bench = await benchDatabase(label, 16)
  const orgs = await makeOrgs(bench.db, 1_000, 1_000_000_000_000n)
  const meter = createMeter(bench.db, {
    rateCard: config.rateCard,
    product: config.product,
    ...meterKnobs(),
  })
  return { ...bench, orgs, meter }
}
type Side = Awaited<ReturnType<typeof side>>

/** One run of CALLERS × PER_CALLER metered actions: actions a second and CPU per action. */
async function run(s: Side) {
  const cpu = await cpuClock(s.db)
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      for (let i = 0; i < PER_CALLER; i++) {
        const orgId = s.orgs[(caller * 7919 + i * 104_729) % s.orgs.length]!
        await s.meter.meter({ orgId, action: 'save_comment', idempotencyKey: randomUUID() })
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const used = await cpu()
  const actions = CALLERS * PER_CALLER
  return { rate: actions / seconds, cpuMicros: (used.node + used.server) / actions }
}

/**
 * Bulk rows `from` ≤ i < `to` of both tables, month i % MONTHS back from this one, at a
 * position in its month (up to now for this month) that i sets; per-org entry seqs from i.
 */
async function load(db: Db, from: number, to: number) {
  for (let lo = from; lo < to; lo += CHUNK) {
    const hi = Math.min(to, lo + CHUNK)
    const rows = db.$client`
      select i, md5('bulk-org-' || (i % ${BULK_ORGS}))::uuid as org_id,
        m + (least(m + interval '1 month', now()) - m) * ((i * 7919 % 1000003) / 1000003.0) as at
      from generate_series(${lo}::int8, ${hi - 1}::int8) as i,
        lateral (select (date_trunc('month', now() at time zone 'UTC')
          - make_interval(months => (i % ${MONTHS})::int)) at time zone 'UTC' as m) as month`
    await db.$client`
      insert into usage (org_id, subscription_id, action, quantity, unit_price, voucher_amount,
        billable_amount, rate_version, status, created_at)
      select org_id, 'sub_bulk', 'save_comment', 1, 5000, 0, 5000, 'bulk', 'recorded', at
      from (${rows}) as r`
    await db.$client`
      insert into ledger_entries (org_id, seq, kind, amount, voucher_after, accrued_after,
        booked_after, collected_after, created_at)
      select org_id, i / ${BULK_ORGS} + 1, 'usage_billable', 5000, 0, 5000, 0, 0, at
      from (${rows}) as r`
  }
  // What autovacuum would soon do after such a load; done here so it does not land in a run.
  await db.$client`vacuum analyze usage, ledger_entries, usage_daily`
}

const empty = await side('growth_empty')
const grown = await side('growth_grown')
try {
  const [{ server_version }] = (await empty.db.$client`show server_version`) as unknown as [
    { server_version: string },
  ]
  console.log(
    `bench:growth — ${CALLERS} callers × ${PER_CALLER} actions a run, ${ROUNDS} rounds a size, PostgreSQL ${server_version}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  )
  // Both sides get the same partitions (the months the bulk rows fill and two ahead): what
  // differs between them is only the rows.
  const back = new Date()
  back.setUTCDate(1)
  back.setUTCMonth(back.getUTCMonth() - (MONTHS - 1))
  for (const s of [empty, grown])
    await ensureMonthPartitions(s.db, { from: back, months: MONTHS + 2 })
  // Warm-up, not measured: statements prepared, code compiled, pages cached.
  await run(empty)
  await run(grown)

  const results: { rows: number; rate: number; ratio: number; cpu: number; emptyCpu: number }[] = []
  let loaded = 0
  for (const size of [0, ...SIZES]) {
    if (size > loaded) {
      const t = performance.now()
      await load(grown.db, loaded, size)
      loaded = size
      const [{ bytes, current }] = (await grown.db.$client`
        select pg_total_relation_size('usage') + pg_total_relation_size('ledger_entries')
          + coalesce((select sum(pg_total_relation_size(i.inhrelid)) from pg_inherits i
              where i.inhparent in ('usage'::regclass, 'ledger_entries'::regclass)), 0) as bytes,
          (select count(*) from usage where created_at >= date_trunc('month', now() at time zone 'UTC') at time zone 'UTC') as current`) as unknown as [
        { bytes: string; current: string },
      ]
      console.log(
        `loaded ${size.toLocaleString('en')} rows into each table in ${((performance.now() - t) / 1000).toFixed(0)} s (${(Number(bytes) / 1e9).toFixed(2)} GB with indexes; ${Number(current).toLocaleString('en')} usage rows in this month's partition), load average ${loadavg()[0]!.toFixed(1)}`,
      )
    }
    const e: Awaited<ReturnType<typeof run>>[] = []
    const g: typeof e = []
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        e.push(await run(empty))
        g.push(await run(grown))
      } else {
        g.push(await run(grown))
        e.push(await run(empty))
      }
    }
    const r = {
      rows: size,
      rate: median(g.map((x) => x.rate)),
      ratio: median(g.map((x, i) => x.rate / e[i]!.rate)),
      cpu: median(g.map((x) => x.cpuMicros)),
      emptyCpu: median(e.map((x) => x.cpuMicros)),
    }
    results.push(r)
    console.log(
      `rows ${size.toLocaleString('en').padStart(10)}: grown ${r.rate.toFixed(0).padStart(5)} actions/s, empty ${median(
        e.map((x) => x.rate),
      )
        .toFixed(0)
        .padStart(
          5,
        )} actions/s, ratio ${r.ratio.toFixed(2)} (rounds ${g.map((x, i) => (x.rate / e[i]!.rate).toFixed(2)).join(' ')}); CPU/action grown ${r.cpu.toFixed(0)} µs, empty ${r.emptyCpu.toFixed(0)} µs`,
    )
  }
  const [{ stray }] = (await grown.db.$client`
    select (select count(*) from usage_default) + (select count(*) from ledger_entries_default) as stray`) as unknown as [
    { stray: string },
  ]
  console.log(
    `medians of ${ROUNDS} rounds; rows in the default partitions: ${stray}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  )
  const list = (f: (r: (typeof results)[number]) => string) => results.map(f).join(',')
  console.log(
    `bench:growth rows=${list((r) => String(r.rows))} actions_per_s=${list((r) => r.rate.toFixed(0))} ratio=${list((r) => r.ratio.toFixed(2))} cpu_us_per_action=${list((r) => r.cpu.toFixed(0))}`,
  )
} finally {
  await empty.meter.close()
  await grown.meter.close()
  await empty.drop()
  await grown.drop()
}
