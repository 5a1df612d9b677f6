import { randomBytes } from 'node:crypto'
import type { NextFunction, Request, Response } from 'express'
import { BaseError } from '../core/errors.js'
import type { Db } from '../db/client.js'
import { hashKey, UnauthorizedError } from './keys.js'

export type Role = 'owner' | 'admin' | 'member'

/** Who is calling: the org, the role, and the credential (an API key id or a session). */
export type Auth = {
  orgId: string
  role: Role
  /** The API key behind the call (a session key's parent); null for wallet sessions. */
  keyId: string | null
  /** The signed-in wallet, for owner/admin sessions. */
  address: string | null
  /** The credential's own id (API key id or a session hash prefix), for rate limits and leases. */
  credential: string
  /** When the credential expires (sessions); null for API keys, which live until revoked. */
  expiresAt: Date | null
}

/** Authenticated, but this role may not do that (billing controls, key management). */
export class ForbiddenError extends BaseError {
  override name = 'ForbiddenError'
  constructor(message = 'only the org owner or an admin may do this') {
    super(message, { code: 'FORBIDDEN' })
  }
}

const apiKeyPattern = /^tg_live_[A-Za-z0-9_-]{32}$/
const sessionPattern = /^tg_sess_[A-Za-z0-9_-]{32}$/

/** A new session credential: `tg_sess_…`, stored hashed. */
export function newSessionToken() {
  const token = `tg_sess_${randomBytes(24).toString('base64url')}`
  return { token, hash: hashKey(token) }
}

/** Resolves a bearer credential (API key or session key) to its org and role. */
export async function authenticate(db: Db, token: string | undefined): Promise<Auth> {
  if (token && apiKeyPattern.test(token)) {
    const [row] = await db.$client<{ id: string; org_id: string; role: Role }[]>`
      select id, org_id, role from api_keys where key_hash = ${hashKey(token)} and revoked_at is null`
    if (!row) throw new UnauthorizedError('unknown or revoked API key')
    return {
      orgId: row.org_id,
      role: row.role,
      keyId: row.id,
      address: null,
      credential: row.id,
      expiresAt: null,
    }
  }
  if (token && sessionPattern.test(token)) {
    const hash = hashKey(token)
    const [row] = await db.$client<
      {
        org_id: string
        role: Role
        address: string | null
        parent_key_id: string | null
        expires_at: Date
      }[]
    >`
      select s.org_id, s.role, s.address, s.parent_key_id, s.expires_at from session_keys s
      where s.key_hash = ${hash} and s.expires_at > now()
        and (s.parent_key_id is null
             or exists (select 1 from api_keys k where k.id = s.parent_key_id and k.revoked_at is null))`
    if (!row) throw new UnauthorizedError('unknown or expired session key')
    return {
      orgId: row.org_id,
      role: row.role,
      keyId: row.parent_key_id,
      address: row.address,
      credential: hash.slice(0, 32),
      expiresAt: row.expires_at,
    }
  }
  throw new UnauthorizedError()
}

function cookie(req: Request, name: string): string | undefined {
  const header = req.get('cookie')
  if (!header) return undefined
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim()
  }
  return undefined
}

/** The credential a request carries: `Authorization: Bearer …`, else the `tg_session` cookie. */
function credentialOf(req: Request): string | undefined {
  const header = req.get('authorization')
  if (header?.startsWith('Bearer ')) return header.slice(7).trim()
  return cookie(req, 'tg_session')
}

/** A write carried only a cookie and came from another site (cross-site request forgery). */
class CrossSiteError extends BaseError {
  override name = 'CrossSiteError'
  constructor() {
    super('this request came from another site; sign in on this site and try again', {
      code: 'CROSS_SITE_REQUEST',
    })
  }
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * CSRF guard for writes that a cookie authenticates: the browser's `Sec-Fetch-Site` must say
 * same-origin (or none: typed by the user), and an `Origin` header must name this host or
 * `publicBaseUrl`'s. Requests with a bearer credential carry no ambient authority and pass.
 * The cookies are also `SameSite=Strict`; this holds even where a browser ignores that.
 */
export function assertSameSite(req: Request, publicBaseUrl?: string) {
  if (safeMethods.has(req.method)) return
  const site = req.get('sec-fetch-site')
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new CrossSiteError()
  const origin = req.get('origin')
  if (origin === undefined) return
  let host: string
  try {
    host = new URL(origin).host
  } catch {
    throw new CrossSiteError()
  }
  const allowed = [req.get('host')]
  if (publicBaseUrl) allowed.push(new URL(publicBaseUrl).host)
  if (!allowed.includes(host)) throw new CrossSiteError()
}

/** The caller's auth, set by `requireAuth`. */
export const authOf = (res: Response): Auth => res.locals.auth as Auth

/** Middleware: 401 unless the request carries a valid credential; sets `res.locals.auth`. */
export const requireAuth =
  (db: Db, options: { publicBaseUrl?: string } = {}) =>
  async (req: Request, res: Response, next: NextFunction) => {
    if (!req.get('authorization')?.startsWith('Bearer ')) assertSameSite(req, options.publicBaseUrl)
    res.locals.auth = await authenticate(db, credentialOf(req))
    next()
  }

/** Middleware: 403 unless the caller is the org's owner or an admin (a wallet session). */
export const requireOwner = (_req: Request, res: Response, next: NextFunction) => {
  const role = authOf(res).role
  if (role !== 'owner' && role !== 'admin') throw new ForbiddenError()
  next()
}
