import { z } from 'zod'
import { displayName, text } from '../../core/text.js'

export const siweBody = z.strictObject({
  message: text().min(1).max(4_000),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130,}$/),
  org_id: z.uuid().optional(),
})

export const keyBody = z.strictObject({ label: displayName().max(100).optional() })

export const sessionKeyBody = z.strictObject({
  ttl_seconds: z
    .number()
    .int()
    .min(60)
    .max(24 * 3600)
    .optional(),
})

export const adminBody = z.strictObject({ address: text().max(64) })

export const switchOrgBody = z.strictObject({ org_id: z.uuid() })
