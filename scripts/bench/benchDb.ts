import { randomBytes, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import postgres from 'postgres'
import { createOrg } from '../../src/api/createOrg.js'
import type { Config } from '../../src/config/index.js'
import { closeDb, createDb, type Db, socketPath } from '../../src/db/client.js'
import { migrateDb } from '../../src/db/migrate.js'
import { authorizeSubscription } from '../../src/subscriptions/state/authorizeSubscription.js'
import { openBillingAccount } from '../../test/support/openBillingAccount.js'

/**
 * A fresh, migrated database for one benchmark run on the server at `DATABASE_URL` (or the
 * machine's PostgreSQL), dropped afterwards so runs never see each other's rows.
 */
export async function benchDatabase(
  label: string,
  poolMax = 16,
): Promise<{ db: Db; url: string; drop: () => Promise<void> }> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
  const name = `tg_bench_${label}_${randomBytes(3).toString('hex')}`
  const { url: tcp, path } = socketPath(base.toString())
  const admin = postgres(tcp, { max: 1, onnotice: () => {}, ...(path ? { path } : {}) })
  await admin.unsafe(`create database "${name}"`)
  const url = new URL(base)
  url.pathname = `/${name}`
  const db = createDb({ url: url.toString(), max: poolMax })
  await migrateDb(db)
  return {
    db,
    url: url.toString(),
    drop: async () => {
      await closeDb(db)
      await admin.unsafe(`drop database if exists "${name}" with (force)`)
      await admin.end()
    },
  }
}

/** The median of a few figures (the rounds of a benchmark). */
export const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** p-th percentile of sorted milliseconds. */
export const percentile = (sorted: ArrayLike<number>, p: number) =>
  sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/**
 * CPU time this process and the database's own server processes spent, in microseconds:
 * a figure a busy machine disturbs far less than wall-clock throughput. Linux only (reads
 * /proc); elsewhere the server's share reads 0.
 */
export async function cpuClock(db: Db): Promise<() => Promise<{ node: number; server: number }>> {
  const tick = 1_000_000 / 100 // USER_HZ: 100 on Linux
  const serverMicros = async () => {
    const rows = await db.$client<{ pid: number }[]>`
      select pid from pg_stat_activity where datname = current_database()`
    const times = new Map<number, number>()
    for (const { pid } of rows) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        times.set(pid, (Number(fields[11]) + Number(fields[12])) * tick)
      } catch {}
    }
    return times
  }
  const node0 = process.cpuUsage()
  const server0 = await serverMicros()
  return async () => {
    const node = process.cpuUsage(node0)
    const server1 = await serverMicros()
    let server = 0
    for (const [pid, t] of server1) server += t - (server0.get(pid) ?? 0)
    return { node: node.user + node.system, server }
  }
}

/** `n` orgs, each with an active subscription whose allowance is `allowance` micro-credits. */
export async function makeOrgs(db: Db, n: number, allowance: bigint) {
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

/**
 * The metering engine's settings a benchmark run may change (the engine's defaults, which the
 * API runs, otherwise): BENCH_CONCURRENCY (transactions in flight), BENCH_PARALLEL_FROM (fewest
 * queued actions for a second one) and BENCH_ACCOUNT_CACHE (orgs' accounts kept; 0: none).
 */
export const meterKnobs = () => {
  const knob = (name: string) =>
    process.env[name] === undefined ? undefined : Number(process.env[name])
  const knobs = {
    concurrency: knob('BENCH_CONCURRENCY'),
    parallelFrom: knob('BENCH_PARALLEL_FROM'),
    accountCache: knob('BENCH_ACCOUNT_CACHE'),
  }
  return Object.fromEntries(Object.entries(knobs).filter(([, v]) => v !== undefined)) as {
    [K in keyof typeof knobs]?: number
  }
}

/** `n` orgs signed up as over the API, each with its API key and one issue to comment on. */
export async function orgsWithIssues(db: Db, config: Config, n: number) {
  const targets: { key: string; issue: string }[] = []
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, async (_, j) => {
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
  return targets
}
