import { createHash } from 'node:crypto'
import postgres from 'postgres'
import type { Config } from '../config/index.js'
import { connectionLost, type Db, databaseUnavailable } from '../db/client.js'
import { RetryableError, ValidationError } from '../errors.js'
import { createLogger, type Logger } from '../log.js'
import {
  accountParams,
  ENTRY_COLUMNS,
  ENTRY_FIELDS,
  entryFor,
  entryParams,
  type LockedAccount,
  lockAccounts,
  movedAllowances,
  type PendingEntry,
  saveAccounts,
  updateAccounts,
  zipEntries,
} from './accounts.js'
import {
  BillingInactiveError,
  IdempotencyConflictError,
  MeteringFailedError,
  NoBillingAccountError,
  SpendCapReachedError,
  UnknownActionError,
} from './errors.js'
import { meterStep } from './movements.js'
import { assertPriced, meteredActions, type RateCard, unitPrice } from './rateCard.js'
import { voidUsage } from './reservations.js'
import {
  arrayParams,
  type Column,
  columnParams,
  nowMicros,
  type Sql,
  toTimestamp,
  zipArrays,
} from './sql.js'
import { transitionSubscription } from './transitionSubscription.js'

export type MeterParameters = {
  orgId: string
  action: string
  /** Units of the action (a batch claim is priced per claimed item). Default 1. */
  quantity?: number
  /** Permanent, unique per org: a retry with it returns the first outcome. */
  idempotencyKey?: string | undefined
  /** For lease wind-down (heartbeat, checkpoint, release_issue): when the lease was claimed. */
  leaseClaimedAt?: Date | undefined
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
  billableMicros: string
  free: 'wind_down' | 'session_key' | null
  rateVersion: string
  windowIndex: number | null
  status: 'recorded' | 'reserved'
  replayed: boolean
}

type Item = {
  op: 'meter' | 'reserve'
  p: ReserveParameters
  /** What a retry must match (only keyed calls have one: nothing else can be retried). */
  requestHash: string
  resolve: (o: MeterOutcome) => void
  reject: (e: unknown) => void
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
  stats: {
    batches: number
    actions: number
    cached: number
    refusedCached: number
    stale: number
    inDoubt: number
  }
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
}

/** An account as a committed batch of this engine left it, `account.versions` included. */
type CachedAccount = {
  account: LockedAccount
  /** Wall-clock ms after which it is read again. */
  expires: number
  /** Wall-clock ms before which a batch for it is decided on locked rows (it just went stale). */
  fastFrom: number
}

/** How long a cached account is trusted at most (its row versions are checked at every write). */
const CACHE_MS = 60_000

/** How long an org whose cached try went stale is decided on locked rows (another process may be metering it). */
const BACKOFF_MS = 1_000

const hashRequest = (p: MeterParameters, op: string) =>
  createHash('sha256')
    .update(JSON.stringify([op, p.action, p.quantity ?? 1, p.leaseClaimedAt?.getTime() ?? null]))
    .digest('base64url')

/**
 * The metering engine: a group-commit batcher. Calls queue up; each transaction takes what
 * is queued (up to `maxBatch`), locks the orgs involved in a fixed order, decides every
 * action with the gate on the locked rows, writes usage rows, ledger entries and idempotency
 * keys, and commits — and only then does any caller get its answer. One transaction per
 * batch, never one per action, and never inside the caller's own transaction. A batch whose
 * orgs this engine metered last is decided on the accounts as it left them instead, in one
 * round trip, and rolled back and decided again on locked rows if anything changed them since.
 *
 * @example
 * const meter = createMeter(db, { rateCard: config.rateCard, product: config.product })
 * const outcome = await meter.meter({ orgId, action: 'save_comment', idempotencyKey: 'req-1' })
 */
