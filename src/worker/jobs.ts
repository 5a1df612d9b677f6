import type { AppContext } from '../api/context.js'
import { openSignupOrg, x402ContextFor } from '../api/x402Routes.js'
import type { WorkerJob } from '../core/workerJob.js'
import { ensureMonthPartitions, expireReservations } from '../ledger/index.js'
import { checkOperatorEth } from '../notifications/checkOperatorEth.js'
import { notificationJobs } from '../notifications/jobs.js'
import { withBackoff } from '../settlement/backoff.js'
import { checkChainTruth } from '../settlement/checkChainTruth.js'
import { settlementContextFor } from '../settlement/context.js'
import { detectChainRollback } from '../settlement/detectChainRollback.js'
import { indexChain } from '../settlement/indexChain.js'
import { settleOnce } from '../settlement/settleOnce.js'
import { creditSettledPayments } from '../x402/creditSettledPayments.js'

/** The jobs a worker process runs: each domain contributes its own periodic work. */
export function workerJobs(ctx: AppContext): WorkerJob[] {
  const jobs: WorkerJob[] = [
    {
      // A reservation left open (its caller crashed) expires to void: under-charge, never over-charge.
      name: 'expire-reservations',
      everyMs: 5_000,
      run: async () => {
        const n = await expireReservations(ctx.db)
        if (n > 0) ctx.log.info('reservations expired', { count: n })
      },
    },
    {
      // usage and ledger_entries are partitioned by month: this month's and the next two exist
      // well before a row needs them (docs/operations.md#data-growth).
      name: 'month-partitions',
      everyMs: 3_600_000,
      run: async () => {
        const n = await ensureMonthPartitions(ctx.db)
        if (n > 0) ctx.log.info('month partitions created', { count: n })
      },
    },
    ...notificationJobs({
      db: ctx.db,
      config: ctx.config,
      log: ctx.log,
      chainId: ctx.chain?.chainId,
    }),
  ]
  const chain = ctx.chain
  if (chain?.operator) {
    const settlement = settlementContextFor(
      ctx.config,
      ctx.db,
      { operator: chain.operator, deployment: chain.deployment },
      ctx.log,
    )
    jobs.push(
      withBackoff({
        name: 'settle',
        everyMs: 2_000,
        run: async () => {
          const r = await settleOnce(settlement)
          if (r.batches > 0 || r.recovered > 0) {
            ctx.log.info('settled', {
              batches: r.batches,
              collected: r.collected,
              failed: r.failed.length,
              txs: r.txHashes,
            })
          }
        },
      }),
    )
    jobs.push(
      withBackoff({
        // Gas comes from the operator's ETH: the operator hears well before it runs out.
        name: 'operator-eth',
        everyMs: 60_000,
        run: async () =>
          void (await checkOperatorEth({
            db: ctx.db,
            operator: chain.operator!,
            thresholdWei: ctx.config.notifications.operatorEthLowWei,
            orgId: ctx.config.notifications.operatorOrgId,
            log: ctx.log,
          })),
      }),
    )
    jobs.push(
      withBackoff({
        name: 'chain-truth',
        everyMs: 60_000,
        run: async () => void (await checkChainTruth(settlement)),
      }),
    )
    // A chain gone back behind the ledger (a deep reorg, a node restored from an older state)
    // is said at start and while it lasts, once per finding: nothing here can undo it.
    let saidRollback: string | undefined
    jobs.push(
      withBackoff({
        name: 'chain-rollback',
        everyMs: 60_000,
        run: async () => {
          const rollback = await detectChainRollback({
            db: ctx.db,
            client: chain.operator!,
            deployment: chain.deployment,
          })
          if (rollback && rollback.message !== saidRollback) ctx.log.error(rollback.message)
          saidRollback = rollback?.message
        },
      }),
    )
    const x402 = x402ContextFor(ctx)
    if (x402)
      jobs.push(
        withBackoff({
          // A payment whose request died between settle and credit is credited here, once.
          name: 'x402-credit',
          everyMs: 5_000,
          run: async () => {
            const r = await creditSettledPayments(x402, openSignupOrg())
            if (r.credited.length > 0)
              ctx.log.info('x402 payments credited', { count: r.credited.length })
          },
        }),
      )
    jobs.push(
      withBackoff({
        name: 'index-chain',
        everyMs: 2_000,
        run: async () => void (await indexChain(settlement)),
      }),
    )
  }
  return jobs
}
