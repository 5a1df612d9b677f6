// npm run soak -- --minutes 10 [--keep]
//
// The chaos soak (docs/operations.md § Chaos soak): its own embedded PostgreSQL (own port and
// data folder) behind a TCP proxy that drops connections, its own anvil with USDC and the
// collector, three `tollgate api` processes and two `tollgate worker`s (distinct operator
// keys); agents meter actions through the HTTP API while a controller kills processes, restarts
// PostgreSQL and anvil, forces one reorg deeper than the confirmations, and drops connections.
// Then the chaos stops, the system settles, and the books are checked against what the agents
// were told and against the chain. The last line is machine-readable; exit 1 on any finding.
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { PublicClient } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { freePort } from '../../src/chain/anvil.js'
import { createReader, createSigner } from '../../src/chain/clients.js'
import { deployContracts } from '../../src/chain/deployContracts.js'
import { writeDeployment } from '../../src/chain/deployment.js'
import { authorizeLocalOwner } from '../../src/cli/authorizeLocalOwner.js'
import { anvilKeys, loadConfig } from '../../src/config/index.js'
import { closeDb, createDb } from '../../src/db/client.js'
import { startEmbeddedPostgres } from '../../src/db/embeddedPostgres.js'
import { migrateDb } from '../../src/db/migrate.js'
import { tollgate as runTollgate } from '../../test/cli/run.js'
import { type Attempted, runAgents, type SoakOrg } from './agents.js'
import { startSoakChain } from './chain.js'
import { runChaos } from './chaos.js'
import { checkSoak, unsettled } from './checks.js'
import { type App, startApp } from './children.js'
import { metricFamilies, scrapeFamilies } from './metrics.js'
import { startDropProxy } from './proxy.js'

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '10' }, keep: { type: 'boolean' } },
})
const minutes = Number(values.minutes)
if (!(minutes > 0)) {
  process.stderr.write('--minutes must be a number above 0 (fractions allowed)\n')
  process.exit(2)
}
const durationMs = Math.round(minutes * 60_000)
const t0 = Date.now()
const say = (line: string) =>
  process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const dir = mkdtempSync(join(tmpdir(), 'tollgate-soak-'))
