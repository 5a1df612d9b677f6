import { z } from 'zod'
import { BUDGET_PERIODS } from '../../ledger/index.js'

const micros = z.string().regex(/^\d{1,16}$/, 'micro-credits, as a decimal string')

const period = z.enum(BUDGET_PERIODS as ['day', 'week', 'month'])

export const budgetBody = z.strictObject({
  /** The API key it is for; absent or null: the whole org. */
  key_id: z.uuid().nullable().optional(),
  period,
  limit_micros: micros,
  /** A temporary limit until `until`; null clears one, absent keeps the one there is. */
  override: z
    .strictObject({ limit_micros: micros, until: z.iso.datetime({ offset: true }) })
    .nullable()
    .optional(),
})

/**
 * `DELETE /v1/budgets/{scope}/{period}`: `org`, or an API key's id. Parsed in this order, so a
 * request wrong in both is refused for its period.
 */
export const budgetParams = { period, scope: z.union([z.literal('org'), z.uuid()]) }