export function createMeter(db: Db, options: CreateMeterParameters): Meter {
  assertPriced(options.rateCard, options.meteredActions ?? meteredActions)
  const maxBatch = options.maxBatch ?? 256
  const concurrency = options.concurrency ?? 2
  const parallelFrom = options.parallelFrom ?? 32
  const clock = options.clock ?? nowMicros
  const ttl = options.reservationTtlSeconds ?? 300
  const inDoubtMs = options.inDoubtMs ?? 60_000
  const queue: Item[] = []
  let inFlight = 0
  let closed = false
  const idle: Array<() => void> = []
  const stats = { batches: 0, actions: 0, cached: 0, refusedCached: 0, stale: 0, inDoubt: 0 }
  const drawIds = usageIds()
  const log = options.log ?? createLogger('error')

  // The engine outlives any one batch: a batch that throws for an unexpected reason (a bug)
  // fails its own callers with a typed error, is reported once, and the pump goes on. Callers
  // already answered keep their answers (a promise settles once).
  const failBatch = (batch: Item[], error: unknown) => {
    const failed = new MeteringFailedError(error)
    log.error('metering batch failed', {
      actions: batch.length,
      error:
        error instanceof Error
          ? { name: error.name, message: error.message, stack: error.stack }
          : String(error),
    })
    for (const item of batch) item.reject(failed)
  }

  // Orgs in a batch that is in flight. A second batch for the same org would only wait on
  // its row lock, so its actions stay queued and ride in the next batch instead: a hot org
  // gets one large batch at a time, spread orgs get batches in parallel.
  const busy = new Set<string>()
  // Up to `orgLimit` orgs' actions (all of each one's queued actions, to `maxBatch`).
  const takeBatch = (orgLimit: number): Item[] => {
    const batch: Item[] = []
    const rest: Item[] = []
    const taken = new Set<string>()
    for (const item of queue) {
      const org = item.p.orgId
      if (batch.length < maxBatch && !busy.has(org) && (taken.has(org) || taken.size < orgLimit)) {
        taken.add(org)
        batch.push(item)
      } else rest.push(item)
    }
    if (batch.length === 0) return batch
    queue.length = 0
    queue.push(...rest)
    return batch
  }
  // What is queued is shared evenly among the free transaction slots, so the batches in flight
  // are of a size and take turns: one is in PostgreSQL while this process decides the other.
  // (A hot org's actions stay together: a second batch for it would only wait on its lock.)
  // Fewer than `parallelFrom` queued go as one transaction, or wait for the one in flight: a
  // second small transaction would cost more CPU than the wait saves (`npm run bench:step`).
  const pump = () => {
    const parallel = queue.length >= parallelFrom
    while (inFlight < concurrency && queue.length > 0) {
      if (inFlight > 0 && !parallel) return
      const batch = takeBatch(
        parallel ? Math.ceil(queue.length / (concurrency - inFlight)) : queue.length,
      )
      if (batch.length === 0) return
      const orgs = new Set(batch.map((i) => i.p.orgId))
      for (const o of orgs) busy.add(o)
      inFlight++
      void runBatch(batch)
        .catch((error: unknown) => failBatch(batch, error))
        .finally(() => {
          for (const o of orgs) busy.delete(o)
          inFlight--
          if (queue.length > 0) pump()
          else if (inFlight === 0) for (const f of idle.splice(0)) f()
        })
    }
  }
  // Callers arrive in bursts (a committed batch answers many, and each calls again at once):
  // the queue is taken after the burst, not by its first caller alone.
  let pumpScheduled = false
  const schedulePump = () => {
    if (pumpScheduled) return
    pumpScheduled = true
    setImmediate(() => {
      pumpScheduled = false
      pump()
    })
  }

  // The accounts as this engine's own batches last left them, with the row versions those
  // batches wrote (oldest first: a Map keeps insertion order). A batch whose orgs are all here
  // is decided on them without reading or locking anything, in one round trip: its write checks
  // the versions and rolls everything back if any row changed since (another process metered,
  // settlement booked a charge, the subscription moved), and the batch is then decided again
  // the usual way, on locked rows. An entry lives `CACHE_MS` at most.
  const cache = new Map<string, CachedAccount>()
  const cacheSize = options.accountCache ?? 10_000
  // Orgs whose cached try just found their rows changed: `BACKOFF_MS` of the locked way.
  const backoff = new Map<string, number>()

  const remember = (
    accounts: Map<string, LockedAccount>,
    decided: Decided,
    version: string | undefined,
  ) => {
    const wall = Date.now()
    const moved = new Set(decided.transitions.map((t) => t.orgId))
    const allowancesMoved = movedAllowances([...accounts.values()].filter((a) => a.dirty))
    for (const a of accounts.values()) {
      // A second of the locked way after a stale try, however many batches that second holds.
      const fastFrom = Math.max(backoff.get(a.orgId) ?? 0, cache.get(a.orgId)?.fastFrom ?? 0)
      cache.delete(a.orgId)
      backoff.delete(a.orgId)
      if (cacheSize === 0 || moved.has(a.orgId) || !a.versions || allowancesMoved.includes(a))
        continue
      if (a.dirty) {
        // Written by this batch: the row's version is now this transaction's id.
        if (version === undefined) continue
        a.versions = { account: version, subscription: a.versions.subscription }
        a.dirty = false
      }
      cache.set(a.orgId, { account: a, expires: wall + CACHE_MS, fastFrom })
      if (cache.size > cacheSize) cache.delete(cache.keys().next().value!)
    }
  }

  const answer = (batch: Item[], results: Result[], committed = true) => {
    if (committed) {
      stats.batches++
      stats.actions += batch.length
    }
    const out = answers(results)
    batch.forEach((item, i) => {
      const r = out[i]!
      if (r instanceof Error) item.reject(r)
      else item.resolve(r)
    })
  }

  // One round trip, one statement (`WRITE_FUNCTION`), committed on its own: PostgreSQL answers
  // it only once committed. Returns false, having written nothing, when the batch must be
  // decided on locked rows instead — or the batch in doubt, when its statement went unanswered.
  const runCached = async (batch: Item[]): Promise<boolean | InDoubt> => {
    const wall = Date.now()
    const accounts = new Map<string, LockedAccount>()
    for (const { p } of batch) {
      if (accounts.has(p.orgId)) continue
      const c = cache.get(p.orgId)
      if (!c || wall >= c.expires || wall < c.fastFrom) return false
      accounts.set(p.orgId, { ...c.account })
    }
    const now = clock()
    const decided = decideBatch(batch, accounts, new Map(), options, now, ttl)
    // A refusal that moves the subscription (to needs_reauth) is decided on locked rows, and
    // so is any other error; a plain refusal stands on the cached account once its versions
    // are found unchanged (`refuseCached`).
    if (
      decided.transitions.length > 0 ||
      decided.results.some((r) => r instanceof Error && !isRefusal(r))
    )
      return false
    const accepting = new Set(decided.newUsage.map((u) => u.account.orgId))
    if (accepting.size < accounts.size) {
      // Orgs whose every action was refused write nothing: their refusals are answered after a
      // read that finds their rows unchanged, and the other orgs' actions go on as a batch of
      // their own (each org's decisions depend on its own account alone).
      const refused = batch.filter((i) => !accepting.has(i.p.orgId))
      const rest = batch.filter((i) => accepting.has(i.p.orgId))
      const refusals = decided.results.filter((_, i) => !accepting.has(batch[i]!.p.orgId))
      const checked = [...accounts.values()].filter((a) => !accepting.has(a.orgId))
      await Promise.all([
        refuseCached(refused, refusals, checked, wall),
        rest.length > 0 ? runBatch(rest) : undefined,
      ])
      return true
    }
    // Every org accepted something; in org-id order, the order locks are taken in.
    const dirty = [...accounts.values()].sort((x, y) => (x.orgId < y.orgId ? -1 : 1))
    let conn: postgres.ReservedSql | undefined
    try {
      conn = await db.$client.reserve()
      await assignIds(decided.newUsage, drawIds, conn)
      const params = writeParams(decided.newUsage, accounts, dirty, now, { fresh: true })
      const settled = await Promise.allSettled([
        conn.unsafe<{ version: string }[]>(CALL_WRITE_FRESH, params, { prepare: true }).execute(),
      ])
      if (unanswered(settled)) {
        const inDoubt = await leftInDoubt(conn, settled, batch, decided)
        conn = undefined
        return inDoubt
      }
      const [written] = settled
      if (written!.status === 'rejected') throw written!.reason
      conn.release()
      conn = undefined
      stats.cached++
      remember(accounts, decided, written!.value[0]?.version)
      answer(batch, decided.results)
      return true
    } catch (error) {
      if (conn) await giveBack(conn, error)
      // The orgs that changed are read again, and for a second go the locked way (another
      // process may be metering them too); the rest of the batch stays cached. (A key already
      // stored fails the write too: the locked way answers it with its first outcome.)
      const { code, detail } = error as { code?: unknown; detail?: unknown }
      if (code === '40001' && typeof detail === 'string') {
        stats.stale++
        for (const org of detail.split(',')) {
          cache.delete(org)
          backoff.set(org, wall + BACKOFF_MS)
        }
      } else if (code === '40P01') {
        for (const org of accounts.keys()) backoff.set(org, wall + BACKOFF_MS)
      } else if (code !== '23505') {
        for (const org of accounts.keys()) cache.delete(org)
      }
      return false
    }
  }

  // Refusals decided on cached accounts, answered once a read (`CHECK_FRESH`, no lock, nothing
  // written, so no commit to wait for) finds those accounts' rows as they were cached. The
  // items of an org whose rows changed since (or of every org, when the read fails) are
  // decided again, on locked rows.
  const refuseCached = async (
    items: Item[],
    results: Result[],
    checked: LockedAccount[],
    wall: number,
  ) => {
    let stale: Set<string>
    try {
      const [row] = await db.$client.unsafe<{ stale: string[] }[]>(
        CHECK_FRESH,
        arrayParams([
          checked.map((a) => a.orgId),
          checked.map((a) => a.versions!.account),
          checked.map((a) => a.versions!.subscription),
        ]),
        { prepare: true },
      )
      stale = new Set(row!.stale)
    } catch {
      stale = new Set(checked.map((a) => a.orgId))
    }
    for (const org of stale) {
      cache.delete(org)
      backoff.set(org, wall + BACKOFF_MS)
    }
    if (stale.size > 0) stats.stale++
    const standing = items.filter((i) => !stale.has(i.p.orgId))
    if (standing.length > 0) {
      stats.refusedCached++
      answer(
        standing,
        results.filter((_, i) => !stale.has(items[i]!.p.orgId)),
        false,
      )
    }
    const again = items.filter((i) => stale.has(i.p.orgId))
    if (again.length > 0) await runBatch(again)
  }

  // A batch whose COMMIT (the last of `settled`) went unanswered: its connection is let go,
  // its orgs read again, and what it decided kept, to answer with if it did commit.
  const leftInDoubt = async (
    conn: postgres.ReservedSql,
    settled: PromiseSettledResult<unknown>[],
    batch: Item[],
    decided: Decided,
  ) => {
    await giveBack(conn, (settled.at(-1) as PromiseRejectedResult).reason)
    for (const item of batch) cache.delete(item.p.orgId)
    stats.inDoubt++
    return inDoubtOf(decided)
  }

  const runBatch = async (batch: Item[], inDoubt?: InDoubt, again = false): Promise<void> => {
    if (!inDoubt && cache.size > 0) {
      const cached = await runCached(batch)
      if (cached === true) return
      if (cached !== false) return await runBatch(batch, cached)
    }
    let conn: postgres.ReservedSql | undefined
    try {
      // Two round trips per batch: BEGIN goes out with the locking reads, COMMIT with the
      // writes. A failed write aborts the transaction, and PostgreSQL then answers the COMMIT
      // with ROLLBACK — so a batch counts as committed only when every write succeeded and
      // the COMMIT said COMMIT. (A batch in doubt waits for a connection until its deadline.)
      conn = await reserve(inDoubt && inDoubt.since + inDoubtMs)
      const begin = conn.unsafe(BEGIN).execute()
      const run = await meterBatch(conn, batch, options, clock, ttl, begin, drawIds, inDoubt)
      if (run === 'committed') {
        // The batch in doubt had committed: its answers stand, and nothing is written again.
        await conn.unsafe('rollback')
        conn.release()
        conn = undefined
        answer(batch, inDoubt!.results)
        return
      }
      const { accounts, decided, writes, version } = run
      const settled = await Promise.allSettled([...writes, conn.unsafe(COMMIT).execute()])
      if (unanswered(settled)) {
        const inDoubt = await leftInDoubt(conn, settled, batch, decided)
        conn = undefined
        return await resolve(batch, inDoubt)
      }
      const failed = settled.find((r) => r.status === 'rejected')
      if (failed) throw failed.reason
      const commit = settled.at(-1) as PromiseFulfilledResult<{ command: string }>
      if (commit.value.command !== 'COMMIT')
        throw new RetryableError(`metering batch ended in ${commit.value.command}`)
      conn.release()
      conn = undefined
      remember(accounts, decided, version())
      answer(batch, decided.results)
    } catch (error) {
      if (conn) await giveBack(conn, error)
      for (const item of batch) cache.delete(item.p.orgId)
      // Still in doubt (the database could not be asked): ask again, as a whole.
      if (inDoubt) return await resolve(batch, inDoubt, error)
      // The database, not an action (unreachable, out of connections): nothing was recorded,
      // and trying each action alone would only fail once per action, each waiting to connect.
      // The batch goes again once, whole (a dead connection may have been the only trouble);
      // then every caller gets the retryable error.
      const unavailable = databaseUnavailable(error)
      if (unavailable) {
        if (!again) return await runBatch(batch, undefined, true)
        for (const item of batch) item.reject(unavailable)
        return
      }
      // One bad action must not sink the others: retry each alone, then report.
      if (batch.length > 1) {
        for (const item of batch) await runBatch([item])
        return
      }
      batch[0]!.reject(
        error instanceof Error &&
          'code' in error &&
          typeof error.code === 'string' &&
          error.code.length === 5
          ? new RetryableError('metering failed, retry', { cause: error })
          : error,
      )
    }
  }

  // A connection of the pool, or a RetryableError at `deadline` (the driver keeps trying to
  // connect while the database is unreachable; one that comes after is given straight back).
  const reserve = (deadline?: number) => {
    const pending = db.$client.reserve()
    if (deadline === undefined) return pending
    return new Promise<postgres.ReservedSql>((ok, fail) => {
      let late = false
      const timer = setTimeout(
        () => {
          late = true
          fail(new RetryableError('the database could not be reached', { code: 'UNREACHABLE' }))
        },
        Math.max(0, deadline - Date.now()),
      )
      pending.then(
        (conn) => {
          clearTimeout(timer)
          if (late) conn.release()
          else ok(conn)
        },
        (error) => {
          clearTimeout(timer)
          fail(error)
        },
      )
    })
  }

  // A batch in doubt is decided again on locked rows, after looking up its usage ids there:
  // the lock waits for its transaction if that is still running, and found, its rows say it
  // committed. It keeps being asked, backing off, for `inDoubtMs`; then its callers get
  // `METERING_IN_DOUBT` (a keyed retry is answered with the first outcome, if there was one).
  const resolve = async (batch: Item[], inDoubt: InDoubt, error?: unknown) => {
    inDoubt.tries++
    if (Date.now() - inDoubt.since > inDoubtMs) {
      const e = new RetryableError(
        'the metering outcome is unknown: the database connection was lost after the batch was sent',
        { code: 'METERING_IN_DOUBT', cause: error },
      )
      for (const item of batch) item.reject(e)
      fence(inDoubt)
      return
    }
    if (inDoubt.tries > 1)
      await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** inDoubt.tries)))
    await runBatch(batch, inDoubt)
  }

  // Callers told `METERING_IN_DOUBT` take their actions as failed, so once the database answers
  // again the batch is fenced: found committed, its usage is voided (nothing stays charged for
  // an action its caller saw fail); not found, its accounts are written, so it can never
  // commit. Tried until it is done, or the engine closes.
  const fences = new Set<Promise<void>>()
  const fence = (inDoubt: InDoubt) => {
    const ids = [...inDoubt.ids.values()]
    const orgIds = [...new Set([...inDoubt.ids.keys()].map((i) => i.p.orgId))].sort()
    const run = async () => {
      for (let tries = 0; ; tries++) {
        let conn: postgres.ReservedSql | undefined
        try {
          conn = await reserve(Date.now() + 5_000)
          const [, , found] = await Promise.all([
            conn.unsafe(BEGIN).execute(),
            lockAccounts(conn, orgIds, { tag: 'meter' }),
            findUsage(conn, ids),
            conn.unsafe(
              'update billing_accounts set updated_at = clock_timestamp() where org_id = any($1::uuid[])',
              arrayParams([orgIds]),
              { prepare: true },
            ),
            conn.unsafe(COMMIT).execute(),
          ])
          conn.release()
          conn = undefined
          for (const u of found)
            await voidUsage(db, {
              orgId: u.org_id,
              usageId: u.id.toString(),
              reason: 'metering in doubt: its caller was told it failed',
            })
          return
        } catch (error) {
          if (conn) await giveBack(conn, error)
          if (closed) return
          await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** tries)))
        }
      }
    }
    const fenced = run().finally(() => fences.delete(fenced))
    fences.add(fenced)
  }

  const enqueue = (op: Item['op'], p: ReserveParameters) =>
    new Promise<MeterOutcome>((resolve, reject) => {
      if (closed) return reject(new RetryableError('metering is shutting down'))
      if (unitPrice(options.rateCard, p.action) === undefined)
        return reject(new UnknownActionError(p.action))
      const quantity = p.quantity ?? 1
      if (!Number.isSafeInteger(quantity) || quantity < 0 || quantity > 1_000_000) {
        return reject(new UnknownActionError(`${p.action} x ${quantity}`))
      }
      if (p.leaseClaimedAt !== undefined && !Number.isFinite(p.leaseClaimedAt.getTime()))
        return reject(new ValidationError('the lease claim time is not a valid time'))
      const requestHash = p.idempotencyKey === undefined ? '' : hashRequest(p, op)
      queue.push({ op, p, requestHash, resolve, reject })
      schedulePump()
    })

  return {
    meter: (p) => enqueue('meter', p),
    reserve: (p) => enqueue('reserve', p),
    close: async () => {
      closed = true
      if (inFlight > 0 || queue.length > 0) await new Promise<void>((done) => idle.push(done))
      await Promise.all(fences)
    },
    stats,
  }
}

