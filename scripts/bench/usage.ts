// bench:usage — `GET /v1/billing/usage` for an org with 1,000,000 usage rows (issue 26: under
// 50 ms for period=30d). Seeds raw usage over ~60 days with generate_series into the real
// `usage` table, so the rollup (`usage_daily`) is filled by the same statement trigger the meter
// relies on; checks the endpoint's totals against a direct sum() over raw usage (the rollup is
// consistent, or the bench fails); then times the endpoint over HTTP against the real API, in
// alternating rounds of the periods 30d, 7d and window. BENCH_ROWS, BENCH_REQUESTS to change.
import type { Server } from 'node:http'
import { createApp } from '../../src/api/app.js'
import { createOrg } from '../../src/api/createOrg.js'
import { createApiKey } from '../../src/api/keys.js'
import { loadConfig } from '../../src/config/index.js'
import { createLogger } from '../../src/core/log.js'
import { createMeter, readUsageRollup } from '../../src/ledger/index.js'
import { benchDatabase, median, percentile } from './benchDb.js'

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000)
const requests = Number(process.env.BENCH_REQUESTS ?? 200)
const days = 60
const targetMs = 50
const periods = ['30d', '7d', 'window'] as const

const { db, drop } = await benchDatabase('usage')
const config = loadConfig({
  PUBLIC_BASE_URL: 'http://127.0.0.1',
  DASHBOARD_URL: 'http://127.0.0.1',
})
const log = createLogger('silent')
const meter = createMeter(db, { rateCard: config.rateCard, product: config.product, log })
let server: Server | undefined
try {
  // The measured org, with five API keys (and usage under none), and three others beside it.
  const orgs = []
  for (let i = 0; i < 4; i++)
    orgs.push(
      await createOrg(db, {
        name: `usage bench ${i}`,
        ownerAddress: `0x${(i + 1).toString(16).padStart(40, '0')}`,
        signupCreditMicros: config.billing.signupCreditMicros,
        creditsPerOwner: config.billing.signupCreditsPerOwner,
      }),
    )
  const org = orgs[0]!
  const keyIds: string[] = []
  for (let i = 0; i < 5; i++)
    keyIds.push((await createApiKey(db, { orgId: org.orgId, label: `agent ${i}` })).id)
  const actions = Object.keys(config.rateCard.prices)
  const prices = actions.map((a) => config.rateCard.prices[a]!)

  // Raw usage as the meter writes it: priced by the rate card, mostly billable, some paid by
  // the signup voucher, a few reservations still open or voided (which the rollup leaves out).
  const seed = async (orgId: string, subscriptionId: string, n: number, keys: string[]) => {
    const t = performance.now()
    await db.$client`
      insert into usage (org_id, subscription_id, action, quantity, unit_price, voucher_amount,
        billable_amount, rate_version, window_index, status, key_id, created_at)
      select ${orgId}::uuid, ${subscriptionId}, a.action[1 + g % ${actions.length}],
        1 + g % 3, a.price[1 + g % ${actions.length}],
        case when g % 10 = 0 then a.price[1 + g % ${actions.length}] * (1 + g % 3) else 0 end,
        case when g % 10 = 0 then 0 else a.price[1 + g % ${actions.length}] * (1 + g % 3) end,
        ${config.rateCard.version}, 0,
        case when g % 97 = 0 then 'voided' when g % 89 = 0 then 'reserved'
          when g % 7 = 0 then 'committed' else 'recorded' end,
        (${keys}::uuid[])[nullif(g % ${keys.length + 1}, 0)],
        now() - (${days}::float8 * g / ${n}) * interval '1 day'
      from generate_series(1, ${n}) g,
        (select ${actions}::text[] as action, ${prices.map(String)}::int8[] as price) a`
    return performance.now() - t
  }
  const seedMs = await seed(org.orgId, org.subscriptionId, rows, keyIds)
  for (const other of orgs.slice(1)) await seed(other.orgId, other.subscriptionId, 50_000, [])
  await db.$client`vacuum analyze usage`
  await db.$client`vacuum analyze usage_daily`
  const [{ rollup_rows } = { rollup_rows: 0 }] = await db.$client<{ rollup_rows: number }[]>`
    select count(*)::int as rollup_rows from usage_daily where org_id = ${org.orgId}`
  console.log(
    `seeded ${rows} usage rows (+${3 * 50_000} for 3 other orgs) in ${(seedMs / 1000).toFixed(1)} s; ` +
      `rollup rows for the org: ${rollup_rows}`,
  )

  const ctx = {
    config,
    db,
    log,
    chain: undefined,
    meter,
    rateLimits: { signupsPerIpPerHour: 1_000_000 },
  }
  server = await new Promise<Server>((ok) => {
    const s = createApp(ctx).listen(0, '127.0.0.1', () => ok(s))
  })
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const get = async (period: string) => {
    const res = await fetch(`${url}/v1/billing/usage?period=${period}`, {
      headers: { authorization: `Bearer ${org.apiKey}` },
    })
    if (res.status !== 200)
      throw new Error(`period=${period}: HTTP ${res.status} ${await res.text()}`)
    return (await res.json()) as {
      period: { from: string; to: string }
      totals: { calls: number; quantity: number; total: { micros: string } }
    }
  }

  // The rollup is consistent: the endpoint's totals are raw usage's, summed directly.
  for (const period of periods) {
    const body = await get(period)
    const [raw] = await db.$client<{ calls: number; quantity: number; total: string }[]>`
      select count(*)::int as calls, coalesce(sum(quantity), 0)::int as quantity,
        coalesce(sum(voucher_amount + billable_amount), 0)::text as total
      from usage where org_id = ${org.orgId} and status in ('recorded', 'committed')
        and (created_at at time zone 'UTC')::date between ${body.period.from}::date and ${body.period.to}::date`
    const got = {
      calls: body.totals.calls,
      quantity: body.totals.quantity,
      total: body.totals.total.micros,
    }
    if (JSON.stringify(got) !== JSON.stringify(raw))
      throw new Error(
        `period=${period}: endpoint ${JSON.stringify(got)} != raw usage ${JSON.stringify(raw)}`,
      )
    console.log(
      `period=${period} ${body.period.from}..${body.period.to}: ${got.calls} calls, ${got.total} micros = raw usage`,
    )
  }

  // Warm-up, then `requests` sequential requests per period in rounds that rotate the order.
  for (let i = 0; i < 20; i++) for (const p of periods) await get(p)
  const samples = new Map(periods.map((p) => [p, new Float64Array(requests)]))
  const rounds = 10
  const perRound = Math.ceil(requests / rounds)
  for (let r = 0, i = 0; r < rounds && i < requests; r++, i += perRound) {
    const order = periods.map((_, j) => periods[(j + r) % periods.length]!)
    for (const p of order)
      for (let k = i; k < Math.min(requests, i + perRound); k++) {
        const t = performance.now()
        await get(p)
        samples.get(p)![k] = performance.now() - t
      }
  }
  const figures = periods.map((p) => {
    const s = samples.get(p)!.slice().sort()
    return { p, p50: percentile(s, 50), p99: percentile(s, 99) }
  })
  for (const f of figures)
    console.log(`period=${f.p.padEnd(6)} p50 ${f.p50.toFixed(1)} ms  p99 ${f.p99.toFixed(1)} ms`)
  // The baseline: the same summary for 30d read from raw usage, in the database alone (no
  // HTTP), beside the rollup's query — what the rollup saves. Alternating, 5 each.
  const from = (await get('30d')).period.from
  const rawMs: number[] = []
  const rollupMs: number[] = []
  for (let i = 0; i < 5; i++) {
    let t = performance.now()
    await db.$client`
      select (created_at at time zone 'UTC')::date as day, action, key_id, count(*), sum(quantity),
        sum(voucher_amount), sum(billable_amount)
      from usage where org_id = ${org.orgId} and status in ('recorded', 'committed')
        and created_at >= ${from}::date
      group by grouping sets ((1), (action), (key_id))`
    rawMs.push(performance.now() - t)
    t = performance.now()
    await readUsageRollup(db, { orgId: org.orgId, from, to: new Date().toISOString().slice(0, 10) })
    rollupMs.push(performance.now() - t)
  }
  console.log(
    `30d summary in the database alone: raw usage ${median(rawMs).toFixed(1)} ms, ` +
      `rollup ${median(rollupMs).toFixed(1)} ms (medians of 5)`,
  )
  const thirty = figures[0]!
  console.log(
    `bench:usage rows=${rows} p50_ms=${thirty.p50.toFixed(1)} p99_ms=${thirty.p99.toFixed(1)} ` +
      `raw_scan_ms=${median(rawMs).toFixed(1)} target_ms=${targetMs}`,
  )
  if (thirty.p50 >= targetMs) process.exitCode = 1
} finally {
  server?.close()
  await meter.close()
  await drop()
}
