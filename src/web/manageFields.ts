import { z } from 'zod'

/** A hex string the page's wallet produced (a signature). */
export const hex = z
  .string()
  .regex(/^0x[0-9a-fA-F]*$/)
  .transform((v) => v as `0x${string}`)
/** A uint256 as a decimal string. */
export const uint = z
  .string()
  .regex(/^\d{1,78}$/)
  .transform(BigInt)
