import { randomBytes } from 'node:crypto'
import { type Request, type Response, Router } from 'express'
import { type Address, getAddress, isAddress, verifyMessage } from 'viem'
import { parseSiweMessage, validateSiweMessage } from 'viem/siwe'
import { z } from 'zod'
import { BaseError, NotFoundError, ValidationError } from '../errors.js'
import { getBillingSummary } from '../ledger/index.js'
import { authOf, ForbiddenError, newSessionToken, requireOwner } from './auth.js'
import type { AppContext } from './context.js'
import { createApiKey, UnauthorizedError } from './keys.js'
import { manageLinkUrl } from './manageLink.js'
import { metered, meteredView } from './metering.js'

export const siweBody = z.strictObject({
  message: z.string().min(1).max(4_000),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130,}$/),
  org_id: z.uuid().optional(),
})
export const keyBody = z.strictObject({ label: z.string().trim().max(100).optional() })
export const sessionKeyBody = z.strictObject({
  ttl_seconds: z
    .number()
    .int()
    .min(60)
    .max(24 * 3600)
    .optional(),
})
export const adminBody = z.strictObject({ address: z.string().max(64) })

const ownerSessionSeconds = 12 * 3600

/** Public auth routes: SIWE sign-in for owners and admins. */
export function authRouter(ctx: AppContext): Router {
  const r = Router()
  const sql = ctx.db.$client

  r.get('/auth/nonce', async (_req, res) => {
    const nonce = randomBytes(16).toString('hex')
    await sql`delete from auth_nonces where expires_at < now()`
    await sql`insert into auth_nonces (nonce, expires_at) values (${nonce}, now() + interval '10 minutes')`
    res.json({ nonce, expires_in: 600 })
  })

  r.post('/auth/siwe', async (req, res) => {
    const body = siweBody.parse(req.body)
    const message = parseSiweMessage(body.message)
    if (!message.address || !message.nonce)
      throw new ValidationError('not a sign-in-with-ethereum message')
    const [used] =
      await sql`delete from auth_nonces where nonce = ${message.nonce} and expires_at > now() returning 1`
    if (!used || !validateSiweMessage({ message }))
      throw new UnauthorizedError('the sign-in message is expired, not yet valid or already used')
    // The message must name this service, so a signature a look-alike site collected (with a
    // nonce it fetched from us) cannot sign in here. Outside production the host the browser
    // used is accepted too (local ports differ from PUBLIC_BASE_URL).
    const hosts = [new URL(ctx.config.product.publicBaseUrl).host]
    if (ctx.config.env !== 'production' && req.get('host')) hosts.push(req.get('host')!)
    if (!message.domain || !hosts.includes(message.domain))
      throw new UnauthorizedError(`the sign-in message is for another site (${hosts[0]} expected)`)
    const address = getAddress(message.address) as Address
    const signature = body.signature as `0x${string}`
    const ok = ctx.chain
      ? await ctx.chain.reader.verifySiweMessage({ message: body.message, signature })
      : await verifyMessage({ address, message: body.message, signature })
    if (!ok) throw new UnauthorizedError('that signature is not from this wallet')
    const lower = address.toLowerCase()
    const orgs = await sql<{ id: string; role: 'owner' | 'admin' }[]>`
      select id, 'owner' as role from orgs where owner_address = ${lower}
      union all select org_id as id, 'admin' as role from org_admins where address = ${lower}`
    const pick = body.org_id ? orgs.find((o) => o.id === body.org_id) : orgs[0]
    if (!pick)
      throw new BaseError('this wallet owns or administers no such org', {
        code: 'FORBIDDEN',
        status: 403,
      })
    const { token, hash } = newSessionToken()
    const [row] = await sql<{ expires_at: Date }[]>`
      insert into session_keys (key_hash, org_id, role, address, expires_at)
      values (${hash}, ${pick.id}, ${pick.role}, ${lower}, now() + make_interval(secs => ${ownerSessionSeconds}))
      returning expires_at`
    res.setHeader(
      'set-cookie',
      `tg_session=${token}; Path=/v1; HttpOnly; SameSite=Strict; Max-Age=${ownerSessionSeconds}${ctx.config.product.publicBaseUrl.startsWith('https') ? '; Secure' : ''}`,
    )
    res.json({ token, org_id: pick.id, role: pick.role, address, expires_at: row!.expires_at })
  })

  return r
}

