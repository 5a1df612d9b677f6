import { z } from 'zod'

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
      if (!(tier in card.tiers)) {
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
    tiers: card.tiers,
    prices: Object.fromEntries(
      Object.entries(card.actions).map(([action, tier]) => [action, card.tiers[tier]!]),
    ) as Record<string, bigint>,
  }))

export type RateCard = z.output<typeof rateCardSchema>

/** Parses a rate card; throws with each bad field named. */
export function parseRateCard(json: unknown): RateCard {
  const parsed = rateCardSchema.safeParse(json)
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
  }
  return parsed.data
}

/**
 * Start-up check: every action a service meters must have a price. Throws naming the
 * missing ones, so a deploy with an incomplete rate card never starts.
 */
export function assertPriced(card: RateCard, actions: readonly string[]): void {
  const missing = actions.filter((a) => !(a in card.prices))
  if (missing.length > 0) {
    throw new Error(`rate card ${card.version} has no price for: ${missing.join(', ')}`)
  }
}

/** Formats micro-credits as dollars from integers only: 7000n → "$0.007", 8410000n → "$8.41". */
export function formatUsd(micros: bigint): string {
  const negative = micros < 0n
  const abs = negative ? -micros : micros
  const dollars = abs / 1_000_000n
  let cents = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '')
  if (cents.length < 2) cents = cents.padEnd(2, '0')
  return `${negative ? '-' : ''}$${dollars.toLocaleString('en-US')}.${cents}`
}
