// bench:ledger — Tollgate's metering path against a naive one-transaction-per-action baseline,
// in one run against the same PostgreSQL. Two workloads: 64 callers spread over 1,000 orgs,
// and 64 callers on one hot org. Both paths run each workload in rounds that alternate which
// goes first (so neither always gets the warmer machine): a ratio is taken per round and the
// median reported, and p50/p99 are over every round's actions together — a one-second run
// on a shared two-core machine has its p99 set by whatever hiccup it happened to catch. Every
// acknowledged action is checked to be in the database afterwards (lost), and each round's hot
// org's accepted billable usage against its allowance.
import { randomBytes, randomUUID } from 'node:crypto'
import { loadConfig } from '../../src/config/index.js'
import type { Db } from '../../src/db/client.js'
import { createMeter, setBudget } from '../../src/ledger/index.js'
import { benchDatabase, cpuClock, makeOrgs, median, meterKnobs, percentile } from './benchDb.js'

const CALLERS = 64
const PER_CALLER = Number(process.env.BENCH_PER_CALLER ?? 150)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const config = loadConfig({})
const price = config.rateCard.prices.save_comment!
/**
 * `--budgets`: every Tollgate org meters through an API key of its own that carries a daily
 * budget (never reached, so the workloads stay the same): the meter then reads, checks and
 * writes a budget with every batch.
 */
const BUDGETS = process.argv.includes('--budgets')
/** Each org's API key, when `--budgets`. */
const keyOf = new Map<string, string>()

/** An API key with a daily budget on it for each of `orgs`. */
async function budgetEvery(db: Db, orgs: readonly string[]) {
  for (const orgId of orgs) {
    const [key] = await db.$client<{ id: string }[]>`
      insert into api_keys (org_id, key_hash, prefix)
      values (${orgId}, ${randomBytes(32).toString('hex')}, 'tg_live_bench') returning id`
    keyOf.set(orgId, key!.id)
    await setBudget(db, {
      orgId,
      keyId: key!.id,
      period: 'day',
      limitMicros: 1_000_000_000_000n,
      by: 'bench',
    })
  }
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
  pick: (caller: number, i: number) => string,
  call: (orgId: string) => Promise<string | null>,
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
  return {
    latencies,
    rate: latencies.length / seconds,
    acked: ackedIds.subarray(0, ackedCount),
    cpu: used,
  }
}
type Run = Awaited<ReturnType<typeof run>>

/** One path on one workload over every round: the median rate, latencies of all rounds' actions. */
function summary(label: string, runs: Run[]) {
  const all = new Float64Array(runs.reduce((n, r) => n + r.latencies.length, 0))
  let at = 0
  for (const r of runs) {
    all.set(r.latencies, at)
    at += r.latencies.length
  }
  all.sort()
  const actions = all.length
  const s = {
    rate: median(runs.map((r) => r.rate)),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    nodeMicros: runs.reduce((n, r) => n + r.cpu.node, 0) / actions,
    serverMicros: runs.reduce((n, r) => n + r.cpu.server, 0) / actions,
  }
  console.log(
    `${label.padEnd(18)} ${s.rate.toFixed(0).padStart(7)} actions/s   p50 ${s.p50.toFixed(2)} ms   p99 ${s.p99.toFixed(2)} ms   CPU/action: node ${s.nodeMicros.toFixed(0)} µs, server ${s.serverMicros.toFixed(0)} µs`,
  )
  return s
}