// PostgreSQL may run as another user (as root, `postgres`): it must be able to reach its folder.
chmodSync(dir, 0o755)
const logDir = join(dir, 'logs')
mkdirSync(logDir)
const stops: Array<() => Promise<unknown>> = []
let failed = true
try {
  // PostgreSQL of its own, restarted on its own port and data folder.
  const pgPort = await freePort()
  const pgOptions = { dataDir: join(dir, 'data'), port: pgPort }
  let pg = await startEmbeddedPostgres(pgOptions)
  stops.push(() => pg.stop())
  const directUrl = pg.url
  const db = createDb({ url: directUrl, max: 4, applicationName: 'tollgate-soak' })
  stops.push(() => closeDb(db))
  await migrateDb(db)
  say(`PostgreSQL on ${pgPort}, data in ${dir}`)

  const chain = await startSoakChain(join(dir, 'anvil-state.json'))
  stops.push(() => chain.stop())
  const deployer = await createSigner(chain.rpcUrl, anvilKeys[0])
  const operatorKeys = [anvilKeys[1], anvilKeys[2]] as const
  const deployment = await deployContracts(deployer, {
    admin: deployer.account.address,
    operators: operatorKeys.map((k) => privateKeyToAccount(k).address),
    // A payee of its own: every Transfer to it is a collection.
    payee: privateKeyToAccount(generatePrivateKey()).address,
  })
  const deploymentFile = join(dir, 'deployment.json')
  writeDeployment(deploymentFile, deployment)
  say(`anvil on ${chain.rpcUrl}, USDC ${deployment.usdc}, collector ${deployment.collector}`)

  const proxy = await startDropProxy(pgPort)
  stops.push(() => proxy.close())
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${proxy.port}/tollgate`,
    RPC_URL: chain.rpcUrl,
    DEPLOYMENT_FILE: deploymentFile,
    TOLLGATE_DATA_DIR: dir,
    MANAGE_TOKEN_SECRET: randomBytes(32).toString('hex'),
    CONFIRMATIONS: '2',
    SIGNUP_CREDIT_MICROS: '100000',
    BILLING_THRESHOLD_MICROS: '200000',
    MAX_ACCRUAL_AGE_SECONDS: '20',
    DB_POOL_MAX: '5',
    LOG_LEVEL: 'warn',
    PUBLIC_BASE_URL: 'http://127.0.0.1',
  }
  delete env.SMTP_URL
  const config = loadConfig(env)

  const apiPorts = [await freePort(), await freePort(), await freePort()]
  const apis: App[] = apiPorts.map((port, i) =>
    startApp({ name: `api-${i + 1}`, args: ['api'], env: { ...env, PORT: String(port) }, logDir }),
  )
  const apiUrls = apiPorts.map((port) => `http://127.0.0.1:${port}`)
  stops.push(() => Promise.all(apis.map((a) => a.stop())))
  for (const url of apiUrls)
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      )
      if (ok) break
      if (i > 600) throw new Error(`${url} did not come up: see ${logDir}`)
      await sleep(200)
    }
  say(`${apis.length} API processes up: ${apiUrls.join(' ')}`)

  // Orgs signed up through the API; their owners authorize on-chain, as on the manage page.
  const reader = (await createReader(chain.rpcUrl)) as PublicClient
  const operator = await createSigner(chain.rpcUrl, operatorKeys[0])
  const orgs: SoakOrg[] = []
  for (let i = 0; i < 4; i++) {
    const ownerKey = generatePrivateKey()
    const res = await fetch(`${apiUrls[0]}/v1/orgs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `Soak ${i}`,
        owner_address: privateKeyToAccount(ownerKey).address,
      }),
    })
    const org = (await res.json()) as {
      org: { id: string }
      subscription_id: string
      api_key: string
    }
    if (res.status !== 201)
      throw new Error(`sign-up answered ${res.status}: ${JSON.stringify(org)}`)
    await authorizeLocalOwner(
      {
        db,
        config,
        chain: {
          reader,
          chainId: deployment.chainId,
          usdc: deployment.usdc,
          collector: deployment.collector,
          deployment,
          operator,
        },
      },
      {
        orgId: org.org.id,
        subscriptionId: org.subscription_id,
        ownerKey,
        cap: 500_000_000n,
        rpcUrl: chain.rpcUrl,
      },
    )
    orgs.push({ orgId: org.org.id, apiKey: org.api_key })
  }
  say(`${orgs.length} orgs signed up and authorized on-chain`)

  const metricsPorts = [await freePort(), await freePort()]
  const workers: App[] = operatorKeys.map((key, i) =>
    startApp({
      name: `worker-${i + 1}`,
      args: ['worker', '--metrics-port', String(metricsPorts[i])],
      env: { ...env, OPERATOR_KEY: key },
      logDir,
    }),
  )
  stops.push(() => Promise.all(workers.map((w) => w.stop())))

  // /metrics scraped through the run, each process's own.
  const families = new Set<string>()
  const scrapeUrls = [
    ...apiUrls.map((u) => `${u}/metrics`),
    ...metricsPorts.map((p) => `http://127.0.0.1:${p}/metrics`),
  ]
  const stopChaos = new AbortController()
  const scraping = (async () => {
    while (!stopChaos.signal.aborted) {
      for (const f of await scrapeFamilies(scrapeUrls)) families.add(f)
      await sleep(5000)
    }
  })()

  say(`chaos for ${minutes} min: agents metering, the controller killing`)
  const agents = runAgents({ apis: () => apiUrls, orgs, agentsPerOrg: 3, signal: stopChaos.signal })
  const chaos = runChaos({
    apis,
    workers,
    durationMs,
    signal: stopChaos.signal,
    say,
    dropConnections: () => proxy.drop(),
    restartPostgres: async () => {
      say('chaos: restarting PostgreSQL')
      await pg.stop()
      await sleep(1000 + Math.random() * 3000)
      pg = await startEmbeddedPostgres(pgOptions)
      say('chaos: PostgreSQL is back')
    },
    restartChain: async () => {
      say('chaos: stopping anvil')
      await chain.restart(1000 + Math.random() * 3000)
      say('chaos: anvil is back, its chain loaded')
    },
    reorg: async () => {
      const r = await chain.reorg(Number(config.chain.confirmations) + 3)
      return `chaos: reorg of blocks ${r.from + 1}…${r.to} (deeper than ${config.chain.confirmations} confirmations), ${r.moved} transactions moved to new blocks`
    },
  })
  await sleep(durationMs)
  stopChaos.abort()
  const attempts: Attempted[] = await agents
  const counts = await chaos
  await scraping
  say(
    `chaos over: ${attempts.length} actions attempted, ${counts.kills} kills, ${counts.pgRestarts} PostgreSQL restarts, ${counts.chainRestarts} chain restarts, ${counts.reorgs} reorg, ${counts.drops} connection drops`,
  )

  // Settle: the workers book what accrued and collect it; wait until nothing is in flight.
  const settleDeadline = Date.now() + 240_000
  let left: string[] = []
  for (;;) {
    left = await unsettled(db).catch((e) => [String(e)])
    const [acc] = await db.$client<{ n: string }[]>`
      select coalesce(sum(accrued), 0)::text as n from billing_accounts`.catch(() => [{ n: '?' }])
    if (left.length === 0 && acc!.n === '0') break
    if (Date.now() > settleDeadline) break
    await sleep(2000)
  }
  for (const f of await scrapeFamilies(scrapeUrls)) families.add(f)
  say(`settled${left.length ? ` except ${left.length} rows` : ''}; checking`)

  const reconcile = await runTollgate(['reconcile', '--json'], {
    ...env,
    DATABASE_URL: directUrl,
  })
  const reconciled = JSON.parse(reconcile.stdout || '{}') as {
    ok?: boolean
    mismatches?: unknown[]
  }
  const findings = await checkSoak({ db, client: reader, deployment, attempts })
  const missing = metricFamilies.filter((f) => !families.has(f))
  const diff = findings.ledgerCollected - findings.chainTransferred
  const absDiff = diff < 0n ? -diff : diff
  const outcome = (o: Attempted['outcome']) => attempts.filter((a) => a.outcome === o).length
  const refusals = new Map<string, number>()
  for (const a of attempts) if (a.code) refusals.set(a.code, (refusals.get(a.code) ?? 0) + 1)
  say(
    `agents: ${outcome('acked')} acknowledged, ${outcome('refused')} refused (${[...refusals].map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}), ${outcome('unanswered')} unanswered`,
  )
  say(
    `collected: ledger ${findings.ledgerCollected} micros, USDC Transfers to the payee ${findings.chainTransferred}`,
  )
  const problems = [
    ...findings.lost.slice(0, 10).map((k) => `lost: ${k}`),
    ...findings.doubled.slice(0, 10).map((k) => `doubled: ${k}`),
    ...findings.seqTwice.map((k) => `collected twice: ${k}`),
    ...findings.stuck.map((k) => `stuck: ${k}`),
    ...(reconcile.code === 0 && reconciled.ok
      ? []
      : [`tollgate reconcile exit ${reconcile.code}: ${reconcile.stdout}${reconcile.stderr}`]),
    ...missing.map((f) => `no metric family ${f} in any /metrics scrape`),
    ...(counts.kills > 0 ? [] : ['no process was killed']),
    ...(counts.pgRestarts > 0 ? [] : ['PostgreSQL was never restarted']),
    ...(counts.chainRestarts > 0 ? [] : ['anvil was never restarted']),
    ...(counts.reorgs > 0 ? [] : ['no reorg was forced']),
    ...(findings.acked > 0 ? [] : ['no action was acknowledged']),
  ]
  const messages = new Set(attempts.flatMap((a) => (a.code ? [`${a.code}: ${a.message}`] : [])))
  for (const m of messages) say(`refused: ${m}`)
  for (const p of problems) say(`FAIL ${p}`)
  failed = problems.length > 0 || absDiff !== 0n
  if (failed) say(`kept for inspection: ${dir} (logs in ${logDir})`)
  else say(`/metrics: all ${metricFamilies.length} families seen; tollgate reconcile: ok`)
  process.stdout.write(
    `soak: minutes=${minutes} acked=${findings.acked} lost=${findings.lost.length} doubled=${findings.doubled.length} kills=${counts.kills} pg_restarts=${counts.pgRestarts} chain_restarts=${counts.chainRestarts} reconcile_diff_micros=${absDiff}\n`,
  )
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {})
  if (!failed && !values.keep) rmSync(dir, { recursive: true, force: true })
}
process.exit(failed ? 1 : 0)
