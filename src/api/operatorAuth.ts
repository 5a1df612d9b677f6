import { createHash, timingSafeEqual } from 'node:crypto'
import type { Request } from 'express'
import type { AppContext } from './context.js'
import { UnauthorizedError } from './keys.js'

const digest = (v: string) => createHash('sha256').update(v).digest()

/** True when the request carries the operator's bearer token (compared in constant time). */
function isOperator(ctx: AppContext, req: Request): boolean {
  const token = ctx.config.operatorApiToken
  const header = req.get('authorization') ?? ''
  const given = header.startsWith('Bearer ') ? header.slice(7) : ''
  // Hashing first makes both sides 32 bytes, so the comparison leaks neither content nor length.
  return token !== undefined && timingSafeEqual(digest(given), digest(token.reveal()))
}

/** Refuses (401) a request without the operator's bearer token. */
export function requireOperator(ctx: AppContext, req: Request): void {
  if (!isOperator(ctx, req))
    throw new UnauthorizedError('the operator API token is required: Authorization: Bearer …')
}
