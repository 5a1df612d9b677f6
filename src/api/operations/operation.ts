import type { z } from 'zod'
import type { ErrorCode } from '../../core/errorCodes.js'
import { errorCodes } from '../../core/errorCodes.js'
import type { responses } from '../responses.js'

/** One operation the API serves: what it takes, what it answers, what it may refuse with. */
export type Operation = {
  method: 'get' | 'post' | 'patch' | 'delete'
  /** OpenAPI form (`/v1/issues/{id}`); express's `:id` is the same path. */
  path: keyof typeof responses extends `${string} ${infer P}` ? P : never
  /** Other paths express serves the same handler on. */
  aliases?: string[]
  summary: string
  /** The rate-card action it meters, or 'free'. */
  action: string
  /**
   * Who may call it: nobody signed in, any credential, an owner/admin wallet session, or the
   * deployment's operator (its `OPERATOR_API_TOKEN`, never an org credential).
   */
  auth: 'none' | 'member' | 'owner' | 'operator'
  params?: Record<string, z.ZodType>
  body?: z.ZodType
  /** A request without a body is parsed as `{}` (every field of its body is optional). */
  optionalBody?: true
  query?: z.ZodObject
  /** The statuses answered with the documented body (the first is the usual one). */
  success: number[]
  /** Whether it takes an `Idempotency-Key` (every write under /v1). */
  idempotent?: boolean
  /** Codes this operation can refuse with beyond those its kind implies (see `errorsOf`). */
  errors?: ErrorCode[]
}

/**
 * The codes an operation can answer with: those any request can meet (`anyRequest` in the
 * table), those its kind implies (credentials, roles, ids, idempotency keys, metering)
 * and its own.
 */
export function errorsOf(op: Operation): ErrorCode[] {
  const codes = new Set<ErrorCode>(
    (Object.keys(errorCodes) as ErrorCode[]).filter((c) => 'anyRequest' in errorCodes[c]),
  )
  const add = (...c: ErrorCode[]) => {
    for (const x of c) codes.add(x)
  }
  // Every /v1 route refuses a query parameter it does not take (`strictQuery`).
  if (op.path.startsWith('/v1/')) add('RATE_LIMITED', 'INVALID_QUERY_PARAMETER')
  if (op.auth !== 'none') add('UNAUTHORIZED')
  // A write carrying an x402 payment (PAYMENT-SIGNATURE) tops its org up before it runs.
  const org = op.auth !== 'none' && op.auth !== 'operator'
  if (org && op.method !== 'get') add('PAYMENT_REFUSED', 'PAYMENT_PENDING')
  if (org && op.method !== 'get') add('CROSS_SITE_REQUEST')
  if (op.auth === 'owner') add('FORBIDDEN')
  if (op.params) add('NOT_FOUND')
  if (op.idempotent) add('IDEMPOTENCY_CONFLICT', 'IDEMPOTENCY_IN_PROGRESS')
  if (op.action !== 'free')
    add('BILLING_INACTIVE', 'SPEND_CAP_REACHED', 'IDEMPOTENCY_CONFLICT', 'METERING_IN_DOUBT')
  add(...(op.errors ?? []))
  return [...codes]
}

/** `METHOD /path`, the key of an operation in `responses`. */
export const operationKey = (op: Pick<Operation, 'method' | 'path'>) =>
  `${op.method.toUpperCase()} ${op.path}` as keyof typeof responses
