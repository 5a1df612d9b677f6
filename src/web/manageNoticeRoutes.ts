import type { Request, Router } from 'express'
import type { Address } from 'viem'
import type { AppContext } from '../api/context.js'
import { emailBody } from '../api/schemas/notificationSchemas.js'
import {
  getEmailSettings,
  mailableKinds,
  setEmailSettings,
} from '../notifications/emailSettings.js'
import type { ManageAccess } from './manageAccess.js'

export type ManageOwnerCheck = (
  req: Request,
) => Promise<{ id: string; sub: { org_id: string }; owner: Address }>

/**
 * The owner's notice mail on the manage page: the address, whether it is verified and the kinds
 * mailed, set through the same domain function as `POST /v1/notifications/email` (which queues
 * the one-time verification mail), authorized like every other manage-page write.
 */
export function addManageNoticeRoutes(
  r: Router,
  ctx: AppContext,
  {
    requireViewer,
    requireOwner,
  }: Pick<ManageAccess, 'requireViewer'> & { requireOwner: ManageOwnerCheck },
): void {
  const view = async (orgId: string) => ({
    email: await getEmailSettings(ctx.db, orgId),
    kinds_available: mailableKinds,
  })
  r.get('/:id/notifications/email', async (req, res) => {
    const { sub } = await requireViewer(req)
    res.json(await view(sub.org_id))
  })
  r.post('/:id/notifications/email', async (req, res) => {
    const { sub } = await requireOwner(req)
    const body = emailBody.parse(req.body)
    await setEmailSettings(ctx.db, ctx.config.notifications.key, {
      orgId: sub.org_id,
      address: body.address,
      kinds: body.kinds,
    })
    res.json(await view(sub.org_id))
  })
}
