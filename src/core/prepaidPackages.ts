import { ValidationError } from './errors.js'
import { microsOfUsd } from './microsOfUsd.js'

/** A prepaid package: a top-up of exactly `price` also credits `bonus` (docs/prepaid.md). */
export type PrepaidPackage = { price: bigint; bonus: bigint }

/**
 * The operator's packages, `PREPAID_PACKAGES` as "price_usd:bonus_usd,…" (e.g. "50:5,100:15"):
 * exact dollars (`microsOfUsd`), each price more than zero and named once, each bonus more than
 * zero. Empty: no packages. Sorted by price.
 *
 * @example
 * parsePrepaidPackages('50:5') // [{ price: 50_000_000n, bonus: 5_000_000n }]
 */
export function parsePrepaidPackages(text: string): PrepaidPackage[] {
  if (text.trim() === '') return []
  const packages = text.split(',').map((part) => {
    const [price, bonus, ...rest] = part.trim().split(':')
    if (price === undefined || bonus === undefined || rest.length > 0)
      throw new ValidationError(`"${part}" is not price_usd:bonus_usd`)
    const p = { price: microsOfUsd(price), bonus: microsOfUsd(bonus) }
    if (p.price === 0n || p.bonus === 0n)
      throw new ValidationError(`"${part}": price and bonus must be more than zero`)
    return p
  })
  const prices = new Set(packages.map((p) => p.price))
  if (prices.size !== packages.length) throw new ValidationError('a price is named twice')
  return packages.sort((a, b) => (a.price < b.price ? -1 : a.price > b.price ? 1 : 0))
}

/** The bonus a top-up of `amount` earns: its package's, or none. */
export const bonusFor = (packages: readonly PrepaidPackage[], amount: bigint): bigint =>
  packages.find((p) => p.price === amount)?.bonus ?? 0n
