import { fork } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../config/index.js'
import { createLogger } from '../core/log.js'
import { migrateDb } from '../db/migrate.js'
import { formatUsd } from '../ledger/index.js'
import { setEmailSettings } from '../notifications/emailSettings.js'
import { startMailCatcher } from '../notifications/mailCatcher.js'
import { detectChainRollback } from '../settlement/detectChainRollback.js'
import { bootChain, bootDatabase, deploymentPath } from './boot.js'
import { DEMO_OWNER_EMAIL, type DemoOrg, ensureDemoOrg } from './demo.js'
import { type DevAppHandoff, type DevMailMessage, devAppEnv } from './devApp.js'
import { installProcessPolicy } from './processPolicy.js'
import { simulate } from './simulate.js'
import { stopInOrder } from './stopInOrder.js'
import { superviseApp } from './superviseApp.js'
import { takenPort } from './takenPort.js'

export type DevOptions = {
  json?: boolean
  demo?: boolean
  demoSeconds?: number
  /** Start afresh: an empty embedded database and a new local chain. */
  reset?: boolean
}

/** Thrown to stop `tollgate dev` with one sentence for the developer, no stack. */
class DevRefusal extends Error {}

/**
 * `tollgate dev`: the whole system on embedded defaults. This process owns PostgreSQL and anvil
 * (with real USDC and the collector) when none are configured, and the local mail catcher;
 * the API and the worker run in a child process (`tollgate dev-app`), started again when it
 * dies, so an app crash never takes the database or the chain with it. Ctrl-C or SIGTERM
 * stops the app first, then anvil, then PostgreSQL.
 */
export async function dev(options: DevOptions = {}) {
  // No SMTP_URL: a local catcher takes the mail, shown at /dev/mail (nothing leaves the machine).
  const catcher = process.env.SMTP_URL ? undefined : await startMailCatcher()
  if (catcher) process.env.SMTP_URL = catcher.url
  const config = loadConfig()
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel)
  const { add, shutdown } = stopInOrder(log, () => {
    if (!options.json) process.stdout.write('\nstopping…\n')
  })
  if (catcher) add(catcher.close)
  process.on('SIGINT', () => void shutdown(0))
  process.on('SIGTERM', () => void shutdown(0))
  installProcessPolicy({ log, exit: shutdown })

  const progress = (step: string, done?: boolean) => {
    if (options.json) return
    process.stdout.write(done ? `  ✓ ${step}\n` : `  … ${step}\r`)
  }
  try {
    const taken = await takenPort({ config, env: process.env })
    if (taken) throw new DevRefusal(taken)
    if (options.reset) {
      if (config.db.url || config.chain.rpcUrl)
        throw new DevRefusal(
          '--reset only starts the embedded database and local chain afresh; unset DATABASE_URL and RPC_URL, or reset those yourself',
        )
      // The chain's saved state and what was deployed and set up on it go; the database is
      // emptied once it runs (its files may live outside the data folder).
      for (const f of ['anvil-state.json', 'demo.json'])
        rmSync(join(config.dataDir, f), { force: true })
      rmSync(deploymentPath(config, 31337), { force: true })
    }
    const database = await bootDatabase(config, log, progress)
    add(database.stop)
    if (options.reset) {
      await database.db.$client.unsafe(
        'drop schema if exists drizzle cascade; drop schema public cascade; create schema public',
      )
      await migrateDb(database.db)
      progress('reset: an empty database and a new chain', true)
    }
    const chain = await bootChain(config, log, progress)
    add(chain.stop)
    // Never go on against a chain older than the ledger: settlement would fail every later
    // charge (seq gaps) and the books would disagree with the chain with nobody told.
    const rollback = await detectChainRollback({
      db: database.db,
      client: chain.chain.reader,
      deployment: chain.deployment,
    })
    if (rollback)
      throw new DevRefusal(
        `${rollback.message} Not starting on it: ${
          chain.local
            ? 'run `tollgate dev --reset` (npm start -- --reset) to start afresh with an empty database and a new chain'
            : 'point RPC_URL at a node that has the whole chain'
        }.`,
      )
    progress('starting the API and the worker')
    const handoff: DevAppHandoff = {
      databaseUrl: database.url,
      rpcUrl: chain.rpcUrl,
      deploymentFile: deploymentPath(config, chain.chain.chainId),
      devMail: catcher !== undefined,
    }
    const app = superviseApp({
      // This same command (bin/tollgate.mjs, or src/cli/index.ts under tsx) as `dev-app`.
      start: () =>
        fork(process.argv[1]!, ['dev-app'], {
          env: { ...process.env, [devAppEnv]: JSON.stringify(handoff) },
        }),
      onReady: (child) => {
        if (catcher) child.send({ type: 'mail', mails: catcher.mails } satisfies DevMailMessage)
      },
      say: (line) => process.stderr.write(`${line}\n`),
      onGiveUp: (sentence) => {
        process.stderr.write(`${sentence}\n`)
        void shutdown(1)
      },
    })
    add(app.stop)
    if (catcher)
      catcher.onMail = (mail) =>
        app.current()?.send({ type: 'mail', mails: [mail] } satisfies DevMailMessage)
    const { api } = await app.ready
    progress('starting the API and the worker', true)
    const ctx = { config, db: database.db, chain: chain.chain }
    const demo =
      chain.local && options.demo !== false ? await ensureDemoOrg(ctx, chain.rpcUrl) : undefined
    if (demo) progress('demo org authorized on-chain ($50 cap)', true)
    // The demo owner's notices go to the catcher: its usage's mail shows at /dev/mail.
    if (demo && catcher)
      await setEmailSettings(ctx.db, config.notifications.key, {
        orgId: demo.orgId,
        address: DEMO_OWNER_EMAIL,
        verified: true,
      })

    const summary = {
      api: api,
      health: `${api}/healthz`,
      metrics: `${api}/metrics`,
      ...(catcher ? { mail: `${api}/dev/mail` } : {}),
      database: database.embedded
        ? `embedded PostgreSQL on 127.0.0.1:${config.db.embeddedPort}`
        : 'DATABASE_URL',
      demo: demo
        ? {
            org_id: demo.orgId,
            api_key: demo.apiKey,
            owner: demo.owner,
            manage_url: `${config.product.publicBaseUrl}/s/${demo.subscriptionId}`,
          }
        : null,
      chain: {
        rpc_url: chain.rpcUrl,
        chain_id: chain.chain.chainId,
        usdc: chain.deployment.usdc,
        collector: chain.deployment.collector ?? null,
      },
    }
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`)
    else {
      process.stdout.write(
        [
          '',
          `Tollgate is running (Ctrl-C to stop)`,
          `  API        ${summary.api}`,
          `  health     ${summary.health}`,
          `  metrics    ${summary.metrics}`,
          ...(summary.mail ? [`  mail       ${summary.mail} (caught locally)`] : []),
          `  database   ${summary.database}`,
          `  chain      ${summary.chain.rpc_url} (chain ${summary.chain.chain_id})`,
          `  USDC       ${summary.chain.usdc}`,
          `  collector  ${summary.chain.collector ?? '(not deployed)'}`,
          ...(summary.demo
            ? [
                `  demo org   ${summary.demo.org_id} (owner ${summary.demo.owner})`,
                `  API key    ${summary.demo.api_key}`,
                `  manage     ${summary.demo.manage_url}`,
              ]
            : []),
          '',
        ].join('\n'),
      )
    }
    if (demo)
      await runDemo({
        api,
        demo,
        db: database.db,
        json: options.json,
        seconds: options.demoSeconds ?? 15,
      })
    // Run until a signal: `shutdown` stops everything and exits.
    await new Promise<never>(() => {})
  } catch (error) {
    process.stderr.write(
      error instanceof DevRefusal
        ? `${error.message}\n`
        : `tollgate dev failed: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    await shutdown(1)
  }
}

