import type { Db } from '../../db/client.js'
import type { AccountCache } from './accountCache.js'
import type { CreateMeterParameters, InDoubt, Item, MeterStats } from './types.js'
import type { DrawUsageIds } from './usageIds.js'

/** What the parts of one metering engine share: its settings, counters, cache and id pool. */
export type Engine = {
  db: Db
  options: CreateMeterParameters
  /** The clock, in microseconds since the epoch. */
  clock: () => bigint
  /** A reservation's hold, in seconds, unless it names its own. */
  ttl: number
  /** How long a batch in doubt is asked after before its callers are told so. */
  inDoubtMs: number
  stats: MeterStats
  cache: AccountCache
  drawIds: DrawUsageIds
  /** Set once the engine closes: fences stop retrying. */
  closed: boolean
  /** Batches in doubt being fenced; closing waits for them. */
  fences: Set<Promise<void>>
  /**
   * The budgets' windows (`reachedKey`) whose `budget.reached` this engine wrote: a refusal
   * for one of them stands on a cached account; any other is decided on locked rows, which
   * writes the event.
   */
  reachedSaid: Set<string>
  /** Runs a batch (again): the cached way if it can, else on locked rows. */
  runBatch: (batch: Item[], inDoubt?: InDoubt) => Promise<void>
}