/**
 * A batch's statements run on their generic plans (lookups by key, inserts from arrays):
 * PostgreSQL would otherwise keep planning them afresh for small batches, whose custom plans
 * it estimates cheaper — and planning cost more than running them. A generic plan is made
 * once per connection and kept, so it must not depend on how big the tables were then: made
 * while a table is small, it reads the whole table (cheapest for a few rows), and keeps reading
 * it as it grows. With sequential scans off, every lookup is by key, whatever the table's size.
 * With hash, merge and bitmap plans off too, the accounts are read and updated one key at a
 * time in the order given — org-id order, the order every batch locks them in, so no two
 * batches (in this process or another) wait on each other in a cycle.
 */
const BEGIN =
  'begin; set local plan_cache_mode = force_generic_plan; set local enable_seqscan = off; set local enable_bitmapscan = off; set local enable_hashjoin = off; set local enable_mergejoin = off'

/** The new usage columns a batch's write takes, in order (from `$1`). */
const USAGE_FIELDS: ReadonlyArray<Column<NewUsage>> = [
  ['id', 'int8', (u) => u.id],
  ['org_id', 'uuid', (u) => u.outcome.orgId],
  ['subscription_id', 'text', (u) => u.outcome.subscriptionId],
  ['action', 'text', (u) => u.outcome.action],
  ['quantity', 'int4', (u) => u.outcome.quantity],
  ['unit_price', 'int8', (u) => u.outcome.unitPriceMicros],
  ['voucher_amount', 'int8', (u) => u.outcome.voucherMicros],
  ['billable_amount', 'int8', (u) => u.outcome.billableMicros],
  ['rate_version', 'text', (u) => u.outcome.rateVersion],
  ['window_index', 'int4', (u) => u.outcome.windowIndex],
  ['status', 'text', (u) => u.outcome.status],
  ['free_reason', 'text', (u) => u.outcome.free],
  ['idempotency_key', 'text', (u) => u.item.p.idempotencyKey],
  ['expires_at', 'timestamptz', (u) => (u.expiresAt === null ? null : toTimestamp(u.expiresAt))],
  [
    'request_hash',
    'text',
    (u) => (u.item.p.idempotencyKey === undefined ? null : u.item.requestHash),
  ],
  // A metered action's outcome is its usage row's (see `outcomeOfUsage`); a reservation's
  // amounts change when it is committed, so its first outcome is kept as it was.
  [
    'outcome',
    'jsonb',
    (u) =>
      u.item.p.idempotencyKey === undefined || u.item.op !== 'reserve'
        ? null
        : JSON.stringify(u.outcome), // its usage id included
  ],
]

