import { z } from 'zod'

/**
 * `POST /v1/operator/orgs/{id}/plan`, the whole plan: micro-credits included each month (null or
 * absent: none), and units of rate-card actions (`{"search": 1000}`; null or absent: none).
 */
export const planBody = z.strictObject({
  included_monthly_micros: z
    .string()
    .regex(/^\d{1,16}$/, 'micro-credits, as a decimal string')
    .nullable()
    .optional(),
  included_actions: z
    .record(z.string().min(1).max(200), z.number().int().min(0).max(1_000_000_000))
    .nullable()
    .optional(),
})
export const planParams = { id: z.uuid() }
