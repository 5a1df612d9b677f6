import express, { type Express } from 'express'
import type { AppContext } from './context.js'
import { errorHandler, notFoundHandler } from './errorHandler.js'
import { getHealth } from './health.js'

/**
 * Builds the express app: the metered API, the billing API, the hosted pages, health.
 * Routers are mounted here and nowhere else, so the whole surface reads in one place.
 */
export function createApp(ctx: AppContext): Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', 'loopback')

  app.get('/healthz', async (_req, res) => {
    const health = await getHealth(ctx)
    res.status(health.status === 'ok' ? 200 : 503).json(health)
  })

  app.use(notFoundHandler)
  app.use(errorHandler(ctx.log))
  return app
}