/** The usage table's columns a batch writes (`created_at` is the batch's time). */
const USAGE_COLUMNS = USAGE_FIELDS.filter(([name]) => !['request_hash', 'outcome'].includes(name))
  .map(([name]) => name)
  .join(', ')

/** Where a batch write's parameters start: new usage, the batch's time, entries, accounts. */
const AT = USAGE_FIELDS.length + 1
const ENTRIES = AT + 1
const ACCOUNTS = ENTRIES + ENTRY_FIELDS.length

/**
 * A batch's writes, one statement: its new usage rows (with the ids drawn for them ahead, see
 * `usageIds`), their idempotency keys, their ledger entries and the orgs' balances. Returns
 * the transaction's id: the version every row it updated now has.
 *
 * `fresh`: the accounts were decided on as cached, not locked — the update checks their versions
 * and `tollgate_expect_fresh` fails the statement unless it updated every one of them (naming
 * those it did not), which rolls back every write of the batch.
 */
const writeBatch = (fresh: boolean) => `
  with v as materialized (
    ${zipArrays(1, USAGE_FIELDS)}
  ), u as (
    insert into usage (${USAGE_COLUMNS}, created_at)
    select ${USAGE_COLUMNS}, $${AT}::timestamptz from v
  ), k as (
    insert into idempotency_keys (org_id, key, request_hash, outcome, usage_id, created_at)
    select org_id, idempotency_key, request_hash, outcome, id, $${AT}::timestamptz
    from v where idempotency_key is not null
  ), e as (
    insert into ledger_entries (${ENTRY_COLUMNS}) ${zipEntries(ENTRIES)}
  ), a as (
    ${updateAccounts(ACCOUNTS, { checkVersions: fresh })}
  )
  select pg_current_xact_id()::xid::text as version${
    fresh
      ? `\n  from (select tollgate_expect_fresh($${ACCOUNTS}::uuid[], array_agg(org_id)) from a) as fresh`
      : ''
  }`
