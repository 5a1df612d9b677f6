import type { Router } from 'express'
import { z } from 'zod'
import type { PrepaidPackage } from '../core/prepaidPackages.js'
import { usdAmount } from '../core/usdAmount.js'
import {
  clearAutoTopUp,
  formatUsd,
  requestTopUp,
  setAutoTopUp,
  setBillingMode,
} from '../ledger/index.js'
import type { ManageOwnerCheck } from './manageNoticeRoutes.js'

const topUpBody = z.strictObject({
  /** Dollars, as the page's field holds them, e.g. "5" or "2.50". */
  amount: usdAmount,
  /** One per click: a retry of the same click returns the first top-up. */
  idempotency_key: z.string().regex(/^[A-Za-z0-9_-]{8,100}$/),
})

const modeBody = z.strictObject({ mode: z.enum(['postpaid', 'prepaid']) })

const autoTopUpBody = z.union([
  z.strictObject({ threshold: usdAmount, amount: usdAmount }),
  z.strictObject({ off: z.literal(true) }),
])

/**
 * The manage page's prepaid controls, authorized like its other writes: how the org pays
 * (`POST /s/<id>/billing-mode`, the owner's choice, as `POST /v1/billing/mode`), the auto
 * top-up (`POST /s/<id>/auto-top-up`, as `POST`/`DELETE /v1/billing/auto-top-up`), and "buy $X
 * now" (`POST /s/<id>/top-ups`, the same `requestTopUp` as `POST /v1/billing/top-ups`; a
 * refusal reaches the page as `TOP_UP_REFUSED`).
 */
export function addManagePrepaidRoutes(
  r: Router,
  db: Parameters<typeof requestTopUp>[0],
  requireOwner: ManageOwnerCheck,
  packages: readonly PrepaidPackage[],
): void {
  r.post('/:id/billing-mode', async (req, res) => {
    const { sub } = await requireOwner(req)
    const b = modeBody.parse(req.body)
    const m = await setBillingMode(db, { orgId: sub.org_id, mode: b.mode })
    res.json({ billing_mode: m.mode, previous: m.previous })
  })
  r.post('/:id/auto-top-up', async (req, res) => {
    const { sub, owner } = await requireOwner(req)
    const b = autoTopUpBody.parse(req.body)
    if ('off' in b) {
      await clearAutoTopUp(db, { orgId: sub.org_id })
      return void res.json({ auto_top_up: null })
    }
    const set = await setAutoTopUp(db, {
      orgId: sub.org_id,
      threshold: b.threshold,
      amount: b.amount,
      by: owner,
    })
    res.json({
      auto_top_up: { threshold: formatUsd(set.threshold), amount: formatUsd(set.amount) },
    })
  })
  r.post('/:id/top-ups', async (req, res) => {
    const { sub } = await requireOwner(req)
    const b = topUpBody.parse(req.body)
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