const bench = await benchDatabase('ledger', 16)
const { db } = bench
try {
  console.log(
    `bench:ledger${BUDGETS ? ' --budgets (a daily budget on every key)' : ''} — ${CALLERS} callers × ${PER_CALLER} actions a run, ${ROUNDS} rounds, pool 16, PostgreSQL ${(await db.$client`show server_version`)[0]!.server_version}`,
  )
  // Each path meters its own 1,000 orgs, as in a deployment where nothing else meters them
  // (Tollgate keeps the accounts its batches wrote, and a row another writer changed costs its
  // next batch a second try).
  const naiveOrgs = await makeOrgs(db, 1_000, 10_000_000_000n)
  const spreadOrgs = await makeOrgs(db, 1_000, 10_000_000_000n)
  // Each round's hot org can afford only part of what is thrown at it: the cap must hold
  // exactly.
  const hotAllowance = price * BigInt(Math.floor((CALLERS * PER_CALLER) / 2)) + 1_234n
  const hotOrgs = await makeOrgs(db, ROUNDS, hotAllowance)
  const [naiveHot] = await makeOrgs(db, 1, 10_000_000_000n)
  const [warmHot] = await makeOrgs(db, 1, 10_000_000_000n)
  if (BUDGETS) await budgetEvery(db, [...spreadOrgs, ...hotOrgs, warmHot!])
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
    ...meterKnobs(),
  })
  const viaMeter = (orgId: string) =>
    meter
      .meter({
        orgId,
        keyId: keyOf.get(orgId),
        action: 'save_comment',
        idempotencyKey: randomUUID(),
      })
      .then(
        (o) => o.usageId,
        (e: { code?: string }) => {
          if (e.code === 'BILLING_INACTIVE') return null
          throw e
        },
      )
  const viaNaive = (orgId: string) => naiveMeter(db, orgId)

  // Warm-up, not measured: both paths' statements prepared, their code compiled, the tables'
  // pages cached — the figures below are each path's steady state, not its first second. The
  // hot-org warm-up runs on an org of its own, so the measured hot orgs' caps are untouched.
  await run(naiveSpreadOrgs, viaNaive)
  await run(spread, viaMeter)
  await run(() => warmHot!, viaMeter)

  const runs = {
    naiveSpread: [] as Run[],
    spread: [] as Run[],
    naiveHot: [] as Run[],
    hot: [] as Run[],
  }
  const stats = {
    spread: { batches: 0, actions: 0, cached: 0, refusedCached: 0 },
    hot: { batches: 0, actions: 0, cached: 0, refusedCached: 0 },
  }
  // A Tollgate run, with its batches counted: how many, and how many decided on cached accounts.
  const counted = async (into: typeof stats.spread, go: () => Promise<Run>) => {
    const before = { ...meter.stats }
    const r = await go()
    into.batches += meter.stats.batches - before.batches
    into.actions += meter.stats.actions - before.actions
    into.cached += meter.stats.cached - before.cached
    into.refusedCached += meter.stats.refusedCached - before.refusedCached
    return r
  }
  for (let round = 0; round < ROUNDS; round++) {
    const hotOrg = hotOrgs[round]!
    // Which path goes first alternates from round to round.
    const pair = async (naive: () => Promise<Run>, tollgate: () => Promise<Run>) => {
      if (round % 2 === 0) return [await naive(), await tollgate()] as const
      const t = await tollgate()
      return [await naive(), t] as const
    }
    const [ns, ts] = await pair(
      () => run(naiveSpreadOrgs, viaNaive),
      () => counted(stats.spread, () => run(spread, viaMeter)),
    )
    const [nh, th] = await pair(
      () => run(() => naiveHot!, viaNaive),
      () => counted(stats.hot, () => run(() => hotOrg, viaMeter)),
    )
    runs.naiveSpread.push(ns)
    runs.spread.push(ts)
    runs.naiveHot.push(nh)
    runs.hot.push(th)
    console.log(
      `  round ${round + 1}: spread ${ns.rate.toFixed(0)} → ${ts.rate.toFixed(0)} actions/s (${(ts.rate / ns.rate).toFixed(2)}×) · hot org ${nh.rate.toFixed(0)} → ${th.rate.toFixed(0)} actions/s (${(th.rate / nh.rate).toFixed(2)}×)`,
    )
  }
  await meter.close()

  const batches = (s: typeof stats.spread) =>
    `${' '.repeat(19)}${s.batches} batches of ${(s.actions / s.batches).toFixed(1)} actions on average, ${((100 * s.cached) / s.batches).toFixed(0)}% decided on cached accounts${s.refusedCached > 0 ? `; ${s.refusedCached} groups of refusals answered on cached accounts (a read, nothing written)` : ''}`
  console.log(
    `medians of ${ROUNDS} rounds; p50 and p99 over all ${ROUNDS * CALLERS * PER_CALLER} actions of each`,
  )
  summary('naive, spread', runs.naiveSpread)
  const tollSpread = summary('tollgate, spread', runs.spread)
  console.log(batches(stats.spread))
  summary('naive, hot org', runs.naiveHot)
  const tollHot = summary('tollgate, hot org', runs.hot)
  console.log(batches(stats.hot))

  const ids = [...runs.spread, ...runs.hot].flatMap((r) => Array.from(r.acked, String))
  const [{ n }] =
    (await db.$client`select count(*)::int8 as n from usage where id = any(${ids}::int8[])`) as unknown as [
      { n: bigint },
    ]
  const lost = ids.length - Number(n)
  const accrued = await db.$client<{ accrued: bigint }[]>`
    select accrued from billing_accounts where org_id = any(${hotOrgs}::uuid[])`
  const overCap = accrued.reduce(
    (s, { accrued: a }) => s + (a > hotAllowance ? a - hotAllowance : 0n),
    0n,
  )
  const spreadRatio = median(runs.spread.map((r, i) => r.rate / runs.naiveSpread[i]!.rate))
  const hotRatio = median(runs.hot.map((r, i) => r.rate / runs.naiveHot[i]!.rate))
  const p99 = Math.max(tollSpread.p99, tollHot.p99)
  console.log(
    `ratio spread ${spreadRatio.toFixed(2)}×, hot org ${hotRatio.toFixed(2)}× (medians of the rounds' ratios); hot orgs accepted ${accrued.map((a) => a.accrued).join(', ')} of ${hotAllowance} allowed each`,
  )
  console.log(
    `bench:ledger spread_ratio=${spreadRatio.toFixed(2)} hot_ratio=${hotRatio.toFixed(2)} p99_ms=${p99.toFixed(2)} lost=${lost} over_cap_micros=${overCap}`,
  )
} finally {
  await bench.drop()
}