const WRITE_BATCH = writeBatch(false)
const WRITE_FRESH_BATCH = writeBatch(true)

/**
 * The checked write of a batch decided on cached accounts, as a function (migration 0013) that
 * carries the planner settings `BEGIN` sets (see there) with it: such a batch is then one
 * statement, committed on its own — no BEGIN, no COMMIT to parse, run and answer, one answer
 * from the server instead of three.
 */
export const WRITE_FUNCTION = 'tollgate_write_cached_batch'

/** The parameters of `WRITE_FRESH_BATCH`, by position: each typed by its cast in the statement. */
const writeParamTypes = () => {
  const types = new Map<number, string>()
  for (const m of WRITE_FRESH_BATCH.matchAll(/\$(\d+)::([a-z0-9_]+(?:\[\])?)/g))
    types.set(Number(m[1]), m[2]!)
  return Array.from({ length: Math.max(...types.keys()) }, (_, i) => {
    const type = types.get(i + 1)
    if (!type) throw new Error(`${WRITE_FUNCTION}: parameter $${i + 1} has no type`)
    return type
  })
}

/** `BEGIN`'s planner settings, as a function's SET clauses. */
const plannerSettings = () =>
  BEGIN.split(';')
    .slice(1)
    .map((s) => s.trim().replace(/^set local /, 'SET '))

/** The SQL that creates `WRITE_FUNCTION`: migration 0013 holds it, and a test keeps the two equal. */
export function writeFunctionSql(): string {
  const settings = plannerSettings()
  const body = WRITE_FRESH_BATCH.replace(
    'select pg_current_xact_id()::xid::text as version',
    'select pg_current_xact_id()::xid::text into written_version',
  )
  return `CREATE OR REPLACE FUNCTION ${WRITE_FUNCTION}(${writeParamTypes().join(', ')}) RETURNS text
  LANGUAGE plpgsql
  ${settings.join('\n  ')}
AS $fn$
DECLARE
  written_version text;
BEGIN${body};
  RETURN written_version;
END
$fn$;
`
}

const CALL_WRITE_FRESH = `select ${WRITE_FUNCTION}(${writeParamTypes()
  .map((_, i) => `$${i + 1}`)
  .join(', ')}) as version`

/**
 * The orgs (of `$1`) whose account or subscription row is no longer the version cached (`$2`,
 * `$3`), as a function (migration 0014) carrying the batch's planner settings: one read, no
 * lock, nothing written.
 */
export const CHECK_FUNCTION = 'tollgate_stale_accounts'

/** The SQL that creates `CHECK_FUNCTION`: migration 0014 holds it, and a test keeps the two equal. */
export function checkFunctionSql(): string {
  return `CREATE OR REPLACE FUNCTION ${CHECK_FUNCTION}(uuid[], xid[], xid[]) RETURNS uuid[]
  LANGUAGE plpgsql STABLE
  ${plannerSettings().join('\n  ')}
AS $fn$
BEGIN
  RETURN array(
    select q.org_id
    from (select unnest($1) as org_id, unnest($2) as account_version, unnest($3) as subscription_version) as q
    where not exists (
      select from billing_accounts a
      where a.org_id = q.org_id and a.xmin = q.account_version
        and exists (select from subscriptions s where s.id = a.subscription_id and s.xmin = q.subscription_version)));
END
$fn$;
`
}

