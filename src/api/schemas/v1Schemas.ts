import { z } from 'zod'
import { displayName, text } from '../../core/text.js'

export const usageBody = z.object({
  action: text().min(1).max(64),
  quantity: z.number().int().min(1).max(10_000).optional(),
  lease_claimed_at: z.iso.datetime().optional(),
})

export const orgBody = z.object({
  name: displayName().min(1).max(200),
  owner_address: text().max(64),
})

export const pageQuery = z.object({
  before: z
    .string()
    .regex(/^\d{1,19}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  type: text().max(500).optional(),
})
