// bench:ledger — Tollgate's metering path against a naive one-transaction-per-action baseline,
// in one run against the same PostgreSQL. Two workloads: 64 callers spread over 1,000 orgs,
// and 64 callers on one hot org. Every acknowledged action is checked to be in the database
// afterwards (lost), and the hot org's accepted billable usage against its allowance.
import { randomUUID } from 'node:crypto'
import { loadConfig } from '../../src/config/index.js'
import type { Db } from '../../src/db/client.js'
import { authorizeSubscription, createMeter, openBillingAccount } from '../../src/ledger/index.js'
import { benchDatabase, cpuClock, percentile } from './benchDb.js'

const CALLERS = 64
const PER_CALLER = Number(process.env.BENCH_PER_CALLER ?? 150)
const config = loadConfig({})
const price = config.rateCard.prices.save_comment!

async function makeOrgs(db: Db, n: number, allowance: bigint) {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const orgId = randomUUID()
    const { subscriptionId } = await openBillingAccount(db, { orgId, signupCreditMicros: 0n })
    await authorizeSubscription(db, {
      orgId,
      subscriptionId,
      owner: '0x00000000000000000000000000000000000000aa',
      allowance,
    })
    ids.push(orgId)
  }
  return ids
}

/** The naive path: one transaction per action — lock the org, insert usage, insert the entry. */
async function naiveMeter(db: Db, orgId: string) {
  return await db.$client.begin(async (tx) => {
    const [a] = await tx<{ accrued: bigint; entry_seq: bigint }[]>`
      select accrued, entry_seq from billing_accounts where org_id = ${orgId} for update`
    const [u] = await tx<{ id: bigint }[]>`
      insert into usage (org_id, subscription_id, action, quantity, unit_price, voucher_amount, billable_amount,
        rate_version, status, created_at)
      values (${orgId}, 'naive', 'save_comment', 1, ${price.toString()}, 0, ${price.toString()}, 'naive', 'recorded', now())
      returning id`
    await tx`
      insert into ledger_entries (org_id, seq, kind, amount, voucher_after, accrued_after, booked_after, collected_after, usage_id, created_at)
      values (${orgId}, ${(a!.entry_seq + 1n).toString()}, 'usage_billable', ${price.toString()}, 0,
        ${(a!.accrued + price).toString()}, 0, 0, ${u!.id.toString()}, now())`
    await tx`update billing_accounts set accrued = accrued + ${price.toString()}, entry_seq = entry_seq + 1 where org_id = ${orgId}`
    return u!.id.toString()
  })
}

