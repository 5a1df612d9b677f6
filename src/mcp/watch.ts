import type { AppContext } from '../api/context.js'
import { lockAccounts, snapshotOf } from '../ledger/accounts.js'
import { decide, unitPrice } from '../ledger/index.js'
import { nowMicros } from '../ledger/sql.js'
import { resourceUris } from './server.js'

/** How often the orgs that MCP clients watch are checked for a change of billing state. */
const pollMs = 2_000

export type BillingWatch = {
  /** Calls `changed` whenever the org's state or gate decision changes; returns the unwatch. */
  watch: (orgId: string, changed: () => void) => () => void
  /** Checks the org soon (after a metered call, which may have changed its state). */
  poke: (orgId: string) => void
  close: () => void
}

/**
 * Watches the billing state of the orgs that subscribed MCP clients belong to: the state and
 * whether paid work is allowed (the gate's decision for `next_issue`, nothing recorded), polled
 * for all of them in one read every `pollMs` and after their own metered calls.
 */
export function createBillingWatch(ctx: Pick<AppContext, 'db' | 'config' | 'log'>): BillingWatch {
  const listeners = new Map<string, Set<() => void>>()
  const last = new Map<string, string>()
  const poked = new Set<string>()
  let pokeTimer: NodeJS.Timeout | undefined

  const check = async (orgIds: string[]) => {
    if (orgIds.length === 0) return
    const price = unitPrice(ctx.config.rateCard, 'next_issue') ?? 0n
    const accounts = await lockAccounts(ctx.db.$client, orgIds, { lock: false })
    const now = nowMicros()
    for (const orgId of orgIds) {
      const a = accounts.get(orgId)
      if (!a) continue
      const d = decide(snapshotOf(a), { action: 'next_issue', quantity: 1, unitPrice: price, now })
      const print = `${a.state}|${d.kind === 'refuse' ? `${d.code}:${'reason' in d ? d.reason : ''}` : 'ok'}`
      const before = last.get(orgId)
      last.set(orgId, print)
      if (before !== undefined && before !== print) for (const l of listeners.get(orgId) ?? []) l()
    }
  }
  const run = (orgIds: string[]) =>
    check(orgIds).catch((e: Error) => ctx.log.warn('billing watch failed', { error: e.message }))

  const timer = setInterval(() => void run([...listeners.keys()]), pollMs)
  timer.unref()

  return {
    watch(orgId, changed) {
      let set = listeners.get(orgId)
      if (!set) {
        set = new Set()
        listeners.set(orgId, set)
        void run([orgId])
      }
      set.add(changed)
      return () => {
        set.delete(changed)
        if (set.size === 0) {
          listeners.delete(orgId)
          last.delete(orgId)
        }
      }
    },
    poke(orgId) {
      if (!listeners.has(orgId)) return
      poked.add(orgId)
      pokeTimer ??= setTimeout(() => {
        pokeTimer = undefined
        const ids = [...poked]
        poked.clear()
        void run(ids)
      }, 50)
    },
    close() {
      clearInterval(timer)
      if (pokeTimer) clearTimeout(pokeTimer)
    },
  }
}

/**
 * One session's subscription to `tollgate://billing`: watches the caller's org while
 * subscribed and calls `notify` when its state changes; a metered call checks it soon.
 */
export function subscriptionHooks(watch: BillingWatch, orgId: string, notify: () => void) {
  let unwatch: (() => void) | undefined
  return {
    subscribe(uri: string) {
      if (uri === resourceUris.billing) unwatch ??= watch.watch(orgId, notify)
    },
    unsubscribe(uri: string) {
      if (uri !== resourceUris.billing) return
      unwatch?.()
      unwatch = undefined
    },
    metered: (id: string) => watch.poke(id),
    stop() {
      unwatch?.()
      unwatch = undefined
    },
  }
}
