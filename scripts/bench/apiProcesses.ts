// bench:api --processes 1,2 — what more API processes buy on this machine. The same closed-loop
// load as bench:api (autocannon, 64 connections, POST /v1/issues/:id/comments, each request with
// the next of 1,000 orgs' keys) against `tollgate api --workers N` for each N, all clusters up
// at once on their own ports, in rounds that alternate the order (1,2 then 2,1 …). CPU per
// request is summed over each cluster's processes (its supervisor and API processes, read from
// /proc), so the figure holds where req/s on a shared machine does not.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { freePort, startAnvil } from '../../src/chain/anvil.js'
import { writeDeployment } from '../../src/chain/deployment.js'
import { loadConfig } from '../../src/config/index.js'
import { benchDatabase, median, orgsWithIssues } from './benchDb.js'

const connections = 64
const tick = 1_000_000 / 100 // USER_HZ: 100 on Linux

/** CPU microseconds (user + system) `pid` and its descendants have used so far. */
function treeCpuMicros(root: number) {
  const parent = new Map<number, number>()
  const cpu = new Map<number, number>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      parent.set(Number(name), Number(f[1]))
      cpu.set(Number(name), (Number(f[11]) + Number(f[12])) * tick)
    } catch {}
  }
  let sum = 0
  for (const [pid, t] of cpu) {
    let p: number | undefined = pid
    while (p !== undefined && p > 1 && p !== root) p = parent.get(p)
    if (p === root) sum += t
  }
  return sum
}

/** Runs the bench for each count in `processes`; prints the medians and a last line. */
export async function benchApiProcesses(processes: number[]) {
  const orgCount = Number(process.env.BENCH_ORGS ?? 1000)
  const roundCount = Number(process.env.BENCH_ROUNDS ?? 6)
  const roundSeconds = Number(process.env.BENCH_ROUND_SECONDS ?? 5)
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-procs-'))
  const { db, url, drop } = await benchDatabase('procs', 8)
  const clusters: { n: number; child: ChildProcess; url: string }[] = []
  // The API reads a chain at start (its id, the deployment); metered comments never touch it.
  const anvil = await startAnvil()
  try {
    const env = {
      PUBLIC_BASE_URL: 'http://127.0.0.1',
      DASHBOARD_URL: 'http://127.0.0.1',
      SIGNUP_CREDIT_MICROS: '1000000000',
      SIGNUP_CREDITS_PER_OWNER: '1',
    }
    const config = loadConfig(env)
    const zero = `0x${'00'.repeat(20)}` as const
    const deploymentFile = join(dir, 'deployment.json')
    writeDeployment(deploymentFile, {
      chainId: 31337,
      usdc: zero,
      collector: zero,
      validator: zero,
      payee: zero,
      admin: zero,
      operators: [],
      blocks: { usdc: null, collector: 0, validator: 0 },
    })
    console.log(`bench:api --processes — creating ${orgCount} orgs, keys and one issue each…`)
    const targets = await orgsWithIssues(db, config, orgCount)
    for (const n of processes) {
      const port = await freePort()
      const child = spawn(
        process.execPath,
        [
          fileURLToPath(new URL('../../bin/tollgate.mjs', import.meta.url)),
          'api',
          '--workers',
          String(n),
        ],
        {
          env: {
            ...process.env,
            ...env,
            DATABASE_URL: url,
            RPC_URL: anvil.rpcUrl,
            DEPLOYMENT_FILE: deploymentFile,
            PORT: String(port),
            LOG_LEVEL: 'info',
            TOLLGATE_DATA_DIR: dir,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      )
      clusters.push({ n, child, url: `http://127.0.0.1:${port}` })
      let out = ''
      await new Promise<void>((ok, fail) => {
        const look = (d: Buffer) => {
          out += d
          if (out.split('"api started"').length - 1 >= n) ok()
        }
        child.stdout!.on('data', look)
        child.stderr!.on('data', look)
        child.once('exit', (code) => fail(new Error(`tollgate api exited ${code}: ${out}`)))
      })
      child.stdout!.resume()
      child.stderr!.resume()
    }
    const run = async (target: string, duration: number) => {
      let i = 0
      return await autocannon({
        url: target,
        connections,
        duration,
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const t = targets[i++ % targets.length]!
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
    const measured = async (c: (typeof clusters)[number]) => {
      const cpu0 = treeCpuMicros(c.child.pid!)
      const r = await run(c.url, roundSeconds)
      const cpu = treeCpuMicros(c.child.pid!) - cpu0
      return {
        rps: r.requests.average,
        p99: r.latency.p99,
        errors: r.errors + r.timeouts + r.non2xx,
        cpuMicros: cpu / Math.max(1, r.requests.total),
      }
    }
    for (const c of clusters) await run(c.url, 2)
    const rounds: Awaited<ReturnType<typeof measured>>[][] = []
    for (let round = 0; round < roundCount; round++) {
      const order = round % 2 ? [...clusters].reverse() : clusters
      const r: Awaited<ReturnType<typeof measured>>[] = []
      for (const c of order) r[clusters.indexOf(c)] = await measured(c)
      rounds.push(r)
      console.log(
        `  round ${round + 1}: ${clusters.map((c, i) => `N=${c.n} ${r[i]!.rps.toFixed(0)} req/s p99 ${r[i]!.p99} ms ${r[i]!.cpuMicros.toFixed(0)} µs CPU/req`).join(' · ')}`,
      )
    }
    const rps = clusters.map((_, i) => median(rounds.map((r) => r[i]!.rps)))
    const p99 = clusters.map((_, i) => median(rounds.map((r) => r[i]!.p99)))
    const cpu = clusters.map((_, i) => median(rounds.map((r) => r[i]!.cpuMicros)))
    const errors = rounds.flat().reduce((s, r) => s + r.errors, 0)
    const ratio = median(rounds.map((r) => r[r.length - 1]!.rps / r[0]!.rps))
    console.log(
      `POST /v1/issues/:id/comments (save_comment), ${connections} connections, ${orgCount} orgs' keys, ${roundCount} rounds of ${roundSeconds} s per N (medians; CPU is the API processes' own)`,
    )
    for (const [i, c] of clusters.entries())
      console.log(
        `  --workers ${c.n}: ${rps[i]!.toFixed(0).padStart(6)} req/s   p99 ${p99[i]!.toFixed(1)} ms   CPU/request ${cpu[i]!.toFixed(0)} µs`,
      )
    console.log(
      `bench:api processes=${processes.join(',')} rps=${rps.map((x) => x.toFixed(0)).join(',')} ratio=${ratio.toFixed(3)} cpu_us_per_req=${cpu.map((x) => x.toFixed(0)).join(',')} errors=${errors}`,
    )
  } finally {
    for (const c of clusters) {
      c.child.kill('SIGTERM')
      await new Promise((done) =>
        c.child.exitCode === null ? c.child.once('exit', done) : done(0),
      )
    }
    await anvil.stop()
    await drop()
    rmSync(dir, { recursive: true, force: true })
  }
}
