import { z } from 'zod'

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a UTC day, YYYY-MM-DD')

export const usageQuery = z.object({
  period: z.enum(['7d', '30d', 'window', 'custom']).optional(),
  from: day.optional(),
  to: day.optional(),
})

export const statementParams = { month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])(\.csv)?$/) }
