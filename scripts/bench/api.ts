// bench:api — what metering costs a metered write. A fresh database on the machine's
// PostgreSQL (or DATABASE_URL), dropped after; the API twice, each in its own process
// (`apiServer.ts`: metering on, and off through a bench-only switch); 1,000 orgs' keys;
// autocannon here with 64 connections on POST /v1/issues/:id/comments (save_comment), each
// request with the next org's key. Prints req/s and p50/p99 for both and the ratio; the last
// line is machine-readable.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { createOrg } from '../../src/api/createOrg.js'
import { loadConfig } from '../../src/config/index.js'
import { benchDatabase } from './benchDb.js'

const orgCount = Number(process.env.BENCH_ORGS ?? 1000)
const connections = 64
const roundCount = Number(process.env.BENCH_ROUNDS ?? 6)
const roundSeconds = Number(process.env.BENCH_ROUND_SECONDS ?? 3)

const { db, url, drop } = await benchDatabase('api', 8)
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

  type Stats = { batches: number; actions: number; stepP50: number; stepP99: number }
  // Two servers, each in its own process as in production: metering on, and off.
  const spawn = (metering: 'on' | 'off') =>
    new Promise<{ url: string; stop: () => Promise<Stats> }>((ok, fail) => {
      const child = fork(fileURLToPath(new URL('./apiServer.ts', import.meta.url)), {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, BENCH_DB_URL: url, BENCH_METERING: metering },
      })
      child.once('error', fail)
      child.once('message', (m) => {
        const stop = () =>
          new Promise<Stats>((done) => {
            child.once('message', (s) => done(s as Stats))
            child.send('stop')
          })
        ok({ url: `http://127.0.0.1:${(m as { port: number }).port}`, stop })
      })
    })
  const [on, off] = await Promise.all([spawn('on'), spawn('off')])

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
  const stat = (r: autocannon.Result) => ({
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
  })

  // The machine is shared, so its load drifts: warm both up, then measure in short rounds,
  // off and on back to back (the order swapped every round), and report the medians of the
  // per-round figures — a burst of someone else's work then spoils one round, not the result.
  await run(off.url, 2)
  await run(on.url, 2)
  const rounds: Array<{ off: ReturnType<typeof stat>; on: ReturnType<typeof stat> }> = []
  for (let round = 0; round < roundCount; round++) {
    const first = round % 2 === 0 ? off : on
    const second = first === off ? on : off
    const a = stat(await run(first.url, roundSeconds))
    const b = stat(await run(second.url, roundSeconds))
    rounds.push(first === off ? { off: a, on: b } : { off: b, on: a })
    const r = rounds.at(-1)!
    console.log(
      `  round ${round + 1}: off ${r.off.rps.toFixed(0)} req/s p99 ${r.off.p99} ms · on ${r.on.rps.toFixed(0)} req/s p99 ${r.on.p99} ms · ratio ${(r.on.rps / r.off.rps).toFixed(3)}`,
    )
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y)
    const m = Math.floor(s.length / 2)
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
  }
  const summary = (side: 'off' | 'on') => ({
    rps: median(rounds.map((r) => r[side].rps)),
    p50: median(rounds.map((r) => r[side].p50)),
    p99: median(rounds.map((r) => r[side].p99)),
    errors: rounds.reduce((s, r) => s + r[side].errors, 0),
  })
  const a = summary('off')
  const b = summary('on')
  const ratio = median(rounds.map((r) => r.on.rps / r.off.rps))
  const added = median(rounds.map((r) => r.on.p99 - r.off.p99))
  const [onStats] = await Promise.all([on.stop(), off.stop()])
  const fmt = (x: typeof a) =>
    `${x.rps.toFixed(0).padStart(7)} req/s   p50 ${x.p50.toFixed(1)} ms   p99 ${x.p99.toFixed(1)} ms   errors ${x.errors}`
  console.log(
    `POST /v1/issues/:id/comments (save_comment), ${connections} connections, ${orgCount} orgs' keys, ${roundCount} rounds of ${roundSeconds} s (medians)`,
  )
  console.log(`  metering off: ${fmt(a)}`)
  console.log(
    `  metering on:  ${fmt(b)}   (${onStats.actions} metered in ${onStats.batches} group commits)`,
  )
  console.log(
    `  the metering step itself (call → batch committed): p50 ${onStats.stepP50.toFixed(1)} ms, p99 ${onStats.stepP99.toFixed(1)} ms`,
  )
  console.log(
    `  ratio ${ratio.toFixed(3)} (target ≥ 0.85), p99 added ${added.toFixed(2)} ms (target ≤ 3)`,
  )
  console.log(
    `bench:api ratio=${ratio.toFixed(3)} p99_added_ms=${added.toFixed(2)} errors=${a.errors + b.errors}`,
  )
} finally {
  await drop()
}
