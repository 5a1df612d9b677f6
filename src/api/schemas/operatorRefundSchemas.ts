import { z } from 'zod'

export const operatorRefundBody = z
  .strictObject({
    org_id: z.string().uuid(),
    /** A charge (what is left of it, or `amount_micros` of it)… */
    charge_id: z
      .string()
      .regex(/^[1-9]\d{0,18}$/, 'a charge id')
      .optional(),
    /** …or usage lines, each refunded whole. */
    usage_ids: z
      .array(z.string().regex(/^[1-9]\d{0,18}$/, 'a usage id'))
      .min(1)
      .max(1000)
      .optional(),
    amount_micros: z
      .string()
      .regex(/^[1-9]\d{0,15}$/, 'micro-credits, a positive decimal string')
      .optional(),
    reason: z.string().trim().min(1).max(500),
  })
  .refine((b) => (b.charge_id === undefined) !== (b.usage_ids === undefined), {
    message: 'exactly one of charge_id and usage_ids',
  })
  .refine((b) => b.amount_micros === undefined || b.charge_id !== undefined, {
    message: 'amount_micros is for a charge refund only',
  })
