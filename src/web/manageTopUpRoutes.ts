import type { Router } from 'express'
import { z } from 'zod'
import type { PrepaidPackage } from '../core/prepaidPackages.js'
import { usdAmount } from '../core/usdAmount.js'
import { formatUsd, requestTopUp } from '../ledger/index.js'
import type { ManageOwnerCheck } from './manageNoticeRoutes.js'

const body = z.strictObject({
  /** Dollars, as the page's field holds them, e.g. "5" or "2.50". */
  amount: usdAmount,
  /** One per click: a retry of the same click returns the first top-up. */
  idempotency_key: z.string().regex(/^[A-Za-z0-9_-]{8,100}$/),
})

/**
 * "Buy $X now" on the manage page: the same `requestTopUp` as `POST /v1/billing/top-ups`,
 * authorized like the page's other writes; a refusal reaches the page as `TOP_UP_REFUSED`.
 */
export function addManageTopUpRoute(
  r: Router,
  db: Parameters<typeof requestTopUp>[0],
  requireOwner: ManageOwnerCheck,
  packages: readonly PrepaidPackage[],
): void {
  r.post('/:id/top-ups', async (req, res) => {
    const { sub } = await requireOwner(req)
    const b = body.parse(req.body)
    const { topUp, replayed } = await requestTopUp(db, {
      orgId: sub.org_id,
      amount: b.amount,
      idempotencyKey: `manage:${b.idempotency_key}`,
      packages,
    })
    res.status(replayed ? 200 : 202).json({
      top_up: {
        id: topUp.id,
        amount: formatUsd(topUp.amount),
        bonus: formatUsd(topUp.bonus),
        status: topUp.status,
      },
    })
  })
}
