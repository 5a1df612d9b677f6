import { z } from 'zod'

/** `POST /v1/operator/orgs/{id}/plan`: micro-credits included each month, or null for none. */
export const planBody = z.strictObject({
  included_monthly_micros: z
    .string()
    .regex(/^\d{1,16}$/, 'micro-credits, as a decimal string')
    .nullable(),
})
export const planParams = { id: z.uuid() }
