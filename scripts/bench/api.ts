// bench:api — what metering costs a metered write. One process: a fresh database on the
// machine's PostgreSQL, the API twice (metering on, and off through a bench-only switch),
// 1,000 orgs' keys, autocannon with 64 connections on POST /v1/issues/:id/comments
// (save_comment), each request with the next org's key. Prints req/s and p50/p99 for both,
// the ratio; the last line is machine-readable.
import type { Server } from 'node:http'
import autocannon from 'autocannon'
import { createApp } from '../../src/api/app.js'
import type { AppContext } from '../../src/api/context.js'
import { createOrg } from '../../src/api/createOrg.js'
import { loadConfig } from '../../src/config/index.js'
import { createMeter } from '../../src/ledger/index.js'
import { createLogger } from '../../src/log.js'
import { benchDatabase } from './benchDb.js'

const orgCount = Number(process.env.BENCH_ORGS ?? 1000)
const connections = 64
const seconds = Number(process.env.BENCH_SECONDS ?? 10)

const { db, drop } = await benchDatabase('api', 48)
try {
  const config = loadConfig({
    PUBLIC_BASE_URL: 'http://127.0.0.1',
    DASHBOARD_URL: 'http://127.0.0.1',
    SIGNUP_CREDIT_MICROS: '1000000000',
    SIGNUP_CREDITS_PER_OWNER: '1',
  })
  console.log(`bench:api — creating ${orgCount} orgs, keys and one issue each…`)
  const targets: { key: string; issue: string }[] = []
  for (let i = 0; i < orgCount; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, orgCount - i) }, async (_, j) => {
        const org = await createOrg(db, {
          name: `bench ${i + j}`,
          ownerAddress: `0x${(i + j + 1).toString(16).padStart(40, '0')}`,
          signupCreditMicros: config.billing.signupCreditMicros,
          creditsPerOwner: config.billing.signupCreditsPerOwner,
        })
        const [issue] = await db.$client<{ id: string }[]>`
          insert into issues (org_id, title) values (${org.orgId}, 'bench') returning id`
        return { key: org.apiKey, issue: issue!.id }
      }),
    )
    targets.push(...batch)
  }

  const meter = createMeter(db, {
    rateCard: config.rateCard,
    product: config.product,
    reservationTtlSeconds: config.billing.reservationTtlSeconds,
  })
  const log = createLogger('silent')
  const listen = (ctx: AppContext) =>
    new Promise<{ server: Server; url: string }>((ok) => {
      const server = createApp(ctx).listen(0, '127.0.0.1', () => {
        const a = server.address()
        ok({ server, url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` })
      })
    })
  const on = await listen({ config, db, log, chain: undefined, meter })
  const off = await listen({ config, db, log, chain: undefined, meter, meteringDisabled: true })

  const run = (url: string, duration: number) => {
    let n = 0
    return autocannon({
      url,
      connections,
      duration,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => {
            const t = targets[n++ % targets.length]!
            return {
              ...req,
              path: `/v1/issues/${t.issue}/comments`,
              headers: { 'content-type': 'application/json', authorization: `Bearer ${t.key}` },
              body: '{"body":"progress note from the bench"}',
            }
          },
        },
      ],
    })
  }
  const stat = (r: autocannon.Result, cpuMicros: number) => ({
    cpuPerReq: cpuMicros / Math.max(1, r.requests.total),
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
  })

  // Warm both up, then measure off and on twice each, alternating, and sum.
  await run(off.url, 2)
  await run(on.url, 2)
  const offRuns = []
  const onRuns = []
  for (let round = 0; round < 2; round++) {
    let c = process.cpuUsage()
    let r = await run(off.url, seconds / 2)
    c = process.cpuUsage(c)
    offRuns.push(stat(r, c.user + c.system))
    c = process.cpuUsage()
    r = await run(on.url, seconds / 2)
    c = process.cpuUsage(c)
    onRuns.push(stat(r, c.user + c.system))
  }
  const avg = (xs: ReturnType<typeof stat>[]) => ({
    cpuPerReq: xs.reduce((s, x) => s + x.cpuPerReq, 0) / xs.length,
    rps: xs.reduce((s, x) => s + x.rps, 0) / xs.length,
    p50: xs.reduce((s, x) => s + x.p50, 0) / xs.length,
    p99: xs.reduce((s, x) => s + x.p99, 0) / xs.length,
    errors: xs.reduce((s, x) => s + x.errors, 0),
  })
  const a = avg(offRuns)
  const b = avg(onRuns)
  const [{ usage }] = (await db.$client`select count(*)::int as usage from usage`) as unknown as [
    { usage: number },
  ]
  const fmt = (x: typeof a) =>
    `${x.rps.toFixed(0).padStart(7)} req/s   p50 ${x.p50.toFixed(1)} ms   p99 ${x.p99.toFixed(1)} ms   errors ${x.errors}   node cpu ${x.cpuPerReq.toFixed(0)} µs/req`
  console.log(
    `POST /v1/issues/:id/comments (save_comment), ${connections} connections, ${orgCount} orgs' keys`,
  )
  console.log(`  metering off: ${fmt(a)}`)
  console.log(
    `  metering on:  ${fmt(b)}   (${usage} usage rows, ${meter.stats.batches} group commits)`,
  )
  const ratio = b.rps / a.rps
  const added = b.p99 - a.p99
  console.log(
    `  ratio ${ratio.toFixed(3)} (target ≥ 0.85), p99 added ${added.toFixed(2)} ms (target ≤ 3)`,
  )
  for (const s of [on.server, off.server]) {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  }
  await meter.close()
  console.log(
    `bench:api ratio=${ratio.toFixed(3)} p99_added_ms=${added.toFixed(2)} errors=${a.errors + b.errors}`,
  )
} finally {
  await drop()
}
