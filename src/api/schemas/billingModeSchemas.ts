import { z } from 'zod'

export const billingModeBody = z.strictObject({
  /** `prepaid`: usage draws a balance paid before, never billed; `postpaid`: the default. */
  mode: z.enum(['postpaid', 'prepaid']),
})
