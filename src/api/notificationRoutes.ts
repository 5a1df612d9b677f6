import { Router } from 'express'
import {
  getEmailSettings,
  mailableKinds,
  removeEmailSettings,
  setEmailSettings,
} from '../notifications/emailSettings.js'
import { listEvents, viewEvent } from '../notifications/events.js'
import {
  createEndpoint,
  deleteEndpoint,
  listDeliveries,
  listEndpoints,
  redeliver,
  rotateSecret,
  updateEndpoint,
} from '../notifications/webhooks.js'
import { authOf } from './auth.js'
import type { AppContext } from './context.js'
import { serve } from './serve.js'

/** The org's notification events (poll instead of, or beside, webhooks). */
export function notificationRouter(ctx: AppContext): Router {
  const r = Router()
  const links = () => ({
    publicBaseUrl: ctx.config.product.publicBaseUrl,
    chainId: ctx.chain?.chainId,
  })

  serve(ctx, r, 'GET /v1/events', async (_req, res, { query: q }) => {
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

  // The owner's mail: an address (verified by a one-time link before anything else is sent)
  // and the kinds it receives.
  const emailView = async (orgId: string) => ({
    email: await getEmailSettings(ctx.db, orgId),
    kinds_available: mailableKinds,
  })
  serve(ctx, r, 'GET /v1/notifications/email', async (_req, res) => {
    res.json(await emailView(authOf(res).orgId))
  })
  serve(ctx, r, 'POST /v1/notifications/email', async (_req, res, { body }) => {
    const orgId = authOf(res).orgId
    await setEmailSettings(ctx.db, ctx.config.notifications.key, {
      orgId,
      address: body.address,
      kinds: body.kinds,
    })
    res.json(await emailView(orgId))
  })
  serve(ctx, r, 'DELETE /v1/notifications/email', async (_req, res) => {
    const orgId = authOf(res).orgId
    await removeEmailSettings(ctx.db, orgId)
    res.json(await emailView(orgId))
  })

  // Webhook endpoints: the owner or an admin registers, rotates, reads the log, redelivers.
  const production = ctx.config.env === 'production'
  const key = ctx.config.notifications.key
  serve(ctx, r, 'POST /v1/webhooks/endpoints', async (_req, res, { body }) => {
    const made = await createEndpoint(ctx.db, key, {
      orgId: authOf(res).orgId,
      url: body.url,
      description: body.description,
      eventTypes: body.event_types,
      production,
    })
    res.status(201).json(made)
  })
  serve(ctx, r, 'GET /v1/webhooks/endpoints', async (_req, res) => {
    res.json({ endpoints: await listEndpoints(ctx.db, authOf(res).orgId) })
  })
  serve(ctx, r, 'PATCH /v1/webhooks/endpoints/{id}', async (_req, res, { params, body }) => {
    const endpoint = await updateEndpoint(ctx.db, {
      orgId: authOf(res).orgId,
      id: params.id,
      url: body.url,
      description: body.description,
      eventTypes: body.event_types,
      enabled: body.enabled,
      production,
    })
    res.json({ endpoint })
  })
  serve(ctx, r, 'DELETE /v1/webhooks/endpoints/{id}', async (_req, res, { params }) => {
    const endpoint = await deleteEndpoint(ctx.db, {
      orgId: authOf(res).orgId,
      id: params.id,
    })
    res.json({ endpoint })
  })
  serve(
    ctx,
    r,
    'POST /v1/webhooks/endpoints/{id}/rotate-secret',
    async (_req, res, { params, body }) => {
      const rotated = await rotateSecret(ctx.db, key, {
        orgId: authOf(res).orgId,
        id: params.id,
        overlapSeconds: body.overlap_seconds,
      })
      res.json(rotated)
    },
  )
  serve(ctx, r, 'GET /v1/webhooks/endpoints/{id}/deliveries', async (_req, res, { params }) => {
    const deliveries = await listDeliveries(ctx.db, {
      orgId: authOf(res).orgId,
      endpointId: params.id,
    })
    res.json({ deliveries })
  })
  serve(
    ctx,
    r,
    'POST /v1/webhooks/endpoints/{id}/redeliver',
    async (_req, res, { params, body }) => {
      const out = await redeliver(ctx.db, {
        orgId: authOf(res).orgId,
        endpointId: params.id,
        eventId: body.event_id,
      })
      res.status(202).json(out)
    },
  )

  return r
}
