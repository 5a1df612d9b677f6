import { type LockedAccount, movedAllowances } from '../accounts.js'
import type { Decided, Item } from './types.js'

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

export type AccountCache = {
  /** How many orgs' accounts are cached. */
  readonly size: number
  /**
   * Copies of the cached accounts of every org in `batch`, or undefined when one is missing,
   * expired, or backing off (the batch is then decided on locked rows).
   */
  take: (batch: Item[], wall: number) => Map<string, LockedAccount> | undefined
  /** Keeps the accounts a committed batch left (`version`: its transaction's id, if it wrote). */
  remember: (
    accounts: Map<string, LockedAccount>,
    decided: Decided,
    version: string | undefined,
  ) => void
  /** Drops an org's account: it is read again. */
  forget: (orgId: string) => void
  /** Decides an org's batches on locked rows for a while from `wall` (another process may meter it). */
  backOff: (orgId: string, wall: number) => void
}

/**
 * The accounts as this engine's own batches last left them, with the row versions those
 * batches wrote (oldest first: a Map keeps insertion order), at most `size` orgs.
 *
 * @example
 * const cache = createAccountCache(10_000)
 * const accounts = cache.take(batch, Date.now()) // undefined: decide on locked rows
 */
export function createAccountCache(size: number): AccountCache {
  // A batch whose orgs are all here is decided on them without reading or locking anything,
  // in one round trip: its write checks the versions and rolls everything back if any row
  // changed since (another process metered, settlement booked a charge, the subscription
  // moved), and the batch is then decided again the usual way, on locked rows. An entry lives
  // `CACHE_MS` at most.
  const cache = new Map<string, CachedAccount>()
  // Orgs whose cached try just found their rows changed: `BACKOFF_MS` of the locked way.
  const backoff = new Map<string, number>()

  return {
    get size() {
      return cache.size
    },
    take: (batch, wall) => {
      const accounts = new Map<string, LockedAccount>()
      for (const { p } of batch) {
        if (accounts.has(p.orgId)) continue
        const c = cache.get(p.orgId)
        if (!c || wall >= c.expires || wall < c.fastFrom) return undefined
        // A copy the batch may change (its budgets too): the cache keeps what was committed.
        const a = c.account
        accounts.set(p.orgId, { ...a, budgets: a.budgets?.map((b) => ({ ...b })) })
      }
      return accounts
    },
    remember: (accounts, decided, version) => {
      const wall = Date.now()
      const moved = new Set(decided.transitions.map((t) => t.orgId))
      const allowancesMoved = movedAllowances([...accounts.values()].filter((a) => a.dirty))
      for (const a of accounts.values()) {
        // A second of the locked way after a stale try, however many batches that second holds.
        const fastFrom = Math.max(backoff.get(a.orgId) ?? 0, cache.get(a.orgId)?.fastFrom ?? 0)
        cache.delete(a.orgId)
        backoff.delete(a.orgId)
        if (size === 0 || moved.has(a.orgId) || !a.versions || allowancesMoved.includes(a)) continue
        if (a.dirty) {
          // Written by this batch: the row's version is now this transaction's id.
          if (version === undefined) continue
          a.versions = { account: version, subscription: a.versions.subscription }
          a.dirty = false
          for (const b of a.budgets ?? []) b.dirty = false
        }
        cache.set(a.orgId, { account: a, expires: wall + CACHE_MS, fastFrom })
        if (cache.size > size) cache.delete(cache.keys().next().value!)
      }
    },
    forget: (orgId) => {
      cache.delete(orgId)
    },
    backOff: (orgId, wall) => {
      backoff.set(orgId, wall + BACKOFF_MS)
    },
  }
}
