import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash } from 'node:crypto'
import type { NextFunction, Request, Response } from 'express'
import { z } from 'zod'
import { BaseError, ValidationError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { IdempotencyConflictError } from '../ledger/index.js'
import { authOf } from './auth.js'

/** The request that first used this `Idempotency-Key` is still running. */
class IdempotencyInProgressError extends BaseError {
  override name = 'IdempotencyInProgressError'
  constructor() {
    super('a request with this Idempotency-Key is still in progress; retry shortly', {
      code: 'IDEMPOTENCY_IN_PROGRESS',
    })
  }
}

const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,255}$/, 'Idempotency-Key: 1-255 characters of A-Z a-z 0-9 _ . : -')

/** The request's `Idempotency-Key`, validated (400 when malformed); undefined when absent. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const header = req.get('idempotency-key')
  if (header === undefined) return undefined
  const parsed = idempotencyKeySchema.safeParse(header)
  if (!parsed.success)
    throw new ValidationError('Idempotency-Key: 1-255 characters of A-Z a-z 0-9 _ . : -')
  return parsed.data
}

/** Secrets shown once (new API keys, session keys) are never stored: a replay says so instead. */
const secretFields = ['api_key', 'session_key', 'token']
function redact(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>) }
  for (const f of secretFields)
    if (typeof out[f] === 'string') out[f] = 'shown once; not replayed (this retry created nothing)'
  return out
}

/** A pending claim older than this is taken to belong to a crashed request. */
const staleAfterSeconds = 60

/**
 * Middleware for every write: with an `Idempotency-Key`, the first successful response
 * (status, and body as the JSON text sent) is stored per org and key, and a retry gets it back
 * byte for byte, marked `Idempotent-Replayed: true`, without running the handler again (so it
 * is never charged twice). The same key with another method, path or
 * body is a 409 `IDEMPOTENCY_CONFLICT`. A failed first attempt (4xx/5xx) stores nothing, so
 * it may be retried with the same key.
 */
/**
 * Claims `key` for a request (its hash): 'claimed' when this request may run, else what the
 * first request with the key left — its stored answer, or a conflict.
 */
async function claimKey(
  db: Db,
  p: { orgId: string; key: string; hash: string },
): Promise<'claimed' | { status: number; body: unknown }> {
  const claimed = await db.$client`
      insert into idempotent_responses (org_id, key, request_hash) values (${p.orgId}, ${p.key}, ${p.hash})
      on conflict (org_id, key) do update set request_hash = excluded.request_hash, created_at = now()
        where idempotent_responses.status is null
          and idempotent_responses.request_hash = excluded.request_hash
          and idempotent_responses.created_at < now() - make_interval(secs => ${staleAfterSeconds})
      returning 1`
  if (claimed.length > 0) return 'claimed'
  const [prior] = await db.$client<
    Claim[]
  >`select request_hash, status, body from idempotent_responses where org_id = ${p.orgId} and key = ${p.key}`
  return priorOutcome(prior, p.hash)
}

/** A key's record: the request it is bound to, and its stored answer (status null: running). */
type Claim = { request_hash: string; status: number | null; body: unknown }

/** What a key already claimed gives a request with `hash`: the stored answer, or a conflict. */
function priorOutcome(prior: Claim | undefined, hash: string) {
  if (!prior || prior.request_hash !== hash)
    throw new IdempotencyConflictError(
      undefined,
      'this Idempotency-Key was already used for a different request',
    )
  if (prior.status === null) throw new IdempotencyInProgressError()
  return { status: prior.status, body: prior.body }
}

/** Stores the first answer (a success) for a retry, or frees the key after a failure. */
const settleKey = (db: Db, p: { orgId: string; key: string; status: number; body: unknown }) =>
  p.status < 400
    ? db.$client`update idempotent_responses set status = ${p.status}, body = to_jsonb(${JSON.stringify(redact(p.body))}::text)
          where org_id = ${p.orgId} and key = ${p.key}`
    : db.$client`delete from idempotent_responses where org_id = ${p.orgId} and key = ${p.key} and status is null`

/** The request hash a key is bound to: method, path and body as sent. */
const requestHash = (method: string, path: string, body: unknown) =>
  createHash('sha256')
    .update(`${method} ${path}\n${JSON.stringify(body ?? null)}`)
    .digest('hex')

/**
 * Middleware for every write: with an `Idempotency-Key`, the first successful response
 * (status, and body as the JSON text sent) is stored per org and key, and a retry gets it back
 * byte for byte, marked `Idempotent-Replayed: true`, without running the handler again (so it
 * is never charged twice). The same key with another method, path or
 * body is a 409 `IDEMPOTENCY_CONFLICT`. A failed first attempt (4xx/5xx) stores nothing, so
 * it may be retried with the same key.
 */
