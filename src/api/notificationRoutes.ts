import { Router } from 'express'
import { z } from 'zod'
import { eventTypes, listEvents, viewEvent } from '../notifications/events.js'
import { authOf } from './auth.js'
import type { AppContext } from './context.js'
import { text } from './text.js'

const cursor = z
  .string()
  .regex(/^\d{1,19}$/)
  .optional()
export const eventsQuery = z.object({
  before: cursor,
  after: cursor,
  limit: z.coerce.number().int().min(1).max(500).optional(),
  type: text()
    .max(500)
    .refine(
      (v) => v.split(',').every((t) => (eventTypes as readonly string[]).includes(t)),
      `each type one of ${eventTypes.join(', ')}`,
    )
    .optional(),
})

/** The org's notification events (poll instead of, or beside, webhooks). */
export function notificationRouter(ctx: AppContext): Router {
  const r = Router()
  const links = () => ({
    publicBaseUrl: ctx.config.product.publicBaseUrl,
    chainId: ctx.chain?.chainId,
  })

  r.get('/events', async (req, res) => {
    const q = eventsQuery.parse(req.query)
    const limit = q.limit ?? 50
    const rows = await listEvents(ctx.db, {
      orgId: authOf(res).orgId,
      before: q.before === undefined ? undefined : BigInt(q.before),
      after: q.after === undefined ? undefined : BigInt(q.after),
      types: q.type?.split(','),
      limit,
    })
    const last = rows.at(-1)
    const more = last !== undefined && rows.length === limit
    res.json({
      events: rows.map((e) => ({ seq: e.seq.toString(), ...viewEvent(e, links()) })),
      next: more ? (q.after !== undefined ? `?after=${last.seq}` : `?before=${last.seq}`) : null,
    })
  })

  return r
}