/** Credentials and billing controls (mounted after `requireAuth`). */
export function keyRouter(ctx: AppContext): Router {
  const r = Router()
  const sql = ctx.db.$client
  // mint_session_key: metered but never refused (agents must never lose their keys).
  // `/session-keys`, and `/session_keys` as the tool-style spelling of the same action.
  r.post(['/session-keys', '/session_keys'], async (req, res) => {
    const body = sessionKeyBody.parse(req.body ?? {})
    const auth = authOf(res)
    const ttl = body.ttl_seconds ?? 3600
    const { result, outcome } = await metered(
      ctx,
      auth.orgId,
      { action: 'mint_session_key' },
      async () => {
        const { token, hash } = newSessionToken()
        const [row] = await sql<{ expires_at: Date }[]>`
          insert into session_keys (key_hash, org_id, role, parent_key_id, expires_at)
          values (${hash}, ${auth.orgId}, 'member', ${auth.keyId}, now() + make_interval(secs => ${ttl}))
          returning expires_at`
        return { session_key: token, expires_at: row!.expires_at }
      },
    )
    res.status(201).json({ ...result, metered: meteredView(outcome) })
  })

  r.post('/keys', requireOwner, async (req, res) => {
    const body = keyBody.parse(req.body ?? {})
    const k = await createApiKey(ctx.db, { orgId: authOf(res).orgId, label: body.label })
    res.status(201).json({
      key: { id: k.id, prefix: k.prefix, label: body.label ?? null, created_at: k.createdAt },
      api_key: k.key,
    })
  })

  r.get('/keys', requireOwner, async (_req, res) => {
    const keys = await sql`
      select id, prefix, label, role, created_at, revoked_at from api_keys
      where org_id = ${authOf(res).orgId} order by created_at`
    res.json({ keys })
  })

  r.delete('/keys/:id', requireOwner, async (req, res) => {
    const id = z.uuid().parse(req.params.id)
    const [row] = await sql`
      update api_keys set revoked_at = coalesce(revoked_at, now())
      where org_id = ${authOf(res).orgId} and id = ${id} returning id, revoked_at`
    if (!row) throw new NotFoundError(`no key ${id}`)
    res.json({ key: row })
  })

  // Admins: the owner adds wallets that may sign in and use the controls. `/orgs/:id/admins`
  // names the org explicitly (it must be the caller's own); `/admins` is the short form.
  const orgOf = (req: Request, res: Response) => {
    const auth = authOf(res)
    if (req.params.id !== undefined && req.params.id !== auth.orgId)
      throw new NotFoundError(`no org ${String(req.params.id).slice(0, 64)}`)
    return auth
  }
  r.post(['/orgs/:id/admins', '/admins'], requireOwner, async (req, res) => {
    const auth = orgOf(req, res)
    if (auth.role !== 'owner') throw new ForbiddenError('only the owner may add admins')
    const body = adminBody.parse(req.body)
    if (!isAddress(body.address, { strict: false }))
      throw new ValidationError('address is not an address')
    const address = body.address.toLowerCase()
    await sql`insert into org_admins (org_id, address) values (${auth.orgId}, ${address}) on conflict do nothing`
    res.status(201).json({ admin: { address } })
  })

  r.get(['/orgs/:id/admins', '/admins'], requireOwner, async (req, res) => {
    const auth = orgOf(req, res)
    const admins = await sql<{ address: string; created_at: Date }[]>`
      select address, created_at from org_admins where org_id = ${auth.orgId} order by created_at`
    res.json({ admins })
  })

  r.post('/billing/manage-link', requireOwner, async (_req, res) => {
    const s = await getBillingSummary(ctx.db, authOf(res).orgId)
    res.status(201).json({
      url: manageLinkUrl(ctx.config.product.publicBaseUrl, s.subscriptionId),
      expires_in: 900,
    })
  })

  return r
}
