import { z } from 'zod'

const micros = z.string().regex(/^[1-9]\d{0,15}$/, 'micro-credits, a positive decimal string')

export const topUpBody = z.strictObject({
  /** What to pull from the owner's wallet into the prepaid balance. */
  amount_micros: micros,
})

export const autoTopUpBody = z.strictObject({
  /** Below this prepaid balance (micro-credits; 0 and up)… */
  threshold_micros: z.string().regex(/^\d{1,16}$/, 'micro-credits, as a decimal string'),
  /** …pull this much. */
  amount_micros: micros,
})
