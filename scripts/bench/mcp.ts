// bench:mcp — a metered tool call over MCP against the same route over HTTP. A fresh database
// (benchDatabase), the API in its own process (apiServer.ts, metering on: /v1 and /mcp in one
// app), 1,000 orgs' keys, one MCP session per org opened before measuring (as an agent keeps
// its session). 64 concurrent callers, each sending its next org's save_comment: over HTTP
// POST /v1/issues/:id/comments, over MCP tools/call save_comment on that org's session (raw
// JSON-RPC, so both sides' clients cost the same); and HTTP with an Idempotency-Key, since
// every MCP write has one. Rounds rotate which side goes first;
// prints medians of calls/s and the API process's CPU per call; the last line is
// machine-readable: `bench:mcp ratio=<mcp/http throughput> errors=<n>` (target ratio ≥ 0.8).
import { fork } from 'node:child_process'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config/index.js'
import { benchDatabase, median, orgsWithIssues } from './benchDb.js'

const orgCount = Number(process.env.BENCH_ORGS ?? 1000)
const concurrency = 64
const roundCount = Number(process.env.BENCH_ROUNDS ?? 6)
const roundSeconds = Number(process.env.BENCH_ROUND_SECONDS ?? 3)
// `http+key`: the route with an Idempotency-Key, as every MCP write has one (the request id):
// shown beside the ratio, to tell the idempotency record's cost from the transport's.
const sides = ['http', 'mcp', 'http+key'] as const
type Side = (typeof sides)[number]

const { db, url, drop } = await benchDatabase('mcp', 4)
const child = fork(fileURLToPath(new URL('./apiServer.ts', import.meta.url)), {
  execArgv: [
    '--import',
    'tsx',
    ...(process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : []),
  ],
  env: { BENCH_POOL: '24', ...process.env, BENCH_DB_URL: url, BENCH_METERING: 'on' },
})
const ask = <T>(message: string) =>
  new Promise<T>((done) => {
    child.once('message', (m) => done(m as T))
    child.send(message)
  })
try {
  const port = await new Promise<number>((ok, fail) => {
    child.once('error', fail)
    child.once('message', (m) => ok((m as { port: number }).port))
  })
  const config = loadConfig({
    PUBLIC_BASE_URL: 'http://127.0.0.1',
    DASHBOARD_URL: 'http://127.0.0.1',
    SIGNUP_CREDIT_MICROS: '1000000000',
    SIGNUP_CREDITS_PER_OWNER: '1',
  })
  console.log(`bench:mcp — creating ${orgCount} orgs, keys and one issue each…`)
  const targets = await orgsWithIssues(db, config, orgCount)
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const post = (
    path: string,
    key: string,
    body: object,
    session?: string,
    extra: Record<string, string> = {},
  ) =>
    new Promise<{ status: number; session: string | undefined; text: string }>((ok, fail) => {
      const req = http.request(
        {
          agent,
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' } : {}),
            ...extra,
          },
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (d) => (text += d))
          res.on('end', () =>
            ok({
              status: res.statusCode ?? 0,
              session: res.headers['mcp-session-id'] as string | undefined,
              text,
            }),
          )
        },
      )
      req.on('error', fail)
      req.end(JSON.stringify(body))
    })

  console.log(`  opening ${orgCount} MCP sessions…`)
  const sessions: string[] = []
  for (let i = 0; i < targets.length; i += concurrency) {
    const opened = await Promise.all(
      targets.slice(i, i + concurrency).map(async (t) => {
        const init = await post('/mcp', t.key, {
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'bench', version: '1' },
          },
        })
        if (!init.session) throw new Error(`initialize: ${init.status} ${init.text}`)
        await post(
          '/mcp',
          t.key,
          { jsonrpc: '2.0', method: 'notifications/initialized' },
          init.session,
        )
        return init.session
      }),
    )
    sessions.push(...opened)
  }

  let requestId = 1
  const one: Record<Side, (i: number) => Promise<boolean>> = {
    http: async (i) => {
      const t = targets[i]!
      const r = await post(`/v1/issues/${t.issue}/comments`, t.key, {
        body: 'progress note from the bench',
      })
      return r.status === 201
    },
    'http+key': async (i) => {
      const t = targets[i]!
      const r = await post(
        `/v1/issues/${t.issue}/comments`,
        t.key,
        { body: 'progress note from the bench' },
        undefined,
        { 'idempotency-key': `bench-${requestId++}` },
      )
      return r.status === 201
    },
    mcp: async (i) => {
      const t = targets[i]!
      const r = await post(
        '/mcp',
        t.key,
        {
          jsonrpc: '2.0',
          id: requestId++,
          method: 'tools/call',
          params: {
            name: 'save_comment',
            arguments: { id: t.issue, body: 'progress note from the bench' },
          },
        },
        sessions[i],
      )
      return r.status === 200 && r.text.includes('"metered"') && !r.text.includes('"isError":true')
    },
  }
  // 64 callers for `seconds`, each taking the next org in turn.
  const run = async (side: Side, seconds: number) => {
    let next = 0
    let calls = 0
    let errors = 0
    const until = performance.now() + seconds * 1000
    const cpu0 = await ask<{ cpu: number }>('cpu')
    const t0 = performance.now()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const ok = await one[side](next++ % targets.length).catch(() => false)
          if (ok) calls++
          else errors++
        }
      }),
    )
    const elapsed = (performance.now() - t0) / 1000
    const cpu1 = await ask<{ cpu: number }>('cpu')
    return { rps: calls / elapsed, cpuMicros: (cpu1.cpu - cpu0.cpu) / Math.max(1, calls), errors }
  }

  for (const side of sides) await run(side, 1)
  const results = Object.fromEntries(sides.map((s) => [s, []])) as unknown as Record<
    Side,
    { rps: number; cpuMicros: number; errors: number }[]
  >
  for (let round = 0; round < roundCount; round++) {
    const order = sides.map((_, i) => sides[(i + round) % sides.length]!)
    const line: string[] = []
    for (const side of order) {
      const r = await run(side, roundSeconds)
      results[side].push(r)
      line.push(`${side} ${r.rps.toFixed(0)}/s ${(r.cpuMicros / 1000).toFixed(2)} ms CPU/call`)
    }
    console.log(`  round ${round + 1}: ${line.join(', ')}`)
  }
  const med = (side: Side, k: 'rps' | 'cpuMicros') => median(results[side].map((r) => r[k]))
  const ratio = med('mcp', 'rps') / med('http', 'rps')
  const errors = sides.flatMap((s) => results[s]).reduce((n, r) => n + r.errors, 0)
  for (const side of sides)
    console.log(
      `  ${side.padEnd(8)} median ${med(side, 'rps').toFixed(0)} calls/s, API CPU ${(med(side, 'cpuMicros') / 1000).toFixed(3)} ms per call`,
    )
  console.log(
    `  ratio ${ratio.toFixed(3)} (MCP/HTTP throughput; target ≥ 0.8); against HTTP with an Idempotency-Key ${(med('mcp', 'rps') / med('http+key', 'rps')).toFixed(3)}`,
  )
  console.log(`bench:mcp ratio=${ratio.toFixed(3)} errors=${errors}`)
  agent.destroy()
} finally {
  // The child exits by itself after 'stop' (and writes its CPU profile then); kill it only
  // if it has not within 10 s.
  const exited = new Promise((done) => child.once('exit', done))
  await ask('stop').catch(() => undefined)
  await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000).unref())])
  child.kill()
  await drop()
}