const CHECK_FRESH = `select ${CHECK_FUNCTION}($1::uuid[], $2::xid[], $3::xid[])::text[] as stale`

/**
 * COMMIT, padded to 1 kB: the driver holds a statement under 1 kB back until the event loop's
 * next turn, to send it with others — but nothing follows a batch's COMMIT, and the batch
 * waits for it. Padded, it leaves at once, in the same system call as the batch's writes.
 */
const COMMIT = `commit${' '.repeat(1024)}`

type StoredOutcome = { hash: string; outcome: MeterOutcome }

/** A stored idempotency key, with the usage row it recorded when that holds its outcome. */
type StoredKeyRow = {
  org_id: string
  key: string
  request_hash: string
  outcome: MeterOutcome | null
  usage_id: bigint | null
  subscription_id: string | null
  action: string | null
  quantity: number | null
  unit_price: bigint | null
  voucher_amount: bigint | null
  billable_amount: bigint | null
  rate_version: string | null
  window_index: number | null
  free_reason: MeterOutcome['free']
}

/** A metered action's first outcome, from its usage row (which keeps every part of it). */
function outcomeOfUsage(r: StoredKeyRow): MeterOutcome {
  if (r.usage_id === null) throw new Error(`idempotency key ${r.key} has neither outcome nor usage`)
  return {
    usageId: r.usage_id.toString(),
    orgId: r.org_id,
    subscriptionId: r.subscription_id!,
    action: r.action!,
    quantity: r.quantity!,
    unitPriceMicros: r.unit_price!.toString(),
    priceMicros: (r.voucher_amount! + r.billable_amount!).toString(),
    voucherMicros: r.voucher_amount!.toString(),
    billableMicros: r.billable_amount!.toString(),
    free: r.free_reason,
    rateVersion: r.rate_version!,
    windowIndex: r.window_index,
    status: 'recorded',
    replayed: false,
  }
}

type Result = MeterOutcome | Error | { replayOf: MeterOutcome }

/** The gate's refusals: they write nothing (unless they move the subscription). */
const isRefusal = (r: unknown) =>
  r instanceof BillingInactiveError || r instanceof SpendCapReachedError

type NewUsage = {
  /** Its row's id, drawn ahead (`usageIds`) before the batch is written. */
  id?: bigint
  item: Item
  account: LockedAccount
  outcome: Omit<MeterOutcome, 'usageId'>
  /** When a reservation's hold expires (null for a recorded action). */
  expiresAt: bigint | null
  entries: Array<Omit<Parameters<typeof entryFor>[1], 'usageId'>>
}

/** A batch decided: each item's result, the usage it records, and the transitions it causes. */
type Decided = {
  results: Result[]
  newUsage: NewUsage[]
  transitions: Array<{ subscriptionId: string; orgId: string }>
}

/** The outcomes to answer with, read once the writes are done (new usage ids come back with them). */
const answers = (results: Result[]) =>
  results.map((r) => ('replayOf' in r ? { ...r.replayOf, replayed: true } : r))

/**
 * Decides every item of a batch with the gate, in order, on `accounts` (changed in place, as
 * each accepted action moves them). `stored` holds the idempotency keys already recorded; a
 * retry of a key seen earlier in the batch is answered with that earlier outcome.
 */
function decideBatch(
  batch: Item[],
  accounts: Map<string, LockedAccount>,
  stored: Map<string, StoredOutcome>,
  options: CreateMeterParameters,
  now: bigint,
  /** A reservation's hold, in seconds, unless it names its own. */
  ttl: number,
): Decided {
  const results: Result[] = []
  const newUsage: NewUsage[] = []
  const transitions: Decided['transitions'] = []

  // One item's decision; an item that cannot be decided fails alone (see below).
  const decideOne = (item: Item) => {
    const { p } = item
    const account = accounts.get(p.orgId)
    if (!account) {
      results.push(new NoBillingAccountError(p.orgId))
      return
    }
    const storeKey =
      p.idempotencyKey === undefined ? undefined : `${p.orgId}\u0000${p.idempotencyKey}`
    const previous = storeKey ? stored.get(storeKey) : undefined
    if (previous) {
      results.push(
        previous.hash === item.requestHash
          ? { replayOf: previous.outcome }
          : new IdempotencyConflictError(p.idempotencyKey!),
      )
      return
    }
    const quantity = p.quantity ?? 1
    const price = unitPrice(options.rateCard, p.action)
    if (price === undefined) {
      results.push(new UnknownActionError(p.action))
      return
    }
    const hold = item.op === 'reserve'
    const step = meterStep(
      account,
      {
        action: p.action,
        quantity,
        unitPrice: price,
        now,
        leaseClaimedAt: p.leaseClaimedAt ? BigInt(p.leaseClaimedAt.getTime()) * 1000n : undefined,
      },
      { hold },
    )
    if (step.kind === 'refused') {
      const decision = step.decision
      if (decision.code === 'SPEND_CAP_REACHED') {
        results.push(
          new SpendCapReachedError({
            subscriptionId: account.subscriptionId,
            limit: decision.limit,
            spent: decision.spent,
            publicBaseUrl: options.product.publicBaseUrl,
          }),
        )
      } else {
        if (step.movedToNeedsReauth)
          transitions.push({ subscriptionId: account.subscriptionId, orgId: account.orgId })
        results.push(
          new BillingInactiveError({
            reason: decision.reason,
            subscriptionId: account.subscriptionId,
            state: account.state,
            productName: options.product.name,
            dashboardUrl: options.product.dashboardUrl,
            publicBaseUrl: options.product.publicBaseUrl,
          }),
        )
      }
      return
    }
    account.dirty = true
    const { voucher, billable } = step.amounts
    const decision = step.decision
    const entries = step.movements.map((m) => ({ ...m, at: now, memo: p.action }))
    const outcome: Omit<MeterOutcome, 'usageId'> = {
      orgId: p.orgId,
      subscriptionId: account.subscriptionId,
      action: p.action,
      quantity,
      unitPriceMicros: price.toString(),
      priceMicros: (voucher + billable).toString(),
      voucherMicros: voucher.toString(),
      billableMicros: billable.toString(),
      free: decision.kind === 'free' ? decision.reason : null,
      rateVersion: options.rateCard.version,
      windowIndex: decision.windowIndex,
      status: hold ? 'reserved' : 'recorded',
      replayed: false,
    }
    const expiresAt = hold ? now + BigInt(p.ttlSeconds ?? ttl) * 1_000_000n : null
    newUsage.push({ item, account, outcome, expiresAt, entries })
    results.push(outcome as MeterOutcome) // usageId filled in when the write returns
    // A later retry with the same key in this very batch sees this outcome.
    if (storeKey) stored.set(storeKey, { hash: item.requestHash, outcome: outcome as MeterOutcome })
  }
  for (const item of batch) {
    try {
      decideOne(item)
    } catch (error) {
      // A bug, not a refusal: this action fails, the rest of the batch is decided and written.
      results.push(new MeteringFailedError(error))
    }
  }
  return { results, newUsage, transitions }
}