async function run(
  label: string,
  pick: (caller: number, i: number) => string,
  call: (orgId: string) => Promise<string | null>,
  { quiet = false } = {},
) {
  // Every run starts from the same state: the previous run's dead rows vacuumed (so no
  // autovacuum lands in this one).
  await db.$client`vacuum analyze`
  // What the harness keeps of each action lives outside the JS heap (typed arrays): kept as
  // strings and boxed numbers it would survive every young-generation collection and lengthen
  // the very pauses the latencies measure.
  const latencies = new Float64Array(CALLERS * PER_CALLER)
  const ackedIds = new BigInt64Array(CALLERS * PER_CALLER)
  let done = 0
  let ackedCount = 0
  const cpu = await cpuClock(db)
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      for (let i = 0; i < PER_CALLER; i++) {
        const t = performance.now()
        const id = await call(pick(caller, i))
        latencies[done++] = performance.now() - t
        if (id) ackedIds[ackedCount++] = BigInt(id)
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const used = await cpu()
  latencies.sort()
  const acked = Array.from(ackedIds.subarray(0, ackedCount), String)
  const r = {
    label,
    rate: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    acked,
    nodeMicros: used.node / latencies.length,
    serverMicros: used.server / latencies.length,
  }
  if (!quiet)
    console.log(
      `${label.padEnd(24)} ${r.rate.toFixed(0).padStart(7)} actions/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms   CPU/action: node ${r.nodeMicros.toFixed(0)} µs, server ${r.serverMicros.toFixed(0)} µs`,
    )
  return r
}

const bench = await benchDatabase('ledger', 16)
const { db } = bench
try {
  console.log(
    `bench:ledger — ${CALLERS} callers × ${PER_CALLER} actions, pool 16, PostgreSQL ${(await db.$client`show server_version`)[0]!.server_version}`,
  )
  // Each path meters its own 1,000 orgs, as in a deployment where nothing else meters them
  // (Tollgate keeps the accounts its batches wrote, and a row another writer changed costs its
  // next batch a second try).
  const naiveOrgs = await makeOrgs(db, 1_000, 10_000_000_000n)
  const spreadOrgs = await makeOrgs(db, 1_000, 10_000_000_000n)
  // The hot org can afford only part of what is thrown at it: the cap must hold exactly.
  const hotAllowance = price * BigInt(Math.floor((CALLERS * PER_CALLER) / 2)) + 1_234n
  const [hotOrg] = await makeOrgs(db, 1, hotAllowance)
  const [naiveHot] = await makeOrgs(db, 1, 10_000_000_000n)
  // Statistics as a running database has them (autovacuum would analyze these tables soon).
  await db.$client`analyze`
  const spreadOver =
    (orgs: string[]) =>
    (c: number, i: number): string =>
      orgs[(c * 7919 + i * 104_729) % orgs.length]!
  const spread = spreadOver(spreadOrgs)
  const naiveSpreadOrgs = spreadOver(naiveOrgs)

  const meter = createMeter(db, {
    rateCard: config.rateCard,
    product: config.product,
    // The engine's default (what the API runs) unless BENCH_CONCURRENCY says otherwise.
    ...(process.env.BENCH_CONCURRENCY
      ? { concurrency: Number(process.env.BENCH_CONCURRENCY) }
      : {}),
  })
  const viaMeter = (orgId: string) =>
    meter.meter({ orgId, action: 'save_comment', idempotencyKey: randomUUID() }).then(
      (o) => o.usageId,
      (e: { code?: string }) => {
        if (e.code === 'BILLING_INACTIVE') return null
        throw e
      },
    )

  // Warm-up, not measured: both paths' statements prepared, their code compiled, the tables'
  // pages cached — the figures below are each path's steady state, not its first second. The
  // hot-org warm-up runs on an org of its own, so the measured hot org's cap is untouched.
  const [warmHot] = await makeOrgs(db, 1, 10_000_000_000n)
  await run('(warm-up) naive', naiveSpreadOrgs, (o) => naiveMeter(db, o), { quiet: true })
  await run('(warm-up) tollgate', spread, viaMeter, { quiet: true })
  await run('(warm-up) tollgate, hot', () => warmHot!, viaMeter, { quiet: true })

  // Batches and how many were decided on cached accounts (one round trip), per measured run.
  const batches = () => {
    const before = { ...meter.stats }
    return () => {
      const n = meter.stats.batches - before.batches
      const actions = meter.stats.actions - before.actions
      const cached = meter.stats.cached - before.cached
      return `${' '.repeat(25)}${n} batches of ${(actions / n).toFixed(1)} actions on average, ${((100 * cached) / n).toFixed(0)}% decided on cached accounts`
    }
  }
  const naiveSpread = await run('naive, spread', naiveSpreadOrgs, (o) => naiveMeter(db, o))
  const spreadBatches = batches()
  const tollSpread = await run('tollgate, spread', spread, viaMeter)
  console.log(spreadBatches())
  const naiveHotRun = await run(
    'naive, hot org',
    () => naiveHot!,
    (o) => naiveMeter(db, o),
  )
  const hotBatches = batches()
  const tollHot = await run('tollgate, hot org', () => hotOrg!, viaMeter)
  console.log(hotBatches())
  await meter.close()

  const ids = [...tollSpread.acked, ...tollHot.acked]
  const [{ n }] =
    (await db.$client`select count(*)::int8 as n from usage where id = any(${ids}::int8[])`) as unknown as [
      { n: bigint },
    ]
  const lost = ids.length - Number(n)
  const [{ accrued }] =
    (await db.$client`select accrued from billing_accounts where org_id = ${hotOrg!}`) as unknown as [
      { accrued: bigint },
    ]
  const overCap = accrued > hotAllowance ? accrued - hotAllowance : 0n
  const spreadRatio = tollSpread.rate / naiveSpread.rate
  const hotRatio = tollHot.rate / naiveHotRun.rate
  const p99 = Math.max(tollSpread.p99, tollHot.p99)
  console.log(
    `ratio spread ${spreadRatio.toFixed(2)}×, hot org ${hotRatio.toFixed(2)}×; hot org accepted ${accrued} of ${hotAllowance} allowed`,
  )
  console.log(
    `bench:ledger spread_ratio=${spreadRatio.toFixed(2)} hot_ratio=${hotRatio.toFixed(2)} p99_ms=${p99.toFixed(2)} lost=${lost} over_cap_micros=${overCap}`,
  )
} finally {
  await bench.drop()
}
