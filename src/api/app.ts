import type { Server } from 'node:http'
import express, { type Express, type RequestHandler } from 'express'
import { createMetrics } from '../core/metrics.js'
import { mcpRouter } from '../mcp/http.js'
import { assetsRouter } from '../web/assets.js'
import { dashboardRouter } from '../web/dashboardPage.js'
import { devMailRouter } from '../web/devMail.js'
import { manageRouter } from '../web/manageRoutes.js'
import { noticePagesRouter } from '../web/noticePages.js'
import { answerClientErrors } from './answerClientErrors.js'
import { assertRoutesDocumented } from './assertRoutesDocumented.js'
import type { AppContext } from './context.js'
import { errorHandler, notFoundHandler } from './errorHandler.js'
import { getHealth } from './health.js'
import { limitJsonDepth } from './limitJsonDepth.js'
import { instrumentMeter, metricsHandler, registerPoolProbe, requestMetrics } from './metrics.js'
import { openApiDocument } from './openapi.js'
import { parseQueryString } from './parseQueryString.js'
import { defaultRateLimits, keyRateLimit } from './rateLimits.js'
import { refuseCharsets } from './refuseCharsets.js'
import { v1Router } from './routes.js'

/**
 * Builds the express app: the metered API, the billing API, the hosted pages, health, metrics.
 * Routers are mounted here and nowhere else, so the whole surface reads in one place; an API
 * route without an entry in the operation table (or an entry without a route) throws here.
 */
export function createApp(given: AppContext): Express {
  const metrics = given.metrics ?? createMetrics()
  const meter = instrumentMeter(given.meter, metrics)
  // The same object, not a copy: tests and `tollgate dev` attach the chain to it after the app
  // is built, and the routes must see that.
  const ctx: AppContext = Object.assign(given, { metrics, meter })
  registerPoolProbe(metrics, ctx.db)
  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', 'loopback')
  app.set('query parser', parseQueryString)
  // Every server this app listens on answers the HTTP parser's refusals in the envelope too.
  const listen = app.listen.bind(app) as (...args: unknown[]) => Server
  app.listen = ((...args: unknown[]) => answerClientErrors(listen(...args))) as Express['listen']

  app.use(requestMetrics(metrics, ctx.log))
  app.use(securityHeaders)
  // The query is parsed (and a malformed one refused) once, before any route reads it.
  app.use((req, _res, next) => {
    void req.query
    next()
  })
  if (ctx.config.product.publicBaseUrl.startsWith('https://'))
    app.use((_req, res, next) => {
      res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains')
      next()
    })
  app.use(refuseCharsets, express.json({ limit: '64kb', strict: true }), limitJsonDepth)

  app.get('/healthz', async (_req, res) => {
    const health = await getHealth(ctx)
    res.status(health.status === 'ok' ? 200 : 503).json(health)
  })

  app.get('/metrics', metricsHandler(metrics))

  const openapi = openApiDocument(ctx)
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi)
  })

  const limits = { ...defaultRateLimits, ...ctx.rateLimits }
  app.use('/v1', keyRateLimit(limits), v1Router(ctx, limits))
  // MCP (Streamable HTTP) for agents: the same keys, actions, meter and gate as /v1.
  app.use('/mcp', keyRateLimit(limits), mcpRouter(ctx))

  app.use('/assets', assetsRouter())
  app.get('/favicon.ico', (_req, res) => res.redirect(301, '/assets/favicon.svg'))
  app.use('/s', manageRouter(ctx))
  app.use('/dashboard', dashboardRouter(ctx.config.product.name, ctx.config.billing.windowSeconds))
  // The links in notice mails (verify an address, unsubscribe), opened without signing in.
  app.use('/notices', noticePagesRouter(ctx))
  // `tollgate dev` only: the mail its local SMTP catcher caught.
  if (ctx.devMail) app.use('/dev', devMailRouter(ctx.devMail.mails))

  app.use(notFoundHandler)
  app.use(errorHandler(ctx.log))
  // A route cannot exist undocumented: `/openapi.json` is built from the operation table.
  assertRoutesDocumented(app)
  return app
}

/** Security headers on every answer, set by hand (no dependency for six lines). */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  )
  next()
}