/**
 * The parameters of `writeBatch` for a decided batch's new usage and changed accounts (each
 * account's row versions too, when `fresh`).
 */
function writeParams(
  newUsage: NewUsage[],
  accounts: Map<string, LockedAccount>,
  dirty: LockedAccount[],
  now: bigint,
  { fresh }: { fresh: boolean },
) {
  const entries: PendingEntry[] = []
  for (const u of newUsage)
    for (const e of u.entries) entries.push(entryFor(u.account, { ...e, usageId: u.id }))
  fixBalancesAfter(entries, accounts)
  return [
    ...columnParams(USAGE_FIELDS, newUsage),
    toTimestamp(now) as never,
    ...entryParams(entries),
    ...accountParams(dirty, { versions: fresh }),
  ]
}

/**
 * Gives each new usage row (and its outcome) an id: the one its item had in a batch left in
 * doubt (`InDoubt`), else a new one drawn on `sql`. Reused, an id makes the usage table's
 * primary key refuse a second row for the item, whatever became of the first.
 */
async function assignIds(
  newUsage: NewUsage[],
  drawIds: ReturnType<typeof usageIds>,
  sql: Sql,
  inDoubt?: InDoubt,
) {
  const fresh = newUsage.filter((u) => !inDoubt?.ids.has(u.item))
  const ids = fresh.length === 0 ? [] : await drawIds(fresh.length, sql)
  fresh.forEach((u, i) => {
    u.id = ids[i]!
  })
  for (const u of newUsage) {
    u.id ??= inDoubt!.ids.get(u.item)!
    ;(u.outcome as MeterOutcome).usageId = u.id.toString()
  }
}

/**
 * A batch whose COMMIT was sent but never answered: it may have committed or not. Its items'
 * usage ids, and what it answered each item (to answer with, if it did commit).
 */
type InDoubt = {
  ids: Map<Item, bigint>
  results: Result[]
  /** When it went unanswered, and how often it was asked about since. */
  since: number
  tries: number
}

/** The batch `decided` as it stands when its COMMIT goes unanswered. */
const inDoubtOf = (decided: Decided): InDoubt => ({
  ids: new Map(decided.newUsage.map((u) => [u.item, u.id!])),
  results: decided.results,
  since: Date.now(),
  tries: 0,
})

/** Which of the usage rows `ids` exist (a batch in doubt's: all of them, or none). */
const findUsage = (sql: Sql, ids: bigint[]) =>
  sql.unsafe<{ id: bigint; org_id: string }[]>(
    'select id, org_id from usage where id = any($1::int8[])',
    arrayParams([ids]),
    { prepare: true },
  )

/**
 * Gives a reserved connection back to the pool — unless `error` says it is gone: the driver
 * has already put it with its closed connections, and a release would hand it out again as
 * open (to fail every query sent on it). A live one whose transaction failed is rolled back.
 */
async function giveBack(conn: postgres.ReservedSql, error?: unknown) {
  if (error !== undefined && connectionLost(error)) return
  if (error !== undefined) await conn.unsafe('rollback').catch(() => undefined)
  conn.release()
}

/**
 * Whether a batch whose COMMIT was sent is in doubt: neither its COMMIT's answer nor an error
 * from the server came back (an error from the server means the transaction was rolled back;
 * a dropped connection means nothing).
 */
const unanswered = (settled: PromiseSettledResult<unknown>[]) =>
  settled.at(-1)!.status === 'rejected' &&
  !settled.some((r) => r.status === 'rejected' && r.reason instanceof postgres.PostgresError)

/**
 * Usage ids drawn from the usage table's sequence ahead of need, `block` at a time: a batch
 * knows its rows' ids before it sends them, so one whose COMMIT was sent but never answered
 * (the connection died) can be looked up, and is answered as it was committed — never
 * decided, and charged, a second time. The next block is drawn on a batch's own connection,
 * in the same round trip as its writes, once half of this one is used (only a first batch, or
 * one larger than what is left, waits for its ids).
 */
function usageIds(block = 1024) {
  // Drawn ids; those before `next` are taken.
  let pool: bigint[] = []
  let next = 0
  let refill: Promise<void> | undefined
  const draw = (sql: Sql) =>
    (refill ??= sql
      .unsafe<{ id: bigint }[]>(
        `select nextval('usage_id_seq')::int8 as id from generate_series(1, $1::int4)`,
        [block],
        { prepare: true },
      )
      .then((rows) => {
        pool = pool.slice(next).concat(rows.map((r) => r.id))
        next = 0
      })
      .finally(() => {
        refill = undefined
      }))
  /** `n` ids, drawn on `sql` (a batch's connection) when there are too few left. */
  return async (n: number, sql: Sql): Promise<bigint[]> => {
    while (pool.length - next < n) await draw(sql)
    const ids = pool.slice(next, next + n)
    next += n
    if (pool.length - next < block / 2) draw(sql).catch(() => undefined)
    return ids
  }
}