/**
 * The demo `npm start` shows: simulated agents meter work through the HTTP API until the
 * billing threshold is crossed, the worker pulls the USDC on-chain, and the payment appears.
 */
async function runDemo(p: {
  api: string
  demo: DemoOrg
  db: import('../db/client.js').Db
  json?: boolean | undefined
  seconds: number
}) {
  const say = (line: string) => {
    if (!p.json) process.stdout.write(line)
  }
  const pulls = async () =>
    p.db.$client<{ tx_hash: string; amount: bigint; seq: number }[]>`
      select tx_hash, amount, seq from payment_history
      where subscription_id = ${p.demo.subscriptionId} and event = 'Collected' order by block_number desc`
  const before = (await pulls()).length
  say(`demo: 4 simulated agents through ${p.api}/v1/usage until their usage is pulled on-chain\n`)
  // The agents work at least `seconds`, and on (up to a minute) until the worker's pull lands:
  // the signup credit is used first, then usage accrues to the billing threshold.
  const stop = new AbortController()
  const running = simulate({
    api: p.api,
    key: p.demo.apiKey,
    agents: 4,
    durationSeconds: 60,
    signal: stop.signal,
    onProgress: (s) =>
      say(
        `\r  ${s.requests} requests, ${s.metered} metered (${formatUsd(s.meteredMicros)}), ${s.retries} retries, ${s.emptyPolls} free polls, ${s.rateLimited} waits at the key's rate limit   `,
      ),
  })
  const started = Date.now()
  let pull: { tx_hash: string; amount: bigint; seq: number } | undefined
  while (Date.now() - started < 90_000) {
    await new Promise((r) => setTimeout(r, 500))
    const rows = await pulls()
    if (rows.length > before && Date.now() - started >= p.seconds * 1000) {
      pull = rows[0]
      break
    }
  }
  stop.abort()
  const stats = await running
  say('\n')
  if (!pull) {
    say('  no on-chain pull yet: usage stayed under the billing threshold\n')
    return
  }
  if (p.json) {
    process.stdout.write(
      `${JSON.stringify({ demo: { metered_micros: stats.meteredMicros.toString(), collected_micros: pull.amount.toString(), tx_hash: pull.tx_hash } })}\n`,
    )
  }
  say(`  on-chain pull #${pull.seq}: ${formatUsd(pull.amount)} in ${pull.tx_hash}\n`)
}
