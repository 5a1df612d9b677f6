import { z } from 'zod'
import { metered, money, role, session, timestamp, uuid } from './shapes.js'

/** The answers of health, the document, sign-up, sign-in, keys and admins. */
export const accountResponses = {
  'GET /healthz': z.strictObject({
    status: z.enum(['ok', 'degraded']),
    database: z.record(z.string(), z.unknown()),
    chain: z.record(z.string(), z.unknown()),
    workers: z.array(
      z.strictObject({ name: z.string(), kind: z.string(), last_seen_s: z.number() }),
    ),
    notifications: z.record(z.string(), z.unknown()).nullable(),
  }),
  'GET /openapi.json': z.looseObject({
    openapi: z.string(),
    paths: z.record(z.string(), z.unknown()),
  }),
  'POST /v1/orgs': z.strictObject({
    org: z.strictObject({ id: uuid, name: z.string(), owner_address: z.string() }),
    subscription_id: z.string(),
    signup_credit: money.nullable(),
    api_key: z.string(),
    manage_url: z.url(),
  }),
  'GET /v1/auth/nonce': z.strictObject({ nonce: z.string(), expires_in: z.number().int() }),
  'POST /v1/auth/siwe': z.strictObject({ ...session, address: z.string() }),
  'GET /v1/whoami': z.strictObject({
    org_id: uuid,
    key_id: uuid.nullable(),
    role,
    address: z.string().nullable(),
  }),
  'POST /v1/session-keys': z.strictObject({
    session_key: z.string(),
    expires_at: timestamp,
    metered,
  }),
  'POST /v1/keys': z.strictObject({
    key: z.strictObject({
      id: uuid,
      prefix: z.string(),
      label: z.string().nullable(),
      created_at: timestamp,
    }),
    api_key: z.string(),
  }),
  'GET /v1/keys': z.strictObject({
    keys: z.array(
      z.strictObject({
        id: uuid,
        prefix: z.string(),
        label: z.string().nullable(),
        role,
        created_at: timestamp,
        revoked_at: timestamp.nullable(),
      }),
    ),
  }),
  'DELETE /v1/keys/{id}': z.strictObject({
    key: z.strictObject({ id: uuid, revoked_at: timestamp }),
  }),
  'POST /v1/orgs/{id}/admins': z.strictObject({ admin: z.strictObject({ address: z.string() }) }),
  'GET /v1/orgs/{id}/admins': z.strictObject({
    admins: z.array(z.strictObject({ address: z.string(), created_at: timestamp })),
  }),
} satisfies Record<string, z.ZodType>
