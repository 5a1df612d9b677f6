import { Router } from 'express'
import { z } from 'zod'
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
import { authOf, requireOwner } from './auth.js'
import type { AppContext } from './context.js'
import {
  emailBody,
  endpointBody,
  endpointPatch,
  eventsQuery,
  redeliverBody,
  rotateBody,
} from './schemas/notificationSchemas.js'

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

  // The owner's mail: an address (verified by a one-time link before anything else is sent)
  // and the kinds it receives.
  const emailView = async (orgId: string) => ({
    email: await getEmailSettings(ctx.db, orgId),
    kinds_available: mailableKinds,
  })
  r.get('/notifications/email', requireOwner, async (_req, res) => {
    res.json(await emailView(authOf(res).orgId))
  })
  r.post('/notifications/email', requireOwner, async (req, res) => {
    const body = emailBody.parse(req.body)
    const orgId = authOf(res).orgId
    await setEmailSettings(ctx.db, ctx.config.notifications.key, {
      orgId,
      address: body.address,
      kinds: body.kinds,
    })
    res.json(await emailView(orgId))
  })
  r.delete('/notifications/email', requireOwner, async (_req, res) => {
    const orgId = authOf(res).orgId
    await removeEmailSettings(ctx.db, orgId)
    res.json(await emailView(orgId))
  })

  // Webhook endpoints: the owner or an admin registers, rotates, reads the log, redelivers.
  const production = ctx.config.env === 'production'
  const key = ctx.config.notifications.key
  const endpointId = (v: unknown) => z.uuid().parse(v)
  r.post('/webhooks/endpoints', requireOwner, async (req, res) => {
    const body = endpointBody.parse(req.body)
    const made = await createEndpoint(ctx.db, key, {
      orgId: authOf(res).orgId,
      url: body.url,
      description: body.description,
      eventTypes: body.event_types,
      production,
    })
    res.status(201).json(made)
  })
  r.get('/webhooks/endpoints', requireOwner, async (_req, res) => {
    res.json({ endpoints: await listEndpoints(ctx.db, authOf(res).orgId) })
  })
  r.patch('/webhooks/endpoints/:id', requireOwner, async (req, res) => {
    const body = endpointPatch.parse(req.body)
    const endpoint = await updateEndpoint(ctx.db, {
      orgId: authOf(res).orgId,
      id: endpointId(req.params.id),
      url: body.url,
      description: body.description,
      eventTypes: body.event_types,
      enabled: body.enabled,
      production,
    })
    res.json({ endpoint })
  })
  r.delete('/webhooks/endpoints/:id', requireOwner, async (req, res) => {
    const endpoint = await deleteEndpoint(ctx.db, {
      orgId: authOf(res).orgId,
      id: endpointId(req.params.id),
    })
    res.json({ endpoint })
  })
  r.post('/webhooks/endpoints/:id/rotate-secret', requireOwner, async (req, res) => {
    const body = rotateBody.parse(req.body ?? {})
    const rotated = await rotateSecret(ctx.db, key, {
      orgId: authOf(res).orgId,
      id: endpointId(req.params.id),
      overlapSeconds: body.overlap_seconds,
    })
    res.json(rotated)
  })
  r.get('/webhooks/endpoints/:id/deliveries', requireOwner, async (req, res) => {
    const deliveries = await listDeliveries(ctx.db, {
      orgId: authOf(res).orgId,
      endpointId: endpointId(req.params.id),
    })
    res.json({ deliveries })
  })
  r.post('/webhooks/endpoints/:id/redeliver', requireOwner, async (req, res) => {
    const body = redeliverBody.parse(req.body)
    const out = await redeliver(ctx.db, {
      orgId: authOf(res).orgId,
      endpointId: endpointId(req.params.id),
      eventId: body.event_id,
    })
    res.status(202).json(out)
  })

  return r
}