export const idempotent = (db: Db) => async (req: Request, res: Response, next: NextFunction) => {
  const key = idempotencyKeyOf(req)
  if (key === undefined) return next()
  const { orgId } = authOf(res)
  const hash = requestHash(req.method, `${req.baseUrl}${req.path}`, req.body)
  const prior = await claimKey(db, { orgId, key, hash })
  if (prior !== 'claimed') {
    res.setHeader('Idempotent-Replayed', 'true')
    // Stored as the JSON text first sent (a jsonb string), so the replay is byte for byte.
    if (typeof prior.body === 'string') res.status(prior.status).type('json').send(prior.body)
    else res.status(prior.status).json(prior.body)
    return
  }
  const send = res.json.bind(res)
  res.json = (body: unknown) => {
    settleKey(db, { orgId, key, status: res.statusCode, body }).then(
      () => send(body),
      () => send(body),
    )
    return res
  }
  // The key also reaches the ledger: if this process dies after metering but before the
  // response is stored, the retry (after `staleAfterSeconds`) meters with the same key and
  // gets the first charge back instead of a second one.
  requestIdempotency.run({ key }, next)
}

/**
 * The same guarantee for a call that is not an express request (an MCP tool): `run` answers
 * once per org and key; a retry with the same method, path and body gets the first answer back
 * (`replayed: true`), another request with the key is `IDEMPOTENCY_CONFLICT`. A key used over
 * HTTP and here for the same operation, path and body is one request.
 */
export async function idempotentCall(
  db: Db,
  p: {
    orgId: string
    key: string
    method: string
    path: string
    body: unknown
    /** Where the key is kept: the database (default), or a session's memory (`sessionKeys`). */
    keys?: SessionKeys
  },
  run: () => Promise<{ status: number; body: Record<string, unknown> }>,
): Promise<{ status: number; body: Record<string, unknown>; replayed: boolean }> {
  const key = idempotencyKeySchema.safeParse(p.key)
  if (!key.success)
    throw new ValidationError('idempotency_key: 1-255 characters of A-Z a-z 0-9 _ . : -')
  const hash = requestHash(p.method, p.path, p.body)
  const claim = p.keys
    ? p.keys.claim
    : (c: { orgId: string; key: string; hash: string }) => claimKey(db, c)
  const settle = p.keys
    ? p.keys.settle
    : (c: { orgId: string; key: string; status: number; body: unknown }) => settleKey(db, c)
  const prior = await claim({ orgId: p.orgId, key: p.key, hash })
  if (prior !== 'claimed') {
    const body = typeof prior.body === 'string' ? JSON.parse(prior.body) : prior.body
    return { status: prior.status, body, replayed: true }
  }
  let out: { status: number; body: Record<string, unknown> }
  try {
    out = await requestIdempotency.run({ key: p.key }, run)
  } catch (e) {
    await settle({ orgId: p.orgId, key: p.key, status: 500, body: null }).catch(() => undefined)
    throw e
  }
  // Stored as the JSON text the HTTP route would send, so either transport replays it.
  await settle({ orgId: p.orgId, key: p.key, status: out.status, body: out.body })
  return { ...out, replayed: false }
}

/** Keys kept in one MCP session's memory instead of the database (see `sessionKeys`). */
export type SessionKeys = {
  claim: (p: {
    orgId: string
    key: string
    hash: string
  }) => Promise<'claimed' | { status: number; body: unknown }>
  settle: (p: { orgId: string; key: string; status: number; body: unknown }) => Promise<void>
}

/**
 * The keys of one MCP session's calls without an `idempotency_key` (their key is the session's
 * JSON-RPC request id), kept in the session's memory: the same claim, replay and conflict rules
 * as the database's, without its two writes per call. They need no more: the session lives in
 * this process only (another process, or this one restarted, answers its id 404 and the client
 * opens a new session, with new keys), so no retry can bring such a key anywhere else. The
 * charge itself stays keyed in the ledger. Holds the last `limit` answers of the session.
 */
export function sessionKeys(limit = 64): SessionKeys {
  const claims = new Map<string, Claim>()
  return {
    async claim(p) {
      const id = `${p.orgId} ${p.key}`
      const prior = claims.get(id)
      if (prior) return priorOutcome(prior, p.hash)
      claims.set(id, { request_hash: p.hash, status: null, body: null })
      // Oldest first; a call still running keeps its claim.
      for (const [k, c] of claims) {
        if (claims.size <= limit) break
        if (c.status !== null) claims.delete(k)
      }
      return 'claimed'
    },
    async settle(p) {
      const id = `${p.orgId} ${p.key}`
      const c = claims.get(id)
      if (!c || c.status !== null) return
      if (p.status >= 400) claims.delete(id)
      else Object.assign(c, { status: p.status, body: JSON.stringify(redact(p.body)) })
    },
  }
}

/** The current request's `Idempotency-Key`, for the metering step (see `metered`). */
export const requestIdempotency = new AsyncLocalStorage<{ key: string }>()
