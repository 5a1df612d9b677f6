import type { Request } from 'express'
import { type Address, getAddress, isAddressEqual } from 'viem'
import { assertSameSite } from '../api/auth.js'
import type { AppContext } from '../api/context.js'
import { BaseError, NotFoundError } from '../core/errors.js'
import { verifyManageToken } from './session.js'

/** The caller is not the subscription's owner (nor holds a fresh manage link). */
export class NotOwnerError extends BaseError {
  constructor() {
    super(
      'only the owner’s wallet (or a fresh manage link) can see amounts and change this subscription',
      { code: 'NOT_OWNER' },
    )
  }
}

/** The manage page's view of one subscription, for deciding who may see and change it. */
export type ManagedSubscription = {
  org_id: string
  owner: string | null
  org_owner: string | null
  state: string
  state_changed_at: Date
  ownerAddress: Address | null
}

/** Whether the manage token's `holder` may see this subscription's amounts: a link, or its owner. */
export const mayView = (sub: ManagedSubscription, who: string | undefined) =>
  who !== undefined &&
  (who === 'link' ||
    (sub.ownerAddress !== null && isAddressEqual(who as Address, sub.ownerAddress)))

/**
 * Who is asking on the manage page `/s/<id>`: `lookup` finds the subscription (404 otherwise),
 * `holder` reads the manage token (header, `?t=` or the session cookie) — an owner's address or
 * `'link'` — `requireViewer` lets the owner or a fresh manage link through to a read of
 * amounts, and `requireOwner` lets only the owner's signed-in wallet through to a write.
 */
export function manageAccess(ctx: AppContext) {
  const lookup = async (id: string): Promise<ManagedSubscription> => {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new NotFoundError('no such subscription')
    const [row] = await ctx.db.$client<
      {
        org_id: string
        owner: string | null
        org_owner: string | null
        state: string
        state_changed_at: Date
      }[]
    >`
      select s.org_id, s.owner, o.owner_address as org_owner, s.state, s.state_changed_at
      from subscriptions s left join orgs o on o.id = s.org_id where s.id = ${id}`
    if (!row) throw new NotFoundError('no such subscription')
    return { ...row, ownerAddress: (row.owner ?? row.org_owner) as Address | null }
  }
  const holder = (req: Request, id: string) =>
    verifyManageToken(
      ctx.config,
      req.get('x-manage-token') ?? (req.query.t as string | undefined),
      id,
    ) ??
    verifyManageToken(
      ctx.config,
      /(?:^|;\s*)tg_manage=([^;]+)/.exec(req.get('cookie') ?? '')?.[1],
      id,
    )
  const requireOwner = async (req: Request) => {
    if (!req.get('x-manage-token')) assertSameSite(req, ctx.config.product.publicBaseUrl)
    const id = req.params.id as string
    const sub = await lookup(id)
    const who = holder(req, id)
    if (
      !who ||
      who === 'link' ||
      !sub.ownerAddress ||
      !isAddressEqual(who as Address, sub.ownerAddress)
    )
      throw new NotOwnerError()
    return { id, sub, owner: getAddress(who) }
  }
  const requireViewer = async (req: Request) => {
    const id = req.params.id as string
    const sub = await lookup(id)
    if (!mayView(sub, holder(req, id))) throw new NotOwnerError()
    return { id, sub }
  }
  return { lookup, holder, requireViewer, requireOwner }
}

export type ManageAccess = ReturnType<typeof manageAccess>
