import { z } from 'zod'
import { ConfigError } from '../core/errors.js'

const micros = z
  .union([z.string().regex(/^\d+$/, 'a whole number of micro-credits'), z.number().int().min(0)])
  .transform((v) => BigInt(v))

/**
 * The rate card: named tiers priced in micro-credits, and the tier of each metered action.
 * Reads are not listed: they are free and never metered. `version` is recorded on every
 * usage row it prices, so repricing never rewrites history.
 */
export const rateCardSchema = z
  .object({
    version: z.string().min(1).max(64),
    currency: z.string().optional(),
    tiers: z.record(z.string().min(1), micros),
    actions: z.record(z.string().min(1), z.string().min(1)),
  })
  .superRefine((card, ctx) => {
    for (const [action, tier] of Object.entries(card.actions)) {
      if (!Object.hasOwn(card.tiers, tier)) {
        ctx.addIssue({
          code: 'custom',
          path: ['actions', action],
          message: `unknown tier "${tier}"`,
        })
      }
    }
  })
  .transform((card) => ({
    version: card.version,
    tiers: lookupTable(Object.entries(card.tiers)),
    prices: lookupTable(
      Object.entries(card.actions).map(([action, tier]) => [action, card.tiers[tier]!] as const),
    ),
    /** The tier of each action (for usage views), by the same safe lookup as `prices`. */
    actionTiers: lookupTable(Object.entries(card.actions)),
  }))

export type RateCard = z.output<typeof rateCardSchema>

/**
 * A frozen table with no prototype: a name a caller sends (`constructor`, `__proto__`,
 * `toString`) is never found on it unless the card lists it. Lookups still go through
 * `unitPrice`, which asks `Object.hasOwn`.
 */
function lookupTable<T>(entries: ReadonlyArray<readonly [string, T]>): Readonly<Record<string, T>> {
  const table: Record<string, T> = Object.create(null)
  for (const [name, value] of entries)
    Object.defineProperty(table, name, { value, enumerable: true })
  return Object.freeze(table)
}

/** Parses a rate card; throws a `ConfigError` with each bad field named. */
export function parseRateCard(json: unknown): RateCard {
  const parsed = rateCardSchema.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`invalid rate card: ${issues.join('; ')}`, { issues })
  }
  return parsed.data
}
