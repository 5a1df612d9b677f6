import type { Config } from '../../config/index.js'
import type { Logger } from '../../core/log.js'
import type { entryFor, LockedAccount } from '../accounts.js'
import type { RateCard } from '../rateCard.js'

export type MeterParameters = {
  orgId: string
  action: string
  /** Units of the action (a batch claim is priced per claimed item). Default 1. */
  quantity?: number
  /** Permanent, unique per org: a retry with it returns the first outcome. */
  idempotencyKey?: string | undefined
  /** For lease wind-down (heartbeat, checkpoint, release_issue): when the lease was claimed. */
  leaseClaimedAt?: Date | undefined
  /**
   * The API key the action is metered for (a session key's parent key): recorded on its usage
   * row, and the key whose budgets it is held to. Absent or null: the org's alone.
   */
  keyId?: string | null | undefined
}

export type ReserveParameters = MeterParameters & {
  /** How long the hold lives before it expires to void. */
  ttlSeconds?: number
}

/** What metering recorded; a retry with the same key returns it again with `replayed: true`. */
export type MeterOutcome = {
  usageId: string
  orgId: string
  subscriptionId: string
  action: string
  quantity: number
  unitPriceMicros: string
  priceMicros: string
  voucherMicros: string
  /** The part the plan's included allowance paid (docs/plans.md). */
  includedMicros: string
  /** Units of the action the plan's unit allowance covered, at no cost (docs/plans.md); absent: 0. */
  includedUnits?: number
  /** The part the prepaid balance paid. */
  prepaidMicros: string
  billableMicros: string
  free: 'wind_down' | 'session_key' | null
  rateVersion: string
  windowIndex: number | null
  status: 'recorded' | 'reserved'
  replayed: boolean
}

export type Meter = {
  /** Prices and records one action, or refuses it; resolves only after its batch committed. */
  meter: (p: MeterParameters) => Promise<MeterOutcome>
  /** Holds the price of `quantity` units; settle it with `commitUsage` or `voidUsage`. */
  reserve: (p: ReserveParameters) => Promise<MeterOutcome>
  /** Waits for everything queued, then stops accepting work. */
  close: () => Promise<void>
  /**
   * For metrics: batches committed and the actions in them; of those batches, how many were
   * decided on cached accounts; how many groups of refusals were answered on cached accounts
   * instead, after a read found their rows unchanged (nothing written: not batches); how many
   * tries on cached accounts found a row changed (those were decided again on locked rows); and
   * how many batches' COMMITs went unanswered (each was looked up, and answered as committed or
   * decided again).
   */
  stats: MeterStats
}

/** The engine's counters (see `Meter['stats']`). */
export type MeterStats = {
  batches: number
  actions: number
  cached: number
  refusedCached: number
  stale: number
  inDoubt: number
}

export type CreateMeterParameters = {
  rateCard: RateCard
  product: Config['product']
  /** Most actions in one transaction. */
  maxBatch?: number
  /** Transactions in flight at once (each on its own pooled connection). */
  concurrency?: number
  /**
   * Fewest queued actions for which a further transaction starts while one is in flight.
   * Fewer wait for the one in flight and then go together: a transaction's fixed cost (a round
   * trip, a statement, a commit) is then shared by more actions. Default 32.
   */
  parallelFrom?: number
  reservationTtlSeconds?: number
  /**
   * Most orgs whose accounts are kept as the engine's last batch left them, so that the next
   * batch for them is decided without reading them again (checked by row version when it
   * writes). 0 decides every batch on freshly locked rows. Default 10,000.
   */
  accountCache?: number
  /**
   * How long a batch whose COMMIT went unanswered (the connection died) is asked after, while
   * the database cannot be reached, before its callers get `METERING_IN_DOUBT`. Default 60 s.
   */
  inDoubtMs?: number
  /** The clock, in microseconds since the epoch (tests move it). */
  clock?: () => bigint
  /**
   * The actions this service meters: each must have a price, or `createMeter` throws a
   * `ConfigError` at start-up. Defaults to every action Tollgate's API meters.
   */
  meteredActions?: readonly string[]
  /** Where a batch that failed for an unexpected reason is reported. Default: errors on stderr. */
  log?: Logger
  /** Told the number of actions of each batch the engine runs (for metrics). */
  onBatch?: (actions: number) => void
}

/** One queued call of `meter` or `reserve`, with how to answer its caller. */
export type Item = {
  op: 'meter' | 'reserve'
  p: ReserveParameters
  /** What a retry must match (only keyed calls have one: nothing else can be retried). */
  requestHash: string
  resolve: (o: MeterOutcome) => void
  reject: (e: unknown) => void
}

/** An item's result: its outcome, its refusal or failure, or the first outcome of its key. */
export type Result = MeterOutcome | Error | { replayOf: MeterOutcome }

/** An idempotency key's first outcome, and the hash of the request that recorded it. */
export type StoredOutcome = { hash: string; outcome: MeterOutcome }

/** An accepted item's usage row, decided and not yet written. */
export type NewUsage = {
  /** Its row's id, drawn ahead (`createUsageIds`) before the batch is written. */
  id?: bigint
  item: Item
  account: LockedAccount
  outcome: Omit<MeterOutcome, 'usageId'>
  /** When a reservation's hold expires (null for a recorded action). */
  expiresAt: bigint | null
  entries: Array<Omit<Parameters<typeof entryFor>[1], 'usageId'>>
}

/** A batch decided: each item's result, the usage it records, and the transitions it causes. */
export type Decided = {
  results: Result[]
  newUsage: NewUsage[]
  transitions: Array<{ subscriptionId: string; orgId: string }>
  /** The spend budgets (key, org) its refusals found reached, for `budget.reached`. */
  reached: BudgetReached[]
}

/** A spend budget a refusal found reached, in the window starting at `windowStart`. */
export type BudgetReached = {
  orgId: string
  subscriptionId: string | null
  budgetId: bigint
  keyId: string | null
  period: string
  windowStart: bigint
  limit: bigint
  spent: bigint
}

/**
 * A batch whose COMMIT was sent but never answered: it may have committed or not. Its items'
 * usage ids, and what it answered each item (to answer with, if it did commit).
 */
export type InDoubt = {
  ids: Map<Item, bigint>
  results: Result[]
  /** When it went unanswered, and how often it was asked about since. */
  since: number
  tries: number
}
