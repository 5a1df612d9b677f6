import { z } from 'zod'

const uint = z
  .string()
  .regex(/^\d{1,78}$/, 'a whole number as a decimal string')
  .transform(BigInt)

export const revocationBody = z.strictObject({
  permit: z.strictObject({
    value: uint,
    deadline: uint,
    nonce: uint,
    signature: z
      .string()
      .regex(/^0x([0-9a-fA-F]{2}){65,}$/, 'a hex signature')
      .transform((v) => v as `0x${string}`),
  }),
})
