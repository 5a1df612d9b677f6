import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import express from 'express'
import { requireAuth } from '../../src/api/auth.js'
import { errorHandler } from '../../src/api/errorHandler.js'
import { idempotent } from '../../src/api/idempotency.js'
import { meter } from '../../src/api/metering.js'
import { createLogger } from '../../src/core/log.js'
import { getBillingSummary, reconcileLedger } from '../../src/ledger/index.js'
import { describe, expect, test } from '../fixtures.js'
import { startApi } from './server.js'

describe('meter(): the express middleware for any API', () => {
  test('charges before the handler, voids when the handler fails, replays with Idempotency-Key', async ({
    db,
  }) => {
    const api = await startApi(db)
    const org = (
      await api.call('POST', '/v1/orgs', {
        body: { name: 'Own API', owner_address: `0x${randomBytes(20).toString('hex')}` },
      })
    ).json
    const ctx = api.ctx
    const app = express()
    app.use(express.json())
    app.use(requireAuth(ctx.db), idempotent(ctx.db))
    app.post('/notes', meter(ctx, 'save_comment'), (_req, res) => {
      res.status(201).json({ ok: true, charged: res.locals.metered.priceMicros })
    })
    app.post('/broken', meter(ctx, 'save_comment'), () => {
      throw new Error('boom')
    })
    app.use(errorHandler(createLogger('silent')))
    const server: Server = await new Promise((ok) => {
      const s = app.listen(0, '127.0.0.1', () => ok(s))
    })
    const a = server.address()
    const url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`
    const post = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${org.api_key}`,
          'content-type': 'application/json',
          ...headers,
        },
        body: '{}',
      })
    const price = ctx.config.rateCard.prices.save_comment!
    const ok = await post('/notes', { 'idempotency-key': 'n-1' })
    expect(ok.status).toBe(201)
    expect(await ok.json()).toEqual({ ok: true, charged: price.toString() })
    const again = await post('/notes', { 'idempotency-key': 'n-1' })
    expect(again.status).toBe(201)
    // The process died before storing the response: the retry reaches the handler again, but
    // the ledger recognises the key and does not charge a second time.
    await db.$client`delete from idempotent_responses where org_id = ${org.org.id} and key = 'n-1'`
    const afterCrash = await post('/notes', { 'idempotency-key': 'n-1' })
    expect(afterCrash.status).toBe(201)
    const broken = await post('/broken')
    expect(broken.status).toBe(500)
    expect((await broken.json()).error.code).toBe('INTERNAL')
    await new Promise((r) => setTimeout(r, 200)) // the void runs after the answer
    expect((await getBillingSummary(db, org.org.id)).signupCredit).toBe(2_000_000n - price)
    expect(await reconcileLedger(db, { orgId: org.org.id })).toEqual([])
    expect((await post('/notes', { authorization: 'Bearer nope' })).status).toBe(401)
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
    await api.stop()
  })
})
