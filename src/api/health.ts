import { sql } from 'drizzle-orm'
import { erc20Abi } from 'viem'
import { processHeartbeats } from '../db/coreSchema.js'
import { notificationBacklog } from '../notifications/backlog.js'
import { isPayeeBlacklisted } from '../settlement/isPayeeBlacklisted.js'
import type { AppContext } from './context.js'

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, no) => setTimeout(() => no(new Error(`timed out after ${ms} ms`)), ms)),
  ])

/** The health report `/healthz` serves: database, chain (with the token's own name) and workers. */
export async function getHealth(ctx: AppContext) {
  const started = performance.now()
  const database = await withTimeout(ctx.db.execute(sql`select 1`), 2_000)
    .then(() => ({ ok: true as const, latency_ms: Math.round(performance.now() - started) }))
    .catch((e: Error) => ({ ok: false as const, error: e.message }))

  let chain: Record<string, unknown> & { ok: boolean } = { ok: false, error: 'no chain configured' }
  if (ctx.chain) {
    const { reader, usdc, collector } = ctx.chain
    chain = await withTimeout(
      Promise.all([
        reader.getChainId(),
        reader.getBlockNumber(),
        reader.readContract({ address: usdc, abi: erc20Abi, functionName: 'name' }),
        collector ? reader.getCode({ address: collector }) : Promise.resolve(undefined),
      ]),
      3_000,
    )
      .then(([chainId, block, name, collectorCode]) => ({
        ok: true,
        chain_id: chainId,
        block: block.toString(),
        usdc: { address: usdc, name },
        collector: collector
          ? { address: collector, deployed: Boolean(collectorCode && collectorCode !== '0x') }
          : null,
      }))
      .catch((e: Error) => ({ ok: false, error: e.message.split('\n')[0] }))
  }

  const workers = database.ok
    ? (await ctx.db.select().from(processHeartbeats)).map((w) => ({
        name: w.name,
        kind: w.kind,
        last_seen_s: Math.round((Date.now() - w.lastSeenAt.getTime()) / 1000),
      }))
    : []
  // A payee the token blacklisted fails every pull: the operator's problem, reported here.
  if (chain.ok && ctx.chain) {
    const payee = ctx.chain.deployment.payee
    chain.payee = await withTimeout(
      isPayeeBlacklisted(ctx.chain.reader, ctx.chain.deployment),
      3_000,
    )
      .then((blacklisted) => ({ address: payee, blacklisted }))
      .catch((e: Error) => ({ address: payee, error: e.message.split('\n')[0] }))
  }
  const payeeBlocked = (chain.payee as { blacklisted?: boolean } | undefined)?.blacklisted === true
  const ok = database.ok && chain.ok && !payeeBlocked
  // What waits for delivery (webhooks, mail) and how long the oldest has waited.
  const notifications = database.ok
    ? await withTimeout(notificationBacklog(ctx.db), 2_000).catch((e: Error) => ({
        error: e.message,
      }))
    : null
  return {
    status: ok ? ('ok' as const) : ('degraded' as const),
    database,
    chain,
    workers,
    notifications,
  }
}