/**
 * Decides one batch on `tx`, a connection whose BEGIN (`begin`) is in flight, on the accounts
 * it locks. Returns the locked accounts (as the batch leaves them), what was decided, each
 * item's outcome or error, and the batch's writes, already sent and not yet awaited: the caller
 * pipelines COMMIT behind them and acknowledges nothing until it has succeeded.
 */
async function meterBatch(
  tx: Sql,
  batch: Item[],
  options: CreateMeterParameters,
  clock: () => bigint,
  ttl: number,
  begin: Promise<unknown>,
  drawIds: ReturnType<typeof usageIds>,
  /** A batch in doubt: its usage ids are looked up once its orgs are locked. */
  inDoubt?: InDoubt,
): Promise<
  | 'committed'
  | {
      accounts: Map<string, LockedAccount>
      decided: Decided
      writes: Promise<unknown>[]
      /** The transaction's id once the usage write is done (the version of every row it updated). */
      version: () => string | undefined
    }
> {
  const orgIds = [...new Set(batch.map((i) => i.p.orgId))].sort()
  // Round trip 1, pipelined on the transaction's connection: lock the orgs (in org-id order),
  // then — in a statement that starts after the lock is held, so it sees everything the
  // previous holder committed — read the idempotency keys.
  const keyed = batch.filter((i) => i.p.idempotencyKey !== undefined)
  const doubtful = inDoubt ? [...inDoubt.ids.values()] : []
  const [, accounts, found, storedRows] = await Promise.all([
    begin,
    // Its own prepared statement: its generic plan is made under this transaction's settings.
    lockAccounts(tx, orgIds, { tag: 'meter' }),
    doubtful.length === 0 ? Promise.resolve([]) : findUsage(tx, doubtful),
    keyed.length === 0
      ? Promise.resolve([])
      : tx.unsafe<StoredKeyRow[]>(
          // One primary-key lookup per key (`limit 1` keeps the lateral subquery from becoming a
          // join, which a plan cached while the table was small does as a scan of all of it),
          // and one of its usage row when that holds the outcome.
          `select k.org_id, k.key, k.request_hash, k.outcome, u.id as usage_id, u.subscription_id, u.action,
             u.quantity, u.unit_price, u.voucher_amount, u.billable_amount, u.rate_version, u.window_index,
             u.free_reason
           from (${zipArrays(1, [
             ['org_id', 'uuid'],
             ['key', 'text'],
           ])}) as q
           cross join lateral (select * from idempotency_keys k where k.org_id = q.org_id and k.key = q.key limit 1) k
           left join lateral (select * from usage u where u.id = k.usage_id and k.outcome is null limit 1) u on true`,
          arrayParams([keyed.map((i) => i.p.orgId), keyed.map((i) => i.p.idempotencyKey!)]),
          { prepare: true },
        ),
  ])
  // A transaction commits whole: all of the batch's rows are there, or none.
  if (found.length > 0) {
    if (found.length !== doubtful.length)
      throw new Error(`a batch in doubt left ${found.length} of its ${doubtful.length} usage rows`)
    return 'committed'
  }
  // It did not commit, and must never: every one of its accounts is written (a new row
  // version), so its write — if it is still to run, with the cached versions — fails.
  if (inDoubt) for (const a of accounts.values()) a.dirty = true
  const stored = new Map<string, StoredOutcome>()
  for (const r of storedRows)
    stored.set(`${r.org_id}\u0000${r.key}`, {
      hash: r.request_hash,
      outcome: r.outcome ?? outcomeOfUsage(r),
    })

  const now = clock()
  const decided = decideBatch(batch, accounts, stored, options, now, ttl)
  for (const t of decided.transitions) {
    await transitionSubscription(tx, {
      subscriptionId: t.subscriptionId,
      to: 'needs_reauth',
      cause: 'gate',
      reason: 'allowance_exhausted',
      at: now,
    })
  }

  // Round trip 2: every write of the batch in one statement, COMMIT behind it.
  const { newUsage } = decided
  const writes: Promise<unknown>[] = []
  const dirty = [...accounts.values()].filter((a) => a.dirty)
  let version: string | undefined
  if (newUsage.length > 0) {
    await assignIds(newUsage, drawIds, tx, inDoubt)
    const params = writeParams(newUsage, accounts, dirty, now, { fresh: false })
    writes.push(
      tx.unsafe<{ version: string }[]>(WRITE_BATCH, params, { prepare: true }).then((rows) => {
        version = rows[0]?.version
      }),
    )
    // Metering never moves an allowance; anything else that did is written as well.
    if (movedAllowances(dirty).length > 0) writes.push(saveAccounts(tx, dirty))
  } else {
    writes.push(saveAccounts(tx, dirty))
  }
  // Written, not yet awaited: a rejection is handled by the caller, after the COMMIT is sent.
  for (const w of writes) w.catch(() => undefined)
  return { accounts, decided, writes, version: () => version }
}

/**
 * Entries were built after all of the batch's movements were applied to the accounts, so
 * their "after" balances all show the final totals. Rewind per org, newest first, so each
 * entry carries the balances right after its own movement.
 */
function fixBalancesAfter(entries: PendingEntry[], accounts: Map<string, LockedAccount>) {
  const byOrg = new Map<string, PendingEntry[]>()
  for (const e of entries) {
    if (!byOrg.has(e.orgId)) byOrg.set(e.orgId, [])
    byOrg.get(e.orgId)!.push(e)
  }
  for (const [orgId, list] of byOrg) {
    const a = accounts.get(orgId)!
    let voucher = a.voucher
    let accrued = a.accrued
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i]!
      e.voucherAfter = voucher
      e.accruedAfter = accrued
      e.bookedAfter = a.booked
      e.collectedAfter = a.collected
      if (e.kind === 'usage_voucher') voucher -= e.amount
      if (e.kind === 'usage_billable') accrued -= e.amount
    }
  }
}
