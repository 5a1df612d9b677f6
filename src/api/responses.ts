import { z } from 'zod'
import { type ErrorCode, errorCodes } from '../core/errorCodes.js'
import { accountResponses } from './responses/accountResponses.js'
import { billingResponses } from './responses/billingResponses.js'
import { queueResponses } from './responses/queueResponses.js'
import { walletResponses } from './responses/walletResponses.js'
import { x402Responses } from './responses/x402Responses.js'

// The bodies the API answers with, as zod schemas: `/openapi.json` documents them, and the
// API's tests parse every answer they get against them (strict objects, so a field a route
// adds without documenting it fails there). Each idea's answers live in `responses/`.

/** One answer per operation, keyed as in the operation table (`METHOD /path`). */
export const responses = {
  ...accountResponses,
  ...billingResponses,
  ...walletResponses,
  ...queueResponses,
  ...x402Responses,
}

/** The error envelope every 4xx and 5xx answers with; its codes are `errorCodes`'s. */
export const errorBody = z.strictObject({
  error: z.looseObject({
    code: z.enum(Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    issues: z
      .array(z.strictObject({ path: z.array(z.string()), message: z.string(), code: z.string() }))
      .optional(),
    reason: z.string().optional(),
    subscription_id: z.string().optional(),
    reup_url: z.string().optional(),
  }),
})
