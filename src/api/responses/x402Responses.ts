import { z } from 'zod'
import { digits, money, uuid } from './shapes.js'

/** The answers of the operations paid over x402. */
export const x402Responses = {
  'POST /v1/x402/orgs': z.strictObject({
    org: z.strictObject({ id: uuid, owner_address: z.string() }),
    subscription_id: z.string(),
    prepaid: money,
    signup_credit: money.nullable(),
    api_key: z.string().nullable(),
    manage_url: z.url(),
    payment: z.strictObject({ id: digits, tx_hash: z.string().nullable() }),
  }),
}
