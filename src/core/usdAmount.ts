import { z } from 'zod'
import { microsOfUsd, USD_AMOUNT_PATTERN } from './microsOfUsd.js'

/** A request field holding dollars (`"25"`, `"2.50"`), parsed to micro-credits. */
export const usdAmount = z
  .string()
  .regex(USD_AMOUNT_PATTERN, 'an amount in dollars, e.g. 25 or 2.50')
  .transform(microsOfUsd)
