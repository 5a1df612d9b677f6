import type { RateCard } from '../config/rateCard.js'
import { ConfigError } from '../core/errors.js'

// The schema and parsing live in config (it parses the card at start-up); prices are the ledger's.
export { parseRateCard, type RateCard } from '../config/rateCard.js'
export { formatUsd } from './formatUsd.js'

/**
 * The price of one unit of `action`, or undefined when the rate card does not list it. The one
 * lookup by a caller's action name: only the card's own entries count, never anything an
 * object inherits.
 *
 * @example
 * unitPrice(card, 'heartbeat') // 100n
 * unitPrice(card, 'constructor') // undefined
 */
export function unitPrice(card: RateCard, action: string): bigint | undefined {
  return Object.hasOwn(card.prices, action) ? card.prices[action] : undefined
}

/** The tier `action` is priced at, or undefined when the rate card does not list it. */
export function tierOf(card: RateCard, action: string): string | undefined {
  return Object.hasOwn(card.actionTiers, action) ? card.actionTiers[action] : undefined
}

/**
 * Every action Tollgate's API meters. Reads are absent on purpose: they are free and never
 * metered. A multi-field `save_issue` edit is metered as the `save_issue.edit_<field>` of the
 * highest-priced field it touches (see `editAction`).
 */
export const meteredActions = [
  'next_issue',
  'next_batch',
  'claim_issue',
  'add_relation',
  'save_issue.create',
  'save_issue.edit_body',
  'save_issue.edit_status',
  'save_issue.edit_priority',
  'save_issue.edit_title',
  'checkpoint',
  'save_comment',
  'add_attachment',
  'add_label',
  'remove_label',
  'mint_session_key',
  'release_issue',
  'heartbeat',
] as const

/**
 * Start-up check: every action a service meters must have a price. Throws a `ConfigError`
 * naming the missing ones, so a deploy with an incomplete rate card never starts.
 * `createMeter` runs it for `meteredActions` unless told otherwise.
 */
export function assertPriced(card: RateCard, actions: readonly string[]): void {
  const missing = actions.filter((a) => unitPrice(card, a) === undefined)
  if (missing.length > 0) {
    throw new ConfigError(`rate card ${card.version} has no price for: ${missing.join(', ')}`, {
      version: card.version,
      missing,
    })
  }
}

/**
 * The rate-card action of a `save_issue` edit: the highest-priced among the fields it
 * touches (body is Work; status, priority and title are Bookkeeping in the default card).
 *
 * @example
 * editAction(card, ['title', 'body']) // 'save_issue.edit_body'
 */
export function editAction(card: RateCard, fields: readonly string[]): string {
  let best: string | undefined
  for (const f of fields) {
    const action = `save_issue.edit_${f}`
    const price = unitPrice(card, action)
    if (price === undefined) continue
    if (best === undefined || price > unitPrice(card, best)!) best = action
  }
  return best ?? 'save_issue.edit_title'
}
