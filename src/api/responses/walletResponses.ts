import { z } from 'zod'
import { role, session, uuid } from './shapes.js'

/** The answers of a signed-in wallet across its orgs. */
export const walletResponses = {
  'GET /v1/wallet/orgs': z.strictObject({
    current: uuid,
    orgs: z.array(z.strictObject({ id: uuid, name: z.string(), role })),
  }),
  'POST /v1/wallet/switch': z.strictObject(session),
} satisfies Record<string, z.ZodType>
