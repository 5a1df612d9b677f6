import { type RequestHandler, type Response, Router } from 'express'
import { isAddress } from 'viem'
import { NotFoundError, ValidationError } from '../core/errors.js'
import { getBillingSummary } from '../ledger/index.js'
import { addAdmin, listAdmins } from './admins.js'
import { authOf, ForbiddenError } from './auth.js'
import type { AppContext } from './context.js'
import { createApiKey, listApiKeys, revokeApiKey } from './keys.js'
import { manageLinkUrl } from './manageLink.js'
import { serve } from './serve.js'
import { createSession, issueSiweNonce, walletOrgs, walletOrgsNamed } from './sessions.js'
import { verifySiweSignIn } from './verifySiweSignIn.js'

const ownerSessionSeconds = 12 * 3600

/** The wallet session as an HttpOnly, SameSite=Strict cookie (Secure when served over https). */
function setSessionCookie(res: Response, ctx: AppContext, token: string) {
  const secure = ctx.config.product.publicBaseUrl.startsWith('https') ? '; Secure' : ''
  res.setHeader(
    'set-cookie',
    `tg_session=${token}; Path=/v1; HttpOnly; SameSite=Strict; Max-Age=${ownerSessionSeconds}${secure}`,
  )
}

/** Public auth routes: SIWE sign-in for owners and admins. */
export function authRouter(ctx: AppContext): Router {
  const r = Router()

  serve(ctx, r, 'GET /v1/auth/nonce', async (_req, res) => {
    const { nonce, expiresIn } = await issueSiweNonce(ctx.db)
    res.json({ nonce, expires_in: expiresIn })
  })

  serve(ctx, r, 'POST /v1/auth/siwe', async (req, res, { body }) => {
    const address = await verifySiweSignIn(ctx, req, body)
    const orgs = await walletOrgs(ctx.db, address)
    const pick = body.org_id ? orgs.find((o) => o.id === body.org_id) : orgs[0]
    if (!pick) throw new ForbiddenError('this wallet owns or administers no such org')
    const { token, expiresAt } = await createSession(ctx.db, {
      orgId: pick.id,
      role: pick.role,
      address,
      ttlSeconds: ownerSessionSeconds,
    })
    setSessionCookie(res, ctx, token)
    res.json({ token, org_id: pick.id, role: pick.role, address, expires_at: expiresAt })
  })

  return r
}

/** Credentials and billing controls (mounted after `requireAuth`). */
export function keyRouter(ctx: AppContext): Router {
  const r = Router()
  serve(ctx, r, 'POST /v1/keys', async (_req, res, { body }) => {
    const k = await createApiKey(ctx.db, { orgId: authOf(res).orgId, label: body.label })
    res.status(201).json({
      key: { id: k.id, prefix: k.prefix, label: body.label ?? null, created_at: k.createdAt },
      api_key: k.key,
    })
  })

  serve(ctx, r, 'GET /v1/keys', async (_req, res) => {
    res.json({ keys: await listApiKeys(ctx.db, authOf(res).orgId) })
  })

  serve(ctx, r, 'DELETE /v1/keys/{id}', async (_req, res, { params: { id } }) => {
    const row = await revokeApiKey(ctx.db, { orgId: authOf(res).orgId, id })
    if (!row) throw new NotFoundError(`no key ${id}`)
    res.json({ key: row })
  })

  // Admins: the owner adds wallets that may sign in and use the controls. `/orgs/:id/admins`
  // names the org explicitly (it must be the caller's own); `/admins` is the short form. Both
  // are checked before the body is.
  const ownOrg: RequestHandler = (req, res, next) => {
    if (req.params.id !== undefined && req.params.id !== authOf(res).orgId)
      throw new NotFoundError(`no org ${String(req.params.id).slice(0, 64)}`)
    next()
  }
  const ownerOnly: RequestHandler = (_req, res, next) => {
    if (authOf(res).role !== 'owner') throw new ForbiddenError('only the owner may add admins')
    next()
  }
  serve(
    ctx,
    r,
    'POST /v1/orgs/{id}/admins',
    async (_req, res, { body }) => {
      const auth = authOf(res)
      if (!isAddress(body.address, { strict: false }))
        throw new ValidationError('address is not an address')
      const admin = await addAdmin(ctx.db, { orgId: auth.orgId, address: body.address })
      res.status(201).json({ admin })
    },
    [ownOrg, ownerOnly],
  )

  serve(
    ctx,
    r,
    'GET /v1/orgs/{id}/admins',
    async (_req, res) => {
      res.json({ admins: await listAdmins(ctx.db, authOf(res).orgId) })
    },
    [ownOrg],
  )

  // The signed-in wallet's orgs (owned or administered), and a session for another of them:
  // the dashboard's org picker. The wallet proved itself at sign-in; no new signature.
  serve(ctx, r, 'GET /v1/wallet/orgs', async (_req, res) => {
    const auth = authOf(res)
    const orgs = auth.address ? await walletOrgsNamed(ctx.db, auth.address) : []
    res.json({ current: auth.orgId, orgs })
  })
  serve(ctx, r, 'POST /v1/wallet/switch', async (_req, res, { body }) => {
    const auth = authOf(res)
    const orgs = auth.address ? await walletOrgs(ctx.db, auth.address) : []
    const pick = orgs.find((o) => o.id === body.org_id)
    if (!pick) throw new NotFoundError(`no org ${body.org_id} for this wallet`)
    const { token, expiresAt } = await createSession(ctx.db, {
      orgId: pick.id,
      role: pick.role,
      address: auth.address ?? undefined,
      ttlSeconds: ownerSessionSeconds,
    })
    setSessionCookie(res, ctx, token)
    res.json({ token, org_id: pick.id, role: pick.role, expires_at: expiresAt })
  })

  serve(ctx, r, 'POST /v1/billing/manage-link', async (_req, res) => {
    const s = await getBillingSummary(ctx.db, authOf(res).orgId)
    res.status(201).json({
      url: manageLinkUrl(ctx.config, s.subscriptionId),
      expires_in: 900,
    })
  })

  return r
}
