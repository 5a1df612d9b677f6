import { RetryableError, ValidationError } from '../core/errors.js'
import { createLogger } from '../core/log.js'
import type { Db } from '../db/client.js'
import { MeteringFailedError, UnknownActionError } from './errors.js'
import { createAccountCache } from './meter/accountCache.js'
import { createBatcher } from './meter/batcher.js'
import type { Engine } from './meter/engine.js'
import { hashRequest } from './meter/replay.js'
import { runBatch } from './meter/runBatch.js'
import type {
  CreateMeterParameters,
  Item,
  Meter,
  MeterOutcome,
  ReserveParameters,
} from './meter/types.js'
import { createUsageIds } from './meter/usageIds.js'
import { assertPriced, meteredActions, unitPrice } from './rateCard.js'
import { nowMicros } from './sql.js'

export type { CreateMeterParameters, Meter, MeterOutcome } from './meter/types.js'

/**
 * The metering engine: a group-commit batcher. Calls queue up; each transaction takes what
 * is queued (up to `maxBatch`), locks the orgs involved in a fixed order, decides every
 * action with the gate on the locked rows, writes usage rows, ledger entries and idempotency
 * keys, and commits — and only then does any caller get its answer. One transaction per
 * batch, never one per action, and never inside the caller's own transaction. A batch whose
 * orgs this engine metered last is decided on the accounts as it left them instead, in one
 * round trip, and rolled back and decided again on locked rows if anything changed them since.
 *
 * Its parts, in `meter/`: the batcher (`batcher.ts`), the account cache (`accountCache.ts`),
 * the decision (`decideBatch.ts`), the locked way (`runBatch.ts`, `meterBatch.ts`) and the
 * cached way (`runCached.ts`), the batch write's SQL (`batchSql.ts`, `writeParams.ts`),
 * idempotent replay (`replay.ts`), usage ids (`usageIds.ts`) and batches in doubt (`inDoubt.ts`).
 *
 * @example
 * const meter = createMeter(db, { rateCard: config.rateCard, product: config.product })
 * const outcome = await meter.meter({ orgId, action: 'save_comment', idempotencyKey: 'req-1' })
 */
export function createMeter(db: Db, options: CreateMeterParameters): Meter {
  assertPriced(options.rateCard, options.meteredActions ?? meteredActions)
  const log = options.log ?? createLogger('error')
  const engine: Engine = {
    db,
    options,
    clock: options.clock ?? nowMicros,
    ttl: options.reservationTtlSeconds ?? 300,
    inDoubtMs: options.inDoubtMs ?? 60_000,
    stats: { batches: 0, actions: 0, cached: 0, refusedCached: 0, stale: 0, inDoubt: 0 },
    cache: createAccountCache(options.accountCache ?? 10_000),
    drawIds: createUsageIds(),
    closed: false,
    fences: new Set(),
    reachedSaid: new Set(),
    runBatch: (batch, inDoubt) => runBatch(engine, batch, inDoubt),
  }

  const batcher = createBatcher({
    maxBatch: options.maxBatch ?? 256,
    concurrency: options.concurrency ?? 2,
    parallelFrom: options.parallelFrom ?? 32,
    run: (batch) => {
      options.onBatch?.(batch.length)
      return runBatch(engine, batch)
    },
    // The engine outlives any one batch: a batch that throws for an unexpected reason (a bug)
    // fails its own callers with a typed error, is reported once, and the pump goes on.
    // Callers already answered keep their answers (a promise settles once).
    fail: (batch, error) => {
      const failed = new MeteringFailedError(error)
      log.error('metering batch failed', {
        actions: batch.length,
        error:
          error instanceof Error
            ? { name: error.name, message: error.message, stack: error.stack }
            : String(error),
      })
      for (const item of batch) item.reject(failed)
    },
  })

  const enqueue = (op: Item['op'], p: ReserveParameters) =>
    new Promise<MeterOutcome>((resolve, reject) => {
      if (engine.closed) return reject(new RetryableError('metering is shutting down'))
      if (unitPrice(options.rateCard, p.action) === undefined)
        return reject(new UnknownActionError(p.action))
      const quantity = p.quantity ?? 1
      if (!Number.isSafeInteger(quantity) || quantity < 0 || quantity > 1_000_000) {
        return reject(new UnknownActionError(`${p.action} x ${quantity}`))
      }
      if (p.leaseClaimedAt !== undefined && !Number.isFinite(p.leaseClaimedAt.getTime()))
        return reject(new ValidationError('the lease claim time is not a valid time'))
      const requestHash = p.idempotencyKey === undefined ? '' : hashRequest(p, op)
      batcher.push({ op, p, requestHash, resolve, reject })
    })

  return {
    meter: (p) => enqueue('meter', p),
    reserve: (p) => enqueue('reserve', p),
    close: async () => {
      engine.closed = true
      await batcher.idle()
      await Promise.all(engine.fences)
    },
    stats: engine.stats,
  }
}
